"""v1 lab charges: ``/charges/`` lists a lab's payments (``contracts.view``) or, for platform finance with a
browser session and no ``org``, every lab's; POST starts a payment (lab owners and admins, ``contracts.sign``);
``/charges/{id}/refund/`` is finance's refund. Other tenants: 404."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from apps.api.fields import MoneyField, StatusField
from apps.api.serializers import InputSerializer
from apps.api.v1.experts.fields import NamedChoiceField
from apps.api.v1.experts.scope import ORG_PARAMETER
from apps.api.v1.experts.views import WorkforceListView, WorkforceView
from apps.contracts.models import Contract, Milestone
from apps.core.errors import NotFound, ValidationFailed
from apps.core.money import Money
from apps.payments.models import Charge, Refund
from apps.payments.services import charges as charge_services
from apps.payments.services import refunds as refund_services


class ChargeSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    status = StatusField(choices=Charge.Status.choices, enum_name="ChargeStatus")
    lab = serializers.UUIDField(source="lab.public_id", read_only=True)
    contract = serializers.UUIDField(source="contract.public_id", read_only=True, allow_null=True)
    milestone = serializers.UUIDField(source="milestone.public_id", read_only=True, allow_null=True)
    kind = NamedChoiceField(choices=Charge.Kind.choices, enum_name="ChargeKind", read_only=True)
    purpose = serializers.SerializerMethodField(help_text="milestone | contract | prepaid")
    amount = MoneyField(read_only=True)
    stripe_fee = MoneyField(read_only=True, help_text="Stripe's fee, read from the charge's balance transaction.")
    amount_refunded = MoneyField(read_only=True)

    class Meta:
        model = Charge
        fields = [
            "id", "lab", "contract", "milestone", "purpose", "kind", "description", "amount", "status",
            "stripe_payment_intent_id", "stripe_invoice_id", "stripe_charge_id", "hosted_invoice_url", "stripe_fee",
            "amount_refunded", "failure_code", "failure_message", "succeeded_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_purpose(self, obj: Charge) -> str:
        return "milestone" if obj.milestone_id else ("contract" if obj.contract_id else "prepaid")


class ChargeCreateSerializer(InputSerializer):
    kind = NamedChoiceField(choices=Charge.Kind.choices, enum_name="ChargeKind")
    milestone = serializers.UUIDField(required=False, help_text="Pay this milestone in full.")
    contract = serializers.UUIDField(required=False, help_text="Pay towards this contract (give `amount`).")
    amount = MoneyField(required=False, help_text="Required unless paying a milestone; without a contract: prepaid.")
    payment_method = serializers.CharField(
        required=False, default="pm_card_visa", help_text="PaymentIntent only: a test card such as pm_card_visa."
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class ChargeQuerySerializer(InputSerializer):
    status = serializers.ChoiceField(choices=Charge.Status.choices, required=False)


class RefundCreateSerializer(InputSerializer):
    amount = MoneyField(required=False, help_text="Default: everything not refunded yet.")
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class RefundSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    status = StatusField(choices=Refund.Status.choices, enum_name="RefundStatus")
    charge = serializers.UUIDField(source="charge.public_id", read_only=True)
    amount_minor = serializers.IntegerField(read_only=True)

    class Meta:
        model = Refund
        fields = ["id", "charge", "amount_minor", "currency", "reason", "status", "stripe_refund_id", "created_at"]
        read_only_fields = fields


class ChargeListView(WorkforceListView):
    serializer_class = ChargeSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Charge.objects.none()
        q = self.query(ChargeQuerySerializer)
        return charge_services.charge_list(
            actor=self.actor, organization=self.get_acting_organization(), status=q.get("status")
        )

    @extend_schema(
        summary="A lab's payments (or every lab's, for finance)",
        description="Lab members (contracts.view) see their lab's charges and what each paid for; platform finance "
        "with a browser session and no `org` sees all. Anyone else: 404.",
        parameters=[ORG_PARAMETER, ChargeQuerySerializer],
        tags=["charges"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Start a payment: a milestone, a contract or a prepaid top-up",
        operation_id="charges_create",
        description="Lab owners and admins (contracts.sign). `payment_intent` charges the test card at once; "
        "`invoice` returns `hosted_invoice_url` to pay. The charge stays `pending` until Stripe confirms it by "
        "webhook; a decline answers 201 with `status: failed` and `failure_code`.",
        parameters=[ORG_PARAMETER],
        request=ChargeCreateSerializer,
        responses={201: ChargeSerializer},
        tags=["charges"],
    )
    def post(self, request, *args, **kwargs):
        lab = self.require_organization()
        serializer = ChargeCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        contract = milestone = None
        if data.get("milestone"):
            milestone = Milestone.objects.filter(public_id=data["milestone"], version__contract__lab=lab).first()
            if milestone is None:
                raise NotFound("Milestone not found.", code="milestone_not_found")
        if data.get("contract"):
            contract = Contract.objects.filter(public_id=data["contract"], lab=lab).first()
            if contract is None:
                raise NotFound("Contract not found.", code="contract_not_found")
        amount: Money | None = data.get("amount")
        if amount is None and milestone is None:
            raise ValidationFailed("Give the amount.", details={"amount": ["Required unless paying a milestone."]})
        charge = charge_services.start_charge(
            actor=self.actor,
            lab=lab,
            kind=data["kind"],
            contract=contract,
            milestone=milestone,
            amount_minor=amount.minor if amount else None,
            currency=amount.currency if amount else None,
            payment_method=data["payment_method"],
            description=data["description"],
        )
        return Response(ChargeSerializer(charge).data, status=status.HTTP_201_CREATED)


class ChargeDetailView(WorkforceView):
    @extend_schema(summary="One charge", parameters=[ORG_PARAMETER], responses=ChargeSerializer, tags=["charges"])
    def get(self, request, *args, **kwargs):
        charge = charge_services.charge_get(
            actor=self.actor, organization=self.get_acting_organization(), public_id=self.kwargs["charge_id"]
        )
        return Response(ChargeSerializer(charge).data)


class ChargeRefundView(WorkforceView):
    @extend_schema(
        summary="Refund a charge to the lab (finance)",
        operation_id="charges_refund",
        description="Platform finance only (anyone else: 404). Refunds through Stripe, then reverses the same "
        "fraction of every transfer the charge funded. More than is left: 400 naming `amount`.",
        request=RefundCreateSerializer,
        responses={201: RefundSerializer},
        tags=["charges"],
    )
    def post(self, request, *args, **kwargs):
        charge = charge_services.charge_get(actor=self.actor, organization=None, public_id=self.kwargs["charge_id"])
        serializer = RefundCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        amount: Money | None = serializer.validated_data.get("amount")
        if amount is not None and amount.currency != charge.currency:
            raise ValidationFailed("The refund is in the charge's currency.", details={"amount": [charge.currency]})
        refund = refund_services.refund_charge(
            actor=self.actor,
            charge=charge,
            amount_minor=amount.minor if amount else None,
            reason=serializer.validated_data["reason"],
        )
        return Response(RefundSerializer(refund).data, status=status.HTTP_201_CREATED)


__all__ = ["ChargeDetailView", "ChargeListView", "ChargeRefundView"]
