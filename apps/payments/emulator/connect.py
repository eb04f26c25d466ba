"""The ``/v1`` Connect endpoints: accounts and account links, transfers and reversals, connected payouts,
balance and balance transactions, events. Also the state changes the test helpers drive (onboarding,
requirements, payouts paid or failed)."""

from __future__ import annotations

from .api import Ctx
from .state import (
    ApiError,
    Obj,
    allow,
    amount,
    created_filter,
    currency,
    metadata,
    missing,
    now,
    paginate,
    public,
    random_id,
    require,
    to_bool,
)

ONBOARDING_REQUIREMENTS = [
    "business_profile.url",
    "external_account",
    "individual.first_name",
    "individual.last_name",
    "tos_acceptance.date",
    "tos_acceptance.ip",
]


# --- connected accounts ------------------------------------------------------------------------------------------


def account_create(ctx: Ctx) -> Obj:
    p = ctx.params
    allow(
        p,
        [
            "type",
            "controller",
            "country",
            "email",
            "business_type",
            "capabilities",
            "metadata",
            "default_currency",
            "business_profile",
        ],
    )
    if ctx.account:
        raise ApiError(400, "Connected accounts cannot create accounts.", param="Stripe-Account")
    account_type = p.get("type") or None
    controller = p.get("controller") or None
    if account_type is None and controller is None:
        raise ApiError(400, "Missing required param: type or controller.", code="parameter_missing", param="type")
    if account_type not in (None, "express", "custom", "standard"):
        raise ApiError(400, f"Invalid type: {account_type}", param="type")
    business_type = p.get("business_type") or None
    if business_type not in (None, "individual", "company", "non_profit", "government_entity"):
        raise ApiError(400, f"Invalid business_type: {business_type}", param="business_type")
    requested = p.get("capabilities") or {}
    capabilities = {
        name: "inactive"
        for name, spec in requested.items()
        if isinstance(spec, dict) and to_bool(spec.get("requested"), name)
    }
    country = str(p.get("country") or "US").upper()
    acct: Obj = {
        "id": random_id("acct", 16),
        "object": "account",
        "business_type": business_type,
        "capabilities": capabilities,
        "charges_enabled": False,
        "controller": controller or {"type": "application", "is_controller": True},
        "country": country,
        "default_currency": str(p.get("default_currency") or ("usd" if country == "US" else "eur")).lower(),
        "details_submitted": False,
        "email": p.get("email") or None,
        "metadata": metadata(p),
        "payouts_enabled": False,
        "requirements": {
            "currently_due": list(ONBOARDING_REQUIREMENTS),
            "eventually_due": list(ONBOARDING_REQUIREMENTS),
            "past_due": list(ONBOARDING_REQUIREMENTS),
            "pending_verification": [],
            "disabled_reason": "requirements.past_due",
            "current_deadline": None,
            "errors": [],
        },
        "settings": {"payouts": {"schedule": {"interval": "daily", "delay_days": 2}}},
        "type": account_type or "none",
    }
    ctx.store.add(acct, account=None)
    return public(acct)


def account_retrieve(ctx: Ctx, id: str) -> Obj:
    return public(ctx.store.get(id, "account", account=None))


def account_update(ctx: Ctx, id: str) -> Obj:
    allow(ctx.params, ["metadata", "email", "business_profile"])
    acct = ctx.store.get(id, "account", account=None)
    if "metadata" in ctx.params:
        acct["metadata"].update(metadata(ctx.params))
    if ctx.params.get("email"):
        acct["email"] = ctx.params["email"]
    ctx.store.emit("account.updated", acct, account=acct["id"])
    return public(acct)


def account_list(ctx: Ctx) -> Obj:
    allow(ctx.params, ["limit", "starting_after", "ending_before", "created"])
    return paginate(
        ctx.store.select("account", account=None, where=created_filter(ctx.params)), ctx.params, "/v1/accounts"
    )


def account_link_create(ctx: Ctx) -> Obj:
    p = ctx.params
    allow(p, ["account", "refresh_url", "return_url", "type", "collection_options", "collect"])
    require(p, "account", "type")
    acct = ctx.store.get(p["account"], "account", account=None, param="account")
    if p["type"] not in ("account_onboarding", "account_update"):
        raise ApiError(400, f"Invalid type: {p['type']}", param="type")
    link_id = random_id("link", 20)
    link: Obj = {
        "id": link_id,
        "object": "account_link",
        "created": now(),
        "expires_at": now() + 300,
        "url": f"{ctx.base_url}/_emulator/onboarding/{link_id}",
        "_target": acct["id"],
        "_return_url": p.get("return_url") or "",
        "_refresh_url": p.get("refresh_url") or "",
    }
    ctx.store.add(link, account=None)
    body = public(link)
    del body["id"]
    return body


