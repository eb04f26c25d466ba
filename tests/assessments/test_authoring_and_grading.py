import json

import pytest

from apps.assessments import selectors, services
from apps.assessments.models import AnswerKey, Attempt, GradingTask, Item, Qualification
from apps.contracts.selectors import assignment_gates
from apps.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from apps.core.models import AuditEvent
from tests.factories import ContractFactory, RosterEntryFactory

from .conftest import build_test, correct_shown_answer

FREE = {
    "type": "free_text",
    "prompt": "Explain the finding",
    "rubric": [{"criterion": "Names the organ", "points": 2}, {"criterion": "Gives a cause", "points": 2}],
    "section": "Writing",
}
KEY_MARKERS = ["KEY-MARKER-EXPLAIN"]


def test_a_published_test_refuses_edits_and_a_new_version_copies_items_and_keys(platform_test, operations):
    with pytest.raises(DomainError) as exc:
        services.item_add(actor=operations, test=platform_test, type="likert", prompt="x", likert_points=5, key=1)
    assert exc.value.code == "test_not_draft"
    with pytest.raises(DomainError):
        services.test_update(actor=operations, test=platform_test, title="Changed")
    copy = services.test_new_version(actor=operations, test=platform_test)
    assert (copy.family, copy.version, copy.status) == (platform_test.family, 2, "draft")
    assert copy.items.count() == 5
    assert sorted(AnswerKey.objects.filter(item__test=copy).values_list("value", flat=True), key=str) == sorted(
        AnswerKey.objects.filter(item__test=platform_test).values_list("value", flat=True), key=str
    )
    services.test_update(actor=operations, test=copy, title="Radiology basics 2")
    assert services.test_publish(actor=operations, test=copy) is True
    assert services.test_publish(actor=operations, test=copy) is False


def test_platform_tests_are_for_operations_and_lab_tests_for_the_lab(lab, lab_admin, lab_member, expert):
    with pytest.raises(NotFound):
        services.test_create(actor=lab_admin, organization=None, title="x")
    with pytest.raises(PermissionDenied):
        services.test_create(actor=lab_member, organization=lab, title="x")
    assert services.test_create(actor=lab_admin, organization=lab, title="Lab test").owner == lab


def test_publish_needs_keys_and_enough_items(operations):
    test = services.test_create(actor=operations, organization=None, title="T", items_per_attempt=2)
    services.item_add(actor=operations, test=test, type="likert", prompt="Rate", likert_points=5)
    with pytest.raises(ValidationFailed) as exc:
        services.test_publish(actor=operations, test=test)
    assert set(exc.value.details) == {"items", "key"}


def test_item_validation_names_the_field(operations):
    test = services.test_create(actor=operations, organization=None, title="T")
    for spec, field in [
        ({"type": "single_choice", "prompt": "p", "options": ["a", "b"], "key": 2}, "key"),
        ({"type": "ab_preference", "prompt": "p", "options": ["a"], "key": "A"}, "options"),
        ({"type": "ab_preference", "prompt": "p", "options": ["a", "b"], "key": "tie"}, "key"),
        ({"type": "likert", "prompt": "p", "likert_points": 6, "key": 1}, "likert_points"),
        ({"type": "free_text", "prompt": "p", "rubric": [{"criterion": "c"}]}, "rubric"),
    ]:
        with pytest.raises(ValidationFailed) as exc:
            services.item_add(actor=operations, test=test, **spec)
        assert field in exc.value.details
    assert not Item.objects.exists()


def test_import_with_a_missing_key_names_the_row_and_stores_nothing(operations):
    test = services.test_create(actor=operations, organization=None, title="T")
    lines = [
        json.dumps({"type": "likert", "prompt": "ok", "likert_points": 5, "key": 3}),
        "",
        json.dumps({"type": "single_choice", "prompt": "no key", "options": ["a", "b"]}),
    ]
    with pytest.raises(ValidationFailed) as exc:
        services.items_import(actor=operations, test=test, upload="\n".join(lines).encode(), fmt="jsonl")
    assert exc.value.details["rows"] == [
        {"row": 3, "field": "key", "reason": "Missing: an objective item needs its key."}
    ]
    assert not Item.objects.exists()


