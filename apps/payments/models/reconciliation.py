"""Connected payouts (mirrored from Stripe), reconciliation runs and the exceptions they find."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.models import BaseModel


class ConnectedPayout(BaseModel):
    """A payout from a supplier's connected account to its bank, mirrored from ``payout.*`` events and
    reconciliation (newest event wins: ``last_event_created``)."""

    stripe_payout_id = models.CharField(max_length=255, unique=True)
    account = models.ForeignKey(
        "payments.ConnectedAccount", null=True, blank=True, on_delete=models.PROTECT, related_name="payouts"
    )
    stripe_account_id = models.CharField(max_length=255)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20)
    arrival_date = models.DateField(null=True, blank=True)
    failure_code = models.CharField(max_length=100, blank=True)
    automatic = models.BooleanField(default=True)
    last_event_created = models.BigIntegerField(default=0)
    reconciled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.stripe_payout_id} {self.amount_minor} {self.currency} ({self.status})"


class ReconciliationRun(BaseModel):
    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        MANUAL = "manual", "On demand"
        SCHEDULED = "scheduled", "Daily"

    TRANSITIONS = {Status.RUNNING: {Status.COMPLETED, Status.FAILED}}

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.MANUAL)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    finished_at = models.DateTimeField(null=True, blank=True)
    checked_count = models.PositiveIntegerField(default=0)
    exception_count = models.PositiveIntegerField(
        default=0, help_text="Exceptions found by this run (new or seen again)."
    )
    new_exception_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class ReconciliationException(BaseModel):
    """A disagreement between our records and Stripe's. Found once (``fingerprint`` is unique among open
    exceptions; later runs that see it again bump ``last_seen_run``). Finance resolves it with a note and,
    where money is off, an adjusting journal entry; the records themselves are never edited."""

    class Kind(models.TextChoices):
        MISSING_IN_STRIPE = "missing_in_stripe", "Missing in Stripe"
        UNEXPECTED_IN_STRIPE = "unexpected_in_stripe", "Unexpected in Stripe"
        AMOUNT_MISMATCH = "amount_mismatch", "Amount mismatch"
        STATUS_MISMATCH = "status_mismatch", "Status mismatch"
        STUCK = "stuck", "Stuck"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    TRANSITIONS = {Status.OPEN: {Status.RESOLVED}}

    run = models.ForeignKey(ReconciliationRun, on_delete=models.PROTECT, related_name="exceptions")
    last_seen_run = models.ForeignKey(
        ReconciliationRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    object_type = models.CharField(max_length=40, help_text="charge, transfer, reversal, payout, payout_line, event")
    internal_ref = models.CharField(max_length=255, blank=True)
    stripe_id = models.CharField(max_length=255, blank=True)
    expected = models.BigIntegerField(null=True, blank=True)
    actual = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    detail = models.TextField(blank=True)
    fingerprint = models.CharField(max_length=400)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    adjusting_entry = models.ForeignKey(
        "ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["fingerprint"], condition=Q(status="open"), name="recon_exception_open_once"
            ),
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "missing_in_stripe",
                        "unexpected_in_stripe",
                        "amount_mismatch",
                        "status_mismatch",
                        "stuck",
                    ]
                ),
                name="recon_exception_kind_valid",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="recon_exception_open_idx")]
