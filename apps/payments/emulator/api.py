"""The ``/v1`` payment endpoints: customers, payment intents and charges, refunds, one-off invoices.

Each handler takes the request context and the path's captured ids and returns the response body (HTTP 200) or
raises ``ApiError``. Handlers run under the store's lock, so each request is atomic. Connect endpoints (accounts,
transfers, payouts, balance, events) are in ``connect.py``; the route table in ``routes.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .state import (
    ApiError,
    Obj,
    Store,
    allow,
    amount,
    created_filter,
    currency,
    metadata,
    now,
    paginate,
    public,
    random_id,
    require,
    to_bool,
)

# Test payment methods (Stripe's magic ids) and what a charge on them does: None = succeeds, else a decline code.
TEST_CARDS: dict[str, str | None] = {
    "pm_card_visa": None,
    "pm_card_mastercard": None,
    "pm_card_amex": None,
    "pm_card_chargeDeclined": "generic_decline",
    "pm_card_visa_chargeDeclined": "generic_decline",
    "pm_card_chargeDeclinedInsufficientFunds": "insufficient_funds",
    "pm_card_chargeCustomerFail": "generic_decline",
}
DISPUTE_FEE = 1500  # minor units, Stripe's US dispute fee


def processing_fee(gross: int) -> int:
    """Stripe's US card pricing, 2.9 % + 30, rounded half up, in minor units."""
    return (gross * 29 + 500) // 1000 + 30


@dataclass
class Ctx:
    store: Store
    params: Obj
    account: str | None  # the Stripe-Account header
    base_url: str
    path: str
    idempotency_key: str | None = None


Handler = Callable[..., Obj]


# --- customers ---------------------------------------------------------------------------------------------------


def customer_create(ctx: Ctx) -> Obj:
    p = ctx.params
    allow(p, ["email", "name", "description", "metadata", "phone"])
    obj: Obj = {
        "id": random_id("cus", 14),
        "object": "customer",
        "email": p.get("email") or None,
        "name": p.get("name") or None,
        "description": p.get("description") or None,
        "metadata": metadata(p),
        "balance": 0,
        "currency": None,
        "delinquent": False,
    }
    ctx.store.add(obj, account=ctx.account)
    ctx.store.emit("customer.created", obj, account=ctx.account)
    return public(obj)


def customer_retrieve(ctx: Ctx, id: str) -> Obj:
    return public(ctx.store.get(id, "customer", account=ctx.account))


# --- payment intents and charges ---------------------------------------------------------------------------------


def _charge(
    ctx: Ctx,
    *,
    amount_: int,
    currency_: str,
    customer: str | None,
    payment_intent: str,
    payment_method: str,
    transfer_group: str | None,
    metadata_: dict[str, str],
    decline: str | None,
) -> Obj:
    charge: Obj = {
        "id": random_id("ch"),
        "object": "charge",
        "amount": amount_,
        "amount_captured": 0 if decline else amount_,
        "amount_refunded": 0,
        "balance_transaction": None,
        "captured": not decline,
        "currency": currency_,
        "customer": customer,
        "description": None,
        "disputed": False,
        "failure_code": "card_declined" if decline else None,
        "failure_message": "Your card was declined." if decline else None,
        "metadata": metadata_,
        "outcome": {"type": "issuer_declined" if decline else "authorized", "reason": decline},
        "paid": not decline,
        "payment_intent": payment_intent,
        "payment_method": payment_method,
        "refunded": False,
        "status": "failed" if decline else "succeeded",
        "transfer_group": transfer_group,
    }
    ctx.store.add(charge, account=ctx.account)
    if not decline:
        fee = processing_fee(amount_)
        txn = ctx.store.balance_transaction(
            account=ctx.account, amount=amount_, fee=fee, currency=currency_, type="charge", source=charge["id"]
        )
        charge["balance_transaction"] = txn["id"]
        ctx.store.emit("charge.succeeded", charge, account=ctx.account)
    else:
        ctx.store.emit("charge.failed", charge, account=ctx.account)
    return charge


