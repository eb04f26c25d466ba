"""Clarifying questions, sealed bids with their revisions, and awards."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.models import BaseModel


class Question(BaseModel):
    """A bidder's clarifying question. The lab answers publicly (every bidder sees question and
    answer, never who asked) or privately (only the asker's organisation sees it)."""

    class Status(models.TextChoices):
        OPEN = "open", "Awaiting an answer"
        ANSWERED = "answered", "Answered"

    class Visibility(models.TextChoices):
        PUBLIC = "public", "Public to all bidders"
        PRIVATE = "private", "Private to the asker"

    TRANSITIONS = {Status.OPEN: {Status.ANSWERED}}

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="questions")
    asker_organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    answer = models.TextField(blank=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PRIVATE)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    @property
    def asker_label(self) -> str:
        """How the lab sees who asked: a vendor's name, an independent expert's handle."""
        from apps.experts.selectors import supplier_label

        return supplier_label(self.asker_organization, getattr(self, "asker_handle", None))


class Bid(BaseModel):
    """A supplier's sealed offer on a project. The figures of the current revision are copied here
    for comparison queries; every revision stays in ``BidRevision``."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        SHORTLISTED = "shortlisted", "Shortlisted"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"
        AWARDED = "awarded", "Awarded"
        LOST = "lost", "Not awarded"

    LIVE = (Status.SUBMITTED, Status.SHORTLISTED)
    TRANSITIONS = {
        Status.SUBMITTED: {Status.SHORTLISTED, Status.REJECTED, Status.WITHDRAWN, Status.AWARDED, Status.LOST},
        Status.SHORTLISTED: {Status.REJECTED, Status.WITHDRAWN, Status.AWARDED, Status.LOST},
    }

    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, related_name="bids")
    bidder = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="bids")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    status_reason = models.TextField(blank=True, help_text="The lab's reason for a rejection.")
    revision_number = models.PositiveIntegerField(default=1)
    unit_price = models.DecimalField(max_digits=12, decimal_places=4, help_text="Major units per unit.")
    currency = models.CharField(max_length=3)
    volume = models.PositiveIntegerField(help_text="Units offered.")
    weekly_capacity = models.PositiveIntegerField(help_text="Units per week.")
    starts_on = models.DateField()
    ends_on = models.DateField()
    proposal = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The API's lists, newest first: a supplier's own bids, and a project's bids for its lab.
            models.Index(fields=["bidder", "created_at", "id"], name="bid_bidder_created_idx"),
            models.Index(fields=["project", "created_at", "id"], name="bid_project_created_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "bidder"],
                condition=Q(status__in=["submitted", "shortlisted"]),
                name="bid_one_live_per_bidder",
            ),
            models.CheckConstraint(condition=Q(unit_price__gt=0), name="bid_price_positive"),
            models.CheckConstraint(condition=Q(volume__gt=0), name="bid_volume_positive"),
            models.CheckConstraint(condition=Q(weekly_capacity__gt=0), name="bid_capacity_positive"),
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="bid_dates_ordered"),
            models.CheckConstraint(
                condition=Q(status__in=["submitted", "shortlisted", "rejected", "withdrawn", "awarded", "lost"]),
                name="bid_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Bid {self.public_id} by {self.bidder_id} on {self.project_id} ({self.status})"

    @property
    def bidder_label(self) -> str:
        """How the lab sees the bidder: a vendor's name, an independent expert's handle."""
        from apps.experts.selectors import supplier_label

        return supplier_label(self.bidder, getattr(self, "bidder_handle", None))


class BidRevision(BaseModel):
    """One version of a bid as submitted; never changed afterwards."""

    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    unit_price = models.DecimalField(max_digits=12, decimal_places=4)
    volume = models.PositiveIntegerField()
    weekly_capacity = models.PositiveIntegerField()
    starts_on = models.DateField()
    ends_on = models.DateField()
    proposal = models.TextField(blank=True)
    team = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")

    class Meta:
        ordering = ["bid", "number"]
        constraints = [models.UniqueConstraint(fields=["bid", "number"], name="bid_revision_unique")]


class Award(BaseModel):
    """The lab's award decision for a project: one per project, with volume allocations."""

    project = models.OneToOneField("projects.Project", on_delete=models.PROTECT, related_name="award")
    awarded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    total_minor = models.BigIntegerField(help_text="Sum of the allocations' amounts, minor units.")
    currency = models.CharField(max_length=3)
    note = models.TextField(blank=True)


class AwardAllocation(BaseModel):
    """Part of a project's volume given to one bid at that bid's unit price."""

    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="allocations")
    bid = models.OneToOneField(Bid, on_delete=models.PROTECT, related_name="allocation")
    volume = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=4, help_text="The bid's price when awarded.")
    amount_minor = models.BigIntegerField(help_text="volume x unit price, rounded once, minor units.")

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(volume__gt=0), name="allocation_volume_positive")]
