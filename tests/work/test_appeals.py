"""Appeals: the supplier contests a rejection within the appeal window; operations decide."""

from datetime import timedelta

import pytest
import time_machine

from apps.core.errors import DomainError, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from apps.notifications.models import Notification
from apps.work import selectors, services
from apps.work.models import Appeal, WorkBatch
from tests.projects.support import audit_actions, audit_rows

S = WorkBatch.Status
A = Appeal.Status


@pytest.fixture
def rejected(batch, lab_admin):
    return services.batch_reject(actor=lab_admin, batch=batch, reason="suspected_ai_generated", evidence="Identical")


@pytest.fixture
def appeal(rejected, vendor, vendor_manager, operations):
    return services.appeal_open(
        actor=vendor_manager, organization=vendor, batch=rejected, reason="Our experts wrote these; see timings."
    )


def recipients(kind: str) -> list[str]:
    return sorted(n.recipient.email for n in Notification.objects.filter(kind=kind))


# --- Opening ------------------------------------------------------------------------------------------------------


def test_the_supplier_appeals_a_rejection(
    rejected, vendor, vendor_manager, operations, lab_owner, lab_admin, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        appeal = services.appeal_open(
            actor=vendor_manager, organization=vendor, batch=rejected, reason="  Our experts wrote these.  "
        )
    assert mailoutbox == []
    assert (appeal.status, appeal.reason, appeal.appealed_by) == (A.OPEN, "Our experts wrote these.", vendor_manager)
    rejected.refresh_from_db()
    assert rejected.status == S.APPEALED
    assert audit_actions(rejected)[-1] == "workbatch.appealed"
    assert audit_actions(appeal) == ["appeal.opened"]
    # operations and the lab's reviewers are told, after commit
    assert recipients("appeal.opened") == sorted([operations.email, lab_owner.email, lab_admin.email])
    assert len(callbacks) == 3


def test_appealing_twice_returns_the_appeal_and_another_is_refused(appeal, rejected, vendor, vendor_manager):
    again = services.appeal_open(
        actor=vendor_manager, organization=vendor, batch=rejected, reason="Our experts wrote these; see timings."
    )
    assert again.pk == appeal.pk
    assert audit_actions(appeal) == ["appeal.opened"]
    with pytest.raises(DomainError) as caught:
        services.appeal_open(actor=vendor_manager, organization=vendor, batch=rejected, reason="Something else")
    assert caught.value.code == "appeal_exists"


def test_only_a_rejected_batch_can_be_appealed(batch, lab_admin, vendor, vendor_manager):
    with pytest.raises(InvalidTransition):
        services.appeal_open(actor=vendor_manager, organization=vendor, batch=batch, reason="Premature")
    services.batch_accept(actor=lab_admin, batch=batch)
    with pytest.raises(InvalidTransition) as caught:
        services.appeal_open(actor=vendor_manager, organization=vendor, batch=batch, reason="Why not")
    assert caught.value.code == "workbatch_not_rejected"
    assert Appeal.objects.count() == 0


def test_the_appeal_window_closes_seven_days_after_the_review(rejected, vendor, vendor_manager):
    deadline = rejected.reviewed_at + timedelta(days=7)
    with time_machine.travel(deadline + timedelta(seconds=1), tick=False):
        with pytest.raises(DomainError) as caught:
            services.appeal_open(actor=vendor_manager, organization=vendor, batch=rejected, reason="Late")
    assert caught.value.code == "appeal_window_closed"
    assert caught.value.details == {"appeal_deadline": deadline.isoformat()}
    assert Appeal.objects.count() == 0
    with time_machine.travel(deadline - timedelta(minutes=1), tick=False):
        assert services.appeal_open(actor=vendor_manager, organization=vendor, batch=rejected, reason="Just in time")


def test_only_the_supplier_appeals(rejected, vendor, expert, lab, lab_admin, outsider):
    with pytest.raises(PermissionDenied):
        services.appeal_open(actor=expert, organization=vendor, batch=rejected, reason="x")
    with pytest.raises(PermissionDenied):
        services.appeal_open(actor=lab_admin, organization=lab, batch=rejected, reason="x")
    with pytest.raises(NotFound):
        services.appeal_open(actor=outsider, organization=vendor, batch=rejected, reason="x")
    assert Appeal.objects.count() == 0


def test_an_appeal_needs_a_reason(rejected, vendor, vendor_manager):
    with pytest.raises(ValidationFailed) as caught:
        services.appeal_open(actor=vendor_manager, organization=vendor, batch=rejected, reason="   ")
    assert caught.value.details == {"reason": ["This field is required."]}


# --- Deciding --------------------------------------------------------------------------------------------------------


def test_operations_overturn_a_rejection(
    appeal, operations, lab_owner, lab_admin, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        decided = services.appeal_decide(
            actor=operations, appeal=appeal, outcome="overturn", reason="Timings and drafts show human work."
        )
    assert (decided.status, decided.decided_by, decided.decision_reason) == (
        A.OVERTURNED, operations, "Timings and drafts show human work.",
    )  # fmt: skip
    batch = WorkBatch.objects.get(pk=appeal.batch_id)
    assert (batch.status, batch.accepted_units) == (S.OVERTURNED, batch.unit_count)
    assert batch.status in WorkBatch.ACCEPTED_STATES
    assert audit_actions(appeal) == ["appeal.opened", "appeal.overturned"]
    assert audit_rows(batch).get(action="workbatch.overturned").actor == operations
    both_sides = sorted(["owner@northwind.test", "manager@northwind.test", lab_owner.email, lab_admin.email])
    assert recipients("appeal.decided") == both_sides
    assert sorted(m.to[0] for m in mailoutbox if m.subject.startswith("Appeal decided")) == both_sides


def test_operations_uphold_a_rejection(appeal, operations):
    services.appeal_decide(actor=operations, appeal=appeal, outcome="uphold", reason="Text matches model output.")
    batch = WorkBatch.objects.get(pk=appeal.batch_id)
    assert (appeal.status, batch.status, batch.accepted_units) == (A.UPHELD, S.UPHELD, None)
    assert services.units_committed(batch.contract) == 0


def test_deciding_twice_is_a_no_op_and_a_change_is_refused(appeal, operations):
    services.appeal_decide(actor=operations, appeal=appeal, outcome="uphold", reason="Matches model output.")
    services.appeal_decide(actor=operations, appeal=appeal, outcome="uphold", reason="Matches model output.")
    assert audit_actions(appeal).count("appeal.upheld") == 1
    assert len(recipients("appeal.decided")) == 4
    with pytest.raises(DomainError) as caught:
        services.appeal_decide(actor=operations, appeal=appeal, outcome="uphold", reason="Another reason")
    assert caught.value.code == "appeal_already_decided"
    with pytest.raises(InvalidTransition) as caught:
        services.appeal_decide(actor=operations, appeal=appeal, outcome="overturn", reason="On reflection")
    assert caught.value.code == "appeal_not_open"
    assert WorkBatch.objects.get(pk=appeal.batch_id).status == S.UPHELD


@pytest.mark.parametrize(("outcome", "reason", "field"), [("maybe", "x", "outcome"), ("uphold", " ", "reason")])
def test_a_decision_needs_an_outcome_and_reasons(appeal, operations, outcome, reason, field):
    with pytest.raises(ValidationFailed) as caught:
        services.appeal_decide(actor=operations, appeal=appeal, outcome=outcome, reason=reason)
    assert field in caught.value.details


def test_only_operations_decide(appeal, lab_admin, vendor_manager, finance):
    for someone in (lab_admin, vendor_manager, finance):
        with pytest.raises(NotFound):
            services.appeal_decide(actor=someone, appeal=appeal, outcome="overturn", reason="x")
    appeal.refresh_from_db()
    assert appeal.status == A.OPEN


def test_appeals_are_read_by_operations_and_the_parties(appeal, operations, lab, lab_member, vendor, outsider):
    assert list(selectors.appeal_queue(actor=operations)) == [appeal]
    assert selectors.appeal_get(actor=operations, organization=None, public_id=appeal.public_id) == appeal
    assert selectors.appeal_get(actor=lab_member, organization=lab, public_id=appeal.public_id) == appeal
    with pytest.raises(NotFound):
        selectors.appeal_queue(actor=lab_member)
    other = outsider.memberships.get().organization
    with pytest.raises(NotFound):
        selectors.appeal_get(actor=outsider, organization=other, public_id=appeal.public_id)


# --- Operations' reads of a batch under appeal -------------------------------------------------------------------


def test_operations_read_a_batch_under_appeal_and_its_judgments(appeal, rejected, operations, annotators):
    batch = selectors.batch_get_for_operations(actor=operations, public_id=rejected.public_id)
    assert batch == rejected
    assert batch.appeal == appeal
    rows = list(selectors.judgment_list_for_operations(actor=operations, batch=batch))
    assert len(rows) == 12
    assert rows[0].annotator_handle == annotators[0].expert_profile.handle


@pytest.mark.parametrize("who", ["lab_admin", "lab_member", "vendor_manager", "finance", "outsider"])
def test_only_operations_read_a_batch_as_operations(appeal, rejected, who, request):
    actor = request.getfixturevalue(who)
    with pytest.raises(NotFound):
        selectors.batch_get_for_operations(actor=actor, public_id=rejected.public_id)
    with pytest.raises(NotFound):
        selectors.judgment_list_for_operations(actor=actor, batch=rejected)


def test_a_batch_without_an_appeal_is_not_found_for_operations(batch, rejected, operations):
    for unappealed in (batch, rejected):  # submitted; rejected but not (yet) appealed
        with pytest.raises(NotFound):
            selectors.batch_get_for_operations(actor=operations, public_id=unappealed.public_id)
        with pytest.raises(NotFound):
            selectors.judgment_list_for_operations(actor=operations, batch=unappealed)
    with pytest.raises(NotFound):
        selectors.batch_get_for_operations(actor=operations, public_id="not-a-uuid")


def test_the_parties_list_their_own_appeals(appeal, lab, lab_member, vendor, vendor_manager, expert, outsider):
    assert list(selectors.appeal_list(actor=lab_member, organization=lab)) == [appeal]
    assert list(selectors.appeal_list(actor=vendor_manager, organization=vendor, status=A.OPEN)) == [appeal]
    assert list(selectors.appeal_list(actor=vendor_manager, organization=vendor, status=A.UPHELD)) == []
    with pytest.raises(PermissionDenied):
        selectors.appeal_list(actor=expert, organization=vendor)
    assert list(selectors.appeal_list(actor=outsider, organization=outsider.memberships.get().organization)) == []
    with pytest.raises(NotFound):
        selectors.appeal_list(actor=lab_member, organization=None)


def test_batches_awaiting_the_labs_review(batch, lab, lab_admin, vendor, vendor_manager):
    assert list(selectors.batch_list_awaiting_review(actor=lab_admin, organization=lab)) == [batch]
    assert list(selectors.batch_list_awaiting_review(actor=vendor_manager, organization=vendor)) == []
    services.batch_reject(actor=lab_admin, batch=batch, reason="other", evidence="Wrong items")
    assert list(selectors.batch_list_awaiting_review(actor=lab_admin, organization=lab)) == []


def test_batches_the_supplier_may_still_appeal(rejected, lab, lab_admin, vendor, vendor_manager):
    assert selectors.batch_list_appealable(actor=lab_admin, organization=lab) == []  # the lab appeals nothing
    appealable = selectors.batch_list_appealable(actor=vendor_manager, organization=vendor)
    assert appealable == [rejected]
    assert appealable[0].appeal_deadline == services.appeal_deadline(rejected)
    after = appealable[0].appeal_deadline + timedelta(seconds=1)
    assert selectors.batch_list_appealable(actor=vendor_manager, organization=vendor, now=after) == []
    services.appeal_open(actor=vendor_manager, organization=vendor, batch=rejected, reason="They were right.")
    assert selectors.batch_list_appealable(actor=vendor_manager, organization=vendor) == []
