"""Contract tests of every gateway function against the local Stripe emulator, over real HTTP."""

from __future__ import annotations

import time

import pytest

from apps.payments import gateway
from apps.payments.emulator.api import processing_fee

pytestmark = pytest.mark.usefixtures("stripe_emulator")


def customer(key="cus-1"):
    return gateway.create_customer(email="billing@lab.test", name="Lab", metadata={"lab": "L1"}, idempotency_key=key)


def paid_charge(amount=10_000, *, key="pi-1", group="ENG-1"):
    cus = customer(f"{key}:customer")
    return gateway.create_payment_intent(
        customer=cus.id,
        amount=amount,
        currency="USD",
        payment_method="pm_card_visa",
        transfer_group=group,
        metadata={"charge": key},
        idempotency_key=key,
    )


def onboarded_account(stripe_emulator, key="acct-1"):
    account = gateway.create_connected_account(
        email="vendor@example.test", country="US", business_type="company", metadata={"org": "V1"}, idempotency_key=key
    )
    stripe_emulator.complete_onboarding(account.id)
    return account


def transfer(destination, *, amount=1_000, key="tr-1", source=None, group="ENG-1"):
    return gateway.create_transfer(
        amount=amount,
        currency="usd",
        destination=destination,
        transfer_group=group,
        source_transaction=source,
        metadata={"line": key},
        idempotency_key=key,
    )


# --- customers, payment intents, charges -------------------------------------------------------------------------


def test_create_customer_returns_its_id_and_keeps_metadata(stripe_emulator):
    cus = customer()

    assert cus.id.startswith("cus_")
    [event] = stripe_emulator.events("customer.created")
    assert event["data"]["object"]["metadata"] == {"lab": "L1"}


def test_payment_intent_with_visa_succeeds_with_a_charge_and_its_fee():
    pi = paid_charge(12_345)

    assert (pi.status, pi.amount, pi.currency, pi.transfer_group, pi.last_error) == (
        "succeeded",
        12_345,
        "usd",
        "ENG-1",
        "",
    )
    assert pi.latest_charge.startswith("ch_")
    assert gateway.retrieve_payment_intent(pi.id) == pi
    charge = gateway.retrieve_charge(pi.latest_charge)
    assert (charge.amount, charge.amount_refunded, charge.status) == (12_345, 0, "succeeded")
    assert (charge.payment_intent, charge.transfer_group) == (pi.id, "ENG-1")
    [txn] = [t for t in gateway.list_balance_transactions() if t.id == charge.balance_transaction]
    assert (txn.type, txn.amount, txn.fee, txn.net, txn.source) == (
        "charge",
        12_345,
        processing_fee(12_345),
        12_345 - processing_fee(12_345),
        charge.id,
    )


def test_declined_card_raises_card_declined_and_leaves_the_intent_unpaid(stripe_emulator):
    cus = customer()

    with pytest.raises(gateway.CardDeclined) as caught:
        gateway.create_payment_intent(
            customer=cus.id,
            amount=5_000,
            currency="usd",
            payment_method="pm_card_chargeDeclined",
            transfer_group=None,
            metadata={},
            idempotency_key="pi-declined",
        )

    assert (caught.value.code, caught.value.http_status, caught.value.retryable) == ("generic_decline", 402, False)
    [failed] = stripe_emulator.events("payment_intent.payment_failed")
    pi = gateway.retrieve_payment_intent(failed["data"]["object"]["id"])
    assert (pi.status, pi.last_error) == ("requires_payment_method", "generic_decline")
    assert [c.status for c in gateway.list_charges()] == ["failed"]


def test_repeated_idempotency_key_with_same_parameters_replays_the_first_result():
    first = paid_charge(key="pi-same")
    again = paid_charge(key="pi-same")

    assert again == first
    assert len(list(gateway.list_charges())) == 1


