"""v1 representations of quality results: score snapshots, audit flags, the contract's quality
summary (SLA status, multiplier, open alerts), scoring runs and the vendor benchmark.

Experts appear by pseudonymous ``expert_handle`` only (never a name or e-mail); a supplier of kind
``individual`` is named after the person, so its ``name`` is null. Proportions are fractions in
[0, 1]; intervals are 95% Wilson intervals; null means "not measurable".
"""

from __future__ import annotations

from rest_framework import serializers

from apps.api.fields import StatusField
from apps.api.rows import RowSource, render_datetime
from apps.api.v1.projects.serializers import SupplierSerializer, supplier_row
from apps.quality.models import AuditKind, ScoreSnapshot, ScoringRun, SlaAlert, SubjectKind
from apps.work.selectors import annotator_handle


class ScoreSnapshotSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    run = serializers.UUIDField(source="run.public_id")
    subject_kind = StatusField(choices=SubjectKind.choices, enum_name="QualitySubjectKind")
    contract = serializers.UUIDField(source="contract.public_id")
    supplier = SupplierSerializer()
    expert_handle = serializers.CharField(allow_null=True, help_text="Expert rows only: the pseudonymous handle.")
    batch = serializers.UUIDField(source="batch.public_id", allow_null=True, default=None)
    guideline_version = serializers.IntegerField(source="guideline_version.number", allow_null=True, default=None)
    task_type = serializers.CharField()
    algorithm_version = serializers.CharField()
    incremental = serializers.BooleanField(
        help_text="Written when a batch landed: additive figures are running totals, the others come from the last "
        "full run."
    )
    window_start = serializers.DateTimeField(allow_null=True)
    window_end = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    n_judgments = serializers.IntegerField()
    n_items = serializers.IntegerField()
    n_annotators = serializers.IntegerField()
    n_gold = serializers.IntegerField(help_text="Judgments on gold items.")
    gold_correct = serializers.IntegerField()
    gold_accuracy = serializers.FloatField(allow_null=True)
    gold_lower = serializers.FloatField(allow_null=True, help_text="95% Wilson lower bound.")
    gold_upper = serializers.FloatField(allow_null=True, help_text="95% Wilson upper bound.")
    loo_agreement = serializers.FloatField(
        allow_null=True, help_text="Agreement with co-annotators, the judgment's own vote left out."
    )
    loo_n = serializers.IntegerField()
    alpha = serializers.FloatField(allow_null=True, help_text="Krippendorff's alpha.")
    alpha_level = serializers.CharField()
    alpha_lower = serializers.FloatField(
        allow_null=True,
        help_text="95% bootstrap lower bound of alpha (contract rows, when the SLA sets a minimum alpha).",
    )
    alpha_upper = serializers.FloatField(allow_null=True, help_text="95% bootstrap upper bound of alpha.")
    fleiss_kappa = serializers.FloatField(allow_null=True, help_text="Null unless every item has the same panel size.")
    mean_pair_kappa = serializers.FloatField(allow_null=True, help_text="Mean Cohen's kappa over annotator pairs.")
    n_pairs = serializers.IntegerField()
    ds_expected_accuracy = serializers.FloatField(allow_null=True, help_text="Dawid-Skene expected accuracy.")
    seconds_median = serializers.FloatField(allow_null=True)


