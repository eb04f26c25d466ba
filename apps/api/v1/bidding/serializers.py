"""v1 representations of bids, clarifying questions, the bid comparison and awards.

Amounts: a unit price is a rate with 4 decimal places, rendered as a decimal string
(``"unit_price": "2.4000"``) next to its ``currency``; totals and allocated amounts are money,
``{"amount": "2400.00", "currency": "USD"}``, rounded once from volume x unit price.

Sealing and anonymity are decided by the selectors (a bidder reaches only its own bids; the lab only
after bidding closes) and carried here by explicit field lists: a question's asker organisation is
present for the lab only; a bidder sees ``mine`` instead, and never who asked anything else.
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import OuterRef, Prefetch
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.accounts.models import User
from apps.api.fields import MoneyField, StatusField
from apps.api.rows import RowSource, json_items, json_list, render_date, render_datetime, render_money, render_uuid
from apps.api.serializers import InputSerializer
from apps.api.v1.experts.fields import NamedChoiceField
from apps.api.v1.projects.serializers import (
    RateField,
    SupplierSerializer,
    money,
    render_rate,
    supplier_row,
)
from apps.bidding.models import Award, AwardAllocation, Bid, BidRevision, Question
from apps.bidding.selectors import SORT_KEYS
from apps.core.money import to_minor
from apps.projects.models import Project

# --- output: bids -----------------------------------------------------------------------------------------


class TeamMemberSerializer(serializers.Serializer):
    """A proposed expert: the user id sent in ``team`` and the pseudonymous handle, never name or e-mail."""

    id = serializers.UUIDField(source="public_id", read_only=True, help_text="The user id (as sent in `team`).")
    handle = serializers.SerializerMethodField(help_text="Null if the person has no expert profile.")

    def get_handle(self, user) -> str | None:
        try:
            return user.expert_profile.handle
        except ObjectDoesNotExist:
            return None


class BidProjectSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    status = StatusField(choices=Project.Status.choices, enum_name="ProjectStatus")

    class Meta:
        model = Project
        fields = ["id", "title", "status", "bid_deadline"]
        read_only_fields = fields


class AllocationSummarySerializer(serializers.ModelSerializer):
    unit_price = RateField(read_only=True)
    amount = serializers.SerializerMethodField()

    class Meta:
        model = AwardAllocation
        fields = ["volume", "unit_price", "amount"]
        read_only_fields = fields

    @extend_schema_field(MoneyField())
    def get_amount(self, obj) -> dict:
        return money(obj.amount_minor, self.context["currency"])


_TEAM_MEMBER = TeamMemberSerializer()

# A revision's team in user order with the members' expert profiles (``BidRows`` lists teams in this order).
TEAM_PREFETCH = (Prefetch("team", queryset=User.objects.order_by("id")), "team__expert_profile")


def current_team(bid: Bid) -> list:
    """The current revision's team, from the ``current_revisions`` prefetch (``views._current_revisions``)."""
    revisions = getattr(bid, "current_revisions", None)
    if revisions is None:
        revisions = list(bid.revisions.filter(number=bid.revision_number).prefetch_related(*TEAM_PREFETCH))
    return list(revisions[0].team.all()) if revisions else []