def test_idempotency_key_reused_with_other_parameters_is_refused():
    cus = customer()
    params = {"customer": cus.id, "currency": "usd", "payment_method": "pm_card_visa", "transfer_group": None}
    gateway.create_payment_intent(amount=1_000, metadata={}, idempotency_key="pi-reuse", **params)

    with pytest.raises(gateway.InvalidRequest) as caught:
        gateway.create_payment_intent(amount=2_000, metadata={}, idempotency_key="pi-reuse", **params)

    assert (caught.value.code, caught.value.http_status, caught.value.retryable) == ("idempotency_error", 400, False)
    assert [c.amount for c in gateway.list_charges()] == [1_000]


def test_list_charges_filters_by_creation_time():
    paid_charge(key="pi-a")
    now = int(time.time())

    assert len(list(gateway.list_charges(created_gte=now - 60))) == 1
    assert list(gateway.list_charges(created_gte=now + 60)) == []
    assert list(gateway.list_charges(created_lt=now - 60)) == []


def test_unknown_objects_raise_invalid_request_naming_the_resource():
    with pytest.raises(gateway.InvalidRequest) as caught:
        gateway.retrieve_charge("ch_missing")

    assert (caught.value.code, caught.value.http_status) == ("resource_missing", 404)


# --- invoices and refunds ----------------------------------------------------------------------------------------


def test_invoice_is_created_finalized_and_paid_with_its_charge(stripe_emulator):
    cus = customer()

    invoice = gateway.create_invoice(
        customer=cus.id,
        lines=[("Milestone 1", 6_000), ("Milestone 2", 4_000)],
        currency="usd",
        metadata={"contract": "C1"},
        days_until_due=30,
        idempotency_key="inv-1",
    )

    assert (invoice.status, invoice.amount_due, invoice.amount_paid, invoice.charge) == ("open", 10_000, 0, None)
    assert invoice.hosted_invoice_url.startswith(stripe_emulator.url)
    assert invoice.metadata == {"contract": "C1"}

    stripe_emulator.pay_invoice(invoice.id)
    paid = gateway.retrieve_invoice(invoice.id)

    assert (paid.status, paid.amount_paid) == ("paid", 10_000)
    assert paid.payment_intent.startswith("pi_")
    assert gateway.retrieve_charge(paid.charge).amount == 10_000
    assert [e["type"] for e in stripe_emulator.events() if e["type"].startswith("invoice.")] == [
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]


def test_create_invoice_retried_with_the_same_key_makes_one_invoice_with_its_lines_once():
    cus = customer()
    args = {
        "customer": cus.id,
        "lines": [("A", 100), ("B", 200)],
        "currency": "usd",
        "metadata": {},
        "days_until_due": 7,
        "idempotency_key": "inv-retry",
    }

    first = gateway.create_invoice(**args)
    again = gateway.create_invoice(**args)

    assert again.id == first.id
    assert again.amount_due == 300


def test_failed_invoice_payment_emits_invoice_payment_failed(stripe_emulator):
    cus = customer()
    invoice = gateway.create_invoice(
        customer=cus.id, lines=[("A", 100)], currency="usd", metadata={}, days_until_due=7, idempotency_key="inv-f"
    )

    stripe_emulator.fail_invoice(invoice.id)

    assert gateway.retrieve_invoice(invoice.id).status == "open"
    assert [e["data"]["object"]["id"] for e in stripe_emulator.events("invoice.payment_failed")] == [invoice.id]


def test_refund_reduces_the_charge_and_emits_charge_refunded(stripe_emulator):
    pi = paid_charge(10_000)

    refund = gateway.create_refund(
        charge=pi.latest_charge, amount=2_500, reason="requested_by_customer", idempotency_key="re-1"
    )

    assert (refund.charge, refund.amount, refund.status) == (pi.latest_charge, 2_500, "succeeded")
    assert gateway.retrieve_charge(pi.latest_charge).amount_refunded == 2_500
    [event] = stripe_emulator.events("charge.refunded")
    assert event["data"]["object"]["amount_refunded"] == 2_500
    with pytest.raises(gateway.InvalidRequest) as caught:
        gateway.create_refund(charge=pi.latest_charge, amount=7_501, reason=None, idempotency_key="re-2")
    assert (caught.value.code, caught.value.param) == ("amount_too_large", "amount")


