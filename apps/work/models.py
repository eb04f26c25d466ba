"""What suppliers deliver: gold items (the lab's hidden answers), work batches with one judgment
row per answer, the lab's review, and appeals decided by platform operations."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.models import BaseModel


class GoldItem(BaseModel):
    """An item whose correct answer the lab knows. Hidden from every supplier and expert."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="gold_items")
    item_id = models.CharField(max_length=200)
    answer = models.CharField(max_length=200, help_text="The correct label (one of the contract's label set).")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "item_id"], name="gold_item_unique")]


class RejectionReason(models.TextChoices):
    GUIDELINE_VIOLATION = "guideline_violation", "Guideline violation"
    LOW_GOLD_ACCURACY = "low_gold_accuracy", "Low gold accuracy"
    INCOMPLETE = "incomplete", "Incomplete"
    SUSPECTED_AI_GENERATED = "suspected_ai_generated", "Suspected AI-generated"
    OTHER = "other", "Other"


class WorkBatch(BaseModel):
    """One delivery under a contract: a period, a unit count and its judgments."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Awaiting review"
        ACCEPTED = "accepted", "Accepted"
        PARTIALLY_ACCEPTED = "partially_accepted", "Partially accepted"
        REJECTED = "rejected", "Rejected"
        APPEALED = "appealed", "Under appeal"
        OVERTURNED = "overturned", "Accepted on appeal"
        UPHELD = "upheld", "Rejection upheld"

    TRANSITIONS = {
        Status.SUBMITTED: {Status.ACCEPTED, Status.PARTIALLY_ACCEPTED, Status.REJECTED},
        Status.REJECTED: {Status.APPEALED},
        Status.APPEALED: {Status.OVERTURNED, Status.UPHELD},
    }
    ACCEPTED_STATES = (Status.ACCEPTED, Status.PARTIALLY_ACCEPTED, Status.OVERTURNED)

    contract = models.ForeignKey("contracts.Contract", on_delete=models.PROTECT, related_name="batches")
    contract_version = models.ForeignKey(
        "contracts.ContractVersion",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The terms in force at submission: its label set decodes the judgments' label codes, "
        "its windows time the review and the appeal.",
    )
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    client_batch_key = models.CharField(max_length=200, help_text="The supplier's key: a retried upload is a no-op.")
    period_start = models.DateField()
    period_end = models.DateField()
    unit_count = models.PositiveIntegerField()
    judgment_count = models.PositiveIntegerField(default=0)
    guideline_version = models.ForeignKey(
        "projects.GuidelineVersion",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The guideline version in force when the batch was submitted.",
    )
    content_sha256 = models.CharField(max_length=64, help_text="Of the uploaded file.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    accepted_units = models.PositiveIntegerField(null=True, blank=True)
    rejection_reason = models.CharField(max_length=30, choices=RejectionReason.choices, blank=True)
    review_evidence = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    auto_accepted = models.BooleanField(default=False)
    review_due_at = models.DateTimeField(help_text="Unreviewed by then, the batch is accepted automatically.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "client_batch_key"], name="batch_client_key_unique"),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "submitted",
                        "accepted",
                        "partially_accepted",
                        "rejected",
                        "appealed",
                        "overturned",
                        "upheld",
                    ]
                ),
                name="batch_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(rejection_reason__in=["", *RejectionReason.values]), name="batch_rejection_reason_valid"
            ),
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")), name="batch_period_ordered"),
            models.CheckConstraint(condition=Q(unit_count__gt=0), name="batch_units_positive"),
            models.CheckConstraint(
                condition=Q(accepted_units__isnull=True) | Q(accepted_units__lte=models.F("unit_count")),
                name="batch_accepted_within_units",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "review_due_at"], name="batch_review_due_idx"),
            # A contract's batches, newest first (the batch list's scope and cursor ordering, read backwards).
            models.Index(fields=["contract", "created_at", "id"], name="batch_contract_created_idx"),
        ]


class Judgment(models.Model):
    """One answer by one annotator to one item: long format, small integer label codes, so that
    scoring reads a batch as arrays. No public id and no timestamps of its own (millions of rows)."""

    class Order(models.IntegerChoices):
        A_FIRST = 0, "A shown first"
        B_FIRST = 1, "B shown first"

    id = models.BigAutoField(primary_key=True)
    # No separate index on batch_id: the unique (batch, item_id, annotator) index leads with it, and
    # one index fewer to maintain is a fifth off the cost of loading a million-row batch.
    batch = models.ForeignKey(WorkBatch, on_delete=models.CASCADE, related_name="judgments", db_index=False)
    item_id = models.CharField(max_length=200)
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    label = models.SmallIntegerField(help_text="Index into the contract version's label set.")
    displayed_order = models.SmallIntegerField(choices=Order.choices, null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    seconds_spent = models.PositiveIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "item_id", "annotator"], name="judgment_one_per_item_annotator"),
            models.CheckConstraint(condition=Q(label__gte=0), name="judgment_label_code_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} by {self.annotator_id}: {self.label}"


class Appeal(BaseModel):
    """A supplier contesting a rejection; platform operations overturn or uphold it."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        OVERTURNED = "overturned", "Overturned"
        UPHELD = "upheld", "Upheld"

    TRANSITIONS = {Status.OPEN: {Status.OVERTURNED, Status.UPHELD}}

    batch = models.OneToOneField(WorkBatch, on_delete=models.CASCADE, related_name="appeal")
    appealed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decision_reason = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["open", "overturned", "upheld"]), name="appeal_status_valid")
        ]
