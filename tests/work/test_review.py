"""Review: the lab accepts, partially accepts or rejects a submitted batch; unreviewed batches
auto-accept after the review window."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from apps.core.errors import DomainError, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from apps.notifications.models import Notification
from apps.work import services, tasks
from apps.work.models import WorkBatch
from tests.projects.support import audit_actions, audit_rows

S = WorkBatch.Status


def supplier_told(batch) -> list[str]:  # who was told a batch was reviewed
    return sorted(n.recipient.email for n in Notification.objects.filter(kind="batch.reviewed"))


SUPPLIER = sorted(["owner@northwind.test", "manager@northwind.test"])


# --- Accept -------------------------------------------------------------------------------------------------


def test_the_lab_accepts_a_batch(batch, lab_admin, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = services.batch_accept(actor=lab_admin, batch=batch)
    assert result.status == S.ACCEPTED
    assert (result.accepted_units, result.reviewed_by, result.auto_accepted) == (12, lab_admin, False)
    assert result.reviewed_at is not None
    assert audit_actions(batch) == ["workbatch.submitted", "workbatch.accepted"]
    row = audit_rows(batch).get(action="workbatch.accepted")
    assert (row.actor, row.from_status, row.to_status) == (lab_admin, S.SUBMITTED, S.ACCEPTED)
    assert supplier_told(batch) == SUPPLIER
    assert callbacks and sorted(m.to[0] for m in mailoutbox) == SUPPLIER
    assert {m.subject for m in mailoutbox} == {"Batch accepted: Radiology preferences"}


def test_accepting_twice_is_a_no_op(batch, lab_admin):
    services.batch_accept(actor=lab_admin, batch=batch)
    again = services.batch_accept(actor=lab_admin, batch=batch)
    assert again.status == S.ACCEPTED
    assert audit_actions(batch).count("workbatch.accepted") == 1
    assert len(supplier_told(batch)) == 2


def test_only_the_labs_reviewers_may_review(batch, lab_member, vendor_manager, outsider, operations):
    with pytest.raises(PermissionDenied):
        services.batch_accept(actor=lab_member, batch=batch)
    for stranger in (vendor_manager, outsider, operations):
        with pytest.raises(NotFound):
            services.batch_accept(actor=stranger, batch=batch)
    batch.refresh_from_db()
    assert batch.status == S.SUBMITTED and audit_actions(batch) == ["workbatch.submitted"]


# --- Reject -------------------------------------------------------------------------------------------------


def test_the_lab_rejects_a_batch_with_a_reason_and_evidence(batch, lab_admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = services.batch_reject(
            actor=lab_admin, batch=batch, reason="low_gold_accuracy", evidence="Gold accuracy 0.41 on 40 items."
        )
    assert (result.status, result.rejection_reason, result.review_evidence) == (
        S.REJECTED, "low_gold_accuracy", "Gold accuracy 0.41 on 40 items.",
    )  # fmt: skip
    assert result.accepted_units is None
    row = audit_rows(batch).get(action="workbatch.rejected")
    assert (row.reason, row.data) == ("Gold accuracy 0.41 on 40 items.", {"rejection_reason": "low_gold_accuracy"})
    (told,) = {n.body for n in Notification.objects.filter(kind="batch.reviewed")}
    assert "Low gold accuracy" in told and "appeal until" in told
    assert len(callbacks) == 2  # one e-mail per supplier manager, sent after commit


@pytest.mark.parametrize(
    ("reason", "evidence", "field"),
    [("bad_vibes", "x", "reason"), ("", "x", "reason"), ("other", "  ", "evidence"), ("other", "e" * 5001, "evidence")],
)
def test_a_rejection_needs_a_taxonomy_reason_and_evidence(batch, lab_admin, reason, evidence, field):
    with pytest.raises(ValidationFailed) as caught:
        services.batch_reject(actor=lab_admin, batch=batch, reason=reason, evidence=evidence)
    assert field in caught.value.details
    batch.refresh_from_db()
    assert batch.status == S.SUBMITTED


def test_rejecting_twice_is_a_no_op_and_another_outcome_is_refused(batch, lab_admin):
    services.batch_reject(actor=lab_admin, batch=batch, reason="incomplete", evidence="Half the items missing")
    services.batch_reject(actor=lab_admin, batch=batch, reason="incomplete", evidence="Half the items missing")
    assert audit_actions(batch).count("workbatch.rejected") == 1
    with pytest.raises(DomainError) as caught:
        services.batch_reject(actor=lab_admin, batch=batch, reason="other", evidence="Changed my mind")
    assert caught.value.code == "batch_already_reviewed"
    with pytest.raises(InvalidTransition) as caught:
        services.batch_accept(actor=lab_admin, batch=batch)
    assert caught.value.code == "workbatch_not_submitted"
    batch.refresh_from_db()
    assert (batch.status, batch.rejection_reason) == (S.REJECTED, "incomplete")


# --- Partial acceptance --------------------------------------------------------------------------------------


def test_the_lab_partially_accepts_a_batch(batch, lab_admin):
    result = services.batch_partially_accept(
        actor=lab_admin, batch=batch, accepted_units=9, reason="guideline_violation", evidence="3 items skipped step 2"
    )
    assert (result.status, result.accepted_units, result.rejection_reason) == (
        S.PARTIALLY_ACCEPTED, 9, "guideline_violation",
    )  # fmt: skip
    assert audit_rows(batch).get(action="workbatch.partially_accepted").data == {
        "accepted_units": 9, "rejection_reason": "guideline_violation",
    }  # fmt: skip
    assert "9 units accepted" in Notification.objects.get(kind="batch.reviewed", recipient__email=SUPPLIER[0]).body
    # twice: a no-op; with other terms: refused
    services.batch_partially_accept(
        actor=lab_admin, batch=batch, accepted_units=9, reason="guideline_violation", evidence="3 items skipped step 2"
    )
    assert audit_actions(batch).count("workbatch.partially_accepted") == 1
    with pytest.raises(DomainError) as caught:
        services.batch_partially_accept(
            actor=lab_admin, batch=batch, accepted_units=8, reason="guideline_violation", evidence="4 skipped"
        )
    assert caught.value.code == "batch_already_reviewed"


@pytest.mark.parametrize("units", [0, 12, 13, -1, "9"])
def test_a_partial_acceptance_accepts_some_but_not_all_units(batch, lab_admin, units):
    with pytest.raises(ValidationFailed) as caught:
        services.batch_partially_accept(
            actor=lab_admin, batch=batch, accepted_units=units, reason="other", evidence="x"
        )
    assert caught.value.details == {"accepted_units": ["Between 1 and 11; accept or reject the whole batch otherwise."]}


def test_after_the_review_window_the_lab_may_accept_but_not_reject(batch, lab_admin):
    with time_machine.travel(batch.review_due_at + timedelta(seconds=1), tick=False):
        with pytest.raises(DomainError) as caught:
            services.batch_reject(actor=lab_admin, batch=batch, reason="other", evidence="Late")
        assert caught.value.code == "review_window_closed"
        with pytest.raises(DomainError):
            services.batch_partially_accept(
                actor=lab_admin, batch=batch, accepted_units=1, reason="other", evidence="x"
            )
        assert services.batch_accept(actor=lab_admin, batch=batch).status == S.ACCEPTED


# --- Auto-accept ------------------------------------------------------------------------------------------------


def test_unreviewed_batches_auto_accept_after_the_review_window(submit, annotators, lab_admin):
    from tests.work.conftest import jsonl, simple_rows

    start = timezone.now()
    with time_machine.travel(start, tick=False):
        due = submit(jsonl(simple_rows(annotators)), client_batch_key="due", unit_count=12)
        reviewed = submit(jsonl(simple_rows(annotators)), client_batch_key="reviewed", unit_count=12)
        services.batch_reject(actor=lab_admin, batch=reviewed, reason="other", evidence="Wrong items")
    with time_machine.travel(start + timedelta(days=1), tick=False):
        later = submit(jsonl(simple_rows(annotators)), client_batch_key="later", unit_count=12)

    # one second before the window closes: nothing moves
    with time_machine.travel(start + timedelta(days=5) - timedelta(seconds=1), tick=False):
        assert services.batches_auto_accept_due() == 0
    # once it has: only the unreviewed batch whose window passed, by the system
    with time_machine.travel(start + timedelta(days=5, minutes=1), tick=False):
        assert tasks.auto_accept_due_batches.delay().get() == 1
        assert services.batches_auto_accept_due() == 0  # twice: nothing more
    for b in (due, reviewed, later):
        b.refresh_from_db()
    assert (due.status, due.auto_accepted, due.accepted_units, due.reviewed_by) == (S.ACCEPTED, True, 12, None)
    assert (reviewed.status, later.status) == (S.REJECTED, S.SUBMITTED)
    row = audit_rows(due).get(action="workbatch.accepted")
    assert (row.actor, row.data) == (None, {"auto_accepted": True})
    assert Notification.objects.filter(kind="batch.reviewed", body__contains="did not review").count() == 2


def test_auto_accept_runs_on_celery_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["work.auto_accept_due_batches"]
    assert entry["task"] == tasks.auto_accept_due_batches.name == "work.auto_accept_due_batches"