def test_dispute_helper_emits_charge_dispute_created(stripe_emulator):
    pi = paid_charge(10_000)

    stripe_emulator.dispute(pi.latest_charge)

    [event] = stripe_emulator.events("charge.dispute.created")
    assert (event["data"]["object"]["charge"], event["data"]["object"]["amount"]) == (pi.latest_charge, 10_000)


# --- connected accounts ------------------------------------------------------------------------------------------


def test_new_connected_account_cannot_receive_money_until_onboarded(stripe_emulator):
    account = gateway.create_connected_account(
        email="expert@example.test", country="us", business_type="individual", metadata={}, idempotency_key="acct-x"
    )

    assert account.id.startswith("acct_")
    assert (account.charges_enabled, account.payouts_enabled, account.details_submitted) == (False, False, False)
    assert "external_account" in account.requirements_due
    assert (account.disabled_reason, account.transfers_capability) == ("requirements.past_due", "inactive")

    stripe_emulator.complete_onboarding(account.id)
    ready = gateway.retrieve_account(account.id)

    assert (ready.charges_enabled, ready.payouts_enabled, ready.details_submitted) == (True, True, True)
    assert (ready.requirements_due, ready.disabled_reason, ready.transfers_capability) == ([], None, "active")
    [event] = stripe_emulator.events("account.updated")
    assert event["account"] == account.id
    assert event["data"]["previous_attributes"]["payouts_enabled"] is False


def test_requirements_due_disable_payouts_again(stripe_emulator):
    account = onboarded_account(stripe_emulator)

    stripe_emulator.require_information(account.id, ["individual.verification.document"])

    mirror = gateway.retrieve_account(account.id)
    assert (mirror.payouts_enabled, mirror.requirements_due) == (False, ["individual.verification.document"])
    assert mirror.transfers_capability == "inactive"


def test_account_link_page_completes_onboarding_and_returns_to_the_platform(stripe_emulator):
    import urllib.request

    account = gateway.create_connected_account(
        email="e@example.test", country="US", business_type="individual", metadata={}, idempotency_key="acct-l"
    )
    url = gateway.create_account_link(
        account=account.id, refresh_url="http://127.0.0.1:9/refresh", return_url="http://127.0.0.1:9/back"
    )

    with urllib.request.urlopen(url) as page:
        assert b"Complete onboarding" in page.read()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as caught:
        opener.open(urllib.request.Request(url, data=b"", method="POST"))
    assert (caught.value.code, caught.value.headers["Location"]) == (303, "http://127.0.0.1:9/back")
    assert gateway.retrieve_account(account.id).payouts_enabled is True


# --- transfers and reversals -------------------------------------------------------------------------------------


def test_transfer_to_an_account_that_is_not_onboarded_is_refused():
    pi = paid_charge()
    account = gateway.create_connected_account(
        email="e@example.test", country="US", business_type="individual", metadata={}, idempotency_key="acct-n"
    )

    with pytest.raises(gateway.InvalidRequest) as caught:
        transfer(account.id, source=pi.latest_charge)

    assert (caught.value.code, caught.value.param) == ("insufficient_capabilities_for_transfer", "destination")
    assert list(gateway.list_transfers()) == []


def test_transfer_carries_group_source_and_metadata(stripe_emulator):
    pi = paid_charge(10_000)
    account = onboarded_account(stripe_emulator)

    tr = transfer(account.id, amount=8_500, source=pi.latest_charge)

    assert (tr.amount, tr.currency, tr.destination, tr.transfer_group) == (8_500, "usd", account.id, "ENG-1")
    assert (tr.source_transaction, tr.amount_reversed, tr.reversed) == (pi.latest_charge, 0, False)
    assert tr.metadata == {"line": "tr-1"}
    assert tr.destination_payment.startswith("py_")
    assert gateway.retrieve_transfer(tr.id) == tr
    assert [e["data"]["object"]["id"] for e in stripe_emulator.events("transfer.created")] == [tr.id]


