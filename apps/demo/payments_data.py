"""Demo payments: accepted batches earn (accrual), and platform finance gets a draft payout run over
them to review, approve and send (with ``make run`` the transfers go to the local Stripe emulator).
Idempotent: accrual skips batches that already earned; no new run while a draft exists or nothing is
pending."""

from __future__ import annotations

from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import StaffRole
from apps.payments.models import Earning, PayoutRun
from apps.payments.services import earnings, payouts


def seed_payments(changes: list[str]) -> None:
    created = earnings.accrue_earnings()
    if created:
        changes.append(f"payments: {created} earnings accrued from accepted batches")
    finance = User.objects.filter(staff_role=StaffRole.FINANCE, is_active=True).order_by("id").first()
    if finance is None or PayoutRun.objects.filter(status=PayoutRun.Status.DRAFT).exists():
        return
    currencies = (
        Earning.objects.filter(status=Earning.Status.PENDING, net_minor__gt=0)
        .order_by("currency")
        .values_list("currency", flat=True)
        .distinct()
    )
    today = timezone.localdate()
    for currency in currencies:
        run = payouts.create_run(actor=finance, period_start=today.replace(day=1), period_end=today, currency=currency)
        changes.append(f"payments: draft payout run {currency} with {run.line_count} lines, {run.total}")
