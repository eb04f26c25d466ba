"""v1 representations of projects, guideline versions and acknowledgements.

Amounts: the budget cap is money, ``{"amount": "5000.00", "currency": "USD"}``. Unit prices are
rates with 4 decimal places, rendered as a decimal string (``"2.4000"``) in the project's
``currency``, and accepted only as strings.

Who sees what is decided by the selectors and carried here by explicit field lists:

- ``Project``: ``invited_organizations`` is present for the lab only (a bidder never learns who
  else was invited); ``bid_count`` is a number for the lab, and for bidders only where the lab
  chose ``show_bid_count`` (null otherwise).
- A supplier organisation of kind ``individual`` is named after the person, so wherever a supplier is
  shown to someone else (``SupplierSerializer``) its ``name`` is null.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cached_property

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.accounts.models import Organization
from apps.accounts.roles import OrgKind
from apps.api.fields import MoneyField, StatusField
from apps.api.rows import (
    RowSource,
    json_items,
    json_list,
    render_date,
    render_datetime,
    render_decimal,
    render_money,
    render_uuid,
)
from apps.api.schema import StatusFieldExtension
from apps.api.serializers import InputSerializer
from apps.api.v1.experts.fields import NamedChoiceField
from apps.api.v1.experts.serializers import DomainSerializer
from apps.bidding.models import Bid
from apps.bidding.selectors import bid_count
from apps.core.money import SUPPORTED_CURRENCIES, Money
from apps.experts.models import CredentialType
from apps.projects.models import GuidelineAcknowledgement, GuidelineVersion, Project, TaskType, Unit, Visibility

# --- fields --------------------------------------------------------------------------------------------


class RateField(serializers.DecimalField):
    """A unit price: major units per unit with at most 4 decimal places, sent and rendered as a
    decimal string (``"2.4000"``), never a JSON number."""

    default_error_messages = {"not_a_string": 'Send the price as a string, e.g. "2.40".'}

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", 'Major units per unit, at most 4 decimal places, as a string (e.g. "2.40").')
        super().__init__(max_digits=12, decimal_places=4, coerce_to_string=True, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class BlankAsNullStatusField(StatusField):
    """A read-only choice a draft may leave unset: rendered as null rather than an empty string."""

    def __init__(self, **kwargs):
        super().__init__(allow_null=True, **kwargs)

    def to_representation(self, value):
        return super().to_representation(value) if value else None


class BlankAsNullStatusFieldExtension(StatusFieldExtension):
    target_class = "apps.api.v1.projects.serializers.BlankAsNullStatusField"


def money(minor: int | None, currency: str) -> dict | None:
    return None if minor is None else MoneyField().to_representation(Money(minor, currency))


# --- output: shared pieces ---------------------------------------------------------------------------------


class SupplierSerializer(serializers.ModelSerializer):
    """A bidding organisation as others see it. An independent expert's organisation bears the
    person's name, so its ``name`` is null: such a supplier is known by its id and its team's handles."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    kind = StatusField(choices=OrgKind.choices, enum_name="OrganizationKind")
    name = serializers.SerializerMethodField(help_text="Null for an independent expert (kind `individual`).")

    class Meta:
        model = Organization
        fields = ["id", "kind", "name"]
        read_only_fields = fields

    def get_name(self, obj) -> str | None:
        return None if obj.kind == OrgKind.INDIVIDUAL else obj.name


class LabSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = Organization
        fields = ["id", "name"]
        read_only_fields = fields


class GuidelineRefSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    published_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = GuidelineVersion
        fields = ["id", "number", "published_at"]
        read_only_fields = fields


_GUIDELINE_REF = GuidelineRefSerializer()  # shared and context-free: not one serializer per row of a list


class InvitedOrganizationSerializer(SupplierSerializer):
    """An invited supplier, as the inviting lab sees it: a vendor by name, an independent expert
    (whose organisation bears the person's name) by id only, like every supplier."""


# --- output: projects ---------------------------------------------------------------------------------------

_LAB_ONLY = ("invited_organizations",)


