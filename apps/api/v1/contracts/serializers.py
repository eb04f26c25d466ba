"""v1 representations of contracts, their versions (terms, milestones, signatures), the NDA and
assignments.

Amounts: the unit rate is a rate with 4 decimal places, a decimal string (``"2.0000"``) next to its
``currency``; the budget cap and milestone amounts are money, ``{"amount": "2000.00", "currency":
"USD"}``. Fractions (SLA minimums, quality-pay bands) are decimal strings too.

Who sees what is decided by the selectors (a contract is visible to its two parties only) and
carried here by the serializer context ``organization`` (the caller's acting organisation):

- A signature names its signer for both sides (``full_name``), except that the lab sees an
  independent expert's signature as ``"The expert"``; the signer's IP address is shown only to the
  signer's own side.
- An assigned expert is known to the lab by id and pseudonymous ``handle``; ``name`` is the
  supplier's only (null for the lab).
- A supplier of kind ``individual`` is named after the person: its ``name`` is null, as in bidding.
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import OuterRef, Subquery
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.accounts.roles import OrgKind
from apps.api.fields import MoneyField, StatusField
from apps.api.rows import RowSource, render_datetime
from apps.api.serializers import InputSerializer
from apps.api.v1.projects.serializers import (
    LabSerializer,
    RateField,
    SupplierSerializer,
    money,
    supplier_row,
)
from apps.contracts.models import Assignment, Contract, ContractVersion, Milestone, NdaAcceptance, Signature
from apps.contracts.selectors import side_of

THE_EXPERT = "The expert"
SIDES = [Signature.Side.LAB.value, Signature.Side.SUPPLIER.value]


def viewer_side(context: dict, contract: Contract) -> str | None:
    organization = context.get("organization")
    return side_of(contract, organization) if organization is not None else None


def _side_field(**kwargs) -> StatusField:
    return StatusField(choices=Signature.Side.choices, enum_name="ContractSide", **kwargs)


def _fraction(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=5, decimal_places=4, read_only=True, **kwargs)


# --- output: terms -------------------------------------------------------------------------------------


class MilestoneSerializer(serializers.ModelSerializer):
    amount = serializers.SerializerMethodField(help_text="In the contract's currency.")

    class Meta:
        model = Milestone
        fields = ["position", "title", "amount", "due_on", "acceptance_criteria"]
        read_only_fields = fields

    @extend_schema_field(MoneyField())
    def get_amount(self, obj) -> dict:
        return money(obj.amount_minor, obj.version.currency)


class TermsSerializer(serializers.ModelSerializer):
    """Every term of one version: what is shown, hashed (``terms_hash``) and signed."""

    unit_rate = RateField(read_only=True, help_text="Major units per unit, in `currency`.")
    volume_cap = serializers.IntegerField(read_only=True, help_text="Units.")
    budget_cap = serializers.SerializerMethodField()
    sla_min_gold_accuracy = _fraction(allow_null=True, help_text="Fraction 0-1; null: no minimum.")
    sla_min_alpha = _fraction(allow_null=True, help_text="Krippendorff's alpha, 0-1; null: no minimum.")
    sla_max_turnaround_days = serializers.IntegerField(read_only=True, allow_null=True, help_text="Days.")
    quality_pay = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField(), min_length=2, max_length=2),
        read_only=True,
        help_text='Bands `[minimum gold accuracy, pay multiplier]`, highest first, e.g. `[["0.95", "1.10"], '
        '["0.85", "1.00"]]`. Below the lowest band the multiplier is 0 and the work goes back for rework.',
    )
    label_set = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="The labels a judgment may carry."
    )
    review_window_days = serializers.IntegerField(read_only=True, help_text="Days the lab has to review a batch.")
    appeal_window_days = serializers.IntegerField(read_only=True, help_text="Days the supplier has to appeal.")
    notice_period_days = serializers.IntegerField(read_only=True, help_text="Days before a rate cut applies unsigned.")
    milestones = MilestoneSerializer(many=True, read_only=True)

    class Meta:
        model = ContractVersion
        fields = [
            "unit_rate",
            "currency",
            "volume_cap",
            "budget_cap",
            "sla_min_gold_accuracy",
            "sla_min_alpha",
            "sla_max_turnaround_days",
            "quality_pay",
            "label_set",
            "review_window_days",
            "appeal_window_days",
            "notice_period_days",
            "nda_version",
            "starts_on",
            "ends_on",
            "milestones",
        ]
        read_only_fields = fields

    @extend_schema_field(MoneyField())
    def get_budget_cap(self, obj) -> dict:
        return money(obj.budget_cap_minor, obj.currency)


class SignatureSerializer(serializers.ModelSerializer):
    side = _side_field()
    signed_by = serializers.SerializerMethodField(
        help_text="The signer's name; `\"The expert\"` where the lab sees an independent expert's signature."
    )
    signed_at = serializers.DateTimeField(source="created_at", read_only=True)
    ip_address = serializers.SerializerMethodField(help_text="The signer's own side only; null for the other side.")

    class Meta:
        model = Signature
        fields = ["side", "signed_by", "signed_at", "terms_hash", "ip_address"]
        read_only_fields = fields

    def _own_side(self, obj) -> bool:
        return viewer_side(self.context, obj.version.contract) == obj.side

    def get_signed_by(self, obj) -> str | None:
        contract = obj.version.contract
        if (
            obj.side == Signature.Side.SUPPLIER
            and contract.supplier.kind == OrgKind.INDIVIDUAL
            and not self._own_side(obj)
        ):
            return THE_EXPERT
        return obj.signed_by.full_name or None

    def get_ip_address(self, obj) -> str | None:
        return obj.ip_address if self._own_side(obj) else None


class VersionSummarySerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    status = StatusField(choices=ContractVersion.Status.choices, enum_name="ContractVersionStatus")
    effective_from = serializers.DateField(
        read_only=True,
        allow_null=True,
        help_text="When the terms took (or, for a rate cut awaiting the supplier, will take) effect.",
    )

    class Meta:
        model = ContractVersion
        fields = ["id", "number", "status", "change_summary", "effective_from"]
        read_only_fields = fields


class VersionSerializer(VersionSummarySerializer):
    """One version of the terms with its signatures. Never changed once proposed."""

    proposed_by_side = serializers.SerializerMethodField(help_text="Who proposed it; null for the platform.")
    proposed_at = serializers.DateTimeField(source="created_at", read_only=True)
    terms = TermsSerializer(source="*", read_only=True)
    terms_hash = serializers.CharField(
        read_only=True, help_text="SHA-256 of the canonical terms; send it to `/sign/` to sign exactly these terms."
    )
    signatures = SignatureSerializer(many=True, read_only=True)
    awaiting_signature_from = serializers.SerializerMethodField(
        help_text="The sides still to sign a proposed version; empty otherwise."
    )

    class Meta(VersionSummarySerializer.Meta):
        fields = [
            *VersionSummarySerializer.Meta.fields,
            "proposed_by_side",
            "proposed_at",
            "terms",
            "terms_hash",
            "signatures",
            "awaiting_signature_from",
        ]
        read_only_fields = fields

    @extend_schema_field(_side_field(allow_null=True))
    def get_proposed_by_side(self, obj):
        if obj.proposed_by_id is None:
            return None
        # ``proposed_by_lab`` is annotated by the views' version queryset.
        return Signature.Side.LAB if getattr(obj, "proposed_by_lab", False) else Signature.Side.SUPPLIER

    @extend_schema_field(serializers.ListField(child=_side_field()))
    def get_awaiting_signature_from(self, obj):
        if obj.status != ContractVersion.Status.PROPOSED:
            return []
        signed = {s.side for s in obj.signatures.all()}
        return [side for side in SIDES if side not in signed]


# --- output: contracts ---------------------------------------------------------------------------------


class ContractProjectSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    title = serializers.CharField(read_only=True)


class ContractSerializer(serializers.ModelSerializer):
    """A contract between a lab and a supplier, as either party sees it."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    project = ContractProjectSerializer(read_only=True)
    lab = LabSerializer(read_only=True)
    supplier = SupplierSerializer(read_only=True)
    side = serializers.SerializerMethodField(help_text="The acting organisation's side of this contract.")
    status = StatusField(choices=Contract.Status.choices, enum_name="ContractStatus")
    status_reason = serializers.CharField(read_only=True, help_text="Why it was terminated; empty otherwise.")
    current_version = serializers.IntegerField(
        source="current_version.number",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="The number of the terms in force; null until both sides signed v1.",
    )
    proposed_version = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The number of the version awaiting signatures, if any."
    )

    class Meta:
        model = Contract
        fields = [
            "id",
            "project",
            "lab",
            "supplier",
            "side",
            "status",
            "status_reason",
            "current_version",
            "proposed_version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(_side_field())
    def get_side(self, obj):
        return viewer_side(self.context, obj)


class ContractRows(RowSource):
    """``ContractSerializer``'s output for a list page, from ``.values()`` rows (``apps/api/rows.py``).

    Context: ``organization``, the caller's acting organisation (``side`` is its side of each contract;
    null without one)."""

    fields = (
        "id", "public_id", "project__public_id", "project__title", "lab_id", "lab__public_id", "lab__name",
        "supplier__public_id", "supplier__kind", "supplier__name", "status", "status_reason",
        "current_version__number", "proposed_version", "created_at", "updated_at",
    )  # fmt: skip

    # Built once: annotate() resolves a copy for each query (rebuilding it per request costs ~0.3 ms). At most
    # one version awaits signatures (``contract_one_proposed_version``): no ordering, which would otherwise
    # join the contract again for ``ContractVersion``'s default ordering.
    _proposed_version = Subquery(
        ContractVersion.objects.filter(contract=OuterRef("pk"), status=ContractVersion.Status.PROPOSED)
        .order_by()
        .values("number")[:1]
    )

    model = Contract

    def annotate(self, queryset, variant):
        return queryset.annotate(proposed_version=self._proposed_version), ()

    def render(self, row, context):
        organization = context.get("organization")
        tz = context["tz"]
        return {
            "id": str(row["public_id"]),
            "project": {"id": str(row["project__public_id"]), "title": row["project__title"]},
            "lab": {"id": str(row["lab__public_id"]), "name": row["lab__name"]},
            "supplier": supplier_row(row["supplier__public_id"], row["supplier__kind"], row["supplier__name"]),
            # ``side_of``'s rule, on the row's lab column.
            "side": None
            if organization is None
            else (Signature.Side.LAB.value if organization.pk == row["lab_id"] else Signature.Side.SUPPLIER.value),
            "status": row["status"],
            "status_reason": row["status_reason"],
            "current_version": row["current_version__number"],
            "proposed_version": row["proposed_version"],
            "created_at": render_datetime(row["created_at"], tz),
            "updated_at": render_datetime(row["updated_at"], tz),
        }


class ContractDetailSerializer(ContractSerializer):
    """A contract with the terms in force, the proposal awaiting signatures and every version
    (context ``versions``: the contract's versions, oldest first)."""

    terms = serializers.SerializerMethodField(help_text="The terms in force; null until both sides signed v1.")
    terms_hash = serializers.SerializerMethodField(help_text="The hash of the terms in force; null until then.")
    effective_from = serializers.SerializerMethodField(help_text="Since when the terms in force apply.")
    proposed = serializers.SerializerMethodField(
        help_text="The version awaiting signatures (v1 until both signed; then an amendment), with its hash and "
        "who has signed; null if none."
    )
    versions = serializers.SerializerMethodField(help_text="Every version, oldest first.")

    class Meta(ContractSerializer.Meta):
        fields = [*ContractSerializer.Meta.fields, "terms", "terms_hash", "effective_from", "proposed", "versions"]
        read_only_fields = fields

    def _current(self, obj) -> ContractVersion | None:
        return next((v for v in self.context["versions"] if v.pk == obj.current_version_id), None)

    @extend_schema_field(TermsSerializer(allow_null=True))
    def get_terms(self, obj):
        current = self._current(obj)
        return TermsSerializer(current).data if current is not None else None

    def get_terms_hash(self, obj) -> str | None:
        current = self._current(obj)
        return current.terms_hash if current is not None else None

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_effective_from(self, obj):
        current = self._current(obj)
        return serializers.DateField().to_representation(current.effective_from) if current is not None else None

    @extend_schema_field(VersionSerializer(allow_null=True))
    def get_proposed(self, obj):
        proposed = next((v for v in self.context["versions"] if v.status == ContractVersion.Status.PROPOSED), None)
        return VersionSerializer(proposed, context=self.context).data if proposed is not None else None

    @extend_schema_field(VersionSummarySerializer(many=True))
    def get_versions(self, obj):
        return VersionSummarySerializer(self.context["versions"], many=True).data


class MilestoneSetSerializer(serializers.Serializer):
    version = serializers.IntegerField(source="number", read_only=True)
    status = StatusField(choices=ContractVersion.Status.choices, enum_name="ContractVersionStatus")
    milestones = MilestoneSerializer(many=True, read_only=True)


class ContractMilestonesSerializer(serializers.Serializer):
    in_force = MilestoneSetSerializer(read_only=True, allow_null=True, help_text="Null until both signed v1.")
    proposed = MilestoneSetSerializer(read_only=True, allow_null=True, help_text="Null if nothing awaits signatures.")


# --- output: NDA, gates, assignments ----------------------------------------------------------------------


class NdaAcceptanceSerializer(serializers.ModelSerializer):
    contract = serializers.UUIDField(source="contract.public_id", read_only=True)
    accepted_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = NdaAcceptance
        fields = ["contract", "nda_version", "accepted_at"]
        read_only_fields = fields


class GateSerializer(serializers.Serializer):
    gate = StatusField(
        choices=["roster", "credential", "nda", "guidelines"],
        enum_name="AssignmentGate",
        help_text="`roster`: not an active expert of the supplier (the other gates are then not reported); "
        "`credential`: a required credential type lacks a verified, unexpired credential; `nda`: the contract's "
        "NDA version is not accepted; `guidelines`: the project's latest guideline version is not acknowledged.",
    )
    message = serializers.CharField(read_only=True)
    # Present on `credential` gates only; not read-only so that the schema marks it optional.
    credential_type = serializers.CharField(required=False, help_text="`credential` gates only.")


class GateCheckSerializer(serializers.Serializer):
    expert = serializers.UUIDField(read_only=True)
    assignable = serializers.BooleanField(read_only=True, help_text="True when every gate holds.")
    gates = GateSerializer(many=True, read_only=True, help_text="Every unmet gate; empty when assignable.")


class AssignedExpertSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", read_only=True, help_text="The user id.")
    handle = serializers.SerializerMethodField(help_text="Pseudonymous; null if the person has no expert profile.")
    name = serializers.SerializerMethodField(help_text="The supplier only; null for the lab.")

    def get_handle(self, user) -> str | None:
        try:
            return user.expert_profile.handle
        except ObjectDoesNotExist:
            return None

    def get_name(self, user) -> str | None:
        return (user.full_name or None) if self.context.get("side") == Signature.Side.SUPPLIER else None


class AssignmentSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    contract = serializers.UUIDField(source="contract.public_id", read_only=True)
    expert = serializers.SerializerMethodField()
    status = StatusField(choices=Assignment.Status.choices, enum_name="AssignmentStatus")
    status_reason = serializers.CharField(read_only=True, help_text="The unmet gates behind a suspension.")
    assigned_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Assignment
        fields = ["id", "contract", "expert", "status", "status_reason", "assigned_at", "updated_at"]
        read_only_fields = fields

    @extend_schema_field(AssignedExpertSerializer)
    def get_expert(self, obj):
        side = viewer_side(self.context, obj.contract)
        return AssignedExpertSerializer(obj.expert, context={"side": side}).data


# --- input -------------------------------------------------------------------------------------------------


class SignSerializer(InputSerializer):
    terms_hash = serializers.RegexField(
        r"^[0-9a-f]{64}$",
        help_text="The `terms_hash` of the version awaiting signatures, as shown to the signer.",
        error_messages={"invalid": "A SHA-256 hex digest (64 lower-case hex characters)."},
    )


class TerminateSerializer(InputSerializer):
    reason = serializers.CharField(max_length=2000, help_text="Both sides see it.")


@extend_schema_field(
    {
        "type": "array",
        "minItems": 1,
        "items": {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "string"}},
        "description": "Bands `[minimum gold accuracy, multiplier]`, accuracies strictly decreasing in (0, 1], "
        'multipliers in [0, 5], e.g. `[["0.95", "1.10"], ["0.85", "1.00"]]`.',
    }
)
class QualityPayField(serializers.JSONField):
    """Passed to the service as sent: it names the offending band as ``quality_pay[i]``."""


class MilestoneInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    amount = MoneyField(help_text="In the contract's currency.")
    due_on = serializers.DateField()
    acceptance_criteria = serializers.CharField(max_length=5000, help_text="How the milestone is accepted.")


class AmendmentChangesSerializer(InputSerializer):
    """The terms to change; every other term is carried over. Currency cannot change."""

    unit_rate = RateField(required=False)
    volume_cap = serializers.IntegerField(required=False, min_value=1, help_text="Units.")
    budget_cap = MoneyField(required=False, help_text="In the contract's currency.")
    sla_min_gold_accuracy = serializers.DecimalField(
        max_digits=5, decimal_places=4, min_value=0, max_value=1, required=False, allow_null=True
    )
    sla_min_alpha = serializers.DecimalField(
        max_digits=5, decimal_places=4, min_value=0, max_value=1, required=False, allow_null=True
    )
    sla_max_turnaround_days = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=365)
    quality_pay = QualityPayField(required=False)
    label_set = serializers.ListField(child=serializers.CharField(max_length=100), required=False, max_length=100)
    review_window_days = serializers.IntegerField(required=False, min_value=0, max_value=365)
    appeal_window_days = serializers.IntegerField(required=False, min_value=0, max_value=365)
    notice_period_days = serializers.IntegerField(required=False, min_value=0, max_value=365)
    nda_version = serializers.CharField(required=False, max_length=40)
    starts_on = serializers.DateField(required=False)
    ends_on = serializers.DateField(required=False)
    milestones = MilestoneInputSerializer(
        many=True, required=False, help_text="Replaces every milestone (an empty list removes them)."
    )


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """Nested serializer errors as the flat names the contracts services use (``milestones[0].amount``)."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = f"{prefix}[{key}]" if isinstance(key, int) else (f"{prefix}.{key}" if prefix else str(key))
            out.update(_flatten(value, name))
        return out
    if isinstance(detail, list) and detail and isinstance(detail[0], dict | list):
        out = {}
        for index, item in enumerate(detail):
            out.update(_flatten(item, f"{prefix}[{index}]"))
        return out
    return {prefix: [str(m) for m in detail] if isinstance(detail, list) else [str(detail)]}


class AmendmentCreateSerializer(InputSerializer):
    """A proposal of new terms: the changed terms, and a summary both sides see."""

    changes = AmendmentChangesSerializer(help_text="Only the terms that change.")
    change_summary = serializers.CharField(max_length=300, help_text="What changes and why; both sides see it.")

    def __init__(self, *args, currency: str | None = None, **kwargs):
        self.currency = currency
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            detail = exc.detail
            if isinstance(detail, dict) and isinstance(detail.get("changes"), dict):
                # Each term is named as the services name it (``unit_rate``, ``milestones[0].amount``).
                detail = {**{k: v for k, v in detail.items() if k != "changes"}, **_flatten(detail["changes"])}
            raise serializers.ValidationError(detail)

    def validate_changes(self, changes):
        if not changes:
            raise serializers.ValidationError("Change at least one term.")
        errors = {}
        if "budget_cap" in changes and changes["budget_cap"].currency != self.currency:
            errors["budget_cap"] = [f"Give the budget cap in the contract's currency ({self.currency})."]
        for index, milestone in enumerate(changes.get("milestones") or []):
            if milestone["amount"].currency != self.currency:
                errors[f"milestones[{index}].amount"] = [f"In the contract's currency ({self.currency})."]
        if errors:
            raise serializers.ValidationError(errors)
        return changes

    def service_fields(self) -> dict:
        """The validated fields under the names ``contract_amend`` takes (amounts in major units)."""
        changes = dict(self.validated_data["changes"])
        if "budget_cap" in changes:
            changes["budget_cap"] = changes["budget_cap"].amount
        if "milestones" in changes:
            changes["milestones"] = [{**m, "amount": m["amount"].amount} for m in changes["milestones"]]
        return {"changes": changes, "change_summary": self.validated_data["change_summary"]}


class AssignmentCreateSerializer(InputSerializer):
    expert = serializers.UUIDField(help_text="The user id of an active expert on the supplier's roster.")


class GateQuerySerializer(serializers.Serializer):
    expert = serializers.UUIDField(help_text="The user id of the expert to check.")