def _confirm(ctx: Ctx, pi: Obj) -> None:
    """Charge the PaymentIntent's test card. A decline leaves it ``requires_payment_method`` and raises a 402."""
    pm = pi["payment_method"]
    if pm not in TEST_CARDS:
        raise ApiError(400, f"No such PaymentMethod: '{pm}'", code="resource_missing", param="payment_method")
    decline = TEST_CARDS[pm]
    charge = _charge(
        ctx,
        amount_=pi["amount"],
        currency_=pi["currency"],
        customer=pi["customer"],
        payment_intent=pi["id"],
        payment_method=pm,
        transfer_group=pi["transfer_group"],
        metadata_=dict(pi["metadata"]),
        decline=decline,
    )
    pi["latest_charge"] = charge["id"]
    if decline:
        pi["status"] = "requires_payment_method"
        pi["last_payment_error"] = {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": decline,
            "message": "Your card was declined.",
            "charge": charge["id"],
            "payment_method": {"id": pm, "object": "payment_method", "type": "card"},
        }
        ctx.store.emit("payment_intent.payment_failed", pi, account=ctx.account)
        raise ApiError(
            402,
            "Your card was declined.",
            type="card_error",
            code="card_declined",
            extra={"decline_code": decline, "charge": charge["id"], "payment_intent": public(pi)},
        )
    pi["status"] = "succeeded"
    pi["amount_received"] = pi["amount"]
    pi["last_payment_error"] = None
    ctx.store.emit("payment_intent.succeeded", pi, account=ctx.account)


def payment_intent_create(ctx: Ctx) -> Obj:
    p = ctx.params
    allow(
        p,
        [
            "amount",
            "currency",
            "customer",
            "payment_method",
            "payment_method_types",
            "allowed_payment_method_types",
            "automatic_payment_methods",
            "confirm",
            "off_session",
            "metadata",
            "transfer_group",
            "description",
            "capture_method",
            "return_url",
            "error_on_requires_action",
        ],
    )
    require(p, "amount", "currency")
    customer = p.get("customer") or None
    if customer:
        ctx.store.get(customer, "customer", account=ctx.account, param="customer")
    pi: Obj = {
        "id": random_id("pi"),
        "object": "payment_intent",
        "amount": amount(p),
        "amount_received": 0,
        "capture_method": p.get("capture_method") or "automatic_async",
        "currency": currency(p),
        "customer": customer,
        "description": p.get("description") or None,
        "last_payment_error": None,
        "latest_charge": None,
        "metadata": metadata(p),
        "payment_method": p.get("payment_method") or None,
        "status": "requires_payment_method" if not p.get("payment_method") else "requires_confirmation",
        "transfer_group": p.get("transfer_group") or None,
    }
    ctx.store.add(pi, account=ctx.account)
    ctx.store.emit("payment_intent.created", pi, account=ctx.account)
    if to_bool(p.get("confirm", "false"), "confirm"):
        if not pi["payment_method"]:
            raise ApiError(
                400, "You cannot confirm this PaymentIntent without a payment method.", param="payment_method"
            )
        _confirm(ctx, pi)
    return public(pi)


def payment_intent_retrieve(ctx: Ctx, id: str) -> Obj:
    return public(ctx.store.get(id, "payment_intent", account=ctx.account))


def charge_list(ctx: Ctx) -> Obj:
    p = ctx.params
    allow(p, ["limit", "starting_after", "ending_before", "created", "customer", "payment_intent", "transfer_group"])
    when = created_filter(p)

    def where(o: Obj) -> bool:
        return when(o) and all(
            not p.get(f) or o.get(f) == p[f] for f in ("customer", "payment_intent", "transfer_group")
        )

    return paginate(ctx.store.select("charge", account=ctx.account, where=where), p, "/v1/charges")


def charge_retrieve(ctx: Ctx, id: str) -> Obj:
    return public(ctx.store.get(id, "charge", account=ctx.account))


# --- refunds -----------------------------------------------------------------------------------------------------


def refund_create(ctx: Ctx) -> Obj:
    p = ctx.params
    allow(p, ["charge", "payment_intent", "amount", "reason", "metadata"])
    if p.get("charge"):
        charge = ctx.store.get(p["charge"], "charge", account=ctx.account, param="charge")
    elif p.get("payment_intent"):
        pi = ctx.store.get(p["payment_intent"], "payment_intent", account=ctx.account, param="payment_intent")
        if not pi["latest_charge"]:
            raise ApiError(400, "This PaymentIntent has no charge to refund.", param="payment_intent")
        charge = ctx.store.get(pi["latest_charge"], "charge", account=ctx.account)
    else:
        raise ApiError(400, "Missing required param: charge.", code="parameter_missing", param="charge")
    if charge["status"] != "succeeded":
        raise ApiError(400, f"Charge {charge['id']} has not succeeded.", code="charge_not_refundable", param="charge")
    remaining = charge["amount"] - charge["amount_refunded"]
    value = amount(p) if p.get("amount") not in (None, "") else remaining
    if value > remaining:
        raise ApiError(
            400,
            f"Refund amount ({value}) is greater than unrefunded amount on charge ({remaining})",
            code="amount_too_large",
            param="amount",
        )
    reason = p.get("reason") or None
    if reason not in (None, "duplicate", "fraudulent", "requested_by_customer"):
        raise ApiError(400, f"Invalid reason: {reason}", param="reason")
    refund: Obj = {
        "id": random_id("re"),
        "object": "refund",
        "amount": value,
        "balance_transaction": None,
        "charge": charge["id"],
        "currency": charge["currency"],
        "metadata": metadata(p),
        "payment_intent": charge["payment_intent"],
        "reason": reason,
        "status": "succeeded",
    }
    ctx.store.add(refund, account=ctx.account)
    txn = ctx.store.balance_transaction(
        account=ctx.account, amount=-value, currency=charge["currency"], type="refund", source=refund["id"]
    )
    refund["balance_transaction"] = txn["id"]
    previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
    charge["amount_refunded"] += value
    charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
    ctx.store.emit("refund.created", refund, account=ctx.account)
    ctx.store.emit("charge.refunded", charge, account=ctx.account, previous=previous)
    return public(refund)