class BidSerializer(serializers.ModelSerializer):
    """A sealed bid: seen by its bidder, and by the lab once bidding has closed."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    project = BidProjectSerializer(read_only=True)
    bidder = SupplierSerializer(read_only=True)
    status = StatusField(choices=Bid.Status.choices, enum_name="BidStatus")
    status_reason = serializers.CharField(read_only=True, help_text="The lab's reason for a rejection.")
    unit_price = RateField(read_only=True, help_text="Major units per unit, in `currency`.")
    total = serializers.SerializerMethodField(help_text="volume x unit price, rounded once.")
    team = serializers.SerializerMethodField(help_text="The proposed experts (the current revision's).")
    allocation = serializers.SerializerMethodField(help_text="What was awarded to this bid; null otherwise.")
    submitted_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Bid
        fields = [
            "id",
            "project",
            "bidder",
            "status",
            "status_reason",
            "revision_number",
            "unit_price",
            "currency",
            "total",
            "volume",
            "weekly_capacity",
            "starts_on",
            "ends_on",
            "proposal",
            "team",
            "allocation",
            "submitted_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(MoneyField())
    def get_total(self, obj) -> dict:
        return money(to_minor(obj.unit_price * obj.volume, obj.currency), obj.currency)

    @extend_schema_field(TeamMemberSerializer(many=True))
    def get_team(self, obj):
        # One shared, context-free serializer: not a new ListSerializer per row of a list.
        return [_TEAM_MEMBER.to_representation(user) for user in current_team(obj)]

    @extend_schema_field(AllocationSummarySerializer(allow_null=True))
    def get_allocation(self, obj):
        try:
            allocation = obj.allocation
        except ObjectDoesNotExist:
            return None
        return AllocationSummarySerializer(allocation, context={"currency": obj.currency}).data


def _by_user(member: dict) -> int:
    return member["pk"]


class BidRows(RowSource):
    """``BidSerializer``'s output for a list page, from ``.values()`` rows (``apps/api/rows.py``): the
    project, bidder and allocation joined; the current revision's team aggregated into the same query.
    Both audiences (the bidder, the lab) see the same fields."""

    fields = (
        "id", "public_id", "project__public_id", "project__title", "project__status", "project__bid_deadline",
        "bidder__public_id", "bidder__kind", "bidder__name", "status", "status_reason", "revision_number",
        "unit_price", "currency", "volume", "weekly_capacity", "starts_on", "ends_on", "proposal",
        "allocation__volume", "allocation__unit_price", "allocation__amount_minor", "created_at", "updated_at",
    )  # fmt: skip

    # Built once (annotate() resolves a copy per query): each bid's current revision's team members, in user
    # order, aggregated into the list query (one query per page).
    _team = json_list(
        BidRevision.team.through.objects.filter(bidrevision__number=OuterRef("revision_number")),
        "bidrevision__bid_id",
        order_by=("user_id",),
        id="user__public_id",
        handle="user__expert_profile__handle",
        pk="user_id",
    )

    model = Bid

    def annotate(self, queryset, variant):
        return queryset.annotate(team=self._team), ("team",)

    def render(self, row, context):
        tz = context["tz"]
        currency = row["currency"]
        return {
            "id": str(row["public_id"]),
            "project": {
                "id": str(row["project__public_id"]),
                "title": row["project__title"],
                "status": row["project__status"],
                "bid_deadline": render_datetime(row["project__bid_deadline"], tz),
            },
            "bidder": supplier_row(row["bidder__public_id"], row["bidder__kind"], row["bidder__name"]),
            "status": row["status"],
            "status_reason": row["status_reason"],
            "revision_number": row["revision_number"],
            "unit_price": render_rate(row["unit_price"]),
            "currency": currency,
            "total": render_money(to_minor(row["unit_price"] * row["volume"], currency), currency),
            "volume": row["volume"],
            "weekly_capacity": row["weekly_capacity"],
            "starts_on": render_date(row["starts_on"]),
            "ends_on": render_date(row["ends_on"]),
            "proposal": row["proposal"],
            "team": [{"id": render_uuid(m["id"]), "handle": m["handle"]} for m in json_items(row["team"], _by_user)],
            "allocation": None
            if row["allocation__volume"] is None
            else {
                "volume": row["allocation__volume"],
                "unit_price": render_rate(row["allocation__unit_price"]),
                "amount": render_money(row["allocation__amount_minor"], currency),
            },
            "submitted_at": render_datetime(row["created_at"], tz),
            "updated_at": render_datetime(row["updated_at"], tz),
        }


class BidRevisionSerializer(serializers.ModelSerializer):
    unit_price = RateField(read_only=True)
    team = TeamMemberSerializer(many=True, read_only=True)
    submitted_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = BidRevision
        fields = [
            "number",
            "unit_price",
            "volume",
            "weekly_capacity",
            "starts_on",
            "ends_on",
            "proposal",
            "team",
            "submitted_at",
        ]
        read_only_fields = fields


class BidDetailSerializer(BidSerializer):
    """A bid with every revision, oldest first (context ``revisions``)."""

    revisions = serializers.SerializerMethodField()

    class Meta(BidSerializer.Meta):
        fields = [*BidSerializer.Meta.fields, "revisions"]
        read_only_fields = fields

    @extend_schema_field(BidRevisionSerializer(many=True))
    def get_revisions(self, obj):
        return BidRevisionSerializer(self.context["revisions"], many=True).data


# --- output: the comparison -------------------------------------------------------------------------------


class ComparisonBidSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    bidder = SupplierSerializer(read_only=True)
    status = StatusField(choices=Bid.Status.choices, enum_name="BidStatus")

    class Meta:
        model = Bid
        fields = ["id", "bidder", "status", "revision_number", "proposal"]
        read_only_fields = fields


class ComparisonRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField(read_only=True, help_text="1 = first under the chosen `sort`.")
    bid = ComparisonBidSerializer(read_only=True)
    unit_price = RateField(source="bid.unit_price", read_only=True, help_text="Major units per unit (exact).")
    currency = serializers.CharField(source="bid.currency", read_only=True)
    total = MoneyField(read_only=True, help_text="volume x unit price, rounded once.")
    volume = serializers.IntegerField(source="bid.volume", read_only=True)
    weekly_capacity = serializers.IntegerField(source="bid.weekly_capacity", read_only=True)
    starts_on = serializers.DateField(source="bid.starts_on", read_only=True)
    ends_on = serializers.DateField(source="bid.ends_on", read_only=True)
    weeks_to_finish = serializers.DecimalField(max_digits=10, decimal_places=1, read_only=True)
    team_size = serializers.IntegerField(read_only=True)
    team_credentials = serializers.DictField(
        child=serializers.IntegerField(),
        read_only=True,
        help_text="Verified, unexpired credentials in the proposed team, by credential type.",
    )
    quality_history = serializers.DictField(
        read_only=True, allow_null=True, help_text="Measured quality history; null until there is some."
    )
    expected_accuracy = serializers.DecimalField(
        max_digits=5, decimal_places=4, read_only=True, allow_null=True, help_text="Fraction 0-1."
    )
    accuracy_source = serializers.ChoiceField(
        choices=["history", "pilot", "sla_assumption", "none"],
        read_only=True,
        help_text="Where `expected_accuracy` comes from: `sla_assumption` means no history yet, so the project's SLA "
        "minimum is assumed.",
    )
    accuracy_is_assumption = serializers.SerializerMethodField(
        help_text="True when `expected_accuracy` is the SLA minimum, not a measurement."
    )
    cost_per_quality_unit = serializers.DecimalField(
        max_digits=16,
        decimal_places=4,
        read_only=True,
        allow_null=True,
        help_text="unit price / expected accuracy: the expected cost of one correct unit (major units).",
    )

    def get_accuracy_is_assumption(self, row) -> bool:
        return row.accuracy_source == "sla_assumption"


class BidComparisonSerializer(serializers.Serializer):
    project = serializers.UUIDField(read_only=True)
    sort = serializers.CharField(read_only=True)
    currency = serializers.CharField(read_only=True)
    results = ComparisonRowSerializer(many=True, read_only=True)


# --- output: awards ----------------------------------------------------------------------------------------


class AllocationSerializer(serializers.ModelSerializer):
    bid = serializers.UUIDField(source="bid.public_id", read_only=True)
    bidder = SupplierSerializer(source="bid.bidder", read_only=True)
    unit_price = RateField(read_only=True)
    amount = serializers.SerializerMethodField(help_text="volume x unit price, rounded once.")

    class Meta:
        model = AwardAllocation
        fields = ["bid", "bidder", "volume", "unit_price", "amount"]
        read_only_fields = fields

    @extend_schema_field(MoneyField())
    def get_amount(self, obj) -> dict:
        return money(obj.amount_minor, obj.award.currency)


class AwardSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    project = serializers.UUIDField(source="project.public_id", read_only=True)
    total = serializers.SerializerMethodField(help_text="The sum of the allocations' amounts.")
    allocations = AllocationSerializer(many=True, read_only=True)
    awarded_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Award
        fields = ["id", "project", "total", "note", "allocations", "awarded_at"]
        read_only_fields = fields

    @extend_schema_field(MoneyField())
    def get_total(self, obj) -> dict:
        return money(obj.total_minor, obj.currency)


# --- output: questions ---------------------------------------------------------------------------------------

_LAB_ONLY = ("asker_organization",)


class CallerAskedField(serializers.BooleanField):
    """Output only: whether the organisation in the context (the caller's) asked the question."""

    def get_attribute(self, instance):
        organization = self.context.get("organization")
        return organization is not None and instance.asker_organization_id == organization.pk


_BIDDER_ONLY = ("mine",)


class QuestionSerializer(serializers.ModelSerializer):
    """A clarifying question. The lab (context ``lab_view=True``) sees the asker organisation; a bidder sees
    ``mine`` and never who asked someone else's question."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    project = serializers.UUIDField(source="project.public_id", read_only=True)
    status = StatusField(choices=Question.Status.choices, enum_name="QuestionStatus")
    visibility = StatusField(
        choices=Question.Visibility.choices,
        enum_name="QuestionVisibility",
        help_text="`public`: every bidder sees question and answer; `private`: only the asker.",
    )
    answer = serializers.CharField(read_only=True, help_text="Empty until answered.")
    asked_at = serializers.DateTimeField(source="created_at", read_only=True)
    # Audience-specific; not read-only so that the schema marks them optional.
    asker_organization = SupplierSerializer(required=False, help_text="The lab only.")
    mine = CallerAskedField(required=False, help_text="Bidders only: whether the caller's organisation asked it.")

    class Meta:
        model = Question
        fields = [
            "id",
            "project",
            "text",
            "status",
            "answer",
            "visibility",
            "asked_at",
            "answered_at",
            "mine",
            "asker_organization",
        ]
        read_only_fields = [f for f in fields if f not in ("asker_organization", "mine")]

    @property
    def _readable_fields(self):
        hidden = _BIDDER_ONLY if self.context.get("lab_view") else _LAB_ONLY
        for field in super()._readable_fields:
            if field.field_name not in hidden:
                yield field


# --- input ---------------------------------------------------------------------------------------------------


class BidTermsSerializer(InputSerializer):
    """The terms of a bid (all of them: a revision replaces the previous terms)."""

    unit_price = RateField(help_text='Major units per unit in the project\'s currency, as a string (e.g. "2.40").')
    volume = serializers.IntegerField(help_text="Units offered; at most the project's volume.")
    weekly_capacity = serializers.IntegerField(help_text="Units per week.")
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    proposal = serializers.CharField(max_length=20000, required=False, allow_blank=True, default="")
    team = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        max_length=500,
        help_text="User ids of active experts on the vendor's roster (required for a vendor). An independent expert "
        "bids as themself; the field is ignored.",
    )

    def service_terms(self) -> dict:
        terms = dict(self.validated_data)
        terms.pop("project", None)
        terms["team"] = [str(member) for member in terms.get("team") or []]
        return terms


class BidCreateSerializer(BidTermsSerializer):
    project = serializers.UUIDField(help_text="The project to bid on.")


class RejectSerializer(InputSerializer):
    reason = serializers.CharField(max_length=2000, help_text="The bidder sees it.")


class QuestionAskSerializer(InputSerializer):
    text = serializers.CharField(max_length=5000)


class QuestionAnswerSerializer(InputSerializer):
    answer = serializers.CharField(max_length=20000)
    visibility = NamedChoiceField(
        choices=Question.Visibility.choices,
        enum_name="QuestionVisibility",
        help_text="`public`: every bidder sees it, without the asker; `private`: only the asker's organisation.",
    )


class AllocationInputSerializer(serializers.Serializer):
    bid = serializers.UUIDField(help_text="A live bid on this project.")
    volume = serializers.IntegerField(help_text="Units given to this bid; at most what it offered.")


class AwardCreateSerializer(InputSerializer):
    allocations = AllocationInputSerializer(many=True, help_text="Volume per bid; split across several if wanted.")
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")

    def service_fields(self) -> dict:
        data = self.validated_data
        allocations = [{"bid": str(a["bid"]), "volume": a["volume"]} for a in data["allocations"]]
        return {"allocations": allocations, "note": data["note"]}


class BidComparisonQuerySerializer(serializers.Serializer):
    sort = serializers.ChoiceField(
        choices=list(SORT_KEYS),
        default="cost_per_quality_unit",
        help_text="Ranking; default `cost_per_quality_unit` (cheapest expected correct unit first).",
    )
