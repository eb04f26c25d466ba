"""The emulator's own behaviour at the HTTP level: auth, scoping, idempotency headers, pagination, webhooks."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from apps.payments import gateway
from apps.payments.emulator.forms import decode

KEY = "sk_test_emulator"


def call(emulator, method, path, params=None, *, key=KEY, headers=None):
    """A raw Stripe-style request: form-encoded body (POST) or query (GET). Returns (status, headers, body)."""
    data = urllib.parse.urlencode(params or {}).encode()
    url = f"{emulator.url}{path}"
    if method == "GET" and params:
        url, data = f"{url}?{data.decode()}", None
    request = urllib.request.Request(url, data=data if method == "POST" else None, method=method)
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, json.loads(exc.read())


def test_form_decoding_builds_nested_objects_and_lists():
    body = "a=1&metadata[k]=v&expand[0]=x&expand[1]=y&caps[transfers][requested]=true&tags[]=p&tags[]=q"

    assert decode(body) == {
        "a": "1",
        "metadata": {"k": "v"},
        "expand": ["x", "y"],
        "caps": {"transfers": {"requested": "true"}},
        "tags": ["p", "q"],
    }


def test_requests_without_a_test_key_get_401(stripe_emulator):
    status, _, body = call(stripe_emulator, "GET", "/v1/charges", key=None)
    assert status == 401
    assert body["error"]["type"] == "invalid_request_error"

    status, _, _ = call(stripe_emulator, "GET", "/v1/charges", key="sk_live_nope")
    assert status == 401


def test_errors_use_stripes_envelope_and_name_the_parameter(stripe_emulator):
    status, _, body = call(stripe_emulator, "POST", "/v1/customers", {"emial": "x@y.z"})

    assert status == 400
    assert body["error"] == {
        "type": "invalid_request_error",
        "code": "parameter_unknown",
        "message": "Received unknown parameter: emial",
        "param": "emial",
    }
    status, _, body = call(stripe_emulator, "GET", "/v1/nothing")
    assert (status, body["error"]["type"]) == (404, "invalid_request_error")


def test_replayed_request_says_so_in_a_header(stripe_emulator):
    params = {"email": "a@b.c"}
    status1, headers1, body1 = call(stripe_emulator, "POST", "/v1/customers", params, headers={"Idempotency-Key": "k"})
    status2, headers2, body2 = call(stripe_emulator, "POST", "/v1/customers", params, headers={"Idempotency-Key": "k"})

    assert (status1, status2) == (200, 200)
    assert body2 == body1
    assert headers1.get("Idempotent-Replayed") is None
    assert headers2["Idempotent-Replayed"] == "true"

    status3, _, body3 = call(
        stripe_emulator, "POST", "/v1/customers", {"email": "other@b.c"}, headers={"Idempotency-Key": "k"}
    )
    assert (status3, body3["error"]["type"]) == (400, "idempotency_error")


def test_a_decline_is_replayed_too(stripe_emulator):
    _, _, cus = call(stripe_emulator, "POST", "/v1/customers", {})
    params = {
        "customer": cus["id"],
        "amount": "500",
        "currency": "usd",
        "payment_method": "pm_card_chargeDeclined",
        "confirm": "true",
    }

    first = call(stripe_emulator, "POST", "/v1/payment_intents", params, headers={"Idempotency-Key": "d"})
    again = call(stripe_emulator, "POST", "/v1/payment_intents", params, headers={"Idempotency-Key": "d"})

    assert (first[0], again[0]) == (402, 402)
    assert again[2] == first[2]
    assert again[1]["Idempotent-Replayed"] == "true"
    assert len(stripe_emulator.events("payment_intent.payment_failed")) == 1


def test_stripe_account_header_scopes_reads_and_must_name_an_account(stripe_emulator):
    status, _, body = call(stripe_emulator, "GET", "/v1/payouts", headers={"Stripe-Account": "acct_unknown"})
    assert (status, body["error"]["code"]) == (403, "account_invalid")

    _, _, acct = call(
        stripe_emulator, "POST", "/v1/accounts", {"type": "express", "capabilities[transfers][requested]": "true"}
    )
    status, _, body = call(stripe_emulator, "GET", "/v1/payouts", headers={"Stripe-Account": acct["id"]})
    assert (status, body["data"]) == (200, [])


def test_list_cursors_page_forwards_and_backwards(stripe_emulator):
    ids = [call(stripe_emulator, "POST", "/v1/accounts", {"type": "express"})[2]["id"] for _ in range(5)]
    newest_first = list(reversed(ids))

    _, _, page1 = call(stripe_emulator, "GET", "/v1/accounts", {"limit": "2"})
    _, _, page2 = call(
        stripe_emulator, "GET", "/v1/accounts", {"limit": "2", "starting_after": page1["data"][-1]["id"]}
    )
    _, _, back = call(stripe_emulator, "GET", "/v1/accounts", {"limit": "2", "ending_before": page2["data"][0]["id"]})

    assert [a["id"] for a in page1["data"]] == newest_first[:2]
    assert page1["has_more"] is True
    assert [a["id"] for a in page2["data"]] == newest_first[2:4]
    assert [a["id"] for a in back["data"]] == newest_first[:2]


def test_reset_forgets_objects_keys_and_faults(stripe_emulator):
    call(stripe_emulator, "POST", "/v1/customers", {}, headers={"Idempotency-Key": "r"})
    stripe_emulator.arm_fault("500", path="/v1/customers")

    stripe_emulator.reset()

    status, headers, _ = call(stripe_emulator, "POST", "/v1/customers", {}, headers={"Idempotency-Key": "r"})
    assert status == 200
    assert headers.get("Idempotent-Replayed") is None
    assert [e["type"] for e in stripe_emulator.events()] == ["customer.created"]


def test_faults_match_method_and_path_prefix_only(stripe_emulator):
    stripe_emulator.arm_fault("500", path="/v1/transfers", times=2)

    assert call(stripe_emulator, "POST", "/v1/customers", {})[0] == 200
    assert call(stripe_emulator, "GET", "/v1/transfers")[0] == 200
    assert call(stripe_emulator, "POST", "/v1/transfers", {})[0] == 500
    assert call(stripe_emulator, "POST", "/v1/transfers", {})[0] == 500
    assert call(stripe_emulator, "POST", "/v1/transfers", {})[0] == 400  # fault used up: a normal validation error


# --- webhooks ----------------------------------------------------------------------------------------------------


class Receiver:
    """A loopback HTTP server that records what it is sent."""

    def __init__(self):
        self.received: list[tuple[str, bytes, str]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((self.path, body, self.headers["Stripe-Signature"]))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


def test_webhooks_are_signed_like_stripe_and_split_between_platform_and_connect(stripe_emulator, receiver):
    stripe_emulator.add_webhook_endpoint(f"{receiver.url}/platform", "whsec_p")
    stripe_emulator.add_webhook_endpoint(f"{receiver.url}/connect", "whsec_c", connect=True)
    account = gateway.create_connected_account(
        email="e@x.test", country="US", business_type="individual", metadata={}, idempotency_key="a"
    )
    stripe_emulator.complete_onboarding(account.id)
    stripe_emulator.topup(1_000)
    gateway.create_transfer(
        amount=1_000,
        currency="usd",
        destination=account.id,
        transfer_group="G",
        source_transaction=None,
        metadata={},
        idempotency_key="t",
    )
    stripe_emulator.create_payout(account.id, status="paid")

    assert stripe_emulator.flush_webhooks()

    platform = [gateway.construct_event(b, s, "whsec_p") for p, b, s in receiver.received if p == "/platform"]
    connect = [gateway.construct_event(b, s, "whsec_c") for p, b, s in receiver.received if p == "/connect"]
    assert [e["type"] for e in platform] == ["transfer.created"]
    assert [e["type"] for e in connect] == ["account.updated", "payout.created", "payout.paid"]
    assert {e["account"] for e in connect} == {account.id}
    assert all("account" not in e for e in platform)
    with pytest.raises(gateway.SignatureInvalid):
        _, body, sig = receiver.received[0]
        gateway.construct_event(body, sig, "whsec_c" if receiver.received[0][0] == "/platform" else "whsec_p")
    assert {d["status"] for d in stripe_emulator.deliveries()} == {200}


def test_disabled_delivery_records_events_without_sending_them(stripe_emulator, receiver):
    stripe_emulator.add_webhook_endpoint(receiver.url, "whsec_p")
    stripe_emulator.set_webhook_delivery(False)

    gateway.create_customer(email="a@b.c", name="A", metadata={}, idempotency_key="c")

    assert stripe_emulator.flush_webhooks()
    assert receiver.received == []
    assert [e["type"] for e in stripe_emulator.events()] == ["customer.created"]


def test_management_command_serves_on_the_given_port():
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "manage.py", "stripe_emulator", "--port", "0", "--no-settings-webhooks"],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        url = line.split()[-1]
        assert url.startswith("http://127.0.0.1:")
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_emulator/health", timeout=2) as response:
                    assert json.loads(response.read())["ok"] is True
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_concurrent_requests_with_one_key_create_one_transfer(stripe_emulator):
    account = gateway.create_connected_account(
        email="e@x.test", country="US", business_type="individual", metadata={}, idempotency_key="a"
    )
    stripe_emulator.complete_onboarding(account.id)
    stripe_emulator.topup(1_000)
    results, errors = [], []

    def send():
        try:
            results.append(
                gateway.create_transfer(
                    amount=1_000,
                    currency="usd",
                    destination=account.id,
                    transfer_group="G",
                    source_transaction=None,
                    metadata={},
                    idempotency_key="same-line",
                ).id
            )
        except gateway.GatewayError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert len(set(results)) == 1
    assert [t.id for t in gateway.list_transfers()] == results[:1]


def test_hosted_invoice_page_pays_the_invoice_with_a_test_card(stripe_emulator):
    customer = gateway.create_customer(email="l@x.test", name="Lab", metadata={}, idempotency_key="c")
    invoice = gateway.create_invoice(
        customer=customer.id,
        lines=[("Work", 2_000)],
        currency="usd",
        metadata={},
        days_until_due=7,
        idempotency_key="i",
    )

    with urllib.request.urlopen(invoice.hosted_invoice_url) as page:
        assert b"Pay with test card" in page.read()
    with urllib.request.urlopen(urllib.request.Request(invoice.hosted_invoice_url, data=b"", method="POST")) as page:
        assert b"Status: paid" in page.read()

    assert gateway.retrieve_invoice(invoice.id).status == "paid"
