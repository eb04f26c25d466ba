"""The emulator's state: Stripe-shaped objects in memory, ids, list pagination, events and balance transactions.

Objects are plain JSON-able dicts exactly as the API returns them; keys starting with ``_`` are internal (the
owning account for ``Stripe-Account`` scoping, an insertion sequence for ordering) and never rendered.
Every access happens under ``Store.lock`` (the HTTP handler holds it for a whole request).
"""

from __future__ import annotations

import copy
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

API_VERSION = "2026-10-28.endive"
_ALPHABET = string.ascii_letters + string.digits

Obj = dict[str, Any]


class ApiError(Exception):
    """Rendered as Stripe's error envelope: ``{"error": {"type", "code", "message", "param", ...}}``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        extra: Obj | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: Obj = {"error": {"type": type, "message": message, **({"code": code} if code else {})}}
        if param:
            self.body["error"]["param"] = param
        if extra:
            self.body["error"].update(extra)


def missing(kind: str, id: str, param: str = "id") -> ApiError:
    return ApiError(404, f"No such {kind}: '{id}'", code="resource_missing", param=param)


def now() -> int:
    return int(time.time())


def random_id(prefix: str, length: int = 24) -> str:
    return f"{prefix}_{''.join(secrets.choice(_ALPHABET) for _ in range(length))}"


def public(obj: Obj) -> Obj:
    """A deep copy without internal keys, safe to serialize and to keep as an event snapshot."""
    return {k: copy.deepcopy(v) for k, v in obj.items() if not k.startswith("_")}


class Store:
    """All objects of one emulator instance. Reset by ``reset()`` between tests."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.objects: dict[str, Obj] = {}
            self.events: list[Obj] = []
            self.idempotency: dict[tuple[str | None, str], Obj] = {}
            self._seq = 0
            self.on_event: Callable[[Obj], None] | None = getattr(self, "on_event", None)

    # --- objects -------------------------------------------------------------------------------------------------

    def add(self, obj: Obj, *, account: str | None = None) -> Obj:
        self._seq += 1
        obj["_account"] = account
        obj["_seq"] = self._seq
        obj.setdefault("created", now())
        obj.setdefault("livemode", False)
        self.objects[obj["id"]] = obj
        return obj

    def get(self, id: str, kind: str, *, account: str | None, param: str = "id") -> Obj:
        obj = self.objects.get(id)
        if obj is None or obj.get("object") != kind or obj["_account"] != account:
            raise missing(kind, id, param)
        return obj

    def find(self, id: str, kind: str) -> Obj:
        """Any account's object (test helpers act with the platform's full view)."""
        obj = self.objects.get(id)
        if obj is None or obj.get("object") != kind:
            raise missing(kind, id)
        return obj

    def select(self, kind: str, *, account: str | None, where: Callable[[Obj], bool] | None = None) -> list[Obj]:
        """Matching objects, newest first (Stripe's list order)."""
        found = [
            o
            for o in self.objects.values()
            if o.get("object") == kind and o["_account"] == account and (where is None or where(o))
        ]
        found.sort(key=lambda o: o["_seq"], reverse=True)
        return found

    # --- events --------------------------------------------------------------------------------------------------

    def emit(self, type: str, obj: Obj, *, account: str | None = None, previous: Obj | None = None) -> Obj:
        data: Obj = {"object": public(obj)}
        if previous:
            data["previous_attributes"] = previous
        event: Obj = {
            "id": random_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 0,
            "request": {"id": None, "idempotency_key": None},
            "type": type,
        }
        if account:
            event["account"] = account
        self._seq += 1
        event["_seq"] = self._seq
        event["_account"] = account
        self.events.append(event)
        if self.on_event is not None:
            self.on_event(event)
        return event

    def select_events(self, *, account: str | None, where: Callable[[Obj], bool] | None = None) -> list[Obj]:
        found = [e for e in self.events if e["_account"] == account and (where is None or where(e))]
        found.sort(key=lambda e: e["_seq"], reverse=True)
        return found

    # --- balance -------------------------------------------------------------------------------------------------

    def balance_transaction(
        self,
        *,
        account: str | None,
        amount: int,
        currency: str,
        type: str,
        source: str | None,
        fee: int = 0,
        description: str | None = None,
    ) -> Obj:
        created = now()
        txn: Obj = {
            "id": random_id("txn"),
            "object": "balance_transaction",
            "amount": amount,
            "available_on": created,
            "created": created,
            "currency": currency,
            "description": description,
            "exchange_rate": None,
            "fee": fee,
            "fee_details": [
                {"amount": fee, "currency": currency, "description": "Stripe processing fees", "type": "stripe_fee"}
            ]
            if fee
            else [],
            "net": amount - fee,
            "reporting_category": type,
            "source": source,
            "status": "available",
            "type": type,
            "_payout": None,
        }
        return self.add(txn, account=account)

    def available(self, account: str | None, currency: str) -> int:
        """Available balance in minor units: the net of every balance transaction (payouts included)."""
        return sum(
            t["net"]
            for t in self.objects.values()
            if t.get("object") == "balance_transaction" and t["_account"] == account and t["currency"] == currency
        )