def complete_onboarding(ctx: Ctx, acct: Obj) -> Obj:
    previous = {
        "charges_enabled": acct["charges_enabled"],
        "payouts_enabled": acct["payouts_enabled"],
        "details_submitted": acct["details_submitted"],
        "capabilities": dict(acct["capabilities"]),
        "requirements": dict(acct["requirements"]),
    }
    acct["charges_enabled"] = True
    acct["payouts_enabled"] = True
    acct["details_submitted"] = True
    acct["capabilities"] = {name: "active" for name in acct["capabilities"]} or {"transfers": "active"}
    acct["requirements"] = {
        "currently_due": [],
        "eventually_due": [],
        "past_due": [],
        "pending_verification": [],
        "disabled_reason": None,
        "current_deadline": None,
        "errors": [],
    }
    ctx.store.emit("account.updated", acct, account=acct["id"], previous=previous)
    return public(acct)


def require_fields(ctx: Ctx, acct: Obj, fields: list[str], *, disable: bool) -> Obj:
    previous = {
        "payouts_enabled": acct["payouts_enabled"],
        "capabilities": dict(acct["capabilities"]),
        "requirements": dict(acct["requirements"]),
    }
    acct["requirements"]["currently_due"] = list(fields)
    acct["requirements"]["eventually_due"] = list(fields)
    if disable:
        acct["requirements"]["past_due"] = list(fields)
        acct["requirements"]["disabled_reason"] = "requirements.past_due"
        acct["payouts_enabled"] = False
        acct["capabilities"] = {name: "inactive" for name in acct["capabilities"]}
    else:
        acct["requirements"]["current_deadline"] = now() + 14 * 86400
    ctx.store.emit("account.updated", acct, account=acct["id"], previous=previous)
    return public(acct)


# --- transfers and reversals -------------------------------------------------------------------------------------


def _render_transfer(ctx: Ctx, transfer: Obj) -> Obj:
    body = public(transfer)
    reversals = ctx.store.select("transfer_reversal", account=None, where=lambda r: r["transfer"] == transfer["id"])
    body["reversals"] = {
        "object": "list",
        "data": [public(r) for r in reversals],
        "has_more": False,
        "total_count": len(reversals),
        "url": f"/v1/transfers/{transfer['id']}/reversals",
    }
    return body


def transfer_create(ctx: Ctx) -> Obj:
    p = ctx.params
    allow(p, ["amount", "currency", "destination", "transfer_group", "source_transaction", "metadata", "description"])
    require(p, "amount", "currency", "destination")
    if ctx.account:
        raise ApiError(400, "Transfers are created by the platform.", param="Stripe-Account")
    value = amount(p)
    cur = currency(p)
    destination = ctx.store.get(p["destination"], "account", account=None, param="destination")
    if destination["capabilities"].get("transfers") != "active":
        raise ApiError(
            400,
            "Your destination account needs to have at least one of the following capabilities enabled: "
            "transfers, crypto_transfers, legacy_payments",
            code="insufficient_capabilities_for_transfer",
            param="destination",
        )
    source = p.get("source_transaction") or None
    if source:
        charge = ctx.store.get(source, "charge", account=None, param="source_transaction")
        if charge["status"] != "succeeded":
            raise ApiError(400, f"Charge {source} has not succeeded.", param="source_transaction")
        if charge["currency"] != cur:
            raise ApiError(
                400, "The currency of source_transaction's balance transaction must match.", param="currency"
            )
        already = sum(
            t["amount"] - t["amount_reversed"]
            for t in ctx.store.select("transfer", account=None, where=lambda t: t["source_transaction"] == source)
        )
        if already + value > charge["amount"]:
            raise ApiError(
                400,
                f"Transfers using this transaction as a source must not exceed the source amount of {charge['amount']}. "
                f"(There is already {already} transferred from it.)",
                code="transfer_source_balance_parameters_mismatch",
                param="amount",
            )
    elif ctx.store.available(None, cur) < value:
        raise ApiError(
            400,
            "You have insufficient available funds in your Stripe account. Use source_transaction, or add funds "
            "(emulator: POST /_emulator/balance/topup).",
            code="balance_insufficient",
            param="amount",
        )
    transfer: Obj = {
        "id": random_id("tr"),
        "object": "transfer",
        "amount": value,
        "amount_reversed": 0,
        "balance_transaction": None,
        "currency": cur,
        "description": p.get("description") or None,
        "destination": destination["id"],
        "destination_payment": None,
        "metadata": metadata(p),
        "reversed": False,
        "source_transaction": source,
        "source_type": "card",
        "transfer_group": p.get("transfer_group") or None,
    }
    ctx.store.add(transfer, account=None)
    txn = ctx.store.balance_transaction(
        account=None, amount=-value, currency=cur, type="transfer", source=transfer["id"]
    )
    transfer["balance_transaction"] = txn["id"]
    payment: Obj = {
        "id": random_id("py"),
        "object": "charge",
        "amount": value,
        "amount_refunded": 0,
        "balance_transaction": None,
        "currency": cur,
        "metadata": {},
        "paid": True,
        "payment_intent": None,
        "source_transfer": transfer["id"],
        "status": "succeeded",
        "transfer_group": transfer["transfer_group"],
    }
    ctx.store.add(payment, account=destination["id"])
    ptxn = ctx.store.balance_transaction(
        account=destination["id"], amount=value, currency=cur, type="payment", source=payment["id"]
    )
    payment["balance_transaction"] = ptxn["id"]
    transfer["destination_payment"] = payment["id"]
    ctx.store.emit("transfer.created", _render_transfer(ctx, transfer))
    return _render_transfer(ctx, transfer)


