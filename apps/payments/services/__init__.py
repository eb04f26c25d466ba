"""Payments services, one module per area: ``accounts`` (connected accounts), ``earnings`` (accrual
and statements) and ``payouts`` (payout runs and transfers)."""
