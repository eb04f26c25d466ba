"""The Stripe webhook inbox: signature on the raw body, each event stored once, processing safe against
duplicates and out-of-order delivery (each event delivered three times, newest first: one effect)."""

from __future__ import annotations

import time

import pytest

from apps.accounts.roles import Role
from apps.ledger.models import JournalEntry
from apps.notifications.models import Notification
from apps.payments.models import Charge, ConnectedAccount, ConnectedPayout, Refund, StripeEvent
from apps.payments.services import accounts, charges, webhooks
from tests.factories import OrganizationFactory, member
from tests.payments.fixtures import supplier_contract
from tests.payments.stripe_events import (
    CONNECT_URL,
    PLATFORM_URL,
    confirm,
    deliver,
    deliver_events,
    entries_of,
    events_for,
    ledger_balances,
)


@pytest.fixture
def emulator(stripe_emulator, db):
    stripe_emulator.set_webhook_delivery(False)
    return stripe_emulator


@pytest.fixture
def paid(emulator, lab, lab_owner, client, django_capture_on_commit_callbacks):
    contract = supplier_contract(lab)
    charge = charges.start_charge(
        actor=lab_owner, lab=lab, kind="payment_intent", contract=contract, amount_minor=10_000
    )
    return confirm(client, django_capture_on_commit_callbacks, emulator, charge)


def onboarded_supplier(emulator):
    vendor = OrganizationFactory(kind="vendor")
    owner = member(vendor, Role.OWNER)
    account = accounts.connect_account(actor=owner, organization=vendor)
    return vendor, owner, account


# --- Signature ----------------------------------------------------------------------------------------------


