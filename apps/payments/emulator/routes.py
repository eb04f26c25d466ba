"""The route table: (method, path pattern) -> handler."""

from __future__ import annotations

import re
from typing import Any

from .api import (
    Handler,
    charge_list,
    charge_retrieve,
    customer_create,
    customer_retrieve,
    invoice_create,
    invoice_finalize,
    invoice_item_create,
    invoice_retrieve,
    payment_intent_create,
    payment_intent_retrieve,
    refund_create,
)
from .connect import (
    account_create,
    account_link_create,
    account_list,
    account_retrieve,
    account_update,
    balance_retrieve,
    balance_transaction_list,
    balance_transaction_retrieve,
    event_list,
    event_retrieve,
    payout_list,
    payout_retrieve,
    reversal_create,
    reversal_list,
    transfer_create,
    transfer_list,
    transfer_retrieve,
)

ID = r"([A-Za-z0-9_]+)"
_TABLE: list[tuple[str, str, Handler]] = [
    ("POST", "/v1/customers", customer_create),
    ("GET", f"/v1/customers/{ID}", customer_retrieve),
    ("POST", "/v1/payment_intents", payment_intent_create),
    ("GET", f"/v1/payment_intents/{ID}", payment_intent_retrieve),
    ("GET", "/v1/charges", charge_list),
    ("GET", f"/v1/charges/{ID}", charge_retrieve),
    ("POST", "/v1/refunds", refund_create),
    ("POST", "/v1/invoices", invoice_create),
    ("GET", f"/v1/invoices/{ID}", invoice_retrieve),
    ("POST", f"/v1/invoices/{ID}/finalize", invoice_finalize),
    ("POST", "/v1/invoiceitems", invoice_item_create),
    ("POST", "/v1/accounts", account_create),
    ("GET", "/v1/accounts", account_list),
    ("GET", f"/v1/accounts/{ID}", account_retrieve),
    ("POST", f"/v1/accounts/{ID}", account_update),
    ("POST", "/v1/account_links", account_link_create),
    ("POST", "/v1/transfers", transfer_create),
    ("GET", "/v1/transfers", transfer_list),
    ("GET", f"/v1/transfers/{ID}", transfer_retrieve),
    ("POST", f"/v1/transfers/{ID}/reversals", reversal_create),
    ("GET", f"/v1/transfers/{ID}/reversals", reversal_list),
    ("GET", "/v1/payouts", payout_list),
    ("GET", f"/v1/payouts/{ID}", payout_retrieve),
    ("GET", "/v1/balance", balance_retrieve),
    ("GET", "/v1/balance_transactions", balance_transaction_list),
    ("GET", f"/v1/balance_transactions/{ID}", balance_transaction_retrieve),
    ("GET", "/v1/events", event_list),
    ("GET", f"/v1/events/{ID}", event_retrieve),
]
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [(m, re.compile(f"^{p}$"), h) for m, p, h in _TABLE]


def route(method: str, path: str) -> tuple[Handler, tuple[Any, ...]] | None:
    for m, pattern, handler in ROUTES:
        if m == method:
            match = pattern.match(path)
            if match:
                return handler, match.groups()
    return None