class ScoreRows(RowSource):
    """``ScoreSnapshotSerializer``'s output for a list page, from ``.values()`` rows (``apps/api/rows.py``).

    Every relation the serializer reads is to-one and joined in the list query (run, contract, supplier,
    batch and guideline version; the last two null for most rows); ``expert_handle`` is annotated as the
    selector annotates it. No context: every audience (the lab, the supplier, a vendor's expert,
    operations) sees the same fields."""

    model = ScoreSnapshot
    fields = (
        "id", "public_id", "run__public_id", "subject_kind", "contract__public_id", "supplier__public_id",
        "supplier__kind", "supplier__name", "expert_handle", "batch__public_id", "guideline_version__number",
        "task_type", "algorithm_version", "incremental", "window_start", "window_end", "created_at",
        "n_judgments", "n_items", "n_annotators", "n_gold", "gold_correct", "gold_accuracy", "gold_lower",
        "gold_upper", "loo_agreement", "loo_n", "alpha", "alpha_level", "alpha_lower", "alpha_upper",
        "fleiss_kappa", "mean_pair_kappa", "n_pairs", "ds_expected_accuracy", "seconds_median",
    )  # fmt: skip

    # Built once (annotate() resolves a copy per query): the selector's ``expert_handle``, for the row query.
    _expert_handle = annotator_handle("expert_id")

    def annotate(self, queryset, variant):
        return queryset.annotate(expert_handle=self._expert_handle), ()

    def render(self, row, context):
        tz = context["tz"]
        batch = row["batch__public_id"]
        return {
            "id": str(row["public_id"]),
            "run": str(row["run__public_id"]),
            "subject_kind": row["subject_kind"],
            "contract": str(row["contract__public_id"]),
            "supplier": supplier_row(row["supplier__public_id"], row["supplier__kind"], row["supplier__name"]),
            "expert_handle": row["expert_handle"],
            "batch": None if batch is None else str(batch),
            "guideline_version": row["guideline_version__number"],
            "task_type": row["task_type"],
            "algorithm_version": row["algorithm_version"],
            "incremental": row["incremental"],
            "window_start": render_datetime(row["window_start"], tz),
            "window_end": render_datetime(row["window_end"], tz),
            "created_at": render_datetime(row["created_at"], tz),
            "n_judgments": row["n_judgments"],
            "n_items": row["n_items"],
            "n_annotators": row["n_annotators"],
            "n_gold": row["n_gold"],
            "gold_correct": row["gold_correct"],
            "gold_accuracy": row["gold_accuracy"],
            "gold_lower": row["gold_lower"],
            "gold_upper": row["gold_upper"],
            "loo_agreement": row["loo_agreement"],
            "loo_n": row["loo_n"],
            "alpha": row["alpha"],
            "alpha_level": row["alpha_level"],
            "alpha_lower": row["alpha_lower"],
            "alpha_upper": row["alpha_upper"],
            "fleiss_kappa": row["fleiss_kappa"],
            "mean_pair_kappa": row["mean_pair_kappa"],
            "n_pairs": row["n_pairs"],
            "ds_expected_accuracy": row["ds_expected_accuracy"],
            "seconds_median": row["seconds_median"],
        }


class AuditFlagSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    run = serializers.UUIDField(source="run.public_id")
    contract = serializers.UUIDField(source="contract.public_id")
    subject_kind = serializers.ChoiceField(choices=["expert", "supplier"])
    supplier = SupplierSerializer()
    expert_handle = serializers.CharField(source="subject_handle", allow_null=True)
    kind = StatusField(choices=AuditKind.choices, enum_name="AuditKind")
    n = serializers.IntegerField()
    statistic = serializers.FloatField(allow_null=True)
    effect = serializers.FloatField(allow_null=True)
    p = serializers.FloatField(allow_null=True)
    q = serializers.FloatField(allow_null=True, help_text="Benjamini-Hochberg adjusted p across subjects.")
    flagged = serializers.BooleanField()
    test = serializers.CharField()
    explanation = serializers.CharField(help_text="What was found and how strong the evidence is.")
    created_at = serializers.DateTimeField()


class SlaAlertSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    metric = StatusField(choices=SlaAlert.Metric.choices, enum_name="SlaMetric")
    status = StatusField(choices=SlaAlert.Status.choices, enum_name="SlaAlertStatus")
    threshold = serializers.DecimalField(max_digits=5, decimal_places=4)
    measured = serializers.FloatField()
    lower = serializers.FloatField()
    upper = serializers.FloatField()
    n = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    cleared_at = serializers.DateTimeField(allow_null=True)


class SlaStatusSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=["ok", "breached", "insufficient_evidence", "no_sla"])
    metric = serializers.CharField()
    threshold = serializers.DecimalField(max_digits=5, decimal_places=4, allow_null=True)
    measured = serializers.FloatField(allow_null=True)
    lower = serializers.FloatField(allow_null=True)
    upper = serializers.FloatField(allow_null=True)
    n = serializers.IntegerField()
    open_alerts = SlaAlertSerializer(many=True)
    alpha_threshold = serializers.DecimalField(max_digits=5, decimal_places=4, allow_null=True)
    alpha_measured = serializers.FloatField(allow_null=True)
    alpha_lower = serializers.FloatField(
        allow_null=True, help_text="95% bootstrap interval of alpha (null without an alpha SLA)."
    )
    alpha_upper = serializers.FloatField(allow_null=True)