class ProjectSerializer(serializers.ModelSerializer):
    """A project. ``invited_organizations`` is present for the lab only (context ``lab_view=True``)."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    lab = LabSerializer(read_only=True)
    status = StatusField(choices=Project.Status.choices, enum_name="ProjectStatus")
    task_type = BlankAsNullStatusField(choices=TaskType.choices, enum_name="TaskType", help_text="Null until set.")
    domain = DomainSerializer(read_only=True, allow_null=True)
    required_credential_types = serializers.ListField(
        child=StatusField(choices=CredentialType.choices, enum_name="CredentialType"), read_only=True
    )
    unit_name = BlankAsNullStatusField(choices=Unit.choices, enum_name="ProjectUnit", help_text="Null until set.")
    budget_cap = serializers.SerializerMethodField(help_text="Null until set.")
    target_unit_price = RateField(read_only=True, allow_null=True, help_text="Major units per unit, in `currency`.")
    sla_min_gold_accuracy = serializers.DecimalField(
        max_digits=5, decimal_places=4, read_only=True, allow_null=True, help_text="Fraction 0-1."
    )
    sla_min_alpha = serializers.DecimalField(
        max_digits=5, decimal_places=4, read_only=True, allow_null=True, help_text="Krippendorff's alpha, -1 to 1."
    )
    visibility = StatusField(choices=Visibility.choices, enum_name="ProjectVisibility")
    current_guideline = serializers.SerializerMethodField(help_text="The latest guideline version; null before v1.")
    bid_count = serializers.SerializerMethodField(
        help_text="Bids received (withdrawn ones excluded): always for the lab; for bidders only where the lab shows "
        "it (`show_bid_count`), null otherwise."
    )
    # Lab only; not read-only so that the schema marks it optional.
    invited_organizations = InvitedOrganizationSerializer(many=True, required=False, help_text="The lab only.")

    class Meta:
        model = Project
        fields = [
            "id",
            "lab",
            "title",
            "description",
            "status",
            "status_reason",
            "task_type",
            "domain",
            "required_credential_types",
            "unit_name",
            "volume",
            "currency",
            "budget_cap",
            "target_unit_price",
            "sla_min_gold_accuracy",
            "sla_min_alpha",
            "sla_max_turnaround_days",
            "bid_deadline",
            "starts_on",
            "ends_on",
            "visibility",
            "show_bid_count",
            "bid_count",
            "current_guideline",
            "published_at",
            "created_at",
            "updated_at",
            "invited_organizations",
        ]
        read_only_fields = [f for f in fields if f not in _LAB_ONLY]

    @extend_schema_field(MoneyField(allow_null=True))
    def get_budget_cap(self, obj) -> dict | None:
        return money(obj.budget_cap_minor, obj.currency)

    @extend_schema_field(GuidelineRefSerializer(allow_null=True))
    def get_current_guideline(self, obj):
        version = obj.current_guideline
        return None if version is None else _GUIDELINE_REF.to_representation(version)

    def get_bid_count(self, obj) -> int | None:
        if not (self.context.get("lab_view") or obj.show_bid_count):
            return None
        counted = getattr(obj, "live_bid_count", None)
        return counted if counted is not None else bid_count(obj)

    @cached_property
    def _readable_fields(self):
        # Once per serializer, not once per row of a list (DRF's is a generator property).
        hidden = () if self.context.get("lab_view") else _LAB_ONLY
        return [field for field in super()._readable_fields if field.field_name not in hidden]


def render_rate(value):
    """A unit price (``RateField``): 4 decimal places."""
    return render_decimal(value, 4)


def render_fraction(value):
    """An SLA fraction or alpha (``DecimalField(decimal_places=4)``)."""
    return render_decimal(value, 4)


def supplier_representation(org: Organization) -> dict:
    return {"id": str(org.public_id), "kind": org.kind, "name": None if org.kind == OrgKind.INDIVIDUAL else org.name}


def supplier_row(public_id, kind: str, name: str) -> dict:
    """``SupplierSerializer``'s output from a row's columns (an individual's name is never shown)."""
    return {"id": str(public_id), "kind": kind, "name": None if kind == OrgKind.INDIVIDUAL else name}


def live_bid_counts():
    """Bids not withdrawn, per project: a correlated subquery for the list query itself."""
    counts = (
        Bid.objects.filter(project=OuterRef("pk"))
        .exclude(status=Bid.Status.WITHDRAWN)
        .order_by()
        .values("project")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


class ProjectRows(RowSource):
    """``ProjectSerializer``'s output for a list page, from ``.values()`` rows (``apps/api/rows.py``).

    Context: ``lab_view`` (the acting organisation is the projects' lab: adds ``invited_organizations``,
    aggregated into the list query, and always shows ``bid_count``)."""

    fields = (
        "id", "public_id", "lab__public_id", "lab__name", "title", "description", "status", "status_reason",
        "task_type", "domain__slug", "domain__name", "required_credential_types", "unit_name", "volume",
        "currency", "budget_cap_minor", "target_unit_price", "sla_min_gold_accuracy", "sla_min_alpha",
        "sla_max_turnaround_days", "bid_deadline", "starts_on", "ends_on", "visibility", "show_bid_count",
        "live_bid_count", "published_at", "created_at", "updated_at", "current_guideline__public_id",
        "current_guideline__number", "current_guideline__created_at",
    )  # fmt: skip

    # Built once: annotate() resolves a copy for each query (rebuilding a subquery per request cost ~0.3 ms).
    _live_bid_count = live_bid_counts()
    # The lab's view lists the invited suppliers: aggregated into the list query (one query per page).
    _invited = json_list(
        Project.invited_organizations.through.objects.all(),
        "project_id",
        order_by=("organization__name", "organization_id"),  # as Organization's ordering (name), ties by id
        id="organization__public_id",
        kind="organization__kind",
        name="organization__name",
        pk="organization_id",
    )

    model = Project

    def variant(self, context):
        return bool(context.get("lab_view"))

    def annotate(self, queryset, variant):
        queryset = queryset.annotate(live_bid_count=self._live_bid_count)
        if variant:  # the lab's view
            return queryset.annotate(invited=self._invited), ("invited",)
        return queryset, ()

    def render(self, row, context):
        lab_view = bool(context.get("lab_view"))
        tz = context["tz"]
        credential_types = row["required_credential_types"]
        data = {
            "id": str(row["public_id"]),
            "lab": {"id": str(row["lab__public_id"]), "name": row["lab__name"]},
            "title": row["title"],
            "description": row["description"],
            "status": row["status"],
            "status_reason": row["status_reason"],
            "task_type": row["task_type"] or None,
            "domain": None
            if row["domain__slug"] is None
            else {"slug": row["domain__slug"], "name": row["domain__name"]},
            "required_credential_types": None if credential_types is None else list(credential_types),
            "unit_name": row["unit_name"] or None,
            "volume": row["volume"],
            "currency": row["currency"],
            "budget_cap": render_money(row["budget_cap_minor"], row["currency"]),
            "target_unit_price": render_rate(row["target_unit_price"]),
            "sla_min_gold_accuracy": render_fraction(row["sla_min_gold_accuracy"]),
            "sla_min_alpha": render_fraction(row["sla_min_alpha"]),
            "sla_max_turnaround_days": row["sla_max_turnaround_days"],
            "bid_deadline": render_datetime(row["bid_deadline"], tz),
            "starts_on": render_date(row["starts_on"]),
            "ends_on": render_date(row["ends_on"]),
            "visibility": row["visibility"],
            "show_bid_count": row["show_bid_count"],
            "bid_count": row["live_bid_count"] if lab_view or row["show_bid_count"] else None,
            "current_guideline": None
            if row["current_guideline__public_id"] is None
            else {
                "id": str(row["current_guideline__public_id"]),
                "number": row["current_guideline__number"],
                "published_at": render_datetime(row["current_guideline__created_at"], tz),
            },
            "published_at": render_datetime(row["published_at"], tz),
            "created_at": render_datetime(row["created_at"], tz),
            "updated_at": render_datetime(row["updated_at"], tz),
        }
        if lab_view:
            invited = json_items(row["invited"], lambda o: (o["name"], o["pk"]))
            data["invited_organizations"] = [supplier_row(render_uuid(o["id"]), o["kind"], o["name"]) for o in invited]
        return data


# --- output: guidelines ---------------------------------------------------------------------------------------


class GuidelineVersionSerializer(serializers.ModelSerializer):
    """A published guideline version. ``body_html`` is rendered from the Markdown and sanitised (no
    script, event handler, style or embed)."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    project = serializers.UUIDField(source="project.public_id", read_only=True)
    published_at = serializers.DateTimeField(source="created_at", read_only=True)
    acknowledged_at = serializers.SerializerMethodField(
        help_text="When the caller acknowledged this version; null if not (always null for the lab)."
    )

    class Meta:
        model = GuidelineVersion
        fields = [
            "id",
            "project",
            "number",
            "change_summary",
            "body_markdown",
            "body_html",
            "published_at",
            "acknowledged_at",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "format": "date-time", "nullable": True})
    def get_acknowledged_at(self, obj) -> str | None:
        value = getattr(obj, "acknowledged_at", None)
        return serializers.DateTimeField().to_representation(value) if value else None


class AcknowledgementSerializer(serializers.ModelSerializer):
    """The caller's acknowledgement of one guideline version."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    version = GuidelineRefSerializer(read_only=True)
    acknowledged_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = GuidelineAcknowledgement
        fields = ["id", "version", "acknowledged_at"]
        read_only_fields = fields


class AcknowledgementListSerializer(serializers.ModelSerializer):
    """Who acknowledged which version, as the lab sees it: the expert's pseudonymous handle and their
    organisation, never the person's name or e-mail."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    version = GuidelineRefSerializer(read_only=True)
    expert_handle = serializers.SerializerMethodField(help_text="Null if the person has no expert profile.")
    organization = SupplierSerializer(read_only=True, allow_null=True)
    acknowledged_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = GuidelineAcknowledgement
        fields = ["id", "version", "expert_handle", "organization", "acknowledged_at"]
        read_only_fields = fields

    def get_expert_handle(self, obj) -> str | None:
        profile = getattr(obj.user, "expert_profile", None)
        return profile.handle if profile is not None else None


# --- input --------------------------------------------------------------------------------------------------------


class ProjectWriteSerializer(InputSerializer):
    """The fields of a draft project; on update send only those to change. Publishing checks that
    every field it needs is set (see `/publish/`)."""

    title = serializers.CharField(max_length=200, required=False, allow_blank=True, help_text="Required on create.")
    description = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    task_type = NamedChoiceField(choices=TaskType.choices, enum_name="TaskType", required=False)
    domain = serializers.SlugField(required=False, allow_null=True, help_text="Domain slug; null clears it.")
    required_credential_types = serializers.ListField(
        child=NamedChoiceField(choices=CredentialType.choices, enum_name="CredentialType"),
        required=False,
        max_length=20,
        help_text="Every team member must hold a verified credential of each type.",
    )
    unit_name = NamedChoiceField(choices=Unit.choices, enum_name="ProjectUnit", required=False)
    volume = serializers.IntegerField(required=False, allow_null=True, help_text="Units wanted.")
    currency = serializers.ChoiceField(
        choices=SUPPORTED_CURRENCIES,
        required=False,
        help_text="ISO 4217 code of the budget and prices; default USD (or the budget cap's currency).",
    )
    budget_cap = MoneyField(required=False, allow_null=True, help_text="In the project's currency; null clears it.")
    target_unit_price = RateField(required=False, allow_null=True)
    sla_min_gold_accuracy = serializers.DecimalField(
        max_digits=5, decimal_places=4, required=False, allow_null=True, help_text="Fraction 0-1, e.g. 0.85."
    )
    sla_min_alpha = serializers.DecimalField(
        max_digits=5, decimal_places=4, required=False, allow_null=True, help_text="Krippendorff's alpha, e.g. 0.6."
    )
    sla_max_turnaround_days = serializers.IntegerField(required=False, allow_null=True)
    bid_deadline = serializers.DateTimeField(required=False, allow_null=True)
    starts_on = serializers.DateField(required=False, allow_null=True)
    ends_on = serializers.DateField(required=False, allow_null=True)
    visibility = NamedChoiceField(choices=Visibility.choices, enum_name="ProjectVisibility", required=False)
    invited_organizations = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        max_length=200,
        help_text="Ids of the vendors and independent experts invited to bid; replaces the set.",
    )
    show_bid_count = serializers.BooleanField(required=False, help_text="Bidders see how many bids arrived.")

    def __init__(self, *args, project: Project | None = None, **kwargs):
        self.project = project
        super().__init__(*args, **kwargs)

    def validate(self, attrs):
        cap = attrs.get("budget_cap")
        current = self.project.currency if self.project is not None else None
        currency = attrs.get("currency") or current
        if cap is not None:
            if currency is None:
                currency = attrs["currency"] = cap.currency
            elif cap.currency != currency:
                raise serializers.ValidationError(
                    {"budget_cap": [f"Give the budget cap in the project's currency ({currency})."]}
                )
        elif (
            "budget_cap" not in attrs
            and self.project is not None
            and self.project.budget_cap_minor is not None
            and currency != current
        ):
            raise serializers.ValidationError({"budget_cap": ["Send the budget cap again in the new currency."]})
        return attrs

    def service_fields(self) -> dict:
        """The validated fields under the names ``project_create`` / ``project_update`` take."""
        fields = dict(self.validated_data)
        if "budget_cap" in fields:
            cap: Money | None = fields["budget_cap"]
            fields["budget_cap"] = cap.amount if cap is not None else None
        if "invited_organizations" in fields:
            fields["invited_organizations"] = [str(i) for i in fields["invited_organizations"]]
        return fields


class ProjectListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Project.Status.choices, required=False)


class MarketplaceQuerySerializer(serializers.Serializer):
    task_type = serializers.ChoiceField(choices=TaskType.choices, required=False)
    domain = serializers.SlugField(required=False, help_text="Domain slug; also matches its sub-domains.")
    min_budget = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        help_text="Budget cap at least this much, in major units of each project's own currency.",
    )
    deadline_before = serializers.DateTimeField(required=False, help_text="Bids close at or before this time.")


class CancelSerializer(InputSerializer):
    reason = serializers.CharField(max_length=2000, help_text="Every bidder sees it.")


class GuidelinePublishSerializer(InputSerializer):
    body_markdown = serializers.CharField(
        max_length=200_000, help_text="Markdown; rendered to sanitised HTML (`body_html`) at publication."
    )
    change_summary = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default="", help_text="Required from v2 on."
    )
