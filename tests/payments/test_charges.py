"""Lab charges against the local Stripe emulator over HTTP: a PaymentIntent, a decline, an invoice, a prepaid
top-up; the ledger entry is posted only when Stripe's confirmation arrives."""

from __future__ import annotations

from datetime import date

import pytest

from apps.contracts.models import Milestone
from apps.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from apps.ledger.models import JournalEntry
from apps.payments.models import Charge, PayoutLine
from apps.payments.services import charges
from tests.payments.fixtures import supplier_contract
from tests.payments.stripe_events import confirm, entries_of, ledger_balances, legs_of


@pytest.fixture
def emulator(stripe_emulator):
    stripe_emulator.set_webhook_delivery(False)
    return stripe_emulator


@pytest.fixture
def contract(lab):
    return supplier_contract(lab)


def milestone_of(contract, amount=50_000, position=1):
    return Milestone.objects.create(
        version=contract.current_version, position=position, title="Pilot batch", amount_minor=amount,
        due_on=date(2026, 12, 1), acceptance_criteria="Accepted pilot",
    )  # fmt: skip


def test_a_card_payment_is_booked_only_when_stripe_confirms(
    emulator, lab, lab_owner, contract, client, django_capture_on_commit_callbacks
):
    charge = charges.start_charge(
        actor=lab_owner, lab=lab, kind="payment_intent", contract=contract, amount_minor=10_000
    )

    assert charge.status == "pending"
    assert charge.stripe_payment_intent_id.startswith("pi_")
    assert charge.idempotency_key == f"charge:{charge.public_id}"
    assert not entries_of("payments.charge").exists()

    charge = confirm(client, django_capture_on_commit_callbacks, emulator, charge)

    assert charge.status == "succeeded"
    assert charge.stripe_charge_id.startswith("ch_")
    assert charge.stripe_fee_minor == 10_000 * 29 // 1000 + 30  # the emulator's 2.9 % + 30
    assert charge.net_minor == 10_000 - charge.stripe_fee_minor
    entry = entries_of("payments.charge").get()
    assert legs_of(entry) == {
        "stripe_balance": charge.net_minor,
        "stripe_fees": charge.stripe_fee_minor,
        "lab_receivable": -10_000,
    }
    assert ledger_balances()


def test_a_milestone_is_paid_in_full_once(
    emulator, lab, lab_owner, contract, client, django_capture_on_commit_callbacks
):
    milestone = milestone_of(contract)
    charge = charges.start_charge(actor=lab_owner, lab=lab, kind="payment_intent", milestone=milestone)

    assert (charge.amount_minor, charge.currency, charge.contract_id) == (50_000, "USD", contract.pk)
    with pytest.raises(ValidationFailed) as err:
        charges.start_charge(actor=lab_owner, lab=lab, kind="payment_intent", milestone=milestone)
    assert "milestone" in err.value.details
    with pytest.raises(ValidationFailed) as err:
        charges.start_charge(actor=lab_owner, lab=lab, kind="invoice", milestone=milestone_of(contract, position=2),
                             amount_minor=1)  # fmt: skip
    assert "amount" in err.value.details


def test_a_declined_card_fails_the_charge_and_posts_nothing(emulator, lab, lab_owner, contract):
    charge = charges.start_charge(
        actor=lab_owner, lab=lab, kind="payment_intent", contract=contract, amount_minor=10_000,
        payment_method="pm_card_chargeDeclined",
    )  # fmt: skip

    assert charge.status == "failed"
    assert charge.failure_code == "generic_decline"
    assert not JournalEntry.objects.exists()


def test_an_invoice_is_booked_when_paid(emulator, lab, lab_owner, contract, client, django_capture_on_commit_callbacks):
    charge = charges.start_charge(actor=lab_owner, lab=lab, kind="invoice", contract=contract, amount_minor=25_000)

    assert charge.status == "pending"
    assert charge.stripe_invoice_id.startswith("in_")
    assert charge.hosted_invoice_url
    emulator.pay_invoice(charge.stripe_invoice_id)
    charge = confirm(client, django_capture_on_commit_callbacks, emulator, charge)

    assert charge.status == "succeeded"
    assert legs_of(entries_of("payments.charge").get())["lab_receivable"] == -25_000


