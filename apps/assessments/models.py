"""Qualification and calibration tests: items with answer keys kept apart, attempts, grading,
qualifications, project requirements and calibration rounds."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.models import BaseModel


class Test(BaseModel):
    """One version of a test. Published versions are immutable; editing makes the next version
    (same ``family``). Qualifications record the version they came from."""

    class Kind(models.TextChoices):
        QUALIFICATION = "qualification", "Qualification"
        CALIBRATION = "calibration", "Calibration"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        RETIRED = "retired", "Retired"

    class PassRule(models.TextChoices):
        WILSON_LOWER = "wilson_lower", "Lower bound of the 95% Wilson interval reaches the threshold"
        RAW_RATIO = "raw_ratio", "Raw score reaches the threshold"

    TRANSITIONS = {Status.DRAFT: {Status.PUBLISHED}, Status.PUBLISHED: {Status.RETIRED}}

    family = models.UUIDField(default=uuid.uuid4, db_index=True, help_text="Shared by every version.")
    version = models.PositiveIntegerField(default=1)
    owner = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tests",
        help_text="The lab that owns it; empty for a platform test (operations).",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    title = models.CharField(max_length=200)
    domain = models.ForeignKey("experts.Domain", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.QUALIFICATION)
    instructions = models.TextField(blank=True)
    time_limit_minutes = models.PositiveSmallIntegerField(default=30)
    items_per_attempt = models.PositiveSmallIntegerField(default=10, help_text="Sampled from the pool.")
    max_attempts = models.PositiveSmallIntegerField(default=3)
    cooldown_hours = models.PositiveSmallIntegerField(default=24)
    show_explanations = models.BooleanField(default=False)
    pass_rule = models.CharField(max_length=20, choices=PassRule.choices, default=PassRule.WILSON_LOWER)
    pass_threshold = models.DecimalField(max_digits=5, decimal_places=4, default=0.7, help_text="Fraction 0-1.")
    graders_per_free_text = models.PositiveSmallIntegerField(default=1, help_text="1 or 2 graders.")
    qualification_valid_days = models.PositiveSmallIntegerField(default=365)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["family", "version"], name="test_family_version_unique"),
            models.CheckConstraint(
                condition=Q(pass_threshold__gte=0) & Q(pass_threshold__lte=1), name="test_threshold_range"
            ),
            models.CheckConstraint(condition=Q(items_per_attempt__gte=1), name="test_items_per_attempt_positive"),
            models.CheckConstraint(condition=Q(graders_per_free_text__in=[1, 2]), name="test_graders_one_or_two"),
            models.CheckConstraint(condition=Q(status__in=["draft", "published", "retired"]), name="test_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class Item(BaseModel):
    """A question in a test's pool. Its answer lives in ``AnswerKey``, never on the item."""

    class Type(models.TextChoices):
        SINGLE_CHOICE = "single_choice", "Single choice"
        MULTIPLE_CHOICE = "multiple_choice", "Multiple choice"
        AB_PREFERENCE = "ab_preference", "A/B preference"
        LIKERT = "likert", "Likert rating"
        NUMERIC = "numeric", "Numeric"
        FREE_TEXT = "free_text", "Free text (rubric-graded)"

    test = models.ForeignKey(Test, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    type = models.CharField(max_length=20, choices=Type.choices)
    prompt = models.TextField()
    options = models.JSONField(default=list, blank=True, help_text="Choice texts; for A/B: [A, B].")
    allow_tie = models.BooleanField(default=False, help_text="A/B: a tie is a valid answer.")
    ask_strength = models.BooleanField(default=False, help_text="A/B: also ask a 1-3 strength.")
    likert_points = models.PositiveSmallIntegerField(null=True, blank=True, help_text="5 or 7.")
    numeric_tolerance = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    rubric = models.JSONField(default=list, blank=True, help_text='Free text: [{"criterion": str, "points": int}].')
    section = models.CharField(max_length=100, blank=True, help_text="For the result's breakdown.")
    explanation = models.TextField(blank=True, help_text="Shown after submission only if the test allows it.")

    class Meta:
        ordering = ["test", "position"]
        constraints = [models.UniqueConstraint(fields=["test", "position"], name="item_position_unique")]


class AnswerKey(models.Model):
    """The correct answer of an item, kept in its own table so that no query for items can carry it.
    single_choice: option index; multiple_choice: sorted list of indices; ab_preference: "A", "B"
    or "tie"; likert: the point; numeric: the number (string). Free-text items have none."""

    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="answer_key")
    value = models.JSONField()

    def __str__(self) -> str:
        return f"key of item {self.item_id}"


