"""Payout runs: finance pays every supplier what its earnings add up to, one Stripe transfer per line."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from apps.core.models import BaseModel
from apps.core.money import Money


class PayoutRun(BaseModel):
    """draft (computed, previewable) -> approved (one finance approval; two distinct approvers above
    ``PAYOUT_FOUR_EYES_LIMIT_MINOR``) -> processing (the Celery job sends transfers) -> completed |
    partially_failed (failed lines can be retried: back to processing)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        APPROVED = "approved", "Approved"
        PROCESSING = "processing", "Processing"
        COMPLETED = "completed", "Completed"
        PARTIALLY_FAILED = "partially_failed", "Partially failed"

    TRANSITIONS = {
        Status.DRAFT: {Status.APPROVED},
        Status.APPROVED: {Status.PROCESSING},
        Status.PROCESSING: {Status.COMPLETED, Status.PARTIALLY_FAILED},
        Status.PARTIALLY_FAILED: {Status.PROCESSING},
    }

    period_start = models.DateField()
    period_end = models.DateField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    total_minor = models.BigIntegerField(default=0, help_text="Minor units: the sum of the lines.")
    line_count = models.PositiveIntegerField(default=0)
    earning_count = models.PositiveIntegerField(default=0)
    transfer_group = models.CharField(max_length=100, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    second_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    second_approved_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["draft", "approved", "processing", "completed", "partially_failed"]),
                name="payout_run_status_valid",
            ),
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="payout_run_period_ordered"),
            models.CheckConstraint(
                condition=Q(second_approved_by__isnull=True) | ~Q(second_approved_by=F("approved_by")),
                name="payout_run_two_different_approvers",
            ),
        ]

    @property
    def total(self) -> Money:
        return Money(self.total_minor, self.currency)

    def __str__(self) -> str:
        return f"Payout run {self.period_start}..{self.period_end} {self.currency} ({self.status})"


class PayoutLine(BaseModel):
    """One supplier's payment in a run: ``amount_minor`` is the sum of its earnings' net. The
    idempotency key is stored with the line before any Stripe call and changes only when a failed
    line is retried (``attempt`` + 1), so a line left ``submitting`` is always retried with the same
    key and Stripe replays the transfer instead of making another."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUBMITTING = "submitting", "Submitting"
        PAID = "paid", "Paid"
        FAILED = "failed", "Failed"

    TRANSITIONS = {
        Status.PENDING: {Status.SUBMITTING, Status.FAILED},
        Status.SUBMITTING: {Status.PAID, Status.FAILED},
        Status.FAILED: {Status.PENDING},
    }

    run = models.ForeignKey(PayoutRun, on_delete=models.PROTECT, related_name="lines")
    supplier = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="payout_lines")
    amount_minor = models.BigIntegerField(help_text="Minor units of the run's currency.")
    currency = models.CharField(max_length=3)
    earning_count = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempt = models.PositiveIntegerField(default=1)
    idempotency_key = models.CharField(max_length=200, unique=True)
    destination = models.CharField(max_length=255, blank=True, help_text="The Stripe account id paid.")
    source_transaction = models.CharField(max_length=255, blank=True)
    stripe_transfer_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    error_code = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "supplier"], name="payout_line_one_per_supplier"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "submitting", "paid", "failed"]), name="payout_line_status_valid"
            ),
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="payout_line_amount_positive"),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(stripe_transfer_id__isnull=False), name="payout_line_paid_has_transfer"
            ),
        ]

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)

    def __str__(self) -> str:
        return f"Payout line {self.public_id} {self.amount_minor} {self.currency} ({self.status})"