def paginate(items: list[Obj], params: Obj, url: str, render: Callable[[Obj], Obj] = public) -> Obj:
    """Stripe's list envelope with ``limit``/``starting_after``/``ending_before`` cursors over newest-first items."""
    try:
        limit = int(params.get("limit", 10))
    except (TypeError, ValueError):
        raise ApiError(400, "Invalid integer: limit", param="limit")
    if not 1 <= limit <= 100:
        raise ApiError(400, "Limit must be between 1 and 100.", param="limit")
    ids = [o["id"] for o in items]
    if params.get("starting_after"):
        cursor = params["starting_after"]
        start = ids.index(cursor) + 1 if cursor in ids else len(ids)
        page = items[start : start + limit]
        has_more = start + limit < len(items)
    elif params.get("ending_before"):
        cursor = params["ending_before"]
        end = ids.index(cursor) if cursor in ids else 0
        page = items[max(0, end - limit) : end]
        has_more = end - limit > 0
    else:
        page = items[:limit]
        has_more = len(items) > limit
    return {"object": "list", "data": [render(o) for o in page], "has_more": has_more, "url": url}


def created_filter(params: Obj) -> Callable[[Obj], bool]:
    """``created`` as an exact timestamp or a range ``created[gt|gte|lt|lte]``."""
    spec = params.get("created")
    if spec is None or spec == "":
        return lambda o: True
    if not isinstance(spec, dict):
        exact = to_int(spec, "created")
        return lambda o: o["created"] == exact
    bounds = {op: to_int(v, f"created[{op}]") for op, v in spec.items()}
    unknown = set(bounds) - {"gt", "gte", "lt", "lte"}
    if unknown:
        raise ApiError(400, f"Received unknown parameter: created[{sorted(unknown)[0]}]", param="created")

    def match(o: Obj) -> bool:
        c = o["created"]
        return (
            ("gt" not in bounds or c > bounds["gt"])
            and ("gte" not in bounds or c >= bounds["gte"])
            and ("lt" not in bounds or c < bounds["lt"])
            and ("lte" not in bounds or c <= bounds["lte"])
        )

    return match


def to_int(value: Any, param: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"Invalid integer: {value}", param=param)


def to_bool(value: Any, param: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "True", "1"):
        return True
    if value in ("false", "False", "0", ""):
        return False
    raise ApiError(400, f"Invalid boolean: {value}", param=param)


def require(params: Obj, *names: str) -> None:
    for name in names:
        if params.get(name) in (None, ""):
            raise ApiError(400, f"Missing required param: {name}.", code="parameter_missing", param=name)


def allow(params: Obj, names: Iterable[str]) -> None:
    """Refuse unknown parameters the way Stripe does (catches typos the type checker missed)."""
    allowed = set(names) | {"expand"}
    for key in params:
        if key not in allowed:
            raise ApiError(400, f"Received unknown parameter: {key}", code="parameter_unknown", param=key)


def amount(params: Obj, name: str = "amount", *, minimum: int = 1) -> int:
    value = to_int(params.get(name), name)
    if value < minimum:
        raise ApiError(
            400, f"Invalid {name}: must be at least {minimum}.", code="parameter_invalid_integer", param=name
        )
    return value


def currency(params: Obj, name: str = "currency") -> str:
    value = str(params.get(name, "")).lower()
    if len(value) != 3 or not value.isalpha():
        raise ApiError(400, f"Invalid currency: {value}", code="parameter_invalid_string", param=name)
    return value


def metadata(params: Obj) -> dict[str, str]:
    value = params.get("metadata") or {}
    if not isinstance(value, dict):
        raise ApiError(400, "Invalid object: metadata", param="metadata")
    return {str(k): str(v) for k, v in value.items() if v != ""}