# --- invoices ----------------------------------------------------------------------------------------------------


def _render_invoice(ctx: Ctx, invoice: Obj, expand: list[str] | None = None) -> Obj:
    body = public(invoice)
    lines = [
        public(i)
        for i in ctx.store.objects.values()
        if i.get("object") == "invoiceitem" and i["invoice"] == invoice["id"]
    ]
    body["lines"] = {
        "object": "list",
        "data": [
            {
                "id": f"il_{item['id'][3:]}",
                "object": "line_item",
                "amount": item["amount"],
                "currency": item["currency"],
                "description": item["description"],
                "metadata": item["metadata"],
                "invoice_item": item["id"],
            }
            for item in lines
        ],
        "has_more": False,
        "url": f"/v1/invoices/{invoice['id']}/lines",
    }
    if expand and "payments" in expand:
        body["payments"] = {
            "object": "list",
            "data": invoice["_payments"],
            "has_more": False,
            "url": "/v1/invoice_payments",
        }
    return body


def _expand(params: Obj) -> list[str]:
    value = params.get("expand") or []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def invoice_create(ctx: Ctx) -> Obj:
    p = ctx.params
    allow(
        p,
        [
            "customer",
            "collection_method",
            "days_until_due",
            "due_date",
            "currency",
            "metadata",
            "description",
            "auto_advance",
            "pending_invoice_items_behavior",
        ],
    )
    require(p, "customer")
    customer = ctx.store.get(p["customer"], "customer", account=ctx.account, param="customer")
    method = p.get("collection_method") or "charge_automatically"
    if method not in ("charge_automatically", "send_invoice"):
        raise ApiError(400, f"Invalid collection_method: {method}", param="collection_method")
    due_date = None
    if method == "send_invoice":
        if p.get("days_until_due") not in (None, ""):
            due_date = now() + 86400 * amount(p, "days_until_due", minimum=0)
        elif p.get("due_date") not in (None, ""):
            due_date = amount(p, "due_date")
        else:
            raise ApiError(
                400,
                "Invoices with `send_invoice` collection need `days_until_due` or `due_date`.",
                param="days_until_due",
            )
    invoice: Obj = {
        "id": random_id("in"),
        "object": "invoice",
        "amount_due": 0,
        "amount_paid": 0,
        "amount_remaining": 0,
        "attempt_count": 0,
        "auto_advance": to_bool(p.get("auto_advance", "false"), "auto_advance"),
        "collection_method": method,
        "currency": currency(p) if p.get("currency") else "usd",
        "customer": customer["id"],
        "customer_email": customer["email"],
        "description": p.get("description") or None,
        "due_date": due_date,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "metadata": metadata(p),
        "number": None,
        "status": "draft",
        "status_transitions": {"finalized_at": None, "paid_at": None, "voided_at": None},
        "total": 0,
        "_payments": [],
    }
    ctx.store.add(invoice, account=ctx.account)
    ctx.store.emit("invoice.created", _render_invoice(ctx, invoice), account=ctx.account)
    return _render_invoice(ctx, invoice)


