"""Clarifying questions: asked while open by a supplier who sees the project; answered publicly or privately."""

import pytest

from apps.bidding import selectors, services
from apps.bidding.models import Question
from apps.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from tests.factories import ProjectFactory
from tests.projects.support import audit_actions, audit_rows, kinds_for

Q = Question.Status


def ask(actor, organization, project, text="Is a tie allowed?"):
    return services.question_ask(actor=actor, organization=organization, project=project, text=text)


# --- question_ask ---------------------------------------------------------------------------------------


def test_question_ask_records_the_question_and_tells_the_lab_on_commit(
    open_project, vendor, vendor_manager, lab_owner, lab_admin, lab_member, django_capture_on_commit_callbacks,
    mailoutbox,
):  # fmt: skip
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        question = ask(vendor_manager, vendor, open_project, "  Are ties allowed?  ")
    assert mailoutbox == []
    for callback in callbacks:
        callback()

    assert (question.text, question.status, question.visibility) == ("Are ties allowed?", Q.OPEN, "private")
    assert (question.asker_organization, question.asked_by) == (vendor, vendor_manager)
    (row,) = audit_rows(question)
    assert (row.action, row.actor) == ("question.asked", vendor_manager)
    assert kinds_for(lab_owner) == kinds_for(lab_admin) == ["question.asked"]
    assert kinds_for(lab_member) == []
    assert sorted(m.to[0] for m in mailoutbox) == sorted([lab_owner.email, lab_admin.email])


def test_an_independent_expert_may_ask(open_project, individual, independent):
    assert ask(independent, individual, open_project).asker_organization == individual


def test_asking_twice_makes_two_questions(open_project, vendor, vendor_manager):
    ask(vendor_manager, vendor, open_project)
    ask(vendor_manager, vendor, open_project)

    assert Question.objects.count() == 2


@pytest.mark.parametrize("status", ["bidding_closed", "awarded", "cancelled"])
def test_question_ask_after_bidding_is_refused(lab, domains, vendor, vendor_manager, status):
    project = ProjectFactory(lab=lab, domain=domains.radiology, status=status)

    with pytest.raises(DomainError) as exc:
        ask(vendor_manager, vendor, project)

    assert exc.value.code == "project_not_open"
    assert not Question.objects.exists()


def test_question_ask_on_a_project_it_cannot_see_is_not_found(lab, domains, draft, vendor, vendor_manager, rival):
    invited = ProjectFactory(lab=lab, domain=domains.radiology, published=True, visibility="invited", invited=[vendor])

    for project in (draft, invited):
        with pytest.raises(NotFound):
            ask(rival.manager, rival.org, project)

    assert not Question.objects.exists()


@pytest.mark.parametrize("text", ["", "   ", "x" * 5001])
def test_question_ask_needs_a_text_of_reasonable_length(open_project, vendor, vendor_manager, text):
    with pytest.raises(ValidationFailed) as exc:
        ask(vendor_manager, vendor, open_project, text)

    assert list(exc.value.details) == ["text"]
    assert not Question.objects.exists()


def test_a_vendor_expert_or_a_lab_may_not_ask(open_project, vendor, expert, lab, lab_admin):
    with pytest.raises(PermissionDenied):
        ask(expert, vendor, open_project)
    with pytest.raises(PermissionDenied):
        ask(lab_admin, lab, open_project)

    assert not Question.objects.exists()


# --- question_answer ------------------------------------------------------------------------------------


@pytest.fixture
def question(open_project, vendor, vendor_manager):
    return ask(vendor_manager, vendor, open_project, "May we use a second reader?")


