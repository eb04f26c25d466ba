"""The chart of accounts: which account codes exist, their kind, and which ones should clear to zero.

A code is ``<prefix>`` or, for per-organisation accounts, ``<prefix>:<organisation public id>``.
Each account holds one currency; the same code in another currency is another account.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .models import AccountKind


@dataclass(frozen=True)
class AccountType:
    prefix: str
    kind: str
    label: str
    per_organization: bool = False
    organization_kinds: tuple[str, ...] = ()
    # A clearing account: money passes through it, so a lasting non-zero balance needs finance's attention.
    clears_to_zero: bool = False


ACCOUNT_TYPES: dict[str, AccountType] = {
    t.prefix: t
    for t in (
        AccountType("stripe_balance", AccountKind.ASSET, "The platform's Stripe balance"),
        AccountType("platform_bank", AccountKind.ASSET, "The platform's bank account (Stripe payouts to it)"),
        AccountType(
            "lab_receivable", AccountKind.ASSET, "Owed by a lab for accepted work, until its payment settles",
            per_organization=True, organization_kinds=("lab",), clears_to_zero=True,
        ),
        AccountType(
            "lab_prepaid", AccountKind.LIABILITY, "A lab's prepaid balance, not yet spent",
            per_organization=True, organization_kinds=("lab",),
        ),
        AccountType(
            "payee_payable", AccountKind.LIABILITY, "Owed to a supplier for its earnings, until transferred",
            per_organization=True, organization_kinds=("vendor", "individual"), clears_to_zero=True,
        ),
        AccountType("platform_fee_revenue", AccountKind.REVENUE, "The platform's fee on accepted work"),
        AccountType("stripe_fees", AccountKind.EXPENSE, "Stripe's processing fees"),
        AccountType("refund_losses", AccountKind.EXPENSE, "Refunds to labs the platform bears"),
        AccountType("dispute_losses", AccountKind.EXPENSE, "Disputes (chargebacks) lost, with their fees"),
        AccountType("adjustments", AccountKind.EQUITY, "Finance's manual adjustments (the other side of a correction)"),
    )
}  # fmt: skip

CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,59}(:[A-Za-z0-9][A-Za-z0-9_.\-]{0,59})?$")
CLEARING_PREFIXES = frozenset(p for p, t in ACCOUNT_TYPES.items() if t.clears_to_zero)


def prefix_of(code: str) -> str:
    return code.split(":", 1)[0]


def account_type(code: str) -> AccountType | None:
    return ACCOUNT_TYPES.get(prefix_of(code))


def clears_to_zero(code: str) -> bool:
    return prefix_of(code) in CLEARING_PREFIXES


def code_for(prefix: str, organization) -> str:
    """The code of a per-organisation account, e.g. ``code_for("payee_payable", vendor)``."""
    return f"{prefix}:{organization.public_id}"