def test_csv_import_stores_items_and_keys(operations):
    test = services.test_create(actor=operations, organization=None, title="T")
    csv_text = (
        "type,prompt,options,key,likert_points,rubric\n"
        'single_choice,Pick,"[""a"",""b""]",1,,\n'
        "ab_preference,Prefer,x|y,B,,\n"
        'free_text,Write,,,,"[{""criterion"": ""c"", ""points"": 2}]"\n'
    )
    assert services.items_import(actor=operations, test=test, upload=csv_text.encode(), fmt="csv") == 3
    assert sorted(AnswerKey.objects.values_list("value", flat=True), key=str) == [1, "B"]


def _free_text_attempt(operations, expert, graders=2):
    test = build_test(
        operations, items=[FREE, {**FREE, "prompt": "Second"}], graders_per_free_text=graders, show_explanations=True
    )
    attempt = services.attempt_start(actor=expert, test=test)
    for served in attempt.attempt_items.all():
        services.attempt_answer(
            actor=expert, attempt=attempt, item_public_id=served.item.public_id, answer={"text": "The liver."}
        )
    return services.attempt_submit(actor=expert, attempt=attempt)


def test_free_text_goes_to_a_blind_queue_and_two_graders_agreement_is_stored(operations, expert, db):
    from tests.factories import UserFactory

    second = UserFactory(email="ops2@platform.test", staff_role="operations")
    attempt = _free_text_attempt(operations, expert)
    assert attempt.status == Attempt.Status.GRADING and GradingTask.objects.count() == 4
    queue = selectors.grading_queue(actor=operations)
    assert len(queue) == 4 and queue[0]["answer_text"] == "The liver."
    blob = json.dumps(queue, default=str)
    for identity in (
        expert.email,
        expert.full_name or expert.email,
        str(expert.public_id),
        str(attempt.public_id),
    ):
        assert identity not in blob
    assert "expert" not in blob
    assert all(not {"expert", "expert_id", "user", "attempt", "email", "name"} & set(row) for row in queue)
    assert selectors.grading_queue(actor=expert) == []
    tasks = list(GradingTask.objects.order_by("attempt_item_id", "slot"))
    services.grading_claim(actor=operations, task=tasks[0])
    with pytest.raises(DomainError) as exc:
        services.grading_claim(actor=operations, task=tasks[1])
    assert exc.value.code == "grading_same_grader"
    with pytest.raises(ValidationFailed) as exc:
        services.grading_score(actor=operations, task=tasks[0], criterion_points=[3, 0])
    assert "criterion_points" in exc.value.details
    services.grading_score(actor=operations, task=tasks[0], criterion_points=[2, 2])
    services.grading_score(actor=second, task=tasks[1], criterion_points=[2, 0])
    services.grading_score(actor=operations, task=tasks[2], criterion_points=[2, 2])
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.GRADING
    services.grading_score(actor=second, task=tasks[3], criterion_points=[2, 2])
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.GRADED
    assert str(attempt.score) == "0.8750"
    assert attempt.breakdown["grader_agreement"]["answers"] == 2
    assert attempt.breakdown["grader_agreement"]["identical_scores"] == 1
    assert attempt.breakdown["sections"]["Writing"]["items"] == 2


def test_operations_revoke_a_qualification_with_a_reason(platform_test, operations, expert):
    attempt = services.attempt_start(actor=expert, test=platform_test)
    for served in attempt.attempt_items.select_related("item"):
        services.attempt_answer(
            actor=expert, attempt=attempt, item_public_id=served.item.public_id, answer=correct_shown_answer(served)
        )
    services.attempt_submit(actor=expert, attempt=attempt)
    qualification = Qualification.objects.get()
    assert selectors.current_qualification(expert=expert, family=platform_test.family) == qualification
    assert selectors.qualified_user_ids(family=platform_test.family) == frozenset({expert.pk})
    with pytest.raises(ValidationFailed):
        services.qualification_revoke(actor=operations, qualification=qualification, reason=" ")
    with pytest.raises(NotFound):
        services.qualification_revoke(actor=expert, qualification=qualification, reason="x")
    assert services.qualification_revoke(actor=operations, qualification=qualification, reason="Leaked answers")
    assert services.qualification_revoke(actor=operations, qualification=qualification, reason="again") is False
    assert AuditEvent.objects.filter(action="qualification.revoked").count() == 1
    assert selectors.current_qualification(expert=expert, family=platform_test.family) is None
    assert expert.notifications.filter(kind="qualification.revoked").exists()


