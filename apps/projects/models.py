"""Data projects posted by labs, and their versioned guidelines."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from apps.core.models import BaseModel


class TaskType(models.TextChoices):
    PREFERENCE_COMPARISON = "preference_comparison", "Preference comparison"
    RATING = "rating", "Rating"
    SFT_DEMONSTRATION = "sft_demonstration", "SFT demonstration"
    RUBRIC_AUTHORING = "rubric_authoring", "Rubric authoring"
    RL_ENVIRONMENT = "rl_environment", "RL environment"
    RED_TEAMING = "red_teaming", "Red-teaming"
    CLASSIFICATION = "classification", "Classification"
    EVALUATION = "evaluation", "Evaluation"


class Unit(models.TextChoices):
    COMPARISON = "comparison", "Comparison"
    TASK = "task", "Task"
    HOUR = "hour", "Hour"


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public: every vendor and independent expert"
    INVITED = "invited", "Invited organisations only"


class Project(BaseModel):
    """A lab's request for expert data. Drafts may be incomplete; publishing checks completeness."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open for bids"
        BIDDING_CLOSED = "bidding_closed", "Bidding closed"
        AWARDED = "awarded", "Awarded"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    TRANSITIONS = {
        Status.DRAFT: {Status.OPEN, Status.CANCELLED},
        Status.OPEN: {Status.BIDDING_CLOSED, Status.CANCELLED},
        Status.BIDDING_CLOSED: {Status.AWARDED, Status.CANCELLED},
        Status.AWARDED: {Status.IN_PROGRESS, Status.CANCELLED},
        Status.IN_PROGRESS: {Status.COMPLETED, Status.CANCELLED},
    }

    lab = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="projects")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    task_type = models.CharField(max_length=30, choices=TaskType.choices, blank=True)
    domain = models.ForeignKey("experts.Domain", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    required_credential_types = models.JSONField(default=list, blank=True, help_text="Credential type values.")
    unit_name = models.CharField(max_length=20, choices=Unit.choices, blank=True)
    volume = models.PositiveIntegerField(null=True, blank=True, help_text="Units wanted.")
    currency = models.CharField(max_length=3, default="USD")
    budget_cap_minor = models.BigIntegerField(null=True, blank=True, help_text="Budget cap, minor units.")
    target_unit_price = models.DecimalField(
        max_digits=12, decimal_places=4, null=True, blank=True, help_text="Major units per unit."
    )
    sla_min_gold_accuracy = models.DecimalField(
        max_digits=5, decimal_places=4, null=True, blank=True, help_text="Fraction 0-1."
    )
    sla_min_alpha = models.DecimalField(
        max_digits=5, decimal_places=4, null=True, blank=True, help_text="Krippendorff's alpha, -1 to 1."
    )
    sla_max_turnaround_days = models.PositiveSmallIntegerField(null=True, blank=True)
    bid_deadline = models.DateTimeField(null=True, blank=True)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC)
    invited_organizations = models.ManyToManyField(
        "accounts.Organization", blank=True, related_name="project_invitations"
    )
    show_bid_count = models.BooleanField(default=False, help_text="Bidders see how many bids were received.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    status_reason = models.TextField(blank=True, help_text="Why it was cancelled.")
    published_at = models.DateTimeField(null=True, blank=True)
    # The latest published guideline version, kept by ``guideline_publish`` (lists render it with a join).
    current_guideline = models.ForeignKey(
        "GuidelineVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status__in=["draft", "open", "bidding_closed", "awarded", "in_progress", "completed", "cancelled"]
                ),
                name="project_status_valid",
            ),
            models.CheckConstraint(condition=Q(volume__isnull=True) | Q(volume__gt=0), name="project_volume_positive"),
            models.CheckConstraint(
                condition=Q(budget_cap_minor__isnull=True) | Q(budget_cap_minor__gt=0), name="project_budget_positive"
            ),
            models.CheckConstraint(
                condition=Q(target_unit_price__isnull=True) | Q(target_unit_price__gt=0),
                name="project_target_price_positive",
            ),
            models.CheckConstraint(
                condition=Q(sla_min_gold_accuracy__isnull=True)
                | (Q(sla_min_gold_accuracy__gte=0) & Q(sla_min_gold_accuracy__lte=1)),
                name="project_sla_accuracy_range",
            ),
            models.CheckConstraint(
                condition=Q(sla_min_alpha__isnull=True) | (Q(sla_min_alpha__gte=-1) & Q(sla_min_alpha__lte=1)),
                name="project_sla_alpha_range",
            ),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True) | Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="project_dates_ordered",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "bid_deadline"], name="project_deadline_idx"),
            # The lab's list, newest first (cursor pagination), read backwards page by page.
            models.Index(fields=["lab", "created_at", "id"], name="project_lab_created_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open_for_bids(self) -> bool:
        return self.status == self.Status.OPEN


class GuidelineVersion(BaseModel):
    """A published, immutable version of a project's guidelines (v1, v2, ...)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="guideline_versions")
    number = models.PositiveIntegerField()
    body_markdown = models.TextField()
    body_html = models.TextField(help_text="Sanitised HTML rendered from the Markdown at publication.")
    change_summary = models.CharField(max_length=300, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["project", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="guideline_version_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="guideline_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} v{self.number}"


class GuidelineAcknowledgement(BaseModel):
    """An expert confirming they read one guideline version."""

    version = models.ForeignKey(GuidelineVersion, on_delete=models.CASCADE, related_name="acknowledgements")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="guideline_acks")
    organization = models.ForeignKey(
        "accounts.Organization",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The supplier organisation the person acknowledged for.",
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "user"], name="guideline_ack_unique")]

    @property
    def organization_label(self) -> str:
        from apps.experts.selectors import supplier_label

        return supplier_label(self.organization, getattr(self, "organization_handle", None))
