"""v1 representations of assessments: tests, their items (with keys, for authors only), attempts as
the taker sees them, blind grading tasks, qualifications, calibration rounds and project requirements.

Answer keys (``AnswerKey``) appear in exactly one serializer, ``AuthorItemSerializer``, used only by
the authors' item endpoints. Every serializer an expert can reach (tests, attempts, answers,
qualifications) lists its fields explicitly and none of them names a key.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.api.fields import StatusField
from apps.api.serializers import InputSerializer
from apps.api.v1.experts.fields import NamedChoiceField
from apps.api.v1.projects.serializers import LabSerializer
from apps.assessments.models import Attempt, CalibrationRound, GradingTask, Item, Qualification, Test

FORMAT_CHOICES = [("jsonl", "JSON Lines"), ("csv", "CSV")]


class _RefSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", read_only=True)


class TestRefSerializer(_RefSerializer):
    title = serializers.CharField(read_only=True)
    version = serializers.IntegerField(read_only=True)
    family = serializers.UUIDField(read_only=True)


# --- tests -------------------------------------------------------------------------------------------------

_TEST_SETTINGS = [
    "title",
    "instructions",
    "time_limit_minutes",
    "items_per_attempt",
    "max_attempts",
    "cooldown_hours",
    "show_explanations",
    "pass_threshold",
    "graders_per_free_text",
    "qualification_valid_days",
]


class TestSerializer(serializers.ModelSerializer):
    """A test version as authors and takers see it (no items, no keys)."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    owner = LabSerializer(read_only=True, allow_null=True, help_text="The owning lab; null for a platform test.")
    kind = StatusField(choices=Test.Kind.choices, enum_name="TestKind")
    status = StatusField(choices=Test.Status.choices, enum_name="TestStatus")
    pass_rule = StatusField(choices=Test.PassRule.choices, enum_name="TestPassRule")

    class Meta:
        model = Test
        fields = [
            "id",
            "family",
            "version",
            "owner",
            "kind",
            "status",
            *_TEST_SETTINGS,
            "pass_rule",
            "published_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class TestInputSerializer(InputSerializer):
    """A test's settings (create: ``title`` required; PATCH: any subset, while a draft)."""

    title = serializers.CharField(max_length=200)
    kind = NamedChoiceField(choices=Test.Kind.choices, enum_name="TestKind", required=False)
    instructions = serializers.CharField(required=False, allow_blank=True)
    time_limit_minutes = serializers.IntegerField(required=False, min_value=1, max_value=32767)
    items_per_attempt = serializers.IntegerField(required=False, min_value=1, max_value=32767)
    max_attempts = serializers.IntegerField(required=False, min_value=1, max_value=32767)
    cooldown_hours = serializers.IntegerField(required=False, min_value=0, max_value=32767)
    show_explanations = serializers.BooleanField(required=False)
    pass_rule = NamedChoiceField(choices=Test.PassRule.choices, enum_name="TestPassRule", required=False)
    pass_threshold = serializers.DecimalField(
        max_digits=5, decimal_places=4, min_value=0, max_value=1, required=False, help_text="Fraction 0-1."
    )
    graders_per_free_text = serializers.IntegerField(required=False, min_value=1, max_value=2)
    qualification_valid_days = serializers.IntegerField(required=False, min_value=1, max_value=32767)


class TestQuerySerializer(InputSerializer):
    scope = NamedChoiceField(
        choices=[("open", "Tests open to me"), ("authored", "Tests of the acting lab")],
        enum_name="TestListScope",
        required=False,
        default="open",
        help_text="`open` (default): published tests the caller may take. `authored`: the acting lab's tests, "
        "every status and version (lab owners and admins).",
    )


# --- items (authors only) ------------------------------------------------------------------------------------


class AuthorItemSerializer(serializers.ModelSerializer):
    """An item with its answer key: for the test's authors only."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    type = StatusField(choices=Item.Type.choices, enum_name="ItemType")
    answer_key = serializers.SerializerMethodField(
        help_text="The correct answer (original option indices, `A`/`B`/`tie`, the Likert point or the number as "
        "a string); null for free text."
    )

    class Meta:
        model = Item
        fields = [
            "id",
            "position",
            "type",
            "prompt",
            "options",
            "allow_tie",
            "ask_strength",
            "likert_points",
            "numeric_tolerance",
            "rubric",
            "section",
            "explanation",
            "answer_key",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.ANY)
    def get_answer_key(self, item):
        try:
            return item.answer_key.value
        except Item.answer_key.RelatedObjectDoesNotExist:
            return None


class ItemInputSerializer(InputSerializer):
    type = NamedChoiceField(choices=Item.Type.choices, enum_name="ItemType")
    prompt = serializers.CharField()
    options = serializers.ListField(child=serializers.CharField(), required=False, help_text="Choices; A/B: [A, B].")
    answer_key = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text="The correct answer: an option index (single choice), a list of indices (multiple choice), "
        "`A`, `B` or `tie` (A/B), the point (Likert) or the number as a string (numeric); none for free text.",
    )
    allow_tie = serializers.BooleanField(required=False, default=False)
    ask_strength = serializers.BooleanField(required=False, default=False)
    likert_points = serializers.IntegerField(required=False, allow_null=True)
    numeric_tolerance = serializers.DecimalField(max_digits=14, decimal_places=6, required=False, allow_null=True)
    rubric = serializers.ListField(
        child=serializers.DictField(), required=False, help_text='Free text: [{"criterion": str, "points": int}].'
    )
    section = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    explanation = serializers.CharField(required=False, allow_blank=True, default="")


class ItemImportSerializer(InputSerializer):
    file = serializers.FileField(help_text="JSON Lines (one item object a line) or CSV, UTF-8.")
    format = NamedChoiceField(
        choices=FORMAT_CHOICES,
        enum_name="UploadFormat",
        required=False,
        help_text="Default: from the file's content type or name.",
    )


class ItemImportResultSerializer(serializers.Serializer):
    imported = serializers.IntegerField(help_text="Items added.")


# --- attempts (the taker) ----------------------------------------------------------------------------------


class AttemptSerializer(serializers.ModelSerializer):
    """An attempt as its taker sees it: the served items in shown order, never a key."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    test = TestRefSerializer(read_only=True)
    status = StatusField(choices=Attempt.Status.choices, enum_name="AttemptStatus")
    items = serializers.SerializerMethodField(
        help_text="The served items in shown order (options shuffled; A/B sides as shown) with the answer saved."
    )

    class Meta:
        model = Attempt
        fields = [
            "id",
            "test",
            "number",
            "status",
            "started_at",
            "deadline_at",
            "submitted_at",
            "score",
            "passed",
            "breakdown",
            "items",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "array", "items": {"type": "object", "additionalProperties": True}})
    def get_items(self, attempt):
        from apps.assessments import selectors

        return selectors.attempt_taker_view(attempt)


