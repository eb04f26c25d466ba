"""Webhook endpoints and delivery, signed exactly like Stripe.

``Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{raw body}")>``. Platform endpoints get
events without ``account``; Connect endpoints get the events of connected accounts (``account`` set). One
background thread delivers in order of creation and retries a failed delivery a few times, then moves on.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from .state import public, random_id

logger = logging.getLogger(__name__)

DELIVERY_TIMEOUT_SECONDS = 10
RETRY_DELAYS_SECONDS = (0.2, 1.0)


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header value for ``payload`` (the raw body) at ``timestamp`` (default: now)."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    signed = f"{t}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def serialize(event: dict[str, Any]) -> bytes:
    return json.dumps(public(event), indent=2, sort_keys=False).encode()


@dataclass
class Endpoint:
    url: str
    secret: str
    connect: bool = False
    id: str = field(default_factory=lambda: random_id("we"))

    def wants(self, event: dict[str, Any]) -> bool:
        return bool(event.get("_account")) == self.connect

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "object": "webhook_endpoint", "url": self.url, "connect": self.connect}


@dataclass
class Delivery:
    event_id: str
    event_type: str
    endpoint: str
    status: int | None
    error: str
    attempts: int


class Deliverer:
    """Owns the endpoints and the delivery thread."""

    def __init__(self) -> None:
        self.endpoints: list[Endpoint] = []
        self.enabled = True
        self.log: list[Delivery] = []
        self._queue: queue.Queue[tuple[Endpoint, str, str, bytes] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="stripe-emulator-webhooks", daemon=True)
        self._thread.start()

    def reset(self) -> None:
        with self._lock:
            self.endpoints = []
            self.enabled = True
            self.log = []
        self._drain()

    def add_endpoint(self, url: str, secret: str, *, connect: bool) -> Endpoint:
        endpoint = Endpoint(url=url, secret=secret, connect=connect)
        with self._lock:
            self.endpoints.append(endpoint)
        return endpoint

    def on_event(self, event: dict[str, Any]) -> None:
        """Called under the store's lock as each event is created, so the queue keeps creation order."""
        if not self.enabled:
            return
        for endpoint in list(self.endpoints):
            if endpoint.wants(event):
                self._queue.put((endpoint, event["id"], event["type"], serialize(event)))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued delivery has been attempted; False on timeout."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def stop(self) -> None:
        self._drain()
        self._queue.put(None)
        self._thread.join(timeout=5)

    def _drain(self) -> None:
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return
            self._queue.task_done()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._deliver(*item)
            except Exception:  # a receiver's failure must never stop the thread
                logger.exception("stripe emulator: webhook delivery crashed")
            finally:
                self._queue.task_done()

    def _deliver(self, endpoint: Endpoint, event_id: str, event_type: str, body: bytes) -> None:
        status: int | None = None
        error = ""
        attempts = 0
        for delay in (0.0, *RETRY_DELAYS_SECONDS):
            if delay:
                time.sleep(delay)
            attempts += 1
            request = urllib.request.Request(  # noqa: S310 - configured http(s) endpoint, usually loopback
                endpoint.url,
                data=body,
                method="POST",
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks) emulator",
                    "Stripe-Signature": sign(body, endpoint.secret),
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=DELIVERY_TIMEOUT_SECONDS) as response:  # noqa: S310
                    status = response.status
                    error = ""
                    break
            except urllib.error.HTTPError as exc:
                status, error = exc.code, exc.reason
                if exc.code < 500:
                    break
            except (OSError, ValueError) as exc:
                status, error = None, str(exc)
        with self._lock:
            self.log.append(Delivery(event_id, event_type, endpoint.url, status, error, attempts))
        if error:
            logger.warning("stripe emulator: %s to %s failed: %s %s", event_type, endpoint.url, status, error)
