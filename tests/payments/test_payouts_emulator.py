"""Payout runs against the local Stripe emulator over HTTP: the money loop end to end, a lost
response, a killed worker, and (PostgreSQL) 20 concurrent "process" requests on one run."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from django.db import connection, connections

from apps.accounts.roles import Role
from apps.ledger import services as ledger
from apps.ledger.models import Posting
from apps.payments import gateway
from apps.payments.models import PayoutLine, PayoutRun
from apps.payments.services import accounts, payouts
from tests.factories import OrganizationFactory, UserFactory, member
from tests.payments.fixtures import WorkerKilled, make_batch, supplier_contract

PERIOD = {"period_start": date(2000, 1, 1), "period_end": date(2100, 1, 1), "currency": "USD"}


def onboarded_suppliers(lab, n):
    """``n`` vendors with work accepted and a connected account onboarded in the emulator."""
    from zeal import zeal_ignore

    with zeal_ignore():
        for _ in range(n):
            vendor = OrganizationFactory(kind="vendor")
            owner = member(vendor, Role.OWNER)
            contract = supplier_contract(lab, supplier=vendor)
            make_batch(contract, units=10)
            make_batch(contract, units=5)
            account = accounts.connect_account(actor=owner, organization=vendor)
            onboarded = _emulator.complete_onboarding(account.stripe_account_id)
            accounts.apply_account_update(account=onboarded, event_created=int(time.time()))


_emulator = None


@pytest.fixture
def emulator(stripe_emulator, settings):
    global _emulator
    _emulator = stripe_emulator
    settings.PLATFORM_FEE_BPS = 1000
    settings.PAYOUT_FOUR_EYES_LIMIT_MINOR = 10_000_000
    stripe_emulator.call("POST", "balance/topup", {"amount": 10_000_000, "currency": "usd"})
    return stripe_emulator


def approved_run(lab, finance, n):
    onboarded_suppliers(lab, n)
    run = payouts.create_run(actor=finance, **PERIOD)
    return payouts.approve_run(actor=finance, run=run)


def transfers_of(run) -> list[gateway.Transfer]:
    return list(gateway.list_transfers(transfer_group=run.transfer_group))


def test_the_money_loop_pays_each_supplier_once_over_http(emulator, lab, finance, django_capture_on_commit_callbacks):
    run = approved_run(lab, finance, 3)
    with django_capture_on_commit_callbacks(execute=True):
        payouts.process_run(actor=finance, run=run)

    run.refresh_from_db()
    assert run.status == "completed"
    sent = transfers_of(run)
    lines = {line.stripe_transfer_id: line for line in PayoutLine.objects.filter(run=run)}
    assert {t.id for t in sent} == set(lines)
    for transfer in sent:
        line = lines[transfer.id]
        assert (transfer.amount, transfer.currency, transfer.destination) == (
            line.amount_minor,
            "usd",
            line.destination,
        )
        assert transfer.metadata["payout_line"] == str(line.public_id)
    assert sum(Posting.objects.values_list("amount", flat=True)) == 0
    assert ledger.balance("stripe_balance", currency="USD") == -run.total_minor


def test_an_account_that_cannot_receive_fails_with_the_reason_and_nothing_moves(
    emulator, lab, finance, django_capture_on_commit_callbacks
):
    run = approved_run(lab, finance, 2)
    line = PayoutLine.objects.filter(run=run).select_related("supplier__connected_account").first()
    acct = line.supplier.connected_account.stripe_account_id
    blocked = emulator.require_information(acct, ["external_account"])
    accounts.apply_account_update(account=blocked, event_created=int(time.time()) + 1)

    with django_capture_on_commit_callbacks(execute=True):
        payouts.process_run(actor=finance, run=run)

    line.refresh_from_db()
    run.refresh_from_db()
    assert line.status == "failed" and line.error_code == "account_cannot_receive"
    assert "external_account" in line.error
    assert run.status == "partially_failed"
    assert [t.destination for t in transfers_of(run)] != [] and acct not in {t.destination for t in transfers_of(run)}


def test_a_response_lost_after_the_transfer_was_created_then_a_retry_makes_one_transfer(emulator, lab, finance):
    run = approved_run(lab, finance, 1)
    PayoutRun.objects.filter(pk=run.pk).update(status="processing")
    emulator.arm_fault("lost_response", path="/v1/transfers")

    first = payouts.pay_run(run_id=run.pk)
    assert first.waiting == 1
    assert len(transfers_of(run)) == 1  # Stripe made it; we did not hear back

    second = payouts.pay_run(run_id=run.pk)
    line = PayoutLine.objects.filter(run=run).first()
    assert second.paid == 1 and line.status == "paid"
    assert [t.id for t in transfers_of(run)] == [line.stripe_transfer_id]


def test_a_worker_killed_after_the_call_then_a_rerun_pays_no_line_twice(emulator, lab, finance, monkeypatch):
    run = approved_run(lab, finance, 3)
    PayoutRun.objects.filter(pk=run.pk).update(status="processing")
    real = gateway.create_transfer
    state = {"killed": False}

    def dies_after_the_second_transfer(**kwargs):
        transfer = real(**kwargs)
        if len(transfers_of(run)) == 2 and not state["killed"]:
            state["killed"] = True
            raise WorkerKilled()
        return transfer

    monkeypatch.setattr(gateway, "create_transfer", dies_after_the_second_transfer)
    with pytest.raises(WorkerKilled):
        payouts.pay_run(run_id=run.pk)
    monkeypatch.setattr(gateway, "create_transfer", real)
    payouts.pay_run(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == "completed"
    sent = transfers_of(run)
    assert len(sent) == 3 == len({t.destination for t in sent})
    assert set(PayoutLine.objects.filter(run=run).values_list("stripe_transfer_id", flat=True)) == {t.id for t in sent}


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip(f"row locks need PostgreSQL; this run uses {connection.vendor} (set DATABASE_URL=postgres://...)")


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_process_requests_send_each_transfer_exactly_once(postgres_only, emulator, monkeypatch):
    from apps.accounts.roles import OrgKind

    lab = OrganizationFactory(kind=OrgKind.LAB)
    finance = UserFactory(staff_role="finance")
    run = approved_run(lab, finance, 5)
    real = gateway.create_transfer
    calls = []
    lock = threading.Lock()

    def counted(**kwargs):
        with lock:
            calls.append(kwargs["idempotency_key"])
        return real(**kwargs)

    monkeypatch.setattr(gateway, "create_transfer", counted)
    barrier = threading.Barrier(20)
    errors = []

    def request():
        try:
            barrier.wait()
            payouts.process_run(actor=finance, run=PayoutRun.objects.filter(pk=run.pk).first())
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=request) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert errors == []
    run.refresh_from_db()
    assert run.status == "completed", list(PayoutLine.objects.filter(run=run).values_list("status", "error"))
    assert len(calls) == 5 == len(set(calls))
    sent = transfers_of(run)
    assert len(sent) == 5
    assert set(PayoutLine.objects.filter(run=run).values_list("stripe_transfer_id", flat=True)) == {t.id for t in sent}
    assert sum(Posting.objects.values_list("amount", flat=True)) == 0