class Attempt(BaseModel):
    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        GRADING = "grading", "Awaiting grading"
        GRADED = "graded", "Graded"

    TRANSITIONS = {Status.IN_PROGRESS: {Status.GRADING, Status.GRADED}, Status.GRADING: {Status.GRADED}}

    test = models.ForeignKey(Test, on_delete=models.PROTECT, related_name="attempts")
    expert = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField(help_text="1 for the first attempt at this test family.")
    calibration_round = models.ForeignKey(
        "CalibrationRound", null=True, blank=True, on_delete=models.SET_NULL, related_name="attempts"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.IN_PROGRESS)
    started_at = models.DateTimeField()
    deadline_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    score = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True, help_text="Fraction 0-1.")
    wilson_lower = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    passed = models.BooleanField(null=True, blank=True)
    breakdown = models.JSONField(default=dict, blank=True, help_text="Score by section.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["expert", "test"], condition=Q(status="in_progress"), name="attempt_one_in_progress"
            )
        ]


class AttemptItem(models.Model):
    """An item as served in one attempt: its place, the shuffled option order, which A/B side was
    shown first, the answer and its score."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="attempt_items")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()
    option_order = models.JSONField(default=list, blank=True, help_text="Original option indices, in shown order.")
    a_shown_first = models.BooleanField(null=True, blank=True)
    answer = models.JSONField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    earned = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True, help_text="0-1.")

    class Meta:
        ordering = ["attempt", "position"]
        constraints = [models.UniqueConstraint(fields=["attempt", "item"], name="attempt_item_unique")]

    def __str__(self) -> str:
        return f"{self.attempt_id}#{self.position}"


class GradingTask(BaseModel):
    """One grader's rubric scoring of one free-text answer (blind: graders see no identity)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        SCORED = "scored", "Scored"

    TRANSITIONS = {Status.OPEN: {Status.SCORED}}

    attempt_item = models.ForeignKey(AttemptItem, on_delete=models.CASCADE, related_name="grading_tasks")
    slot = models.PositiveSmallIntegerField(default=1, help_text="1 or 2 when two graders are asked.")
    grader = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    criterion_points = models.JSONField(default=list, blank=True, help_text="Points per rubric criterion.")
    fraction = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    scored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["attempt_item", "slot"], name="grading_slot_unique")]


class Qualification(BaseModel):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        REVOKED = "revoked", "Revoked"

    TRANSITIONS = {Status.ACTIVE: {Status.REVOKED}}

    expert = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="qualifications")
    test = models.ForeignKey(
        Test, on_delete=models.PROTECT, related_name="qualifications", help_text="The version passed."
    )
    family = models.UUIDField(db_index=True)
    attempt = models.OneToOneField(Attempt, on_delete=models.PROTECT, related_name="qualification")
    score = models.DecimalField(max_digits=5, decimal_places=4)
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-granted_at", "-id"]


class ProjectTestRequirement(BaseModel):
    """A project's qualification test: experts need a current qualification in its family."""

    project = models.OneToOneField("projects.Project", on_delete=models.CASCADE, related_name="test_requirement")
    test = models.ForeignKey(Test, on_delete=models.PROTECT, related_name="+")


class CalibrationRound(BaseModel):
    """A lab's calibration test sent to chosen suppliers' experts, with a deadline; optionally a paid
    pilot on a project, whose results become the bids' expected accuracy."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    TRANSITIONS = {Status.OPEN: {Status.CLOSED}}

    lab = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="calibration_rounds")
    test = models.ForeignKey(Test, on_delete=models.PROTECT, related_name="calibration_rounds")
    title = models.CharField(max_length=200)
    deadline = models.DateTimeField()
    suppliers = models.ManyToManyField("accounts.Organization", related_name="+")
    pilot_project = models.ForeignKey(
        "projects.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="pilots"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