def test_transfers_from_one_charge_may_not_exceed_it(stripe_emulator):
    pi = paid_charge(10_000)
    account = onboarded_account(stripe_emulator)
    transfer(account.id, amount=6_000, key="tr-a", source=pi.latest_charge)

    with pytest.raises(gateway.InvalidRequest) as caught:
        transfer(account.id, amount=4_001, key="tr-b", source=pi.latest_charge)
    assert caught.value.param == "amount"

    transfer(account.id, amount=4_000, key="tr-c", source=pi.latest_charge)
    assert sum(t.amount for t in gateway.list_transfers(transfer_group="ENG-1")) == 10_000


def test_transfer_without_source_needs_available_platform_balance(stripe_emulator):
    account = onboarded_account(stripe_emulator)

    with pytest.raises(gateway.InvalidRequest) as caught:
        transfer(account.id, amount=1_000, key="tr-nofunds")
    assert caught.value.code == "balance_insufficient"

    stripe_emulator.topup(1_000)
    assert transfer(account.id, amount=1_000, key="tr-funded").amount == 1_000


def test_list_transfers_by_group_and_time(stripe_emulator):
    pi = paid_charge(10_000)
    account = onboarded_account(stripe_emulator)
    a = transfer(account.id, amount=100, key="tr-1", source=pi.latest_charge, group="G-A")
    b = transfer(account.id, amount=200, key="tr-2", source=pi.latest_charge, group="G-B")
    now = int(time.time())

    assert [t.id for t in gateway.list_transfers(transfer_group="G-A")] == [a.id]
    assert [t.id for t in gateway.list_transfers(created_gte=now - 60, created_lt=now + 60)] == [b.id, a.id]
    assert list(gateway.list_transfers(created_gte=now + 60)) == []


def test_transfer_reversal_updates_the_transfer_and_emits_transfer_reversed(stripe_emulator):
    pi = paid_charge(10_000)
    account = onboarded_account(stripe_emulator)
    tr = transfer(account.id, amount=8_500, source=pi.latest_charge)

    reversal = gateway.create_transfer_reversal(
        transfer=tr.id, amount=850, metadata={"refund": "re_1"}, idempotency_key="trr-1"
    )

    assert (reversal.transfer, reversal.amount) == (tr.id, 850)
    assert reversal.id.startswith("trr_")
    after = gateway.retrieve_transfer(tr.id)
    assert (after.amount_reversed, after.reversed) == (850, False)
    [event] = stripe_emulator.events("transfer.reversed")
    assert event["data"]["object"]["amount_reversed"] == 850
    with pytest.raises(gateway.InvalidRequest):
        gateway.create_transfer_reversal(transfer=tr.id, amount=7_651, metadata={}, idempotency_key="trr-2")
    gateway.create_transfer_reversal(transfer=tr.id, amount=7_650, metadata={}, idempotency_key="trr-3")
    assert gateway.retrieve_transfer(tr.id).reversed is True


# --- faults: lost responses, 500s, timeouts ----------------------------------------------------------------------


def test_lost_response_then_retry_with_the_same_key_gives_exactly_one_transfer(stripe_emulator):
    pi = paid_charge(10_000)
    account = onboarded_account(stripe_emulator)
    stripe_emulator.arm_fault("lost_response", path="/v1/transfers")

    with pytest.raises(gateway.GatewayUnavailable) as caught:
        transfer(account.id, amount=5_000, key="tr-lost", source=pi.latest_charge)
    assert caught.value.retryable is True

    retried = transfer(account.id, amount=5_000, key="tr-lost", source=pi.latest_charge)

    assert [t.id for t in gateway.list_transfers()] == [retried.id]