def transfer_retrieve(ctx: Ctx, id: str) -> Obj:
    return _render_transfer(ctx, ctx.store.get(id, "transfer", account=ctx.account))


def transfer_list(ctx: Ctx) -> Obj:
    p = ctx.params
    allow(p, ["limit", "starting_after", "ending_before", "created", "destination", "transfer_group"])
    when = created_filter(p)

    def where(o: Obj) -> bool:
        return when(o) and all(not p.get(f) or o.get(f) == p[f] for f in ("destination", "transfer_group"))

    items = ctx.store.select("transfer", account=ctx.account, where=where)
    return paginate(items, p, "/v1/transfers", lambda t: _render_transfer(ctx, t))


def reversal_create(ctx: Ctx, id: str) -> Obj:
    p = ctx.params
    allow(p, ["amount", "metadata", "description", "refund_application_fee"])
    transfer = ctx.store.get(id, "transfer", account=ctx.account)
    remaining = transfer["amount"] - transfer["amount_reversed"]
    value = amount(p) if p.get("amount") not in (None, "") else remaining
    if value > remaining:
        raise ApiError(
            400,
            f"Reversal amount ({value}) is greater than the transfer's unreversed amount ({remaining}).",
            code="amount_too_large",
            param="amount",
        )
    reversal: Obj = {
        "id": random_id("trr"),
        "object": "transfer_reversal",
        "amount": value,
        "balance_transaction": None,
        "currency": transfer["currency"],
        "destination_payment_refund": random_id("pyr"),
        "metadata": metadata(p),
        "source_refund": None,
        "transfer": transfer["id"],
    }
    ctx.store.add(reversal, account=None)
    txn = ctx.store.balance_transaction(
        account=None, amount=value, currency=transfer["currency"], type="transfer_refund", source=reversal["id"]
    )
    reversal["balance_transaction"] = txn["id"]
    ctx.store.balance_transaction(
        account=transfer["destination"],
        amount=-value,
        currency=transfer["currency"],
        type="payment_refund",
        source=reversal["destination_payment_refund"],
    )
    previous = {"amount_reversed": transfer["amount_reversed"], "reversed": transfer["reversed"]}
    transfer["amount_reversed"] += value
    transfer["reversed"] = transfer["amount_reversed"] >= transfer["amount"]
    ctx.store.emit("transfer.reversed", _render_transfer(ctx, transfer), previous=previous)
    return public(reversal)


def reversal_list(ctx: Ctx, id: str) -> Obj:
    allow(ctx.params, ["limit", "starting_after", "ending_before"])
    transfer = ctx.store.get(id, "transfer", account=ctx.account)
    items = ctx.store.select("transfer_reversal", account=None, where=lambda r: r["transfer"] == transfer["id"])
    return paginate(items, ctx.params, f"/v1/transfers/{id}/reversals")


# --- payouts, balance, balance transactions ----------------------------------------------------------------------


def payout_list(ctx: Ctx) -> Obj:
    p = ctx.params
    allow(p, ["limit", "starting_after", "ending_before", "created", "status", "arrival_date", "destination"])
    when = created_filter(p)

    def where(o: Obj) -> bool:
        return when(o) and (not p.get("status") or o["status"] == p["status"])

    return paginate(ctx.store.select("payout", account=ctx.account, where=where), p, "/v1/payouts")


def payout_retrieve(ctx: Ctx, id: str) -> Obj:
    return public(ctx.store.get(id, "payout", account=ctx.account))


