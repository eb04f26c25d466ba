"""The HTTP server: authentication, ``Stripe-Account`` scoping, idempotency replay, fault injection, test helpers.

Requests are handled on one thread each (``ThreadingHTTPServer``) but executed one at a time under the store's
lock, which makes every request atomic and an idempotency key's first execution win.
"""

from __future__ import annotations

import html
import json
import logging
import threading
import time
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import api, connect, routes
from .forms import decode
from .state import API_VERSION, ApiError, Obj, Store, amount, currency, public, random_id, to_bool
from .webhooks import Deliverer

logger = logging.getLogger(__name__)

FAULT_KINDS = ("500", "timeout", "lost_response")


@dataclass
class Fault:
    method: str  # "POST", "GET" or "*"
    path: str  # a prefix of the request path, e.g. "/v1/transfers"
    kind: str  # one of FAULT_KINDS
    times: int = 1
    delay: float = 3.0  # seconds a "timeout" sleeps before dropping the connection
    mode: str = "drop"  # lost_response: "drop" the connection or answer "500"

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and self.method in ("*", method) and path.startswith(self.path)


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int = 0, *, api_key: str | None = None, host: str = "127.0.0.1") -> None:
        self.store = Store()
        self.deliverer = Deliverer()
        self.store.on_event = self.deliverer.on_event
        self.faults: list[Fault] = []
        self.api_key = api_key
        super().__init__((host, port), Handler)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def reset(self) -> None:
        with self.store.lock:
            self.store.reset()
            self.faults.clear()
            self.deliverer.reset()

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.store.lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def server_close(self) -> None:
        self.deliverer.stop()
        super().server_close()


