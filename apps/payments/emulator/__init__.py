"""A local, stateful Stripe emulator written for this project (standard library only).

It speaks the subset of Stripe's API that ``apps/payments/gateway.py`` uses, over real HTTP on 127.0.0.1, with
idempotency replay, signed webhooks and injectable faults. See docs/stripe-emulator.md.

    handle = start_emulator()          # in-process, on a free port
    handle.complete_onboarding("acct_...")
    handle.stop()

``python manage.py stripe_emulator --port 12111`` runs it in the foreground (``make run`` does so).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from .server import EmulatorServer, Fault, serve_in_thread
from .webhooks import sign

__all__ = ["EmulatorHandle", "EmulatorServer", "Fault", "sign", "start_emulator"]


class EmulatorHandle:
    """A running emulator and its test helpers. Helpers go through the ``/_emulator/...`` HTTP routes, so tests
    exercise exactly what ``make run`` users and other processes can call."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.url = server.base_url
        self._thread = serve_in_thread(server)

    # --- lifecycle ---------------------------------------------------------------------------------------------------

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def reset(self) -> None:
        """Forget every object, event, idempotency key, fault and webhook endpoint."""
        self.call("POST", "reset")

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body or {}).encode() if method == "POST" else None
        request = urllib.request.Request(  # noqa: S310 - our own loopback server
            f"{self.url}/_emulator/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                result: dict[str, Any] = json.loads(response.read())
                return result
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"emulator helper {method} {path} failed: {exc.code} {exc.read().decode()}") from exc

    # --- webhooks ----------------------------------------------------------------------------------------------------

    def add_webhook_endpoint(self, url: str, secret: str, *, connect: bool = False) -> dict[str, Any]:
        return self.call("POST", "webhooks", {"url": url, "secret": secret, "connect": connect})

    def set_webhook_delivery(self, enabled: bool) -> None:
        """Off: events are still recorded (``events()``, ``GET /v1/events``) but nobody receives them."""
        self.call("POST", "webhooks/delivery", {"enabled": enabled})

    def flush_webhooks(self, timeout: float = 10.0) -> bool:
        """Wait until every queued webhook delivery has been attempted."""
        return self.server.deliverer.flush(timeout)

    def deliveries(self) -> list[dict[str, Any]]:
        return list(self.call("GET", "webhooks")["deliveries"])

    def events(self, type: str | None = None) -> list[dict[str, Any]]:
        """Every event (platform and connected accounts), oldest first, as delivered by a webhook."""
        events = self.call("GET", "events")["data"]
        return [e for e in events if type is None or e["type"] == type]

    @staticmethod
    def signed(event: dict[str, Any], secret: str, *, timestamp: int | None = None) -> tuple[bytes, str]:
        """The raw body and ``Stripe-Signature`` header Stripe would send for ``event``."""
        body = json.dumps(event, indent=2).encode()
        return body, sign(body, secret, timestamp)

    # --- faults ------------------------------------------------------------------------------------------------------

    def arm_fault(
        self,
        kind: str,
        *,
        path: str = "/v1/",
        method: str = "POST",
        times: int = 1,
        delay: float = 3.0,
        mode: str = "drop",
    ) -> None:
        """Fail the next ``times`` requests matching ``method`` and the path prefix: ``"500"`` (nothing created),
        ``"timeout"`` (sleeps ``delay`` s, then drops the connection; nothing created) or ``"lost_response"``
        (the request IS executed, then the connection is dropped, or a 500 returned with ``mode="500"``)."""
        self.call(
            "POST",
            "faults",
            {"kind": kind, "path": path, "method": method, "times": times, "delay": delay, "mode": mode},
        )

    # --- state changes a person or Stripe would make -----------------------------------------------------------------

    def complete_onboarding(self, account: str) -> dict[str, Any]:
        return self.call("POST", f"accounts/{account}/onboard")

    def require_information(
        self, account: str, fields: list[str] | None = None, *, disable: bool = True
    ) -> dict[str, Any]:
        return self.call(
            "POST", f"accounts/{account}/requirements", {"fields": fields or ["external_account"], "disable": disable}
        )

    def create_payout(
        self, account: str, *, status: str = "pending", currency: str | None = None, failure_code: str | None = None
    ) -> dict[str, Any]:
        """An automatic payout of the account's available balance; ``status`` "paid"/"failed" settles it at once."""
        body: dict[str, Any] = {"status": status}
        if currency:
            body["currency"] = currency
        if failure_code:
            body["failure_code"] = failure_code
        return self.call("POST", f"accounts/{account}/payouts", body)

    def settle_payout(self, payout: str, status: str, *, failure_code: str | None = None) -> dict[str, Any]:
        return self.call("POST", f"payouts/{payout}/{status}", {"failure_code": failure_code} if failure_code else {})

    def pay_invoice(self, invoice: str, *, payment_method: str = "pm_card_visa") -> dict[str, Any]:
        return self.call("POST", f"invoices/{invoice}/pay", {"payment_method": payment_method})

    def fail_invoice(self, invoice: str) -> dict[str, Any]:
        return self.call("POST", f"invoices/{invoice}/fail")

    def dispute(self, charge: str, *, amount: int | None = None, reason: str = "fraudulent") -> dict[str, Any]:
        body: dict[str, Any] = {"reason": reason}
        if amount is not None:
            body["amount"] = amount
        return self.call("POST", f"charges/{charge}/dispute", body)

    def topup(self, amount: int, currency: str = "usd") -> dict[str, Any]:
        """Add available funds to the platform balance (for transfers without ``source_transaction``)."""
        return self.call("POST", "balance/topup", {"amount": amount, "currency": currency})


def start_emulator(
    port: int = 0,
    *,
    api_key: str | None = None,
    webhook_endpoints: list[tuple[str, str, bool]] | None = None,
) -> EmulatorHandle:
    """Start an emulator on 127.0.0.1 in a background thread (``port=0``: a free port). ``api_key``: the only
    key accepted (default: any ``sk_test_`` key). ``webhook_endpoints``: (url, secret, connect) triples."""
    server = EmulatorServer(port, api_key=api_key)
    for url, secret, connect in webhook_endpoints or []:
        server.deliverer.add_endpoint(url, secret, connect=connect)
    return EmulatorHandle(server)