def test_a_required_test_adds_a_qualification_gate_until_the_expert_qualifies(
    platform_test, operations, lab, lab_admin, vendor, expert
):
    contract = ContractFactory(project__lab=lab, supplier=vendor)
    RosterEntryFactory(vendor=vendor, user=expert, status="active")
    services.project_test_require(actor=lab_admin, project=contract.project, test=platform_test)
    assert "qualification" in [g["gate"] for g in assignment_gates(contract, expert)]
    attempt = services.attempt_start(actor=expert, test=platform_test)
    for served in attempt.attempt_items.select_related("item"):
        services.attempt_answer(
            actor=expert, attempt=attempt, item_public_id=served.item.public_id, answer=correct_shown_answer(served)
        )
    services.attempt_submit(actor=expert, attempt=attempt)
    assert "qualification" not in [g["gate"] for g in assignment_gates(contract, expert)]


def test_only_published_qualification_tests_can_be_required(operations, lab, lab_admin):
    from tests.factories import ProjectFactory

    draft = build_test(operations, publish=False)
    with pytest.raises(ValidationFailed) as exc:
        services.project_test_require(actor=lab_admin, project=ProjectFactory(lab=lab), test=draft)
    assert "test" in exc.value.details


def _key_strings(test):
    return [json.dumps(v) for v in AnswerKey.objects.filter(item__test=test).values_list("value", flat=True)]


def test_the_taker_view_never_carries_a_key_before_or_after_grading(operations, expert):
    items = [
        {"type": "numeric", "prompt": "N", "key": "987654.321", "numeric_tolerance": "0"},
        {"type": "ab_preference", "prompt": "AB", "options": ["KEY-A-TEXT", "KEY-B-TEXT"], "key": "B"},
        {"type": "single_choice", "prompt": "S", "options": ["o1", "o2", "o3"], "key": 2, "explanation": "because"},
        {"type": "likert", "prompt": "L", "likert_points": 7, "key": 6},
    ]
    test = build_test(operations, items=items, show_explanations=True)
    attempt = services.attempt_start(actor=expert, test=test)
    for view_attempt in ("before", "after"):
        view = selectors.attempt_taker_view(attempt)
        blob = json.dumps(view, default=str)
        assert "987654.321" not in blob
        for row in view:
            assert not {"key", "answer_key", "correct", "is_correct", "value"} & set(row)
            if isinstance(row["options"], list):
                assert all(isinstance(o, str) for o in row["options"])
            if row["type"] == "ab_preference":
                assert set(row["options"]) == {"first", "second"}
        if view_attempt == "before":
            assert "explanation" not in blob and "earned" not in blob
            attempt = services.attempt_submit(actor=expert, attempt=attempt)
    assert {row["explanation"] for row in view} >= {"because"}


def test_a_saved_answer_reads_back_in_shown_terms(platform_test, expert):
    attempt = services.attempt_start(actor=expert, test=platform_test)
    served = attempt.attempt_items.select_related("item").get(item__type="single_choice")
    services.attempt_answer(actor=expert, attempt=attempt, item_public_id=served.item.public_id, answer={"option": 2})
    row = next(r for r in selectors.attempt_taker_view(attempt) if r["type"] == "single_choice")
    assert row["answer"] == {"option": 2}
    served.refresh_from_db()
    assert served.answer == {"option": served.option_order[2]}


def test_attempts_are_visible_to_the_taker_and_authors_only(platform_test, expert, outsider, operations):
    attempt = services.attempt_start(actor=expert, test=platform_test)
    assert selectors.attempt_get(actor=expert, public_id=attempt.public_id) == attempt
    assert selectors.attempt_get(actor=operations, public_id=attempt.public_id) == attempt
    with pytest.raises(NotFound):
        selectors.attempt_get(actor=outsider, public_id=attempt.public_id)


def test_lab_grader_cannot_grade_a_platform_test(operations, expert, lab_admin):
    _free_text_attempt(operations, expert, graders=1)
    task = GradingTask.objects.first()
    with pytest.raises(NotFound):
        services.grading_claim(actor=lab_admin, task=task)
    assert selectors.grading_queue(actor=lab_admin) == []
