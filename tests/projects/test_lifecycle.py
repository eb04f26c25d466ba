"""Projects: create, edit a draft, publish, and the state machine from draft to completed."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.accounts.roles import OrgKind, Role
from apps.bidding import services as bidding
from apps.core.errors import DomainError, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from apps.core.transitions import transition
from apps.projects import services
from apps.projects.models import Project
from tests.factories import BidFactory, OrganizationFactory, ProjectFactory, member
from tests.projects.support import audit_actions, audit_rows, complete_fields, kinds_for

S = Project.Status


# --- project_create ------------------------------------------------------------------------------------


def test_project_create_makes_an_audited_draft_from_api_values(lab, lab_admin, domains):
    # given every field as the API passes it (budget in major units, domain by slug)
    fields = complete_fields(domains.radiology)

    # when the lab admin creates the project
    project = services.project_create(actor=lab_admin, lab=lab, **fields)

    # then it is a draft of the lab with clean values, and one audit row says who made it
    project.refresh_from_db()
    assert (project.status, project.lab, project.created_by) == (S.DRAFT, lab, lab_admin)
    assert project.domain == domains.radiology
    assert project.budget_cap_minor == 500_000
    assert project.target_unit_price == Decimal("2.5000")
    assert project.sla_min_gold_accuracy == Decimal("0.8500")
    assert project.required_credential_types == ["board_certification"]
    (row,) = audit_rows(project)
    assert (row.action, row.actor, row.organization_public_id) == ("project.created", lab_admin, lab.public_id)


def test_project_create_keeps_a_draft_with_only_a_title(lab, lab_admin):
    project = services.project_create(actor=lab_admin, lab=lab, title="  Someday: legal red-teaming  ")

    assert (project.title, project.status, project.volume, project.domain) == (
        "Someday: legal red-teaming", S.DRAFT, None, None,
    )  # fmt: skip


def test_project_create_budget_in_jpy_has_no_minor_digits(lab, lab_admin):
    project = services.project_create(actor=lab_admin, lab=lab, title="Tokyo", currency="jpy", budget_cap="750000")

    assert (project.currency, project.budget_cap_minor) == ("JPY", 750_000)


@pytest.mark.parametrize("title", ["", "   ", None])
def test_project_create_without_a_title_is_refused(lab, lab_admin, title):
    with pytest.raises(ValidationFailed) as exc:
        services.project_create(actor=lab_admin, lab=lab, title=title)

    assert "title" in exc.value.details
    assert not Project.objects.exists()


@pytest.mark.parametrize(
    ("persona", "error"),
    [("lab_member", PermissionDenied), ("vendor_manager", NotFound), ("outsider", NotFound)],
)
def test_only_a_lab_owner_or_admin_may_create_a_project(request, lab, persona, error):
    actor = request.getfixturevalue(persona)

    with pytest.raises(error):
        services.project_create(actor=actor, lab=lab, title="Not mine to post")

    assert not Project.objects.exists()


def test_a_vendor_cannot_post_a_project(vendor):
    owner = member(vendor, Role.OWNER)

    with pytest.raises(PermissionDenied):
        services.project_create(actor=owner, lab=vendor, title="Vendors bid, they do not post")

    assert not Project.objects.exists()


# --- field validation -----------------------------------------------------------------------------------


@pytest.fixture
def lab_org(db):
    return OrganizationFactory(kind=OrgKind.LAB)


BAD_FIELDS = [
    pytest.param({"budget_cap": "0"}, "budget_cap", id="budget-zero"),
    pytest.param({"budget_cap": "-100"}, "budget_cap", id="budget-negative"),
    pytest.param({"budget_cap": "lots"}, "budget_cap", id="budget-not-a-number"),
    pytest.param({"sla_min_gold_accuracy": "1.01"}, "sla_min_gold_accuracy", id="accuracy-above-one"),
    pytest.param({"sla_min_gold_accuracy": "-0.1"}, "sla_min_gold_accuracy", id="accuracy-negative"),
    pytest.param({"sla_min_alpha": "-1.2"}, "sla_min_alpha", id="alpha-below-minus-one"),
    pytest.param({"sla_min_alpha": "1.5"}, "sla_min_alpha", id="alpha-above-one"),
    pytest.param({"domain": "astrology"}, "domain", id="unknown-domain"),
    pytest.param({"required_credential_types": ["psychic_licence"]}, "required_credential_types", id="unknown-cred"),
    pytest.param({"task_type": "telepathy"}, "task_type", id="unknown-task-type"),
    pytest.param({"unit_name": "vibe"}, "unit_name", id="unknown-unit"),
    pytest.param({"volume": 0}, "volume", id="volume-zero"),
    pytest.param({"target_unit_price": "2.12345"}, "target_unit_price", id="price-five-decimals"),
    pytest.param({"target_unit_price": "0"}, "target_unit_price", id="price-zero"),
    pytest.param({"currency": "XYZ"}, "currency", id="unknown-currency"),
    pytest.param({"visibility": "secret"}, "visibility", id="unknown-visibility"),
    pytest.param({"bid_deadline": "tomorrow"}, "bid_deadline", id="deadline-not-a-datetime"),
    pytest.param({"status": "open"}, "status", id="read-only-status"),
    # too large to store: refused by name rather than failing in the database
    pytest.param({"volume": 3_000_000_000}, "volume", id="volume-beyond-storage"),
    pytest.param({"target_unit_price": "100000000"}, "target_unit_price", id="price-beyond-storage"),
    pytest.param({"target_unit_price": "1e40"}, "target_unit_price", id="price-huge-exponent"),
    pytest.param({"budget_cap": "1e20"}, "budget_cap", id="budget-beyond-storage"),
    pytest.param({"budget_cap": "1e40"}, "budget_cap", id="budget-huge-exponent"),
]


@pytest.mark.parametrize(("fields", "named"), BAD_FIELDS)
def test_project_create_refuses_a_bad_field_naming_it(lab, lab_admin, domains, fields, named):
    with pytest.raises(ValidationFailed) as exc:
        services.project_create(actor=lab_admin, lab=lab, **complete_fields(domains.radiology, **fields))

    assert list(exc.value.details) == [named]
    assert not Project.objects.exists()


def test_project_create_refuses_an_end_before_the_start(lab, lab_admin, domains):
    fields = complete_fields(domains.radiology)
    fields["ends_on"] = fields["starts_on"] - timedelta(days=1)

    with pytest.raises(ValidationFailed) as exc:
        services.project_create(actor=lab_admin, lab=lab, **fields)

    assert list(exc.value.details) == ["ends_on"]
    assert not Project.objects.exists()


def test_project_create_refuses_to_invite_a_lab_naming_it(lab, lab_admin, vendor, lab_org):
    with pytest.raises(ValidationFailed) as exc:
        services.project_create(
            actor=lab_admin, lab=lab, title="Invite-only", visibility="invited",
            invited_organizations=[str(vendor.public_id), str(lab_org.public_id), "not-a-uuid"],
        )  # fmt: skip

    (message,) = exc.value.details["invited_organizations"]
    assert str(lab_org.public_id) in message and "not-a-uuid" in message
    assert str(vendor.public_id) not in message
    assert not Project.objects.exists()


def test_project_create_names_every_bad_field_at_once(lab, lab_admin, domains):
    fields = complete_fields(domains.radiology, budget_cap="-1", sla_min_alpha="2", domain="astrology")

    with pytest.raises(ValidationFailed) as exc:
        services.project_create(actor=lab_admin, lab=lab, **fields)

    assert set(exc.value.details) == {"budget_cap", "sla_min_alpha", "domain"}


# --- project_update -------------------------------------------------------------------------------------


def test_project_update_changes_only_the_given_fields_of_a_draft(draft, lab_admin, domains):
    before = Project.objects.values().get(pk=draft.pk)

    updated = services.project_update(actor=lab_admin, project=draft, volume=2000, domain="law", budget_cap="9000")

    after = Project.objects.values().get(pk=draft.pk)
    changed = {k for k in after if after[k] != before[k]}
    assert changed == {"volume", "domain_id", "budget_cap_minor", "updated_at"}
    assert (updated.volume, updated.domain, updated.budget_cap_minor) == (2000, domains.law, 900_000)
    (row,) = audit_rows(draft)
    assert (row.action, row.data) == ("project.updated", {"fields": ["budget_cap", "domain", "volume"]})


@pytest.mark.parametrize(
    ("currency", "minor"), [("JPY", 5_000), ("EUR", 500_000), ("USD", 500_000)], ids=["jpy", "eur", "same"]
)
def test_project_update_of_the_currency_keeps_the_budget_amount(draft, lab_admin, currency, minor):
    # given a budget of 5,000.00 USD (500,000 cents)
    assert (draft.currency, draft.budget_cap_minor) == ("USD", 500_000)

    updated = services.project_update(actor=lab_admin, project=draft, currency=currency)

    # then the budget is still 5,000 in the new currency
    assert (updated.currency, Project.objects.get(pk=draft.pk).budget_cap_minor) == (currency, minor)


def test_project_update_of_currency_and_budget_together_takes_the_new_budget(draft, lab_admin):
    updated = services.project_update(actor=lab_admin, project=draft, currency="JPY", budget_cap="750000")

    assert (updated.currency, updated.budget_cap_minor) == ("JPY", 750_000)


def test_project_update_twice_with_the_same_values_ends_in_the_same_draft(draft, lab_admin):
    services.project_update(actor=lab_admin, project=draft, volume=1500)
    services.project_update(actor=lab_admin, project=draft, volume=1500)

    draft.refresh_from_db()
    assert (draft.volume, draft.status) == (1500, S.DRAFT)
    assert audit_actions(draft) == ["project.updated", "project.updated"]


def test_project_update_refuses_an_end_before_the_stored_start(draft, lab_admin):
    with pytest.raises(ValidationFailed) as exc:
        services.project_update(actor=lab_admin, project=draft, ends_on=draft.starts_on - timedelta(days=1))

    assert list(exc.value.details) == ["ends_on"]
    assert Project.objects.get(pk=draft.pk).ends_on == draft.ends_on
    assert not audit_rows(draft).exists()


def test_project_update_refuses_a_blank_title(draft, lab_admin):
    with pytest.raises(ValidationFailed) as exc:
        services.project_update(actor=lab_admin, project=draft, title="  ")

    assert list(exc.value.details) == ["title"]
    assert Project.objects.get(pk=draft.pk).title == draft.title


@pytest.mark.parametrize("status", [S.OPEN, S.BIDDING_CLOSED, S.AWARDED, S.IN_PROGRESS, S.COMPLETED, S.CANCELLED])
def test_project_update_after_the_draft_is_refused(lab, lab_admin, domains, status):
    project = ProjectFactory(lab=lab, domain=domains.radiology, status=status, volume=1000)

    with pytest.raises(DomainError) as exc:
        services.project_update(actor=lab_admin, project=project, volume=5)

    assert exc.value.code == "project_not_draft"
    assert Project.objects.get(pk=project.pk).volume == 1000
    assert not audit_rows(project).exists()


def test_a_lab_member_may_not_edit_a_draft(draft, lab_member):
    with pytest.raises(PermissionDenied):
        services.project_update(actor=lab_member, project=draft, volume=5)

    assert Project.objects.get(pk=draft.pk).volume == draft.volume


# --- project_publish ------------------------------------------------------------------------------------


def test_project_publish_opens_a_complete_draft(draft, lab_admin):
    moved = services.project_publish(actor=lab_admin, project=draft)

    assert moved is True
    assert draft.status == S.OPEN
    assert draft.published_at == pytest.approx(timezone.now(), abs=timedelta(seconds=30))
    (row,) = audit_rows(draft)
    assert (row.action, row.from_status, row.to_status, row.actor) == ("project.open", S.DRAFT, S.OPEN, lab_admin)


def test_project_publish_twice_is_a_no_op_with_one_audit_row(draft, lab_admin):
    services.project_publish(actor=lab_admin, project=draft)
    published_at = draft.published_at

    again = services.project_publish(actor=lab_admin, project=draft)

    assert again is False
    draft.refresh_from_db()
    assert (draft.status, draft.published_at) == (S.OPEN, published_at)
    assert audit_actions(draft) == ["project.open"]


def test_project_publish_of_an_incomplete_draft_names_every_missing_field_and_changes_nothing(lab, lab_admin):
    project = services.project_create(actor=lab_admin, lab=lab, title="Only a title", visibility="invited")

    with pytest.raises(ValidationFailed) as exc:
        services.project_publish(actor=lab_admin, project=project)

    assert exc.value.code == "project_incomplete"
    assert set(exc.value.details) == {
        "description", "task_type", "domain", "unit_name", "volume", "budget_cap", "target_unit_price",
        "sla_min_gold_accuracy", "sla_max_turnaround_days", "bid_deadline", "starts_on", "ends_on",
        "invited_organizations", "guidelines",
    }  # fmt: skip
    project.refresh_from_db()
    assert (project.status, project.published_at) == (S.DRAFT, None)
    assert audit_actions(project) == ["project.created"]


def test_project_publish_refuses_a_past_deadline_and_a_start_before_the_deadline(lab, lab_admin, domains):
    project = ProjectFactory(
        lab=lab, domain=domains.radiology, bid_deadline=timezone.now() - timedelta(hours=1),
        starts_on=timezone.localdate() - timedelta(days=3),
    )  # fmt: skip
    later = ProjectFactory(lab=lab, domain=domains.radiology)
    Project.objects.filter(pk=later.pk).update(starts_on=later.bid_deadline.date() - timedelta(days=1))
    later.refresh_from_db()

    with pytest.raises(ValidationFailed) as past:
        services.project_publish(actor=lab_admin, project=project)
    with pytest.raises(ValidationFailed) as early:
        services.project_publish(actor=lab_admin, project=later)

    assert set(past.value.details) == {"bid_deadline", "starts_on"}
    assert set(early.value.details) == {"starts_on"}
    assert set(Project.objects.values_list("status", flat=True)) == {S.DRAFT}


def test_project_publish_without_guidelines_names_guidelines(lab, lab_admin, domains):
    project = ProjectFactory(lab=lab, domain=domains.radiology, guidelines=False)

    with pytest.raises(ValidationFailed) as exc:
        services.project_publish(actor=lab_admin, project=project)

    assert list(exc.value.details) == ["guidelines"]


def test_project_publish_of_an_invited_project_notifies_the_invited_suppliers_on_commit(
    lab, lab_admin, domains, vendor, vendor_manager, individual, independent, rival,
    django_capture_on_commit_callbacks, mailoutbox,
):  # fmt: skip
    # given a draft inviting the persona vendor and an independent expert, but not the rival
    project = ProjectFactory(lab=lab, domain=domains.radiology, visibility="invited", invited=[vendor, individual])

    # when it is published, e-mail waits for the commit
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.project_publish(actor=lab_admin, project=project)
    assert mailoutbox == []
    for callback in callbacks:
        callback()

    # then the invited vendor's owner and manager and the independent expert hear of it; the rival does not
    vendor_owner = vendor.memberships.get(role=Role.OWNER).user
    assert {m.to[0] for m in mailoutbox} == {vendor_owner.email, vendor_manager.email, independent.email}
    assert kinds_for(vendor_manager) == kinds_for(independent) == ["project.invited"]
    assert kinds_for(rival.manager) == []


def test_project_publish_of_a_public_project_notifies_nobody(draft, lab_admin, vendor_manager):
    services.project_publish(actor=lab_admin, project=draft)

    assert kinds_for(vendor_manager) == []


def test_a_lab_member_may_not_publish(draft, lab_member):
    with pytest.raises(PermissionDenied):
        services.project_publish(actor=lab_member, project=draft)

    assert Project.objects.get(pk=draft.pk).status == S.DRAFT


# --- the state machine ----------------------------------------------------------------------------------


def _close(actor, project):
    return bidding.project_close_bidding(actor=actor, project=project)


def _award(actor, project):
    bid = BidFactory(project=project) if not project.bids.exists() else project.bids.get()
    bidding.award_create(actor=actor, project=project, allocations=[{"bid": str(bid.public_id), "volume": 10}])
    return True


STEPS = [
    (S.DRAFT, S.OPEN, lambda actor, p: services.project_publish(actor=actor, project=p)),
    (S.OPEN, S.BIDDING_CLOSED, _close),
    (S.AWARDED, S.IN_PROGRESS, lambda actor, p: services.project_start(actor=actor, project=p)),
    (S.IN_PROGRESS, S.COMPLETED, lambda actor, p: services.project_complete(actor=actor, project=p)),
]


def test_a_project_walks_from_draft_to_completed(draft, lab_admin):
    services.project_publish(actor=lab_admin, project=draft)
    BidFactory(project=draft)
    _close(lab_admin, draft)
    _award(lab_admin, draft)
    services.project_start(actor=lab_admin, project=draft)
    services.project_complete(actor=lab_admin, project=draft)

    assert Project.objects.get(pk=draft.pk).status == S.COMPLETED
    assert [(r.from_status, r.to_status) for r in audit_rows(draft).order_by("id")] == [
        (S.DRAFT, S.OPEN), (S.OPEN, S.BIDDING_CLOSED), (S.BIDDING_CLOSED, S.AWARDED),
        (S.AWARDED, S.IN_PROGRESS), (S.IN_PROGRESS, S.COMPLETED),
    ]  # fmt: skip


@pytest.mark.parametrize(("source", "target", "step"), STEPS, ids=[f"{s}-{t}" for s, t, _ in STEPS])
def test_each_step_twice_is_a_no_op_with_one_audit_row(lab, lab_admin, domains, source, target, step):
    project = ProjectFactory(lab=lab, domain=domains.radiology, status=source)

    first = step(lab_admin, project)
    second = step(lab_admin, project)

    assert (first, second) == (True, False)
    assert Project.objects.get(pk=project.pk).status == target
    assert audit_actions(project) == [f"project.{target}"]


BEFORE_COMPLETION = [S.DRAFT, S.OPEN, S.BIDDING_CLOSED, S.AWARDED, S.IN_PROGRESS]


@pytest.mark.parametrize("status", BEFORE_COMPLETION)
def test_project_cancel_before_completion_keeps_the_reason_once(lab, lab_admin, domains, status):
    project = ProjectFactory(lab=lab, domain=domains.radiology, status=status)

    first = bidding.project_cancel(actor=lab_admin, project=project, reason="Budget moved to another team.")
    second = bidding.project_cancel(actor=lab_admin, project=project, reason="Another reason")

    assert (first, second) == (True, False)
    project.refresh_from_db()
    assert (project.status, project.status_reason) == (S.CANCELLED, "Budget moved to another team.")
    (row,) = audit_rows(project)
    assert (row.action, row.from_status, row.reason) == ("project.cancelled", status, "Budget moved to another team.")


def test_project_cancel_notifies_every_bidder_including_withdrawn_ones_on_commit(
    open_project, lab_admin, vendor, vendor_manager, rival, django_capture_on_commit_callbacks, mailoutbox
):
    BidFactory(project=open_project, bidder=vendor)
    BidFactory(project=open_project, bidder=rival.org, status="withdrawn")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        bidding.project_cancel(actor=lab_admin, project=open_project, reason="Model retired.")

    assert callbacks  # the e-mails go out only once the cancellation is committed
    assert kinds_for(vendor_manager) == kinds_for(rival.manager) == ["project.cancelled"]
    assert vendor_manager.email in {m.to[0] for m in mailoutbox}
    assert "Reason: Model retired." in mailoutbox[0].body


@pytest.mark.parametrize("reason", ["", "   "])
def test_project_cancel_without_a_reason_is_refused(open_project, lab_admin, reason):
    with pytest.raises(ValidationFailed) as exc:
        bidding.project_cancel(actor=lab_admin, project=open_project, reason=reason)

    assert "reason" in exc.value.details
    assert Project.objects.get(pk=open_project.pk).status == S.OPEN


REFUSED = [
    pytest.param(S.COMPLETED, lambda a, p: bidding.project_cancel(actor=a, project=p, reason="Too late"),
                 id="completed-to-cancelled"),
    pytest.param(S.OPEN, lambda a, p: transition(p, S.AWARDED, actor=a), id="open-to-awarded"),
    pytest.param(S.OPEN, lambda a, p: services.project_start(actor=a, project=p), id="open-to-in-progress"),
    pytest.param(S.AWARDED, lambda a, p: services.project_complete(actor=a, project=p), id="awarded-to-completed"),
    pytest.param(S.BIDDING_CLOSED, lambda a, p: services.project_publish(actor=a, project=p), id="reopen-bidding"),
    pytest.param(S.CANCELLED, lambda a, p: services.project_publish(actor=a, project=p), id="cancelled-to-open"),
    pytest.param(S.DRAFT, lambda a, p: bidding.project_close_bidding(actor=a, project=p), id="draft-to-closed"),
    pytest.param(S.OPEN, lambda a, p: transition(p, S.DRAFT, actor=a), id="open-back-to-draft"),
    pytest.param(S.CANCELLED, lambda a, p: transition(p, S.DRAFT, actor=a), id="cancelled-back-to-draft"),
]  # fmt: skip


@pytest.mark.parametrize(("status", "move"), REFUSED)
def test_a_move_the_state_machine_does_not_allow_is_refused(lab, lab_admin, domains, status, move):
    project = ProjectFactory(lab=lab, domain=domains.radiology, status=status)

    with pytest.raises(InvalidTransition):
        move(lab_admin, project)

    assert Project.objects.get(pk=project.pk).status == status
    assert not audit_rows(project).exists()


def test_a_lab_member_may_not_cancel(open_project, lab_member):
    with pytest.raises(PermissionDenied):
        bidding.project_cancel(actor=lab_member, project=open_project, reason="No")

    assert Project.objects.get(pk=open_project.pk).status == S.OPEN
