"""Refunds to labs reverse the related transfers through Stripe (proportionally, deterministic keys) and post
reversing entries; the ledger still balances and reconciliation stays clean."""

from __future__ import annotations

import pytest
from django.db.models import Sum
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from apps.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from apps.ledger.models import Posting
from apps.payments import gateway
from apps.payments.models import Refund, TransferReversal
from apps.payments.services import reconciliation, refunds
from tests.payments.stripe_events import deliver_events, entries_of, events_for, funded_run, ledger_balances


@pytest.fixture
def emulator(stripe_emulator, settings, db):
    stripe_emulator.set_webhook_delivery(False)
    settings.PLATFORM_FEE_BPS = 1000
    settings.PAYOUT_FOUR_EYES_LIMIT_MINOR = 10_000_000
    return stripe_emulator


@pytest.fixture
def loop(emulator, lab, lab_owner, finance, client, django_capture_on_commit_callbacks):
    paid, run, people = funded_run(emulator, lab, lab_owner, finance, client, django_capture_on_commit_callbacks,
                                   suppliers=1)  # fmt: skip
    return paid[0], run


def balance(prefix: str) -> int:
    return Posting.objects.filter(account__code__startswith=prefix).aggregate(s=Sum("amount"))["s"] or 0


def test_a_refund_reverses_the_funded_transfer_in_proportion_and_the_ledger_balances(loop, finance):
    charge, run = loop
    line = run.lines.get()
    stripe_before = balance("stripe_balance")

    refund = refunds.refund_charge(actor=finance, charge=charge, amount_minor=1_500, reason="Half the pilot was bad")

    assert refund.status == "succeeded" and refund.stripe_refund_id.startswith("re_")
    charge.refresh_from_db()
    assert (charge.status, charge.amount_refunded_minor) == ("partially_refunded", 1_500)
    reversal = TransferReversal.objects.get()
    assert reversal.amount_minor == 2_700 * 1_500 // 3_000 == 1_350  # half the charge: half the transfer
    assert reversal.idempotency_key == f"reversal:{refund.public_id}:{line.public_id}"
    assert reversal.status == "succeeded"
    assert gateway.retrieve_transfer(line.stripe_transfer_id).amount_reversed == 1_350
    assert ledger_balances()
    assert balance("stripe_balance") == stripe_before - 1_500 + 1_350
    assert balance("refund_losses") == 1_500 - 1_350
    assert balance("payee_payable:") == 0 and balance("lab_receivable:") == 0

    # Its own charge.refunded / transfer.reversed events change nothing more; reconciliation is clean.
    assert not reconciliation.run_reconciliation(actor=finance).exception_count


def test_webhooks_of_a_refund_do_not_book_it_twice(loop, finance, emulator, client, django_capture_on_commit_callbacks):
    charge, run = loop
    refunds.refund_charge(actor=finance, charge=charge, reason="Cancelled")
    events = events_for(emulator, ["charge.refunded", "transfer.reversed"])

    deliver_events(client, django_capture_on_commit_callbacks, events, times=3, reverse=True)

    charge.refresh_from_db()
    assert (charge.status, charge.amount_refunded_minor) == ("refunded", 3_000)
    assert Refund.objects.count() == 1
    assert TransferReversal.objects.get().amount_minor == 2_700
    assert entries_of("payments.refund").count() == 1
    assert entries_of("payments.transfer_reversal").count() == 1
    assert ledger_balances()


def test_a_refund_made_in_stripe_reverses_the_transfers_too(loop, emulator, client, django_capture_on_commit_callbacks):
    charge, run = loop
    gateway.create_refund(charge=charge.stripe_charge_id, amount=3_000, reason=None, idempotency_key="dashboard")

    deliver_events(client, django_capture_on_commit_callbacks, events_for(emulator, ["charge.refunded"]), times=3)

    assert TransferReversal.objects.get().amount_minor == 2_700
    assert gateway.retrieve_transfer(run.lines.get().stripe_transfer_id).reversed is True
    assert ledger_balances()


def test_a_lost_reversal_response_is_retried_with_the_same_key(loop, finance, emulator):
    charge, run = loop
    emulator.arm_fault("lost_response", path="/v1/transfers/", method="POST")

    refund = refunds.refund_charge(actor=finance, charge=charge, amount_minor=1_000)
    reversal = TransferReversal.objects.get()
    assert reversal.status == "pending" and reversal.error
    refunds.reverse_transfers(refund=refund)

    reversal.refresh_from_db()
    assert reversal.status == "succeeded"
    assert gateway.retrieve_transfer(reversal.stripe_transfer_id).amount_reversed == reversal.amount_minor == 900
    assert entries_of("payments.transfer_reversal").count() == 1


def test_refunds_are_checked(loop, finance, lab_owner):
    charge, run = loop
    with pytest.raises(ValidationFailed) as err:
        refunds.refund_charge(actor=finance, charge=charge, amount_minor=3_001)
    assert "amount" in err.value.details
    with pytest.raises((NotFound, PermissionDenied)):
        refunds.refund_charge(actor=lab_owner, charge=charge, amount_minor=100)
    refunds.refund_charge(actor=finance, charge=charge)
    charge.refresh_from_db()
    with pytest.raises(DomainError):
        refunds.refund_charge(actor=finance, charge=charge, amount_minor=1)
    assert Refund.objects.count() == 1


@hypothesis_settings(deadline=None, max_examples=200)
@given(
    charge=st.integers(min_value=1, max_value=10**9),
    data=st.data(),
    transfers=st.lists(st.tuples(st.integers(1, 10**8), st.integers(0, 100)), min_size=1, max_size=8),
)
def test_reversal_amounts_never_exceed_the_refund_or_what_is_left(charge, data, transfers):
    refund = data.draw(st.integers(min_value=1, max_value=charge))
    transfers = [(amount, amount * done // 100) for amount, done in transfers]  # part already reversed

    amounts = refunds.reversal_amounts(refund_minor=refund, charge_minor=charge, transfers=transfers, currency="USD")

    assert len(amounts) == len(transfers)
    assert all(0 <= a <= amount - done for a, (amount, done) in zip(amounts, transfers, strict=True))
    assert sum(amounts) <= refund
    transferred = sum(amount for amount, _ in transfers)
    if all(done == 0 for _, done in transfers):
        assert sum(amounts) == min(refund * transferred // charge, transferred, refund)
