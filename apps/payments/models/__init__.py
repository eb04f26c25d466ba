"""Payments models, one module per area: connected accounts, earnings, payout runs (and, later,
lab charges, the webhook inbox and reconciliation)."""

from .accounts import ConnectedAccount
from .charges import BillingCustomer, Charge, Refund, TransferReversal
from .earnings import Accrual, Earning
from .inbox import StripeEvent
from .payouts import PayoutLine, PayoutRun
from .reconciliation import ConnectedPayout, ReconciliationException, ReconciliationRun

__all__ = [
    "Accrual",
    "BillingCustomer",
    "Charge",
    "ConnectedAccount",
    "ConnectedPayout",
    "Earning",
    "PayoutLine",
    "PayoutRun",
    "ReconciliationException",
    "ReconciliationRun",
    "Refund",
    "StripeEvent",
    "TransferReversal",
]
