"""Payout runs: draft -> approved (four eyes above the limit) -> processing -> completed |
partially_failed; each line is paid exactly once, whatever crashes or retries."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.errors import DomainError, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from apps.core.hooks import Hook
from apps.ledger import services as ledger
from apps.payments.models import Earning, PayoutLine, PayoutRun
from apps.payments.services import payouts
from apps.payments.services.earnings import accrue_earnings
from tests.factories import UserFactory
from tests.payments.fixtures import WorkerKilled, install_fake, make_batch, ready_account, supplier_contract

PERIOD = {"period_start": date(2000, 1, 1), "period_end": date(2100, 1, 1), "currency": "USD"}


@pytest.fixture(autouse=True)
def limits(settings):
    settings.PLATFORM_FEE_BPS = 1000
    settings.PAYOUT_FOUR_EYES_LIMIT_MINOR = 1_000_000


@pytest.fixture
def fake(monkeypatch):
    return install_fake(monkeypatch)


@pytest.fixture
def finance2(db):
    return UserFactory(email="finance2@platform.test", staff_role="finance")


@pytest.fixture
def events(monkeypatch):
    seen = []
    from apps.core import events as core_events

    hook = Hook("domain_event")
    for subscriber in core_events.domain_event._subscribers:
        hook.subscribe(subscriber)
    hook.subscribe(lambda **kw: seen.append((kw["event_type"], kw["data"])))
    monkeypatch.setattr(core_events, "domain_event", hook)
    return seen


def suppliers_with_work(lab, n, *, ready=True, units=(10, 20)):
    contracts = []
    for _ in range(n):
        contract = supplier_contract(lab)
        for u in units:
            make_batch(contract, units=u)
        if ready:
            ready_account(contract.supplier)
        contracts.append(contract)
    return contracts


def approved_run(finance, lab, n=2, **kw):
    suppliers_with_work(lab, n, **kw)
    run = payouts.create_run(actor=finance, **PERIOD)
    return payouts.approve_run(actor=finance, run=run)


def test_a_draft_run_has_one_line_per_supplier_with_its_earnings(lab, finance):
    contracts = suppliers_with_work(lab, 3)
    run = payouts.create_run(actor=finance, **PERIOD)

    assert run.status == "draft" and run.line_count == 3 and run.earning_count == 6
    lines = {line.supplier_id: line for line in run.lines.all()}
    assert set(lines) == {c.supplier_id for c in contracts}
    # 30 units x 2.00 USD = 60.00; fee 10 % -> 54.00 each
    assert {line.amount_minor for line in lines.values()} == {5400}
    assert run.total_minor == 16200
    assert all(line.idempotency_key == f"payout-line:{line.public_id}:v1" for line in lines.values())
    in_run = Earning.objects.filter(run=run).values_list("line__supplier_id", "supplier_id", "status")
    assert len(in_run) == 6 and all(a == b and st == "in_run" for a, b, st in in_run)
    assert run.transfer_group == f"PAYOUT-{run.public_id}"


def test_run_creation_does_not_grow_queries_with_suppliers(lab, finance):
    suppliers_with_work(lab, 2)
    accrue_earnings()
    with CaptureQueriesContext(connection) as small:
        payouts.create_run(actor=finance, **PERIOD)
    suppliers_with_work(lab, 8)
    accrue_earnings()
    with CaptureQueriesContext(connection) as large:
        payouts.create_run(actor=finance, **PERIOD)
    assert len(large) == len(small)


def test_a_second_run_does_not_take_earnings_already_in_a_run(lab, finance):
    suppliers_with_work(lab, 1)
    payouts.create_run(actor=finance, **PERIOD)
    with pytest.raises(DomainError) as err:
        payouts.create_run(actor=finance, **PERIOD)
    assert err.value.code == "payout_run_empty"
    assert PayoutRun.objects.count() == 1


def test_only_finance_creates_runs_and_bad_input_is_named(lab, finance, operations, lab_owner):
    for actor in (operations, lab_owner):
        with pytest.raises(NotFound):
            payouts.create_run(actor=actor, **PERIOD)
    with pytest.raises(ValidationFailed) as err:
        payouts.create_run(actor=finance, period_start=date(2025, 2, 1), period_end=date(2025, 1, 1), currency="XXX")
    assert set(err.value.details) == {"period_end", "currency"}
    assert not PayoutRun.objects.exists()


def test_below_the_limit_one_approval_suffices(lab, finance):
    run = approved_run(finance, lab)
    assert run.status == "approved" and run.approved_by == finance


def test_approving_your_own_run_above_the_limit_needs_a_second_finance_user(lab, finance, finance2, settings):
    settings.PAYOUT_FOUR_EYES_LIMIT_MINOR = 100
    suppliers_with_work(lab, 1)
    run = payouts.create_run(actor=finance, **PERIOD)

    run = payouts.approve_run(actor=finance, run=run)
    assert run.status == "draft" and run.approved_by == finance
    with pytest.raises(PermissionDenied) as err:
        payouts.approve_run(actor=finance, run=run)
    assert err.value.code == "four_eyes_required"
    run.refresh_from_db()
    assert run.status == "draft"
    with pytest.raises(InvalidTransition):
        payouts.process_run(actor=finance, run=run)

    run = payouts.approve_run(actor=finance2, run=run)
    assert run.status == "approved" and run.second_approved_by == finance2


def test_processing_an_unapproved_run_is_refused_and_moves_nothing(lab, finance, fake):
    suppliers_with_work(lab, 1)
    run = payouts.create_run(actor=finance, **PERIOD)
    with pytest.raises(InvalidTransition) as err:
        payouts.process_run(actor=finance, run=run)
    assert err.value.code == "payout_run_not_approved"
    assert not fake.calls
    assert run.lines.get().status == "pending"


def test_processing_pays_every_line_once_and_books_it(lab, finance, fake, events, django_capture_on_commit_callbacks):
    run = approved_run(finance, lab, n=3)
    with django_capture_on_commit_callbacks(execute=True):
        payouts.process_run(actor=finance, run=run)

    run.refresh_from_db()
    assert run.status == "completed"
    assert fake.unique_transfers() == 3 and len(fake.calls) == 3
    assert set(run.lines.values_list("status", flat=True)) == {"paid"}
    assert run.lines.filter(stripe_transfer_id__isnull=True).count() == 0
    assert set(Earning.objects.filter(run=run).values_list("status", flat=True)) == {"paid"}
    assert {b.balance for b in ledger.balances(prefix="payee_payable")} == {0}
    assert {c["transfer_group"] for c in fake.calls} == {run.transfer_group}
    assert ledger.balance("stripe_balance", currency="USD") == -run.total_minor
    assert [e for e, _ in events].count("payout_run.completed") == 1

    # a repeated job pays nothing again
    payouts.pay_run(run_id=run.pk)
    assert len(fake.calls) == 3


def test_a_supplier_that_cannot_receive_fails_without_a_call_then_retries(
    lab, finance, fake, events, django_capture_on_commit_callbacks
):
    contracts = suppliers_with_work(lab, 2, ready=False)
    ready_account(contracts[0].supplier)
    run = payouts.approve_run(actor=finance, run=payouts.create_run(actor=finance, **PERIOD))
    with django_capture_on_commit_callbacks(execute=True):
        payouts.process_run(actor=finance, run=run)

    run.refresh_from_db()
    assert run.status == "partially_failed"
    failed = run.lines.filter(supplier=contracts[1].supplier).first()
    assert failed.status == "failed" and failed.error_code == "account_cannot_receive"
    assert "No Stripe account" in failed.error
    assert [c["destination"] for c in fake.calls] == [contracts[0].supplier.connected_account.stripe_account_id]
    assert ("payout.failed" in [e for e, _ in events]) and ("payout_run.completed" in [e for e, _ in events])
    assert ledger.balance(f"payee_payable:{contracts[1].supplier.public_id}", currency="USD") == -failed.amount_minor

    ready_account(contracts[1].supplier)
    with django_capture_on_commit_callbacks(execute=True):
        payouts.retry_failed_lines(actor=finance, run=run)
    run.refresh_from_db()
    failed.refresh_from_db()
    assert run.status == "completed" and failed.status == "paid"
    assert failed.idempotency_key.endswith(":v2")
    assert fake.unique_transfers() == 2


def test_stripe_refusing_a_transfer_fails_the_line_with_its_reason(lab, finance, fake):
    run = approved_run(finance, lab, n=1)
    line = run.lines.select_related("supplier__connected_account").first()
    fake.refuse[line.supplier.connected_account.stripe_account_id] = "account_invalid"
    PayoutRun.objects.filter(pk=run.pk).update(status="processing")
    payouts.pay_run(run_id=run.pk)
    line.refresh_from_db()
    assert line.status == "failed" and line.error_code == "account_invalid" and not line.stripe_transfer_id
    run.refresh_from_db()
    assert run.status == "partially_failed"


def test_a_lost_response_then_a_retry_sends_exactly_one_transfer(lab, finance, fake):
    run = approved_run(finance, lab, n=1)
    PayoutRun.objects.filter(pk=run.pk).update(status="processing")
    fake.lose_next = True

    first = payouts.pay_run(run_id=run.pk)
    line = run.lines.first()
    assert first.waiting == 1 and line.status == "submitting"

    second = payouts.pay_run(run_id=run.pk)
    line.refresh_from_db()
    assert second.paid == 1 and line.status == "paid"
    assert len(fake.calls) == 2 and fake.unique_transfers() == 1
    assert {c["idempotency_key"] for c in fake.calls} == {line.idempotency_key}


def test_a_worker_killed_mid_run_then_a_rerun_pays_no_line_twice(lab, finance, fake):
    run = approved_run(finance, lab, n=3)
    PayoutRun.objects.filter(pk=run.pk).update(status="processing")
    fake.crash_next = True
    with pytest.raises(WorkerKilled):
        payouts.pay_run(run_id=run.pk)
    assert list(run.lines.values_list("status", flat=True).order_by("id")) == ["submitting", "pending", "pending"]

    payouts.pay_run(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "completed"
    assert fake.unique_transfers() == 3
    assert PayoutLine.objects.filter(run=run, status="paid").count() == 3
    assert ledger.balance("stripe_balance", currency="USD") == -run.total_minor


def test_the_ledger_balances_after_a_run(lab, finance, fake, django_capture_on_commit_callbacks):
    from apps.ledger.models import Posting

    run = approved_run(finance, lab, n=4)
    with django_capture_on_commit_callbacks(execute=True):
        payouts.process_run(actor=finance, run=run)
    assert sum(Posting.objects.values_list("amount", flat=True)) == 0
    total_fee = sum(Earning.objects.values_list("fee_minor", flat=True))
    assert ledger.balance("platform_fee_revenue", currency="USD") == -total_fee