def balance_transaction_list(ctx: Ctx) -> Obj:
    p = ctx.params
    allow(p, ["limit", "starting_after", "ending_before", "created", "payout", "type", "source", "currency"])
    when = created_filter(p)
    payout = p.get("payout") or None
    if payout:
        po = ctx.store.get(payout, "payout", account=ctx.account, param="payout")
        if not po["automatic"]:
            raise ApiError(400, "Balance transactions can only be listed for automatic payouts.", param="payout")

    def where(o: Obj) -> bool:
        return (
            when(o)
            and (not payout or o["_payout"] == payout)
            and all(not p.get(f) or o.get(f) == p[f] for f in ("type", "source", "currency"))
        )

    items = ctx.store.select("balance_transaction", account=ctx.account, where=where)
    return paginate(items, p, "/v1/balance_transactions")


def balance_transaction_retrieve(ctx: Ctx, id: str) -> Obj:
    return public(ctx.store.get(id, "balance_transaction", account=ctx.account))


def balance_retrieve(ctx: Ctx) -> Obj:
    currencies = sorted(
        {t["currency"] for t in ctx.store.select("balance_transaction", account=ctx.account)} or {"usd"}
    )
    return {
        "object": "balance",
        "available": [{"amount": ctx.store.available(ctx.account, c), "currency": c} for c in currencies],
        "pending": [{"amount": 0, "currency": c} for c in currencies],
        "livemode": False,
    }


def make_payout(ctx: Ctx, acct: Obj, *, currency_: str | None = None) -> Obj:
    """An automatic payout of the account's whole available balance, sweeping its unswept balance transactions."""
    cur = (currency_ or acct["default_currency"]).lower()
    swept = ctx.store.select(
        "balance_transaction",
        account=acct["id"],
        where=lambda t: t["currency"] == cur and t["_payout"] is None and t["type"] not in ("payout", "payout_failure"),
    )
    total = sum(t["net"] for t in swept)
    if total <= 0:
        raise ApiError(
            400, f"Account {acct['id']} has no available {cur} balance to pay out.", code="balance_insufficient"
        )
    payout: Obj = {
        "id": random_id("po"),
        "object": "payout",
        "amount": total,
        "arrival_date": now() + 2 * 86400,
        "automatic": True,
        "balance_transaction": None,
        "currency": cur,
        "description": "STRIPE PAYOUT",
        "destination": random_id("ba"),
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "metadata": {},
        "method": "standard",
        "reconciliation_status": "completed",
        "source_type": "card",
        "statement_descriptor": None,
        "status": "pending",
        "type": "bank_account",
    }
    ctx.store.add(payout, account=acct["id"])
    for txn in swept:
        txn["_payout"] = payout["id"]
    own = ctx.store.balance_transaction(
        account=acct["id"], amount=-total, currency=cur, type="payout", source=payout["id"]
    )
    own["_payout"] = payout["id"]
    payout["balance_transaction"] = own["id"]
    ctx.store.emit("payout.created", payout, account=acct["id"])
    return payout


def settle_payout(ctx: Ctx, payout: Obj, status: str, failure_code: str | None = None) -> Obj:
    if payout["status"] not in ("pending", "in_transit"):
        raise ApiError(400, f"Payout {payout['id']} is already {payout['status']}.", code="payout_not_pending")
    previous = {"status": payout["status"]}
    account = payout["_account"]
    if status == "paid":
        payout["status"] = "paid"
        ctx.store.emit("payout.paid", payout, account=account, previous=previous)
    elif status == "failed":
        payout["status"] = "failed"
        payout["failure_code"] = failure_code or "account_closed"
        payout["failure_message"] = "The bank account has been closed."
        txn = ctx.store.balance_transaction(
            account=account,
            amount=payout["amount"],
            currency=payout["currency"],
            type="payout_failure",
            source=payout["id"],
        )
        payout["failure_balance_transaction"] = txn["id"]
        ctx.store.emit("payout.failed", payout, account=account, previous=previous)
    elif status == "in_transit":
        payout["status"] = "in_transit"
        ctx.store.emit("payout.updated", payout, account=account, previous=previous)
    else:
        raise ApiError(400, f"Invalid payout status: {status}", param="status")
    return public(payout)


# --- events ------------------------------------------------------------------------------------------------------


def event_list(ctx: Ctx) -> Obj:
    p = ctx.params
    allow(p, ["limit", "starting_after", "ending_before", "created", "type", "types", "delivery_success"])
    when = created_filter(p)
    types = p.get("types") or []

    def where(e: Obj) -> bool:
        return (
            when(e) and (not p.get("type") or _type_matches(e["type"], p["type"])) and (not types or e["type"] in types)
        )

    return paginate(ctx.store.select_events(account=ctx.account, where=where), p, "/v1/events")


def _type_matches(event_type: str, pattern: str) -> bool:
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return event_type == pattern


def event_retrieve(ctx: Ctx, id: str) -> Obj:
    for event in ctx.store.events:
        if event["id"] == id and event["_account"] == ctx.account:
            return public(event)
    raise missing("event", id)