def test_a_prepaid_top_up_credits_the_prepaid_balance_and_finance_applies_it(
    emulator, lab, lab_owner, finance, client, django_capture_on_commit_callbacks
):
    charge = charges.start_charge(actor=lab_owner, lab=lab, kind="payment_intent", amount_minor=30_000, currency="usd")
    charge = confirm(client, django_capture_on_commit_callbacks, emulator, charge)

    assert charge.is_prepaid
    assert legs_of(entries_of("payments.charge").get())["lab_prepaid"] == -30_000
    assert charges.prepaid_balance(lab, "USD") == 30_000
    with pytest.raises(ValidationFailed):
        charges.apply_prepaid(actor=finance, lab=lab, amount_minor=30_001, currency="USD", reason="too much")
    charges.apply_prepaid(actor=finance, lab=lab, amount_minor=20_000, currency="USD", reason="Pays March work")
    assert charges.prepaid_balance(lab, "USD") == 10_000
    assert ledger_balances()


def test_bad_input_names_the_field_and_stores_nothing(emulator, lab, lab_owner, contract):
    with pytest.raises(ValidationFailed) as err:
        charges.start_charge(actor=lab_owner, lab=lab, kind="cash", contract=contract, amount_minor=0)
    assert set(err.value.details) == {"kind", "amount"}
    with pytest.raises(ValidationFailed) as err:
        charges.start_charge(actor=lab_owner, lab=lab, kind="invoice", amount_minor=100, currency="XXX")
    assert "currency" in err.value.details
    assert not Charge.objects.exists()


def test_only_lab_owners_and_admins_pay(emulator, lab, lab_member, vendor_manager, vendor, contract):
    with pytest.raises(PermissionDenied):
        charges.start_charge(actor=lab_member, lab=lab, kind="invoice", contract=contract, amount_minor=100)
    with pytest.raises((PermissionDenied, NotFound)):
        charges.start_charge(actor=vendor_manager, lab=lab, kind="invoice", contract=contract, amount_minor=100)
    with pytest.raises(DomainError):
        charges.start_charge(actor=vendor_manager, lab=vendor, kind="invoice", amount_minor=100, currency="USD")
    assert not Charge.objects.exists()


def test_source_charge_for_picks_a_charge_with_enough_unspent(
    emulator, lab, lab_owner, contract, client, django_capture_on_commit_callbacks, finance
):
    from apps.payments.models import Earning, PayoutRun
    from tests.payments.fixtures import make_batch

    charge = charges.start_charge(
        actor=lab_owner, lab=lab, kind="payment_intent", contract=contract, amount_minor=1_000
    )
    confirm(client, django_capture_on_commit_callbacks, emulator, charge)
    charge.refresh_from_db()
    batch = make_batch(contract, units=100)
    run = PayoutRun.objects.create(period_start=date(2026, 1, 1), period_end=date(2026, 1, 31), currency="USD",
                                   transfer_group="PAYOUT-test")  # fmt: skip
    line = PayoutLine.objects.create(run=run, supplier=contract.supplier, amount_minor=900, currency="USD",
                                     idempotency_key="k1")  # fmt: skip
    from apps.payments.services.earnings import accrue_earnings

    accrue_earnings(batch_ids=[batch.pk])
    Earning.objects.filter(batch=batch).update(line=line, run=run, status="in_run")

    assert charges.source_charge_for(line) == charge.stripe_charge_id
    PayoutLine.objects.filter(pk=line.pk).update(
        status="paid", stripe_transfer_id="tr_x", source_transaction=charge.stripe_charge_id
    )
    run2 = PayoutRun.objects.create(period_start=date(2026, 2, 1), period_end=date(2026, 2, 28), currency="USD",
                                    transfer_group="PAYOUT-test2")  # fmt: skip
    second = PayoutLine.objects.create(run=run2, supplier=contract.supplier, amount_minor=200, currency="USD",
                                       idempotency_key="k2")  # fmt: skip
    Earning.objects.filter(batch=batch).update(line=second)
    assert charges.source_charge_for(second) is None  # 1,000 - 900 left 100 < 200