class AttemptSummarySerializer(AttemptSerializer):
    class Meta(AttemptSerializer.Meta):
        fields = [f for f in AttemptSerializer.Meta.fields if f != "items"]
        read_only_fields = fields


class AttemptStartSerializer(InputSerializer):
    calibration_round = serializers.UUIDField(
        required=False, help_text="For a calibration test: the round the expert's supplier is invited to."
    )


class AnswerInputSerializer(InputSerializer):
    item = serializers.UUIDField(help_text="The item's id, as listed in the attempt.")
    answer = serializers.JSONField(
        help_text='In shown terms: `{"option": i}`, `{"options": [i, ...]}`, `{"choice": "first"|"second"|"tie", '
        '"strength": n}`, `{"value": n}`, `{"value": "12.5"}` or `{"text": "..."}`.'
    )


# --- grading ---------------------------------------------------------------------------------------------------


class GradingTaskSerializer(serializers.Serializer):
    """A free-text answer to score, blind: no expert, attempt or supplier identity."""

    id = serializers.UUIDField(source="task", read_only=True)
    slot = serializers.IntegerField(read_only=True, help_text="1 or 2 when two graders score each answer.")
    claimed = serializers.BooleanField(
        read_only=True, help_text="Claimed by me (open tasks claimed by others are not listed)."
    )
    test = serializers.CharField(read_only=True, help_text="The test's title.")
    section = serializers.CharField(read_only=True)
    prompt = serializers.CharField(read_only=True)
    rubric = serializers.ListField(
        child=serializers.DictField(), read_only=True, help_text='[{"criterion", "points"}].'
    )
    answer_text = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class GradingQueueSerializer(serializers.Serializer):
    results = GradingTaskSerializer(many=True)


class GradedTaskSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    status = StatusField(choices=GradingTask.Status.choices, enum_name="GradingTaskStatus")

    class Meta:
        model = GradingTask
        fields = ["id", "slot", "status", "criterion_points", "fraction", "scored_at"]
        read_only_fields = fields


class GradingScoreSerializer(InputSerializer):
    criterion_points = serializers.ListField(
        child=serializers.IntegerField(min_value=0), help_text="Points per rubric criterion, in rubric order."
    )


# --- qualifications --------------------------------------------------------------------------------------------


class QualificationSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    test = TestRefSerializer(read_only=True)
    expert_handle = serializers.SerializerMethodField(help_text="The expert's pseudonymous handle, if any.")
    status = StatusField(choices=Qualification.Status.choices, enum_name="QualificationStatus")

    class Meta:
        model = Qualification
        fields = [
            "id",
            "test",
            "family",
            "expert_handle",
            "score",
            "granted_at",
            "expires_at",
            "status",
            "status_reason",
        ]
        read_only_fields = fields

    def get_expert_handle(self, qualification) -> str | None:
        profile = getattr(qualification.expert, "expert_profile", None)
        return getattr(profile, "handle", None)