def test_lost_response_answered_with_a_500_is_also_replayed_on_retry(stripe_emulator):
    account = onboarded_account(stripe_emulator)
    stripe_emulator.topup(5_000)
    stripe_emulator.arm_fault("lost_response", path="/v1/transfers", mode="500")

    with pytest.raises(gateway.GatewayUnavailable) as caught:
        transfer(account.id, amount=5_000, key="tr-lost-500")
    assert caught.value.http_status == 500

    retried = transfer(account.id, amount=5_000, key="tr-lost-500")
    assert [t.id for t in gateway.list_transfers()] == [retried.id]


def test_a_500_creates_nothing_and_the_retry_succeeds(stripe_emulator):
    account = onboarded_account(stripe_emulator)
    stripe_emulator.topup(5_000)
    stripe_emulator.arm_fault("500", path="/v1/transfers")

    with pytest.raises(gateway.GatewayUnavailable) as caught:
        transfer(account.id, amount=5_000, key="tr-500")
    assert (caught.value.http_status, caught.value.retryable) == (500, True)
    assert list(gateway.list_transfers()) == []

    assert transfer(account.id, amount=5_000, key="tr-500").amount == 5_000
    assert len(list(gateway.list_transfers())) == 1


def test_a_timeout_raises_gateway_unavailable_and_creates_nothing(stripe_emulator, settings):
    settings.STRIPE_TIMEOUT_SECONDS = 0.3
    account = onboarded_account(stripe_emulator)
    stripe_emulator.topup(5_000)
    stripe_emulator.arm_fault("timeout", path="/v1/transfers", delay=1.0)

    with pytest.raises(gateway.GatewayUnavailable) as caught:
        transfer(account.id, amount=5_000, key="tr-timeout")

    assert (caught.value.code, caught.value.retryable) == ("network_error", True)
    assert list(gateway.list_transfers()) == []


def test_the_client_retries_a_500_itself_with_the_same_key(stripe_emulator, settings, monkeypatch):
    import stripe

    monkeypatch.setattr(stripe._http_client.HTTPClient, "INITIAL_DELAY", 0.01)
    settings.STRIPE_MAX_NETWORK_RETRIES = 2
    account = onboarded_account(stripe_emulator)
    stripe_emulator.topup(5_000)
    stripe_emulator.arm_fault("lost_response", path="/v1/transfers", mode="500")

    tr = transfer(account.id, amount=5_000, key="tr-auto-retry")

    assert [t.id for t in gateway.list_transfers()] == [tr.id]


