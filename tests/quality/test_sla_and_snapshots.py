"""SLA alerts (raised and cleared only with enough evidence), append-only snapshots, the multiplier,
and the batch.submitted subscription."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail  # noqa: F401

from apps.core.events import domain_event
from apps.core.models import AuditEvent
from apps.notifications.models import Notification
from apps.quality import services
from apps.quality.models import AppendOnlyError, ScoreSnapshot, ScoringRun, SlaAlert
from apps.quality.selectors import contract_multiplier, contract_quality, multiplier_for_batch

from .conftest import gold_rows, make_batch, set_gold

pytestmark = pytest.mark.django_db


@pytest.fixture
def events():
    seen = []

    def listener(**payload):
        seen.append(payload)

    domain_event.subscribe(listener)
    yield seen
    domain_event._subscribers.remove(listener)


def _score(contract, annotator, correct, wrong, prefix):
    rows, gold = gold_rows(annotator, correct, wrong, prefix=prefix)
    set_gold(contract.project, gold)
    make_batch(contract, rows)
    return services.score_contract(contract=contract)


def test_thin_evidence_below_the_sla_raises_no_alert(contract, annotators, events):
    # 6 of 10 = 0.60 < 0.80, but the 95% interval (0.31-0.83) still reaches the threshold.
    run = _score(contract, annotators[0], 6, 4, "g")

    assert not SlaAlert.objects.exists()
    assert not [e for e in events if e["event_type"].startswith("quality.")]
    state = contract_quality(actor=contract.lab.memberships.first().user, contract_public_id=contract.public_id)
    assert state.sla.state == "insufficient_evidence"
    assert run.status == "succeeded"


def test_enough_evidence_raises_one_alert_to_both_sides_then_clears(
    contract, annotators, events, lab_admin, vendor_manager, django_capture_on_commit_callbacks
):
    run = _score(contract, annotators[0], 30, 30, "g")  # 0.50, interval 0.38-0.62: upper < 0.80

    alert = SlaAlert.objects.get()
    assert alert.status == "open" and alert.opened_by_run == run and alert.n == 60
    assert alert.upper < 0.8
    breached = [e for e in events if e["event_type"] == "quality.sla_breached"]
    assert len(breached) == 1
    assert set(breached[0]["data"]) == {"contract", "metric", "threshold", "measured", "lower", "upper"}
    assert breached[0]["organization_ids"] == sorted([contract.lab_id, contract.supplier_id])
    recipients = set(Notification.objects.filter(kind="quality.sla_breached").values_list("recipient", flat=True))
    assert {lab_admin.pk, vendor_manager.pk} <= recipients
    assert AuditEvent.objects.filter(action="quality.sla_breached").count() == 1

    services.score_contract(contract=contract)  # still breached: no second alert
    assert SlaAlert.objects.count() == 1

    # Lots of good work: 0.95 of 600 more, lower bound well above 0.80 -> cleared.
    _score(contract, annotators[1], 570, 30, "h")
    alert.refresh_from_db()
    assert alert.status == "cleared" and alert.cleared_lower >= 0.8
    assert len([e for e in events if e["event_type"] == "quality.sla_recovered"]) == 1
    assert Notification.objects.filter(kind="quality.sla_recovered").exists()


def test_an_open_alert_stays_open_while_the_interval_straddles_the_threshold(contract, annotators):
    _score(contract, annotators[0], 30, 30, "g")
    # Now 0.50 overall -> add enough to reach ~0.78 with an interval straddling 0.80: not cleared.
    _score(contract, annotators[1], 110, 10, "h")
    assert SlaAlert.objects.get().status == "open"


def test_snapshots_are_append_only(contract, annotators):
    _score(contract, annotators[0], 9, 1, "g")
    snapshot = ScoreSnapshot.objects.first()

    snapshot.n_gold = 99
    with pytest.raises(AppendOnlyError):
        snapshot.save()
    with pytest.raises(AppendOnlyError):
        snapshot.delete()
    with pytest.raises(AppendOnlyError):
        ScoreSnapshot.objects.filter(pk=snapshot.pk).update(n_gold=1)
    with pytest.raises(AppendOnlyError):
        ScoreSnapshot.objects.all().delete()
    snapshot.refresh_from_db()
    assert snapshot.n_gold == 10


@pytest.mark.parametrize(
    ("correct", "wrong", "multiplier", "band"),
    [
        (96, 4, Decimal("1.10"), ["0.95", "1.10"]),
        (90, 10, Decimal("1.00"), ["0.85", "1.00"]),
        (80, 20, Decimal("0.90"), ["0.75", "0.90"]),
        (50, 50, Decimal("0"), None),
    ],
)
def test_multiplier_from_the_batch_own_gold(contract, annotators, correct, wrong, multiplier, band):
    rows, gold = gold_rows(annotators[0], correct, wrong)
    set_gold(contract.project, gold)
    batch = make_batch(contract, rows)
    services.score_batch(batch)

    result = multiplier_for_batch(batch)

    assert result.basis == "batch"
    assert result.multiplier == multiplier
    assert result.band == band
    assert result.n_gold == 100
    assert result.gold_accuracy == Decimal(correct) / 100


def test_multiplier_falls_back_to_the_contract_then_to_one(contract, annotators):
    empty = make_batch(contract, [("plain-1", annotators[0], "A")])
    services.score_batch(empty)
    assert multiplier_for_batch(empty).basis == "no gold measured"
    assert multiplier_for_batch(empty).multiplier == Decimal("1.00")
    assert contract_multiplier(contract).multiplier == Decimal("1.00")

    rows, gold = gold_rows(annotators[0], 88, 12)
    set_gold(contract.project, gold)
    services.score_batch(make_batch(contract, rows))
    few, few_gold = gold_rows(annotators[1], 1, 1, prefix="few")
    set_gold(contract.project, few_gold)
    thin = make_batch(contract, few)
    services.score_batch(thin)

    result = multiplier_for_batch(thin)
    assert result.basis == "contract"  # 2 gold answers are too few to pay on
    assert (result.n_gold, result.gold_accuracy, result.multiplier) == (102, Decimal("0.8725"), Decimal("1.00"))


def test_batch_submitted_schedules_scoring_only_after_commit(contract, annotators, django_capture_on_commit_callbacks):
    from apps.core.events import emit

    batch = make_batch(contract, [("i-1", annotators[0], "A"), ("i-1", annotators[1], "B")])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        emit("batch.submitted", obj=batch, organization_ids=[contract.lab_id], data={})
        assert not ScoringRun.objects.exists()  # nothing runs inside the submitting transaction
    assert len(callbacks) == 1
    callbacks[0]()  # the commit: Celery runs eagerly in tests
    run = ScoringRun.objects.get()
    assert (run.kind, run.trigger, run.triggered_by_batch_id, run.status) == (
        "incremental",
        "batch",
        batch.pk,
        "succeeded",
    )


def test_other_events_schedule_nothing(contract, annotators, django_capture_on_commit_callbacks):
    batch = make_batch(contract, [("i-1", annotators[0], "A")])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.on_domain_event(event_type="batch.accepted", obj=batch)
    assert callbacks == [] and not ScoringRun.objects.exists()


def test_request_recompute_runs_after_commit_and_refuses_outsiders(
    contract, annotators, lab_admin, outsider, django_capture_on_commit_callbacks
):
    from apps.core.errors import NotFound

    make_batch(contract, [("i-1", annotators[0], "A"), ("i-1", annotators[1], "A")])
    with pytest.raises(NotFound):
        services.request_recompute(actor=outsider, contract=contract)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.request_recompute(actor=lab_admin, contract=contract)
        assert run.status == "running"
    run.refresh_from_db()
    assert (run.status, run.trigger, run.triggered_by_user, run.progress) == ("succeeded", "user", lab_admin, 100)


def test_recompute_all_scores_every_active_contract(contract, annotators):
    make_batch(contract, [("i-1", annotators[0], "A"), ("i-1", annotators[1], "A")])
    run = services.recompute_all()
    assert (run.scope, run.status, run.n_contracts, run.n_judgments) == ("all", "succeeded", 1, 2)


def test_the_database_refuses_to_change_a_snapshot_on_postgresql(contract, annotators):
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("The append-only trigger exists on PostgreSQL only.")
    _score(contract, annotators[0], 9, 1, "g")
    snapshot = ScoreSnapshot.objects.first()
    for sql in (
        "UPDATE quality_scoresnapshot SET n_gold = 1 WHERE id = %s",
        "DELETE FROM quality_scoresnapshot WHERE id = %s",
    ):
        with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [snapshot.pk])
    snapshot.refresh_from_db()
    assert snapshot.n_gold == 10