class Handler(BaseHTTPRequestHandler):
    server: EmulatorServer
    protocol_version = "HTTP/1.1"
    # Headers and body are separate writes: without TCP_NODELAY each keep-alive response waits ~40 ms for an ACK.
    disable_nagle_algorithm = True
    server_version = "StripeEmulator/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("stripe emulator: " + format, *args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # --- plumbing --------------------------------------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        try:
            if url.path.startswith("/_emulator/"):
                self._helper(method, url.path, url.query, body)
            elif url.path.startswith("/v1/"):
                self._api(method, url.path, url.query, body)
            else:
                raise ApiError(404, f"Unrecognized request URL ({method}: {url.path}).")
        except ApiError as exc:
            self._json(exc.status, exc.body)
        except Exception as exc:  # the emulator answers like Stripe rather than dropping the connection
            logger.exception("stripe emulator: %s %s failed", method, url.path)
            self._json(500, {"error": {"type": "api_error", "message": f"Emulator error: {exc}"}})

    def _json(self, status: int, body: Obj, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, indent=2).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", random_id("req", 14))
        self.send_header("Stripe-Version", API_VERSION)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _html(self, status: int, title: str, content: str) -> None:
        page = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
            f"<body><p><strong>Local Stripe emulator (test mode)</strong></p><h1>{html.escape(title)}</h1>"
            f"{content}</body></html>"
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def _redirect(self, location: str) -> None:
        self.send_response(303)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _drop(self) -> None:
        """Close the connection without any response: what a client sees when a response is lost."""
        self.close_connection = True

    # --- /v1 -------------------------------------------------------------------------------------------------------

    def _api(self, method: str, path: str, query: str, body: str) -> None:
        self._authenticate()
        fault = self.server.take_fault(method, path)
        if fault is not None and fault.kind == "500":
            self._json(500, {"error": {"type": "api_error", "message": "An unknown error occurred (injected fault)."}})
            return
        if fault is not None and fault.kind == "timeout":
            time.sleep(fault.delay)
            self._drop()
            return
        found = routes.route(method, path)
        if found is None:
            raise ApiError(404, f"Unrecognized request URL ({method}: {path}).")
        handler, groups = found
        params = decode(body if method == "POST" else query)
        account = self.headers.get("Stripe-Account") or None
        key = self.headers.get("Idempotency-Key") if method == "POST" else None
        store = self.server.store
        with store.lock:
            if account is not None:
                acct = store.objects.get(account)
                if acct is None or acct.get("object") != "account":
                    raise ApiError(
                        403,
                        f"The provided key does not have access to account '{account}' (or that account does not "
                        "exist).",
                        type="invalid_request_error",
                        code="account_invalid",
                    )
            status, response, replayed = self._execute(handler, groups, params, account, key, method, path)
        if fault is not None and fault.kind == "lost_response":
            if fault.mode == "500":
                self._json(500, {"error": {"type": "api_error", "message": "An unknown error occurred."}})
            else:
                self._drop()
            return
        headers = {"Idempotency-Key": key} if key else {}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        self._json(status, response, headers)

    def _execute(
        self,
        handler: api.Handler,
        groups: tuple[Any, ...],
        params: Obj,
        account: str | None,
        key: str | None,
        method: str,
        path: str,
    ) -> tuple[int, Obj, bool]:
        store = self.server.store
        fingerprint = json.dumps([method, path, params], sort_keys=True)
        if key:
            stored = store.idempotency.get((account, key))
            if stored is not None:
                if stored["fingerprint"] != fingerprint:
                    raise ApiError(
                        400,
                        "Keys for idempotent requests can only be used with the same parameters they were first "
                        f"used with. Try using a key other than '{key}' if you meant to execute a different request.",
                        type="idempotency_error",
                        code="idempotency_key_in_use" if stored["path"] != path else None,
                    )
                return stored["status"], stored["body"], True
        ctx = api.Ctx(
            store=store, params=params, account=account, base_url=self.server.base_url, path=path, idempotency_key=key
        )
        try:
            status, response = 200, handler(ctx, *groups)
        except ApiError as exc:
            # Like Stripe, a request that started executing (a decline) is saved; a refused one is not.
            if not key or exc.status != 402:
                raise
            status, response = exc.status, exc.body
        if key:
            store.idempotency[(account, key)] = {
                "fingerprint": fingerprint,
                "path": path,
                "status": status,
                "body": response,
            }
        return status, response, False

    def _authenticate(self) -> None:
        auth = self.headers.get("Authorization", "")
        scheme, _, key = auth.partition(" ")
        expected = self.server.api_key
        valid = scheme == "Bearer" and (key == expected if expected else key.startswith(("sk_test_", "rk_test_")))
        if not valid:
            shown = key[:8] + "*" * max(0, len(key) - 12) + key[-4:] if key else ""
            raise ApiError(401, f"Invalid API Key provided: {shown or '(none)'}")

    # --- /_emulator ------------------------------------------------------------------------------------------------

    def _helper(self, method: str, path: str, query: str, body: str) -> None:
        content_type = self.headers.get("Content-Type", "")
        if body and "json" in content_type:
            params: Obj = json.loads(body)
        else:
            params = decode(body) if method == "POST" else {k: v[-1] for k, v in parse_qs(query).items()}
        parts = path.strip("/").split("/")[1:]
        server = self.server
        store = server.store
        if method == "GET" and parts and parts[0] in ("onboarding", "hosted"):
            return self._page_get(parts)
        if method == "POST" and parts and parts[0] in ("onboarding", "hosted"):
            return self._page_post(parts)
        with store.lock:
            result = self._helper_action(method, parts, params)
        self._json(200, result)

    def _ctx(self, account: str | None = None) -> api.Ctx:
        return api.Ctx(store=self.server.store, params={}, account=account, base_url=self.server.base_url, path="")

    def _helper_action(self, method: str, parts: list[str], params: Obj) -> Obj:
        server = self.server
        store = server.store
        match (method, *parts):
            case ("GET", "health"):
                return {"ok": True, "api_version": API_VERSION}
            case ("POST", "reset"):
                server.reset()
                return {"reset": True}
            case ("POST", "webhooks"):
                endpoint = server.deliverer.add_endpoint(
                    str(params["url"]), str(params["secret"]), connect=to_bool(params.get("connect", False), "connect")
                )
                return endpoint.describe()
            case ("GET", "webhooks"):
                return {
                    "endpoints": [e.describe() for e in server.deliverer.endpoints],
                    "delivery_enabled": server.deliverer.enabled,
                    "deliveries": [asdict(d) for d in server.deliverer.log],
                }
            case ("POST", "webhooks", "delivery"):
                server.deliverer.enabled = to_bool(params.get("enabled", True), "enabled")
                return {"delivery_enabled": server.deliverer.enabled}
            case ("GET", "events"):
                return {"data": [public(e) for e in sorted(store.events, key=lambda e: e["_seq"])]}
            case ("POST", "faults"):
                kind = str(params.get("kind", ""))
                if kind not in FAULT_KINDS:
                    raise ApiError(400, f"kind must be one of {', '.join(FAULT_KINDS)}", param="kind")
                fault = Fault(
                    method=str(params.get("method", "POST")).upper(),
                    path=str(params.get("path", "/v1/")),
                    kind=kind,
                    times=int(params.get("times", 1)),
                    delay=float(params.get("delay", 3.0)),
                    mode=str(params.get("mode", "drop")),
                )
                server.faults.append(fault)
                return asdict(fault)
            case ("GET", "faults"):
                return {"data": [asdict(f) for f in server.faults]}
            case ("POST", "balance", "topup"):
                cur = currency(params)
                value = amount(params)
                txn = store.balance_transaction(account=None, amount=value, currency=cur, type="topup", source=None)
                return public(txn)
            case ("POST", "accounts", id, "onboard"):
                return connect.complete_onboarding(self._ctx(), store.find(id, "account"))
            case ("POST", "accounts", id, "requirements"):
                fields = params.get("fields") or ["external_account"]
                fields = [fields] if isinstance(fields, str) else [str(f) for f in fields]
                disable = to_bool(params.get("disable", True), "disable")
                return connect.require_fields(self._ctx(), store.find(id, "account"), fields, disable=disable)
            case ("POST", "accounts", id, "payouts"):
                acct = store.find(id, "account")
                ctx = self._ctx(acct["id"])
                payout = connect.make_payout(ctx, acct, currency_=params.get("currency") or None)
                status = str(params.get("status", "pending"))
                if status != "pending":
                    return connect.settle_payout(ctx, payout, status, params.get("failure_code") or None)
                return public(payout)
            case ("POST", "payouts", id, ("paid" | "failed" | "in_transit") as status):
                payout = store.find(id, "payout")
                return connect.settle_payout(
                    self._ctx(payout["_account"]), payout, status, params.get("failure_code") or None
                )
            case ("POST", "invoices", id, "pay"):
                invoice = store.find(id, "invoice")
                ctx = self._ctx(invoice["_account"])
                return api.invoice_pay(ctx, invoice, payment_method=str(params.get("payment_method", "pm_card_visa")))
            case ("POST", "invoices", id, "fail"):
                invoice = store.find(id, "invoice")
                ctx = self._ctx(invoice["_account"])
                try:
                    api.invoice_pay(ctx, invoice, payment_method="pm_card_chargeDeclined")
                except ApiError as exc:
                    return {"invoice": api.invoice_retrieve(ctx, invoice["id"]), "error": exc.body["error"]}
                raise ApiError(500, "the declining test card did not decline")
            case ("POST", "charges", id, "dispute"):
                return self._dispute(store.find(id, "charge"), params)
        raise ApiError(404, f"Unknown emulator helper: {method} /_emulator/{'/'.join(parts)}")

    def _dispute(self, charge: Obj, params: Obj) -> Obj:
        store = self.server.store
        value = (
            amount(params) if params.get("amount") not in (None, "") else charge["amount"] - charge["amount_refunded"]
        )
        dispute: Obj = {
            "id": random_id("dp"),
            "object": "dispute",
            "amount": value,
            "balance_transactions": [],
            "charge": charge["id"],
            "currency": charge["currency"],
            "evidence_details": {"due_by": int(time.time()) + 7 * 86400, "has_evidence": False},
            "is_charge_refundable": False,
            "metadata": {},
            "payment_intent": charge["payment_intent"],
            "reason": str(params.get("reason", "fraudulent")),
            "status": "needs_response",
        }
        store.add(dispute, account=charge["_account"])
        txn = store.balance_transaction(
            account=charge["_account"],
            amount=-value,
            fee=api.DISPUTE_FEE,
            currency=charge["currency"],
            type="adjustment",
            source=dispute["id"],
        )
        dispute["balance_transactions"] = [public(txn)]
        charge["disputed"] = True
        store.emit("charge.dispute.created", dispute, account=charge["_account"])
        return public(dispute)

    # --- pages a person clicks through (onboarding, hosted invoice) ------------------------------------------------

    def _page_get(self, parts: list[str]) -> None:
        store = self.server.store
        with store.lock:
            if parts[0] == "onboarding" and len(parts) == 2:
                link = store.objects.get(parts[1])
                if link is None or link.get("object") != "account_link":
                    return self._html(404, "Unknown onboarding link", "<p>This link does not exist.</p>")
                if link["expires_at"] < int(time.time()):
                    if link["_refresh_url"]:
                        return self._redirect(link["_refresh_url"])
                    return self._html(410, "Link expired", "<p>Ask the platform for a new link.</p>")
                return self._html(
                    200,
                    f"Onboarding for {link['_target']}",
                    f"<form method='post' action='/_emulator/onboarding/{html.escape(parts[1])}'>"
                    "<p>A real Stripe page would collect identity and bank details here.</p>"
                    "<button type='submit'>Complete onboarding (test data)</button></form>",
                )
            if parts[0] == "hosted" and len(parts) == 3 and parts[1] == "invoices":
                invoice = store.objects.get(parts[2])
                if invoice is None or invoice.get("object") != "invoice":
                    return self._html(404, "Unknown invoice", "<p>This invoice does not exist.</p>")
                amount_text = f"{invoice['amount_due'] / 100:.2f} {invoice['currency'].upper()}"
                pay = (
                    f"<form method='post' action='/_emulator/hosted/invoices/{html.escape(parts[2])}'>"
                    "<button type='submit'>Pay with test card 4242</button></form>"
                    if invoice["status"] == "open"
                    else ""
                )
                return self._html(
                    200,
                    f"Invoice {invoice['number'] or invoice['id']}",
                    f"<p>Amount due: {html.escape(amount_text)}. Status: {html.escape(invoice['status'])}.</p>{pay}",
                )
        self._html(404, "Not found", "<p>Unknown page.</p>")

    def _page_post(self, parts: list[str]) -> None:
        store = self.server.store
        with store.lock:
            if parts[0] == "onboarding" and len(parts) == 2:
                link = store.objects.get(parts[1])
                if link is None or link.get("object") != "account_link":
                    return self._html(404, "Unknown onboarding link", "<p>This link does not exist.</p>")
                connect.complete_onboarding(self._ctx(), store.find(link["_target"], "account"))
                if link["_return_url"]:
                    return self._redirect(link["_return_url"])
                return self._html(200, "Onboarding complete", "<p>You can close this page.</p>")
            if parts[0] == "hosted" and len(parts) == 3 and parts[1] == "invoices":
                invoice = store.find(parts[2], "invoice")
                api.invoice_pay(self._ctx(invoice["_account"]), invoice)
                return self._redirect(f"/_emulator/hosted/invoices/{parts[2]}")
        self._html(404, "Not found", "<p>Unknown page.</p>")


def serve_in_thread(server: EmulatorServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="stripe-emulator", daemon=True)
    thread.start()
    return thread
