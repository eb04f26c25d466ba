"""What suppliers earn for accepted work: one ``Earning`` per accepted batch, accrued in bulk."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from apps.core.models import BaseModel
from apps.core.money import Money


class Accrual(BaseModel):
    """One accrual pass over a chunk of newly accepted batches; its single balanced journal entry
    (key ``accrual:<public_id>``) books every earning of the chunk."""

    earning_count = models.PositiveIntegerField(default=0)
    journal_entry_public_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class Earning(BaseModel):
    """A batch earns once: ``gross`` (what the lab owes) = rate x accepted units x quality multiplier,
    rounded once to minor units; ``fee`` is the platform's share at ``fee_bps``; ``net`` = gross -
    fee goes to the supplier. All amounts are integer minor units of ``currency``."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        IN_RUN = "in_run", "In a payout run"
        PAID = "paid", "Paid"
        REVERSED = "reversed", "Reversed"

    TRANSITIONS = {
        Status.PENDING: {Status.IN_RUN, Status.REVERSED},
        Status.IN_RUN: {Status.PAID, Status.PENDING, Status.REVERSED},
        Status.PAID: {Status.REVERSED},
    }

    batch = models.OneToOneField("work.WorkBatch", on_delete=models.PROTECT, related_name="earning")
    contract = models.ForeignKey("contracts.Contract", on_delete=models.PROTECT, related_name="earnings")
    supplier = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="earnings")
    lab = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="owed_earnings")
    accrual = models.ForeignKey(Accrual, null=True, blank=True, on_delete=models.PROTECT, related_name="earnings")
    currency = models.CharField(max_length=3)
    unit_rate = models.DecimalField(max_digits=12, decimal_places=4, help_text="Major units per unit.")
    units = models.PositiveIntegerField(help_text="Accepted units.")
    multiplier = models.DecimalField(max_digits=6, decimal_places=4)
    multiplier_basis = models.CharField(max_length=60, blank=True)
    quality_snapshot_public_id = models.UUIDField(null=True, blank=True)
    gold_accuracy = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    fee_bps = models.PositiveIntegerField(help_text="Platform fee in basis points at accrual.")
    gross_minor = models.BigIntegerField(help_text="Minor units: what the lab owes for the batch.")
    fee_minor = models.BigIntegerField(help_text="Minor units: the platform's fee.")
    net_minor = models.BigIntegerField(help_text="Minor units: the supplier's part.")
    earned_on = models.DateField(db_index=True, help_text="The day the batch was accepted (or overturned).")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    run = models.ForeignKey(
        "payments.PayoutRun", null=True, blank=True, on_delete=models.PROTECT, related_name="earnings"
    )
    line = models.ForeignKey(
        "payments.PayoutLine", null=True, blank=True, on_delete=models.PROTECT, related_name="earnings"
    )

    class Meta:
        ordering = ["-earned_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "in_run", "paid", "reversed"]), name="earning_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(gross_minor=F("net_minor") + F("fee_minor")), name="earning_split_adds_up"
            ),
            models.CheckConstraint(condition=Q(fee_minor__gte=0, net_minor__gte=0), name="earning_parts_not_negative"),
            models.CheckConstraint(condition=Q(fee_bps__lte=10_000), name="earning_fee_bps_range"),
        ]
        indexes = [models.Index(fields=["status", "currency", "earned_on"], name="earning_payable_idx")]

    @property
    def gross(self) -> Money:
        return Money(self.gross_minor, self.currency)

    @property
    def fee(self) -> Money:
        return Money(self.fee_minor, self.currency)

    @property
    def net(self) -> Money:
        return Money(self.net_minor, self.currency)

    def __str__(self) -> str:
        return f"Earning {self.public_id} {self.net_minor} {self.currency} ({self.status})"
