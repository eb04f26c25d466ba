"""Reconciliation against the emulator: each kind of planted mismatch is found, nothing on clean data, an
exception is recorded once while open, and finance resolves it with a note and an adjusting entry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from apps.ledger.models import JournalEntry
from apps.payments import gateway
from apps.payments.models import Charge, ConnectedPayout, PayoutLine, ReconciliationException
from apps.payments.services import charges, reconciliation
from tests.payments.fixtures import supplier_contract
from tests.payments.stripe_events import funded_run


@pytest.fixture
def emulator(stripe_emulator, settings, db):
    stripe_emulator.set_webhook_delivery(False)
    settings.PLATFORM_FEE_BPS = 1000
    settings.PAYOUT_FOUR_EYES_LIMIT_MINOR = 10_000_000
    return stripe_emulator


@pytest.fixture
def loop(emulator, lab, lab_owner, finance, client, django_capture_on_commit_callbacks):
    paid, run, people = funded_run(emulator, lab, lab_owner, finance, client, django_capture_on_commit_callbacks,
                                   suppliers=2)  # fmt: skip
    for _vendor, _owner, account in people:
        payout = emulator.create_payout(account.stripe_account_id, status="paid")
        from apps.payments.services.webhooks import upsert_payout

        upsert_payout(payout=gateway.retrieve_payout(payout["id"], account=account.stripe_account_id),
                      account_id=account.stripe_account_id, event_created=1)  # fmt: skip
    return paid, run, people


def found(run) -> set[tuple[str, str]]:
    return set(ReconciliationException.objects.filter(last_seen_run=run).values_list("kind", "object_type"))


def test_clean_data_has_no_exception(loop, finance):
    run = reconciliation.run_reconciliation(actor=finance)
    assert run.status == "completed"
    assert found(run) == set()


def test_each_kind_of_planted_mismatch_is_found(loop, finance, emulator, lab, lab_owner):
    paid, run, people = loop
    first, second = PayoutLine.objects.filter(run=run).order_by("id")
    # missing_in_stripe: a paid line whose transfer Stripe has never heard of.
    PayoutLine.objects.filter(pk=first.pk).update(stripe_transfer_id="tr_doesnotexist")
    # amount_mismatch: our line says more than Stripe sent.
    PayoutLine.objects.filter(pk=second.pk).update(amount_minor=second.amount_minor + 1)
    # unexpected_in_stripe: a transfer sent outside the payout job.
    emulator.topup(10_000)
    gateway.create_transfer(amount=500, currency="usd", destination=people[0][2].stripe_account_id,
                            transfer_group=None, source_transaction=None, metadata={}, idempotency_key="rogue")  # fmt: skip
    # status_mismatch: a payout we mirror as failed that Stripe paid; a payment Stripe confirmed but we never heard.
    ConnectedPayout.objects.filter(pk=ConnectedPayout.objects.first().pk).update(status="failed")
    pending = charges.start_charge(actor=lab_owner, lab=lab, kind="payment_intent", contract=supplier_contract(lab),
                                   amount_minor=4_000)  # fmt: skip
    assert pending.status == "pending"
    # stuck: a line left submitting for more than 30 minutes.
    other = PayoutLine.objects.create(
        run=run, supplier=pending.contract.supplier, amount_minor=100, currency="USD", idempotency_key="stuck-1",
        status="submitting", submitted_at=timezone.now() - timedelta(minutes=31),
    )  # fmt: skip
    # a charge smaller than the transfers it funded.
    Charge.objects.filter(pk=paid[0].pk).update(amount_minor=2_000)

    result = reconciliation.run_reconciliation(actor=finance)

    assert found(result) == {
        ("missing_in_stripe", "transfer"),
        ("amount_mismatch", "transfer"),
        ("unexpected_in_stripe", "transfer"),
        ("status_mismatch", "payout"),
        ("status_mismatch", "charge"),
        ("stuck", "payout_line"),
        ("amount_mismatch", "charge"),
        ("amount_mismatch", "transfer_group"),
        ("amount_mismatch", "platform_balance"),  # the top-up nobody booked
    }
    stuck = ReconciliationException.objects.get(kind="stuck")
    assert (stuck.internal_ref, stuck.expected) == (str(other.public_id), 100)
    missing = ReconciliationException.objects.get(kind="missing_in_stripe")
    assert missing.stripe_id == "tr_doesnotexist"

    # A second run finds them again but records each once while open.
    again = reconciliation.run_reconciliation(actor=finance)
    assert again.new_exception_count == 0 and again.exception_count == result.exception_count
    assert ReconciliationException.objects.count() == result.new_exception_count


def test_finance_resolves_with_a_note_and_an_adjusting_entry(loop, finance, lab_owner):
    paid, run, people = loop
    line = PayoutLine.objects.filter(run=run).first()
    PayoutLine.objects.filter(pk=line.pk).update(amount_minor=line.amount_minor + 5)
    reconciliation.run_reconciliation(actor=finance)
    exception = ReconciliationException.objects.get(kind="amount_mismatch")

    with pytest.raises((NotFound, PermissionDenied)):
        reconciliation.resolve_exception(actor=lab_owner, exception=exception, note="x")
    with pytest.raises(ValidationFailed):
        reconciliation.resolve_exception(actor=finance, exception=exception, note=" ")
    with pytest.raises(ValidationFailed):
        reconciliation.resolve_exception(actor=finance, exception=exception, note="off by 5", currency="USD",
                                         legs=[{"account": "adjustments", "amount": 5},
                                               {"account": "stripe_balance", "amount": -4}])  # fmt: skip
    assert not JournalEntry.objects.filter(source_type="payments.reconciliation_exception").exists()

    resolved = reconciliation.resolve_exception(
        actor=finance, exception=exception, note="Line overstated by 5; corrected", currency="USD",
        legs=[{"account": "adjustments", "amount": 5}, {"account": "platform_fee_revenue", "amount": -5}],
    )  # fmt: skip

    assert resolved.status == "resolved" and resolved.resolved_by == finance
    assert resolved.adjusting_entry.memo["reason"] == "Line overstated by 5; corrected"
    with pytest.raises(DomainError):
        reconciliation.resolve_exception(actor=finance, exception=resolved, note="again")
    # Still off in our records: the next run opens a new exception (history is not edited).
    reconciliation.run_reconciliation(actor=finance)
    assert ReconciliationException.objects.filter(kind="amount_mismatch", status="open").count() == 1


def test_exceptions_export_as_csv(loop, finance):
    PayoutLine.objects.filter(pk=PayoutLine.objects.first().pk).update(stripe_transfer_id="tr_gone")
    reconciliation.run_reconciliation(actor=finance)

    rows = "".join(reconciliation.export_exceptions(actor=finance)).splitlines()

    assert rows[0].startswith("id,run,kind,object_type")
    assert len(rows) == 3  # the missing transfer, and the real one now unknown to us
    assert any("missing_in_stripe" in row and "tr_gone" in row for row in rows[1:])