@pytest.mark.parametrize("visibility", ["public", "private"])
def test_question_answer_records_the_answer_and_tells_the_asker_on_commit(
    question, lab_admin, vendor_manager, visibility, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        moved = services.question_answer(actor=lab_admin, question=question, answer=" Yes. ", visibility=visibility)

    assert moved is True
    question.refresh_from_db()
    assert (question.status, question.answer, question.visibility, question.answered_by) == (
        Q.ANSWERED, "Yes.", visibility, lab_admin,
    )  # fmt: skip
    assert question.answered_at is not None
    assert audit_actions(question) == ["question.asked", "question.answered"]
    assert kinds_for(vendor_manager) == ["question.answered"]
    assert callbacks and vendor_manager.email in {m.to[0] for m in mailoutbox}


def test_repeating_the_same_answer_is_a_no_op(question, lab_admin, vendor_manager):
    services.question_answer(actor=lab_admin, question=question, answer="Yes.", visibility="public")

    again = services.question_answer(actor=lab_admin, question=question, answer="Yes.", visibility="public")

    assert again is False
    assert audit_actions(question) == ["question.asked", "question.answered"]
    assert kinds_for(vendor_manager) == ["question.answered"]


def test_a_different_second_answer_is_refused_and_the_first_stands(question, lab_admin, vendor_manager):
    services.question_answer(actor=lab_admin, question=question, answer="Yes.", visibility="public")

    with pytest.raises(DomainError) as refused:
        services.question_answer(actor=lab_admin, question=question, answer="No!", visibility="private")

    assert refused.value.code == "question_already_answered"
    question.refresh_from_db()
    assert (question.answer, question.visibility) == ("Yes.", "public")
    assert audit_actions(question) == ["question.asked", "question.answered"]


@pytest.mark.parametrize(
    ("answer", "visibility", "named"),
    [("", "public", {"answer"}), ("Yes", "everyone", {"visibility"}), (" ", "", {"answer", "visibility"})],
)
def test_question_answer_refuses_bad_input_naming_it(question, lab_admin, answer, visibility, named):
    with pytest.raises(ValidationFailed) as exc:
        services.question_answer(actor=lab_admin, question=question, answer=answer, visibility=visibility)

    assert set(exc.value.details) == named
    assert Question.objects.get(pk=question.pk).status == Q.OPEN


def test_only_the_lab_s_owner_or_admin_may_answer(question, lab_member, vendor_manager):
    for actor, error in ((lab_member, PermissionDenied), (vendor_manager, NotFound)):
        with pytest.raises(error):
            services.question_answer(actor=actor, question=question, answer="Sure", visibility="public")

    assert Question.objects.get(pk=question.pk).status == Q.OPEN


# --- question_list --------------------------------------------------------------------------------------


@pytest.fixture
def asked(open_project, lab_admin, vendor, vendor_manager, rival, individual, independent):
    """Questions from three suppliers: answered publicly, answered privately, and still open."""
    public = ask(vendor_manager, vendor, open_project, "Public one")
    private = ask(rival.manager, rival.org, open_project, "Private one")
    waiting = ask(independent, individual, open_project, "Open one")
    services.question_answer(actor=lab_admin, question=public, answer="For all", visibility="public")
    services.question_answer(actor=lab_admin, question=private, answer="For you", visibility="private")
    return {"public": public, "private": private, "waiting": waiting}


def listed(actor, organization, project) -> list[str]:
    return [q.text for q in selectors.question_list(actor=actor, organization=organization, project=project)]


def test_the_lab_sees_every_question(asked, open_project, lab, lab_member):
    assert listed(lab_member, lab, open_project) == ["Public one", "Private one", "Open one"]


def test_a_supplier_sees_public_answers_and_its_own_questions_only(
    asked, open_project, vendor, expert, rival, individual, independent
):
    assert listed(expert, vendor, open_project) == ["Public one"]
    assert listed(rival.manager, rival.org, open_project) == ["Public one", "Private one"]
    assert listed(independent, individual, open_project) == ["Public one", "Open one"]


def test_question_list_of_a_project_it_cannot_see_is_not_found(draft, vendor, expert, outsider):
    other_lab = outsider.memberships.get().organization

    for actor, organization in ((expert, vendor), (outsider, other_lab), (expert, None)):
        with pytest.raises(NotFound):
            selectors.question_list(actor=actor, organization=organization, project=draft)


def test_question_get_for_lab_finds_only_its_own_lab_s_questions(asked, lab, lab_member, outsider):
    question = asked["waiting"]
    other_lab = outsider.memberships.get().organization

    assert selectors.question_get_for_lab(actor=lab_member, lab=lab, public_id=question.public_id) == question
    with pytest.raises(NotFound):
        selectors.question_get_for_lab(actor=outsider, lab=other_lab, public_id=question.public_id)
    with pytest.raises(NotFound):
        selectors.question_get_for_lab(actor=lab_member, lab=lab, public_id="nope")