def test_a_bad_signature_is_refused_and_nothing_stored(emulator, paid, client):
    event = events_for(emulator, ["payment_intent.succeeded"])[0]
    StripeEvent.objects.all().delete()

    assert deliver(client, event, secret="whsec_wrong").status_code == 400
    body, header = emulator.signed(event, "whsec_local_platform")
    tampered = body.replace(b'"livemode": false', b'"livemode": true')
    response = client.post(PLATFORM_URL, data=tampered, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
    assert response.status_code == 400
    assert client.post(PLATFORM_URL, data=body, content_type="application/json").status_code == 400  # no header
    assert not StripeEvent.objects.exists()


def test_a_stale_timestamp_is_refused(emulator, paid, client):
    event = events_for(emulator, ["payment_intent.succeeded"])[0]
    StripeEvent.objects.all().delete()

    response = deliver(client, event, timestamp=int(time.time()) - 301)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "signature_invalid"
    assert not StripeEvent.objects.exists()


def test_each_endpoint_has_its_own_secret(emulator, client):
    vendor, owner, account = onboarded_supplier(emulator)
    emulator.complete_onboarding(account.stripe_account_id)
    event = events_for(emulator, ["account.updated"])[-1]

    # A Connect event signed with the platform secret, posted to the Connect endpoint: refused.
    body, header = emulator.signed(event, "whsec_local_platform")
    assert client.post(CONNECT_URL, data=body, content_type="application/json",
                       HTTP_STRIPE_SIGNATURE=header).status_code == 400  # fmt: skip
    assert client.get(CONNECT_URL).status_code == 405
    assert not StripeEvent.objects.exists()
    assert deliver(client, event).status_code == 200


def test_a_duplicate_is_answered_200_and_stored_once(emulator, paid, client, django_capture_on_commit_callbacks):
    event = events_for(emulator, ["payment_intent.succeeded"])[0]

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = deliver(client, event)

    assert response.status_code == 200
    assert response.json() == {"received": True, "id": event["id"], "duplicate": True}
    assert callbacks == []  # nothing re-scheduled
    assert StripeEvent.objects.filter(event_id=event["id"]).count() == 1


# --- Three times, out of order: one effect -----------------------------------------------------------------------


def test_payment_events_three_times_out_of_order_post_once(
    emulator, lab, lab_owner, client, django_capture_on_commit_callbacks
):
    contract = supplier_contract(lab)
    charge = charges.start_charge(
        actor=lab_owner, lab=lab, kind="payment_intent", contract=contract, amount_minor=10_000
    )
    events = events_for(
        emulator, ["payment_intent.created", "charge.succeeded", "payment_intent.succeeded"],
        object_id=charge.stripe_payment_intent_id,
    )  # fmt: skip

    deliver_events(client, django_capture_on_commit_callbacks, events, times=3, reverse=True)

    charge.refresh_from_db()
    assert charge.status == "succeeded"
    assert entries_of("payments.charge").count() == 1
    assert StripeEvent.objects.count() == len(events)
    assert StripeEvent.objects.filter(processed_at__isnull=True).count() == 0


def test_a_late_failure_never_undoes_a_paid_invoice(
    emulator, lab, lab_owner, client, django_capture_on_commit_callbacks
):
    contract = supplier_contract(lab)
    charge = charges.start_charge(actor=lab_owner, lab=lab, kind="invoice", contract=contract, amount_minor=7_000)
    emulator.fail_invoice(charge.stripe_invoice_id)
    emulator.pay_invoice(charge.stripe_invoice_id)
    events = events_for(emulator, ["invoice.payment_failed", "invoice.paid"], object_id=charge.stripe_invoice_id)
    assert [e["type"] for e in events] == ["invoice.payment_failed", "invoice.paid"]

    deliver_events(client, django_capture_on_commit_callbacks, events, times=3, reverse=True)

    charge.refresh_from_db()
    assert charge.status == "succeeded"
    assert entries_of("payments.charge").count() == 1


def test_a_declined_payment_event_fails_a_pending_charge_once(
    emulator, lab, lab_owner, client, django_capture_on_commit_callbacks
):
    contract = supplier_contract(lab)
    charge = charges.start_charge(
        actor=lab_owner, lab=lab, kind="payment_intent", contract=contract, amount_minor=5_000,
        payment_method="pm_card_chargeDeclinedInsufficientFunds",
    )  # fmt: skip
    assert charge.status == "failed"
    events = events_for(emulator, ["payment_intent.payment_failed"])

    deliver_events(client, django_capture_on_commit_callbacks, events, times=3)

    charge.refresh_from_db()
    assert charge.status == "failed"
    assert Notification.objects.filter(kind="charge.failed").count() == 1
    assert not JournalEntry.objects.exists()


def test_account_updates_three_times_out_of_order_keep_the_newest(emulator, client, django_capture_on_commit_callbacks):
    vendor, owner, account = onboarded_supplier(emulator)
    emulator.complete_onboarding(account.stripe_account_id)
    time.sleep(1.1)  # Stripe's created is in seconds
    emulator.require_information(account.stripe_account_id, ["external_account"], disable=True)
    events = events_for(emulator, ["account.updated"])[-2:]

    deliver_events(client, django_capture_on_commit_callbacks, events, times=3, reverse=True)

    account = ConnectedAccount.objects.get(pk=account.pk)
    assert account.payouts_enabled is False
    assert account.requirements_due == ["external_account"]
    assert account.last_event_created == events[-1]["created"]


def test_payout_events_three_times_out_of_order_notify_once(
    emulator, finance, client, django_capture_on_commit_callbacks
):
    vendor, owner, account = onboarded_supplier(emulator)
    emulator.complete_onboarding(account.stripe_account_id)
    emulator.topup(100_000)
    from apps.payments import gateway

    gateway.create_transfer(amount=4_000, currency="usd", destination=account.stripe_account_id, transfer_group=None,
                            source_transaction=None, metadata={}, idempotency_key="t-1")  # fmt: skip
    payout = emulator.create_payout(account.stripe_account_id)
    time.sleep(1.1)
    emulator.settle_payout(payout["id"], "failed", failure_code="account_closed")
    events = events_for(emulator, ["payout.created", "payout.failed"])

    deliver_events(client, django_capture_on_commit_callbacks, events, times=3, reverse=True)

    stored = ConnectedPayout.objects.get()
    assert (stored.stripe_payout_id, stored.status, stored.failure_code) == (payout["id"], "failed", "account_closed")
    assert stored.amount_minor == 4_000
    assert stored.account_id == account.pk
    assert Notification.objects.filter(kind="payout.failed", recipient=owner).count() == 1


def test_refund_and_dispute_events_three_times_book_once(
    emulator, paid, finance, client, django_capture_on_commit_callbacks
):
    from apps.payments import gateway

    gateway.create_refund(charge=paid.stripe_charge_id, amount=3_000, reason=None, idempotency_key="dash-1")
    emulator.dispute(paid.stripe_charge_id, amount=2_000)
    events = events_for(emulator, ["charge.refunded", "charge.dispute.created"])

    deliver_events(client, django_capture_on_commit_callbacks, events, times=3, reverse=True)

    paid.refresh_from_db()
    assert paid.amount_refunded_minor == 3_000
    assert paid.status == "disputed"
    assert Refund.objects.get().reason == "Refunded in Stripe"
    assert entries_of("payments.refund").count() == 1
    assert entries_of("payments.dispute").count() == 1
    assert ledger_balances()
    # The dispute's fee is booked too: the ledger's Stripe balance still equals Stripe's.
    from apps.payments.services import reconciliation

    assert reconciliation.run_reconciliation(actor=finance).exception_count == 0


def test_an_unknown_type_is_stored_and_marked_processed(emulator, paid, client, django_capture_on_commit_callbacks):
    event = events_for(emulator, ["customer.created"])[0]
    deliver_events(client, django_capture_on_commit_callbacks, [event])

    stored = StripeEvent.objects.get(event_id=event["id"])
    assert stored.processed_at is not None
    assert stored.last_error == "No handler for this type."


def test_a_live_event_is_not_acted_on_with_a_test_key(
    emulator, lab, lab_owner, client, django_capture_on_commit_callbacks
):
    contract = supplier_contract(lab)
    charge = charges.start_charge(
        actor=lab_owner, lab=lab, kind="payment_intent", contract=contract, amount_minor=1_000
    )
    event = {**events_for(emulator, ["payment_intent.succeeded"])[0], "livemode": True}

    deliver_events(client, django_capture_on_commit_callbacks, [event])

    assert Charge.objects.get(pk=charge.pk).status == "pending"
    assert "livemode" in StripeEvent.objects.get().last_error


def test_missed_events_are_back_filled_and_processed(emulator, lab, lab_owner, django_capture_on_commit_callbacks):
    contract = supplier_contract(lab)
    charge = charges.start_charge(
        actor=lab_owner, lab=lab, kind="payment_intent", contract=contract, amount_minor=2_000
    )
    vendor, owner, account = onboarded_supplier(emulator)
    emulator.complete_onboarding(account.stripe_account_id)

    with django_capture_on_commit_callbacks(execute=True):
        stored = webhooks.backfill_events()
    with django_capture_on_commit_callbacks(execute=True):
        again = webhooks.backfill_events()

    assert stored == len(emulator.events()) and again == 0
    assert Charge.objects.get(pk=charge.pk).status == "succeeded"
    assert ConnectedAccount.objects.get(pk=account.pk).payouts_enabled is True
    assert StripeEvent.objects.filter(type="account.updated").exclude(account="").exists()


def test_a_failing_handler_keeps_the_event_for_a_retry(
    emulator, paid, client, django_capture_on_commit_callbacks, monkeypatch
):
    from apps.payments import gateway

    gateway.create_refund(charge=paid.stripe_charge_id, amount=1_000, reason=None, idempotency_key="dash-2")
    event = events_for(emulator, ["charge.refunded"])[0]

    def boom(**kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(webhooks.refund_services, "sync_refunds", boom)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, event)
    stored = StripeEvent.objects.get(event_id=event["id"])
    assert stored.processed_at is None and "database hiccup" in stored.last_error
    assert stored.attempts >= 2  # the task retried

    monkeypatch.undo()
    StripeEvent.objects.filter(pk=stored.pk).update(received_at=stored.received_at.replace(year=2000), attempts=1)
    assert webhooks.process_pending() == 1
    assert entries_of("payments.refund").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_emulator_delivers_signed_webhooks_to_our_endpoints_over_http(stripe_emulator, live_server, settings):
    """No test client: the emulator signs and POSTs each event to the live server, as Stripe would. PostgreSQL only:
    on SQLite the live server shares the test's one in-memory connection, and deliveries arrive while this thread
    is still writing."""
    from django.db import connection

    from apps.accounts.roles import OrgKind

    if connection.vendor != "postgresql":
        pytest.skip("a live server beside concurrent writes needs PostgreSQL (set DATABASE_URL=postgres://...)")

    settings.STRIPE_WEBHOOK_SECRET = "whsec_live_platform"
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = "whsec_live_connect"
    stripe_emulator.add_webhook_endpoint(f"{live_server.url}{PLATFORM_URL}", "whsec_live_platform")
    stripe_emulator.add_webhook_endpoint(f"{live_server.url}{CONNECT_URL}", "whsec_live_connect", connect=True)
    lab = OrganizationFactory(kind=OrgKind.LAB)
    owner = member(lab, Role.OWNER)
    charge = charges.start_charge(
        actor=owner, lab=lab, kind="payment_intent", contract=supplier_contract(lab), amount_minor=8_000
    )
    vendor, _owner, account = onboarded_supplier(stripe_emulator)
    stripe_emulator.complete_onboarding(account.stripe_account_id)

    assert stripe_emulator.flush_webhooks(20)
    deliveries = stripe_emulator.deliveries()
    assert deliveries and {d["status"] for d in deliveries} == {200}
    assert Charge.objects.get(pk=charge.pk).status == "succeeded"
    assert ConnectedAccount.objects.get(pk=account.pk).payouts_enabled is True
    assert StripeEvent.objects.filter(source="connect").exists()
    assert entries_of("payments.charge").count() == 1


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_deliveries_of_one_event_store_and_book_it_once(stripe_emulator):
    """PostgreSQL: the unique event id and the entry's key hold under concurrent deliveries."""
    import threading

    from django.db import connection, connections
    from django.test import Client

    from apps.accounts.roles import OrgKind

    if connection.vendor != "postgresql":
        pytest.skip("concurrent inserts need PostgreSQL (set DATABASE_URL=postgres://...)")
    stripe_emulator.set_webhook_delivery(False)
    lab = OrganizationFactory(kind=OrgKind.LAB)
    owner = member(lab, Role.OWNER)
    charge = charges.start_charge(
        actor=owner, lab=lab, kind="payment_intent", contract=supplier_contract(lab), amount_minor=6_000
    )
    event = events_for(stripe_emulator, ["payment_intent.succeeded"])[0]
    barrier = threading.Barrier(10)
    statuses, errors = [], []

    def post():
        try:
            barrier.wait()
            statuses.append(deliver(Client(), event).status_code)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert errors == [] and statuses == [200] * 10
    assert StripeEvent.objects.filter(event_id=event["id"]).count() == 1
    assert Charge.objects.get(pk=charge.pk).status == "succeeded"
    assert entries_of("payments.charge").count() == 1