def invoice_item_create(ctx: Ctx) -> Obj:
    p = ctx.params
    allow(p, ["customer", "invoice", "amount", "currency", "description", "metadata"])
    require(p, "customer", "amount", "currency")
    customer = ctx.store.get(p["customer"], "customer", account=ctx.account, param="customer")
    invoice = None
    if p.get("invoice"):
        invoice = ctx.store.get(p["invoice"], "invoice", account=ctx.account, param="invoice")
        if invoice["status"] != "draft":
            raise ApiError(
                400, f"Invoice {invoice['id']} is not a draft.", code="invoice_not_editable", param="invoice"
            )
        if invoice["customer"] != customer["id"]:
            raise ApiError(400, "The invoice belongs to another customer.", param="invoice")
    item: Obj = {
        "id": random_id("ii"),
        "object": "invoiceitem",
        "amount": amount(p, minimum=-(10**12)),
        "currency": currency(p),
        "customer": customer["id"],
        "description": p.get("description") or None,
        "invoice": invoice["id"] if invoice else None,
        "metadata": metadata(p),
    }
    if invoice is not None and item["currency"] != invoice["currency"]:
        raise ApiError(400, "The invoice item's currency differs from the invoice's.", param="currency")
    ctx.store.add(item, account=ctx.account)
    if invoice is not None:
        total = sum(
            i["amount"]
            for i in ctx.store.objects.values()
            if i.get("object") == "invoiceitem" and i["invoice"] == invoice["id"]
        )
        invoice["amount_due"] = invoice["amount_remaining"] = invoice["total"] = total
    return public(item)


def invoice_finalize(ctx: Ctx, id: str) -> Obj:
    allow(ctx.params, ["auto_advance"])
    invoice = ctx.store.get(id, "invoice", account=ctx.account)
    if invoice["status"] != "draft":
        raise ApiError(400, f"Invoice {id} is already finalized.", code="invoice_not_editable")
    invoice["status"] = "open"
    invoice["number"] = f"EMU-{invoice['_seq']:06d}"
    invoice["hosted_invoice_url"] = f"{ctx.base_url}/_emulator/hosted/invoices/{id}"
    invoice["invoice_pdf"] = f"{ctx.base_url}/_emulator/hosted/invoices/{id}/pdf"
    invoice["status_transitions"]["finalized_at"] = now()
    ctx.store.emit("invoice.finalized", _render_invoice(ctx, invoice), account=ctx.account)
    if invoice["amount_due"] == 0:
        invoice["status"] = "paid"
        invoice["status_transitions"]["paid_at"] = now()
        ctx.store.emit("invoice.paid", _render_invoice(ctx, invoice), account=ctx.account)
    return _render_invoice(ctx, invoice, _expand(ctx.params))


def invoice_retrieve(ctx: Ctx, id: str) -> Obj:
    return _render_invoice(ctx, ctx.store.get(id, "invoice", account=ctx.account), _expand(ctx.params))


def invoice_pay(ctx: Ctx, invoice: Obj, *, payment_method: str = "pm_card_visa") -> Obj:
    """Pay an open invoice with a test card (test helper): PaymentIntent + charge, then ``invoice.paid``."""
    if invoice["status"] != "open":
        raise ApiError(400, f"Invoice {invoice['id']} is {invoice['status']}, not open.", code="invoice_not_open")
    pi: Obj = {
        "id": random_id("pi"),
        "object": "payment_intent",
        "amount": invoice["amount_due"],
        "amount_received": 0,
        "capture_method": "automatic",
        "currency": invoice["currency"],
        "customer": invoice["customer"],
        "description": f"Payment for Invoice {invoice['number']}",
        "last_payment_error": None,
        "latest_charge": None,
        "metadata": {},
        "payment_method": payment_method,
        "status": "requires_confirmation",
        "transfer_group": None,
    }
    ctx.store.add(pi, account=ctx.account)
    invoice["attempt_count"] += 1
    try:
        _confirm(ctx, pi)
    except ApiError:
        ctx.store.emit("invoice.payment_failed", _render_invoice(ctx, invoice), account=ctx.account)
        raise
    previous = {"status": "open", "amount_paid": 0}
    invoice["_payments"].append(
        {
            "id": random_id("inpay"),
            "object": "invoice_payment",
            "amount_paid": invoice["amount_due"],
            "amount_requested": invoice["amount_due"],
            "created": now(),
            "currency": invoice["currency"],
            "invoice": invoice["id"],
            "is_default": True,
            "livemode": False,
            "payment": {"type": "payment_intent", "payment_intent": pi["id"]},
            "status": "paid",
            "status_transitions": {"canceled_at": None, "paid_at": now()},
        }
    )
    invoice["amount_paid"] = invoice["amount_due"]
    invoice["amount_remaining"] = 0
    invoice["status"] = "paid"
    invoice["status_transitions"]["paid_at"] = now()
    rendered = _render_invoice(ctx, invoice)
    ctx.store.emit("invoice.paid", rendered, account=ctx.account, previous=previous)
    ctx.store.emit("invoice.payment_succeeded", rendered, account=ctx.account, previous=previous)
    return _render_invoice(ctx, invoice, ["payments"])