class MultiplierSerializer(serializers.Serializer):
    multiplier = serializers.DecimalField(max_digits=6, decimal_places=2)
    gold_accuracy = serializers.DecimalField(max_digits=5, decimal_places=4, allow_null=True)
    n_gold = serializers.IntegerField()
    band = serializers.ListField(child=serializers.CharField(), allow_null=True)
    snapshot = serializers.UUIDField(source="snapshot_public_id", allow_null=True)
    basis = serializers.ChoiceField(choices=["batch", "contract", "no gold measured"])


class ScoringRunSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    kind = StatusField(choices=ScoringRun.Kind.choices, enum_name="ScoringRunKind")
    scope = StatusField(choices=ScoringRun.Scope.choices, enum_name="ScoringRunScope")
    contract = serializers.UUIDField(source="contract.public_id", allow_null=True, default=None)
    status = StatusField(choices=ScoringRun.Status.choices, enum_name="ScoringRunStatus")
    progress = serializers.IntegerField(help_text="Percent, 0-100.")
    message = serializers.CharField()
    trigger = StatusField(choices=ScoringRun.Trigger.choices, enum_name="ScoringRunTrigger")
    algorithm_version = serializers.CharField()
    window_start = serializers.DateTimeField(allow_null=True)
    window_end = serializers.DateTimeField(allow_null=True)
    n_judgments = serializers.IntegerField()
    n_items = serializers.IntegerField()
    n_snapshots = serializers.IntegerField()
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class ContractQualitySerializer(serializers.Serializer):
    contract = serializers.UUIDField(source="contract.public_id")
    summary = ScoreSnapshotSerializer(allow_null=True)
    sla = SlaStatusSerializer()
    multiplier = MultiplierSerializer()
    running = ScoringRunSerializer(allow_null=True)


class BenchmarkExpertSerializer(serializers.Serializer):
    label = serializers.CharField(help_text="Handle (labs); name for the vendor itself.")
    n_gold = serializers.IntegerField()
    gold_correct = serializers.IntegerField()
    accuracy = serializers.FloatField(allow_null=True)
    lower = serializers.FloatField(allow_null=True)
    upper = serializers.FloatField(allow_null=True)


class BenchmarkRowSerializer(serializers.Serializer):
    supplier = serializers.UUIDField(source="supplier_public_id")
    supplier_label = serializers.CharField()
    task_type = serializers.CharField()
    guideline_version = serializers.IntegerField(allow_null=True)
    n_gold = serializers.IntegerField()
    gold_correct = serializers.IntegerField()
    accuracy = serializers.FloatField(allow_null=True)
    lower = serializers.FloatField(allow_null=True)
    upper = serializers.FloatField(allow_null=True)
    rank = serializers.IntegerField(help_text="1 = best; suppliers whose intervals overlap share a rank.")
    experts = BenchmarkExpertSerializer(many=True)


SCORE_ORDERING_FIELDS = ("created_at", "n_judgments", "n_items", "n_gold", "gold_correct")
SCORE_ORDERINGS = [o for f in SCORE_ORDERING_FIELDS for o in (f, f"-{f}")]


class ScoreQuerySerializer(serializers.Serializer):
    contract = serializers.UUIDField(required=False)
    vendor = serializers.UUIDField(required=False, help_text="A supplier organisation's id.")
    expert = serializers.CharField(required=False, max_length=100, help_text="An expert's handle.")
    subject_kind = serializers.ChoiceField(choices=SubjectKind.choices, required=False)
    since = serializers.DateTimeField(required=False, help_text="Snapshots whose data window ends at or after this.")
    until = serializers.DateTimeField(required=False, help_text="Snapshots whose data window starts at or before this.")
    ordering = serializers.ChoiceField(
        choices=SCORE_ORDERINGS,
        required=False,
        help_text="Sort order (default `-created_at`, newest first); `-` for descending. Ties fall back to the id. "
        "Only never-null fields: a cursor cannot page over nulls, so figures such as gold accuracy are not offered.",
    )


class AuditQuerySerializer(serializers.Serializer):
    contract = serializers.UUIDField(required=False)
    kind = serializers.ChoiceField(choices=AuditKind.choices, required=False)
    flagged = serializers.BooleanField(required=False, allow_null=True, default=None)


class RunQuerySerializer(serializers.Serializer):
    contract = serializers.UUIDField(required=False)