class QualificationQuerySerializer(InputSerializer):
    expert = serializers.UUIDField(required=False, help_text="Only this expert's (the user id).")


class RevokeSerializer(InputSerializer):
    reason = serializers.CharField(max_length=2000)


# --- calibration rounds ------------------------------------------------------------------------------------------


class CalibrationRoundSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    lab = LabSerializer(read_only=True)
    test = TestRefSerializer(read_only=True)
    status = StatusField(choices=CalibrationRound.Status.choices, enum_name="CalibrationRoundStatus")
    suppliers = serializers.SerializerMethodField()
    pilot_project = serializers.SerializerMethodField()

    class Meta:
        model = CalibrationRound
        fields = ["id", "lab", "test", "title", "deadline", "status", "suppliers", "pilot_project", "created_at"]
        read_only_fields = fields

    def get_suppliers(self, round_) -> list[str]:
        return [str(org.public_id) for org in round_.suppliers.all()]

    def get_pilot_project(self, round_) -> str | None:
        return str(round_.pilot_project.public_id) if round_.pilot_project_id else None


class CalibrationRoundInputSerializer(InputSerializer):
    test = serializers.UUIDField(help_text="A published calibration test of the acting lab.")
    title = serializers.CharField(max_length=200)
    deadline = serializers.DateTimeField()
    suppliers = serializers.ListField(
        child=serializers.UUIDField(), min_length=1, help_text="Supplier organisation ids."
    )
    pilot_project = serializers.UUIDField(required=False, allow_null=True, help_text="A project of the lab.")


def _plain(value: Any) -> Any:
    """The report's values as JSON: decimals as strings, dataclasses as objects, tuples as lists."""
    if isinstance(value, Decimal):
        return f"{value:f}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def report_json(report) -> dict:
    """A ``calibration.CalibrationReport`` as the API's representation."""
    return {
        "round": CalibrationRoundSerializer(report.round).data,
        "experts": _plain(report.experts),
        "suppliers": _plain(report.suppliers),
        "alpha": _plain(report.alpha),
        "fleiss": _plain(report.fleiss),
        "cohen_pairs": [
            {"expert_a": a, "expert_b": b, "kappa": kappa, "n_items": n} for a, b, kappa, n in report.cohen_pairs
        ],
        "disagreements": _plain(report.disagreements),
        "chart": _plain(report.chart),
    }


class AccuracyRowSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The supplier's name, or an expert's handle.")
    answered = serializers.IntegerField()
    gold_items = serializers.IntegerField(help_text="Graded answers on keyed items.")
    accuracy = serializers.CharField(allow_null=True, help_text="Decimal string, 0-1.")
    lower = serializers.CharField(help_text="95% Wilson interval, lower bound.")
    upper = serializers.CharField(help_text="95% Wilson interval, upper bound.")
    supplier = serializers.CharField(help_text="For an expert: the supplier's name.")


class AgreementSerializer(serializers.Serializer):
    value = serializers.FloatField(allow_null=True)
    reason = serializers.CharField(help_text="Why the coefficient is undefined, when it is.")
    n_units = serializers.IntegerField()


class CohenPairSerializer(serializers.Serializer):
    expert_a = serializers.CharField()
    expert_b = serializers.CharField()
    kappa = serializers.FloatField(allow_null=True)
    n_items = serializers.IntegerField()


class CalibrationReportSerializer(serializers.Serializer):
    round = CalibrationRoundSerializer()
    experts = AccuracyRowSerializer(many=True)
    suppliers = AccuracyRowSerializer(many=True, help_text="The league table: by Wilson lower bound, best first.")
    alpha = serializers.DictField(
        child=serializers.DictField(child=AgreementSerializer()),
        help_text="Krippendorff's alpha: scope (`all` or a supplier) -> measurement level -> coefficient.",
    )
    fleiss = serializers.DictField(child=AgreementSerializer(), help_text="Fleiss' kappa by scope (nominal items).")
    cohen_pairs = CohenPairSerializer(many=True)
    disagreements = serializers.ListField(
        child=serializers.DictField(), help_text="Items on which the answers split most, with each supplier's mode."
    )
    chart = serializers.ListField(child=serializers.DictField(), help_text="{supplier, accuracy, lower, upper}.")

    def to_representation(self, instance):
        return instance  # already plain (``report_json``)


# --- project requirement -----------------------------------------------------------------------------------------


class ProjectTestInputSerializer(InputSerializer):
    test = serializers.UUIDField(help_text="A published qualification test of the project's lab.")


class ProjectTestSerializer(serializers.Serializer):
    project = serializers.UUIDField(source="project.public_id", read_only=True)
    test = TestRefSerializer(read_only=True)
