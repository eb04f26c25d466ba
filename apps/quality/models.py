"""Quality results: scoring runs, append-only score snapshots, consensus, bias-audit flags and SLA alerts.

Snapshots (``ScoreSnapshot``, ``ConsensusSnapshot``, ``AuditFlag``) are never changed or deleted:
every run writes new rows with its algorithm version and data window, so history can be charted and
re-derived. ``save()`` refuses an update, ``delete()`` and the queryset's ``update()``/``delete()``
refuse outright, and on PostgreSQL a trigger refuses UPDATE and DELETE (migration 0002).
"""

from __future__ import annotations

import io

import numpy as np
from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.models import BaseModel


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an append-only snapshot."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only: no update.")

    def delete(self):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only: no delete.")

    _raw_delete = delete


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows are append-only: no update.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} rows are append-only: no delete.")


class ScoringRun(BaseModel):
    """One scoring job: incremental (a batch landed) or full (nightly, or on request)."""

    class Kind(models.TextChoices):
        INCREMENTAL = "incremental", "Incremental (one batch)"
        FULL = "full", "Full recompute"

    class Scope(models.TextChoices):
        CONTRACT = "contract", "One contract"
        ALL = "all", "All active contracts"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        BATCH = "batch", "A batch was submitted"
        USER = "user", "Requested by a user"
        SCHEDULE = "schedule", "Nightly schedule"

    TRANSITIONS = {Status.RUNNING: {Status.SUCCEEDED, Status.FAILED}}

    kind = models.CharField(max_length=20, choices=Kind.choices)
    scope = models.CharField(max_length=20, choices=Scope.choices)
    contract = models.ForeignKey(
        "contracts.Contract", null=True, blank=True, on_delete=models.PROTECT, related_name="scoring_runs"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent, 0-100.")
    message = models.CharField(max_length=300, blank=True)
    algorithm_version = models.CharField(max_length=40)
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    triggered_by_batch = models.ForeignKey(
        "work.WorkBatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    triggered_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    window_start = models.DateTimeField(null=True, blank=True, help_text="Earliest batch submission scored.")
    window_end = models.DateTimeField(null=True, blank=True, help_text="Latest batch submission scored.")
    n_contracts = models.PositiveIntegerField(default=0)
    n_judgments = models.PositiveBigIntegerField(default=0)
    n_items = models.PositiveBigIntegerField(default=0)
    n_snapshots = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    load_ms = models.PositiveIntegerField(null=True, blank=True, help_text="Milliseconds reading judgments.")
    compute_ms = models.PositiveIntegerField(null=True, blank=True, help_text="Milliseconds computing.")
    write_ms = models.PositiveIntegerField(null=True, blank=True, help_text="Milliseconds writing snapshots.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["running", "succeeded", "failed"]), name="run_status_valid"),
            models.CheckConstraint(condition=Q(progress__lte=100), name="run_progress_percent"),
        ]
        indexes = [models.Index(fields=["contract", "status", "created_at"], name="run_contract_status_idx")]

    def __str__(self) -> str:
        return f"ScoringRun {self.public_id} ({self.kind}, {self.status})"


class SubjectKind(models.TextChoices):
    CONTRACT = "contract", "Contract"
    SUPPLIER = "supplier", "Supplier"
    EXPERT = "expert", "Expert"
    BATCH = "batch", "Batch"


class ScoreSnapshot(AppendOnlyModel, BaseModel):
    """The figures of one subject (contract, supplier, expert or batch) as one run measured them.

    Proportions are fractions in [0, 1]; intervals are 95% Wilson intervals. ``None`` means "not
    measurable" (no gold, no co-annotators, not a fixed panel...). A supplier row is per guideline
    version (the benchmark's grain); contract and expert rows span the whole window."""

    run = models.ForeignKey(ScoringRun, on_delete=models.PROTECT, related_name="snapshots")
    subject_kind = models.CharField(max_length=10, choices=SubjectKind.choices)
    contract = models.ForeignKey("contracts.Contract", on_delete=models.PROTECT, related_name="score_snapshots")
    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, related_name="+")
    supplier = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    # The contract's lab, copied like ``supplier``: each party's list of snapshots is then read newest first
    # from one index of this table (``snap_lab_created_idx``, ``snap_supplier_created_idx``) instead of
    # through the contracts (apps/quality/reads.py). The writer sets it.
    lab = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+", db_index=False)
    expert = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # History outlives what it measured: no database constraint, so a deleted batch (the product never
    # deletes one; tests and the demo's "cut short" check do) leaves its snapshots as they were.
    batch = models.ForeignKey(
        "work.WorkBatch",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    guideline_version = models.ForeignKey(
        "projects.GuidelineVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    task_type = models.CharField(max_length=30, blank=True)
    algorithm_version = models.CharField(max_length=40)
    incremental = models.BooleanField(
        default=False,
        help_text="Written by an incremental run: additive figures are running totals, the others are "
        "carried from the last full run.",
    )
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    n_judgments = models.PositiveBigIntegerField(default=0)
    n_items = models.PositiveBigIntegerField(default=0)
    n_annotators = models.PositiveIntegerField(default=0)
    n_gold = models.PositiveIntegerField(default=0, help_text="Judgments on gold items.")
    gold_correct = models.PositiveIntegerField(default=0)
    gold_accuracy = models.FloatField(null=True, blank=True)
    gold_lower = models.FloatField(null=True, blank=True)
    gold_upper = models.FloatField(null=True, blank=True)
    loo_agreement = models.FloatField(null=True, blank=True, help_text="Leave-one-out agreement with co-annotators.")
    loo_n = models.PositiveBigIntegerField(default=0, help_text="Judgments with at least one co-annotator.")
    alpha = models.FloatField(null=True, blank=True, help_text="Krippendorff's alpha.")
    alpha_level = models.CharField(max_length=10, blank=True, help_text="nominal, ordinal or interval.")
    alpha_lower = models.FloatField(
        null=True, blank=True, help_text="95% bootstrap interval of alpha (only when the SLA has a minimum alpha)."
    )
    alpha_upper = models.FloatField(null=True, blank=True)
    fleiss_kappa = models.FloatField(null=True, blank=True, help_text="None unless a fixed panel.")
    mean_pair_kappa = models.FloatField(null=True, blank=True, help_text="Mean pairwise Cohen's kappa.")
    n_pairs = models.PositiveIntegerField(default=0)
    ds_expected_accuracy = models.FloatField(null=True, blank=True, help_text="Dawid-Skene expected accuracy.")
    seconds_median = models.FloatField(null=True, blank=True, help_text="Median seconds spent per judgment.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(subject_kind__in=["contract", "supplier", "expert", "batch"]), name="snapshot_kind_valid"
            ),
            models.CheckConstraint(condition=Q(gold_correct__lte=models.F("n_gold")), name="snapshot_gold_le_n"),
            models.CheckConstraint(
                condition=~Q(subject_kind="expert") | Q(expert__isnull=False), name="snapshot_expert_has_user"
            ),
            models.CheckConstraint(
                condition=~Q(subject_kind="batch") | Q(batch__isnull=False), name="snapshot_batch_has_batch"
            ),
        ]
        indexes = [
            models.Index(fields=["contract", "subject_kind", "created_at"], name="snap_contract_latest_idx"),
            models.Index(fields=["expert", "created_at"], name="snap_expert_latest_idx"),
            models.Index(fields=["batch", "created_at"], name="snap_batch_latest_idx"),
            models.Index(fields=["project", "subject_kind", "created_at"], name="snap_project_idx"),
            models.Index(fields=["supplier", "subject_kind", "created_at"], name="snap_supplier_idx"),
            models.Index(fields=["lab", "created_at", "id"], name="snap_lab_created_idx"),
            models.Index(fields=["supplier", "created_at", "id"], name="snap_supplier_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.subject_kind} snapshot {self.public_id}"


class ConsensusSnapshot(AppendOnlyModel, BaseModel):
    """The consensus of one contract in one full run, every item in one ``.npz`` blob.

    A row per item (250k per run) would cost more to write than the whole computation, so the arrays
    are stored together: ``items`` (UTF-8 item ids joined by U+001F), ``label`` (int16, -1 = tie),
    ``probas`` (float32, items x classes), ``confidence`` (float32), ``disagreement`` (bool)."""

    SEPARATOR = "\x1f"

    run = models.ForeignKey(ScoringRun, on_delete=models.PROTECT, related_name="consensus")
    contract = models.ForeignKey("contracts.Contract", on_delete=models.PROTECT, related_name="consensus_snapshots")
    algorithm_version = models.CharField(max_length=40)
    method = models.CharField(max_length=40, default="dawid_skene")
    label_set = models.JSONField(help_text="The labels the codes index, in code order.")
    n_items = models.PositiveIntegerField()
    n_ties = models.PositiveIntegerField(default=0)
    n_disagreement = models.PositiveIntegerField(default=0)
    data = models.BinaryField(help_text="np.savez of the arrays described above (uncompressed: zlib cost more).")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["contract", "created_at"], name="consensus_latest_idx")]

    def __str__(self) -> str:
        return f"Consensus {self.public_id} ({self.n_items} items)"

    @classmethod
    def pack(cls, *, item_ids, label, probas, confidence, disagreement) -> bytes:
        joined = cls.SEPARATOR.join(item_ids).encode()
        buf = io.BytesIO()
        np.savez(
            buf,
            items=np.frombuffer(joined, dtype=np.uint8),
            label=np.asarray(label, dtype=np.int16),
            probas=np.asarray(probas, dtype=np.float32),
            confidence=np.asarray(confidence, dtype=np.float32),
            disagreement=np.asarray(disagreement, dtype=bool),
        )
        return buf.getvalue()

    def unpack(self) -> dict:
        with np.load(io.BytesIO(bytes(self.data))) as z:
            joined = z["items"].tobytes().decode()
            return {
                "items": joined.split(self.SEPARATOR) if joined else [],
                "label": z["label"],
                "probas": z["probas"],
                "confidence": z["confidence"],
                "disagreement": z["disagreement"],
            }


class AuditKind(models.TextChoices):
    POSITION_BIAS = "position_bias", "Position bias"
    LABEL_SKEW = "label_skew", "Label skew"
    SPEEDING = "speeding", "Speeding"
    DRIFT = "drift", "Drift"


class AuditFlag(AppendOnlyModel, BaseModel):
    """One bias-audit test of one subject (an expert or the supplier) in one run. Every tested subject
    gets a row, flagged or not, so "tested and clean" is distinguishable from "not tested"."""

    run = models.ForeignKey(ScoringRun, on_delete=models.PROTECT, related_name="audit_flags")
    contract = models.ForeignKey("contracts.Contract", on_delete=models.PROTECT, related_name="audit_flags")
    subject_kind = models.CharField(max_length=10, choices=[("expert", "Expert"), ("supplier", "Supplier")])
    supplier = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    expert = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=AuditKind.choices)
    n = models.PositiveIntegerField(help_text="Judgments the test used.")
    statistic = models.FloatField(null=True, blank=True)
    effect = models.FloatField(null=True, blank=True)
    p = models.FloatField(null=True, blank=True)
    q = models.FloatField(null=True, blank=True, help_text="Benjamini-Hochberg adjusted p across subjects.")
    flagged = models.BooleanField(default=False)
    test = models.CharField(max_length=80)
    explanation = models.CharField(max_length=400)
    algorithm_version = models.CharField(max_length=40)

    class Meta:
        ordering = ["-flagged", "q", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["position_bias", "label_skew", "speeding", "drift"]), name="audit_kind_valid"
            )
        ]
        indexes = [models.Index(fields=["contract", "run"], name="audit_contract_run_idx")]

    def __str__(self) -> str:
        return f"{self.kind} audit {self.public_id} ({'flagged' if self.flagged else 'clean'})"


