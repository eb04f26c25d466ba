"""The money loop end to end against the emulator over HTTP: a lab pays, work is accepted and earned, finance
runs, approves and processes a payout run (transfers funded by the lab's charges), Stripe pays the suppliers
out, its webhooks are processed, and reconciliation is clean."""

from __future__ import annotations

import pytest
from django.db.models import Sum

from apps.ledger.models import LedgerAccount, Posting
from apps.payments import gateway
from apps.payments.models import ConnectedPayout, PayoutLine, ReconciliationException
from apps.payments.services import reconciliation
from tests.payments.stripe_events import deliver_events, funded_run, ledger_balances


@pytest.fixture
def emulator(stripe_emulator, settings, db):
    stripe_emulator.set_webhook_delivery(False)
    settings.PLATFORM_FEE_BPS = 1000
    settings.PAYOUT_FOUR_EYES_LIMIT_MINOR = 10_000_000
    return stripe_emulator


def balance(prefix: str) -> int:
    return Posting.objects.filter(account__code__startswith=prefix).aggregate(s=Sum("amount"))["s"] or 0


def test_the_money_loop_end_to_end_reconciles_clean(
    emulator, lab, lab_owner, finance, client, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    paid, run, people = funded_run(emulator, lab, lab_owner, finance, client, capture, suppliers=2)

    assert run.status == "completed"
    lines = list(PayoutLine.objects.filter(run=run).order_by("id"))
    assert {line.source_transaction for line in lines} == {c.stripe_charge_id for c in paid}
    for line in lines:
        transfer = gateway.retrieve_transfer(line.stripe_transfer_id)
        assert transfer.source_transaction == line.source_transaction
        assert transfer.amount == line.amount_minor == 2_700  # 15 units x 2.00, less the 10 % platform fee

    # Stripe pays each supplier out to its bank; the Connect webhooks arrive (twice, newest first).
    for _vendor, _owner, account in people:
        emulator.create_payout(account.stripe_account_id, status="paid")
    events = [e for e in emulator.events() if e["type"].startswith(("payout.", "transfer.", "account."))]
    deliver_events(client, capture, events, times=2, reverse=True)
    assert sorted(ConnectedPayout.objects.values_list("status", "amount_minor")) == [("paid", 2_700)] * 2

    run_ = reconciliation.run_reconciliation(actor=finance)

    assert run_.status == "completed", run_.error
    assert run_.checked_count >= 6  # 2 charges, 2 transfers, 2 payouts
    assert list(ReconciliationException.objects.values_list("kind", "detail")) == []
    assert ConnectedPayout.objects.filter(reconciled_at__isnull=True).count() == 0

    # The ledger: every entry balances, receivables and payables clear, the platform keeps its fee.
    assert ledger_balances()
    assert balance("lab_receivable:") == 0
    assert balance("payee_payable:") == 0
    assert -balance("platform_fee_revenue") == 2 * 300
    fees = sum(c.stripe_fee_minor for c in paid)
    assert balance("stripe_balance") == sum(c.amount_minor for c in paid) - fees - 2 * 2_700
    assert LedgerAccount.objects.filter(code="stripe_fees").exists()