def test_unreachable_stripe_is_gateway_unavailable(settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"

    with pytest.raises(gateway.GatewayUnavailable):
        gateway.retrieve_account("acct_1")


# --- connected payouts and balance transactions ------------------------------------------------------------------


def test_paid_payout_is_listed_with_balance_transactions_summing_to_its_amount(stripe_emulator):
    pi = paid_charge(10_000)
    account = onboarded_account(stripe_emulator)
    tr1 = transfer(account.id, amount=6_000, key="tr-1", source=pi.latest_charge)
    transfer(account.id, amount=3_000, key="tr-2", source=pi.latest_charge)
    gateway.create_transfer_reversal(transfer=tr1.id, amount=500, metadata={}, idempotency_key="trr-1")

    created = stripe_emulator.create_payout(account.id, status="paid")

    [payout] = gateway.list_payouts(account=account.id)
    assert (payout.id, payout.account, payout.amount, payout.currency) == (created["id"], account.id, 8_500, "usd")
    assert (payout.status, payout.automatic, payout.failure_code) == ("paid", True, None)
    assert payout.arrival_date is not None
    assert gateway.retrieve_payout(payout.id, account=account.id) == payout
    txns = list(gateway.list_balance_transactions(account=account.id, payout=payout.id))
    swept = [t for t in txns if t.type != "payout"]
    assert sorted(t.type for t in swept) == ["payment", "payment", "payment_refund"]
    assert sum(t.net for t in swept) == payout.amount
    assert [t.amount for t in txns if t.type == "payout"] == [-payout.amount]
    assert any(t.source == tr1.destination_payment for t in swept)
    [event] = stripe_emulator.events("payout.paid")
    assert event["account"] == account.id


def test_failed_payout_has_a_failure_code_and_emits_payout_failed(stripe_emulator):
    pi = paid_charge(10_000)
    account = onboarded_account(stripe_emulator)
    transfer(account.id, amount=2_000, source=pi.latest_charge)
    created = stripe_emulator.create_payout(account.id)

    stripe_emulator.settle_payout(created["id"], "failed", failure_code="no_account")

    payout = gateway.retrieve_payout(created["id"], account=account.id)
    assert (payout.status, payout.failure_code) == ("failed", "no_account")
    [event] = stripe_emulator.events("payout.failed")
    assert (event["account"], event["data"]["object"]["id"]) == (account.id, payout.id)


def test_payouts_are_scoped_to_their_account(stripe_emulator):
    pi = paid_charge(10_000)
    a = onboarded_account(stripe_emulator, "acct-a")
    b = onboarded_account(stripe_emulator, "acct-b")
    transfer(a.id, amount=2_000, source=pi.latest_charge)
    created = stripe_emulator.create_payout(a.id, status="paid")

    assert list(gateway.list_payouts(account=b.id)) == []
    with pytest.raises(gateway.InvalidRequest) as caught:
        gateway.retrieve_payout(created["id"], account=b.id)
    assert caught.value.http_status == 404
    assert list(gateway.list_payouts(account=a.id, created_gte=int(time.time()) + 60)) == []


# --- events and webhooks -----------------------------------------------------------------------------------------


def test_list_events_pages_through_everything_and_filters_by_time(stripe_emulator):
    for n in range(40):  # 40 payment intents emit 120 events: more than one page of 100
        paid_charge(100, key=f"pi-{n}")

    events = list(gateway.list_events())

    assert len(events) == len(stripe_emulator.events()) > 100
    assert len({e["id"] for e in events}) == len(events)
    assert list(gateway.list_events(created_gte=int(time.time()) + 60)) == []


def test_connected_account_events_are_listed_with_the_account(stripe_emulator):
    account = onboarded_account(stripe_emulator)

    assert [e["type"] for e in gateway.list_events(account=account.id)] == ["account.updated"]
    assert "account.updated" not in [e["type"] for e in gateway.list_events()]


def test_construct_event_accepts_a_stripe_signed_payload(stripe_emulator):
    paid_charge()
    event = stripe_emulator.events("payment_intent.succeeded")[0]
    body, header = stripe_emulator.signed(event, "whsec_test")

    parsed = gateway.construct_event(body, header, "whsec_test")

    assert (parsed["id"], parsed["type"]) == (event["id"], "payment_intent.succeeded")


@pytest.mark.parametrize("tamper", ["body", "secret", "stale", "header", "no_secret"])
def test_construct_event_refuses_tampered_stale_or_unsigned_payloads(stripe_emulator, tamper):
    paid_charge()
    event = stripe_emulator.events("payment_intent.succeeded")[0]
    secret = "whsec_test"
    timestamp = int(time.time()) - 301 if tamper == "stale" else None
    body, header = stripe_emulator.signed(event, secret, timestamp=timestamp)
    if tamper == "body":
        body = body.replace(b'"succeeded"', b'"canceled"')
    if tamper == "header":
        header = ""

    with pytest.raises(gateway.SignatureInvalid):
        gateway.construct_event(body, header, {"secret": "whsec_other", "no_secret": ""}.get(tamper, secret))


def test_is_local_emulator_follows_the_api_base(settings):
    assert gateway.is_local_emulator() is True
    settings.STRIPE_API_BASE = "https://api.stripe.com"
    assert gateway.is_local_emulator() is False