class SlaAlert(BaseModel):
    """A contract's measured quality below its SLA with enough evidence (the interval's upper bound
    under the threshold). Cleared once the lower bound is back at or above the threshold."""

    class Metric(models.TextChoices):
        GOLD_ACCURACY = "gold_accuracy", "Gold accuracy"
        ALPHA = "alpha", "Krippendorff's alpha"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLEARED = "cleared", "Cleared"

    TRANSITIONS = {Status.OPEN: {Status.CLEARED}}

    contract = models.ForeignKey("contracts.Contract", on_delete=models.PROTECT, related_name="sla_alerts")
    metric = models.CharField(max_length=20, choices=Metric.choices)
    threshold = models.DecimalField(max_digits=5, decimal_places=4)
    measured = models.FloatField()
    lower = models.FloatField()
    upper = models.FloatField()
    n = models.PositiveIntegerField(help_text="Gold answers (gold accuracy) or items (alpha) behind the figure.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_by_run = models.ForeignKey(ScoringRun, on_delete=models.PROTECT, related_name="+")
    cleared_by_run = models.ForeignKey(ScoringRun, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_measured = models.FloatField(null=True, blank=True)
    cleared_lower = models.FloatField(null=True, blank=True)
    cleared_upper = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["open", "cleared"]), name="sla_alert_status_valid"),
            models.UniqueConstraint(
                fields=["contract", "metric"], condition=Q(status="open"), name="sla_alert_one_open_per_metric"
            ),
        ]

    def __str__(self) -> str:
        return f"SLA alert {self.metric} {self.status} ({self.public_id})"
