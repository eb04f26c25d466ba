"""Contracts made from awards: versioned terms signed by both sides, milestones, the NDA, and the
experts assigned to do the work."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.models import BaseModel

DEFAULT_LABEL_SETS = {
    "preference_comparison": ["A", "B", "tie"],
    "rating": ["1", "2", "3", "4", "5"],
    "classification": ["yes", "no"],
    "evaluation": ["pass", "fail"],
    "red_teaming": ["safe", "unsafe"],
    "sft_demonstration": ["complete"],
    "rubric_authoring": ["complete"],
    "rl_environment": ["complete"],
}

# Gold-accuracy bands to pay multipliers: (minimum accuracy, multiplier), highest band first.
# Below the lowest band the multiplier is 0 and the work goes back for rework.
DEFAULT_QUALITY_PAY = [["0.95", "1.10"], ["0.85", "1.00"], ["0.75", "0.90"]]


class Contract(BaseModel):
    """One award allocation turned into an agreement between a lab and a supplier."""

    class Status(models.TextChoices):
        PENDING_SIGNATURE = "pending_signature", "Awaiting signatures"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"
        TERMINATED = "terminated", "Terminated"

    TRANSITIONS = {
        Status.PENDING_SIGNATURE: {Status.ACTIVE, Status.TERMINATED},
        Status.ACTIVE: {Status.PAUSED, Status.COMPLETED, Status.TERMINATED},
        Status.PAUSED: {Status.ACTIVE, Status.COMPLETED, Status.TERMINATED},
    }

    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, related_name="contracts")
    allocation = models.OneToOneField(
        "bidding.AwardAllocation", on_delete=models.PROTECT, related_name="contract", null=True, blank=True
    )
    lab = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="lab_contracts")
    supplier = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="supplier_contracts")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING_SIGNATURE)
    status_reason = models.TextField(blank=True, help_text="Why it was terminated.")
    current_version = models.ForeignKey(
        "ContractVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The terms in force (None until the first version is signed by both sides).",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending_signature", "active", "paused", "completed", "terminated"]),
                name="contract_status_valid",
            )
        ]
        indexes = [
            # Each party's list, newest first (cursor pagination), read backwards page by page: the lab's
            # and the supplier's (``selectors.contract_list`` filters the acting organisation's side).
            models.Index(fields=["lab", "created_at", "id"], name="contract_lab_created_idx"),
            models.Index(fields=["supplier", "created_at", "id"], name="contract_supplier_created_idx"),
        ]

    def __str__(self) -> str:
        return f"Contract {self.public_id} ({self.status})"


class ContractVersion(BaseModel):
    """The terms, version by version. v1 comes from the award; each amendment is a new version that
    both sides sign again (a rate decrease may take effect after the notice period without the
    supplier). A version is never changed once proposed; ``terms_hash`` covers every term."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Awaiting signatures"
        EFFECTIVE = "effective", "In force"
        SUPERSEDED = "superseded", "Superseded"
        WITHDRAWN = "withdrawn", "Withdrawn"

    TRANSITIONS = {
        Status.PROPOSED: {Status.EFFECTIVE, Status.WITHDRAWN},
        Status.EFFECTIVE: {Status.SUPERSEDED},
    }

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROPOSED)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    change_summary = models.CharField(max_length=300, blank=True)
    unit_rate = models.DecimalField(max_digits=12, decimal_places=4, help_text="Major units per unit.")
    currency = models.CharField(max_length=3)
    volume_cap = models.PositiveIntegerField(help_text="Units.")
    budget_cap_minor = models.BigIntegerField(help_text="Minor units.")
    sla_min_gold_accuracy = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    sla_min_alpha = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    sla_max_turnaround_days = models.PositiveSmallIntegerField(null=True, blank=True)
    quality_pay = models.JSONField(help_text='[["0.95", "1.10"], ...]: minimum gold accuracy, multiplier.')
    label_set = models.JSONField(help_text="The labels a judgment may carry, in code order.")
    review_window_days = models.PositiveSmallIntegerField(default=5)
    appeal_window_days = models.PositiveSmallIntegerField(default=7)
    notice_period_days = models.PositiveSmallIntegerField(default=14)
    nda_version = models.CharField(max_length=40, default="standard-nda-v1")
    starts_on = models.DateField()
    ends_on = models.DateField()
    effective_from = models.DateField(null=True, blank=True, help_text="When these terms apply.")
    terms_hash = models.CharField(max_length=64, help_text="SHA-256 of the canonical terms.")

    class Meta:
        ordering = ["contract", "number"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "number"], name="contract_version_unique"),
            models.UniqueConstraint(
                fields=["contract"], condition=Q(status="proposed"), name="contract_one_proposed_version"
            ),
            models.CheckConstraint(condition=Q(unit_rate__gt=0), name="contract_rate_positive"),
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="contract_dates_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} v{self.number} ({self.status})"


class Milestone(BaseModel):
    """A payment milestone within a contract version's terms (money moves with the Money capability)."""

    version = models.ForeignKey(ContractVersion, on_delete=models.CASCADE, related_name="milestones")
    position = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    amount_minor = models.BigIntegerField(help_text="Minor units of the version's currency.")
    due_on = models.DateField()
    acceptance_criteria = models.TextField()

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "position"], name="milestone_position_unique"),
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="milestone_amount_positive"),
        ]


class Signature(BaseModel):
    """Who signed which terms for which side, when, from where."""

    class Side(models.TextChoices):
        LAB = "lab", "Lab"
        SUPPLIER = "supplier", "Supplier"

    version = models.ForeignKey(ContractVersion, on_delete=models.CASCADE, related_name="signatures")
    side = models.CharField(max_length=10, choices=Side.choices)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    terms_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "side"], name="signature_one_per_side")]


class NdaAcceptance(BaseModel):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="nda_acceptances")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="nda_acceptances")
    nda_version = models.CharField(max_length=40)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contract", "user", "nda_version"], name="nda_acceptance_unique")
        ]


class Assignment(BaseModel):
    """An expert allowed to work on a contract because every gate passed when assigned (and since)."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        ENDED = "ended", "Ended"

    TRANSITIONS = {
        Status.ACTIVE: {Status.SUSPENDED, Status.ENDED},
        Status.SUSPENDED: {Status.ACTIVE, Status.ENDED},
    }

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="assignments")
    expert = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.TextField(blank=True, help_text="The unmet gates behind a suspension.")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "expert"],
                condition=Q(status__in=["active", "suspended"]),
                name="assignment_one_open_per_expert",
            )
        ]
