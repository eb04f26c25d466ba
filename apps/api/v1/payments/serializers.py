"""v1 representations of payments: the supplier's connected account, earnings, payout runs and lines.

A lab sees earnings of its contracts with the supplier as an organisation (never an expert's
name); payout runs and lines are platform finance's only.
"""

from __future__ import annotations

from rest_framework import serializers

from apps.api.fields import MoneyField, StatusField
from apps.api.serializers import InputSerializer
from apps.api.v1.projects.serializers import LabSerializer, SupplierSerializer
from apps.core.money import SUPPORTED_CURRENCIES
from apps.payments.models import ConnectedAccount, Earning, PayoutLine, PayoutRun


class ConnectedAccountSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    requirements_due = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = ConnectedAccount
        fields = [
            "id",
            "stripe_account_id",
            "country",
            "charges_enabled",
            "payouts_enabled",
            "details_submitted",
            "transfers_capability",
            "requirements_due",
            "disabled_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class AccountStatusSerializer(serializers.Serializer):
    account = ConnectedAccountSerializer(allow_null=True, read_only=True, help_text="Null before connecting.")
    can_receive_transfers = serializers.BooleanField(source="can_receive", read_only=True)
    missing = serializers.ListField(
        source="reasons", child=serializers.CharField(), read_only=True, help_text="Why payouts cannot be sent yet."
    )
    onboarding_url = serializers.CharField(
        read_only=True, allow_null=True, required=False, help_text="POST only: a single-use Stripe onboarding link."
    )


class AccountConnectSerializer(InputSerializer):
    country = serializers.RegexField(r"^[A-Z]{2}$", required=False, default="US", help_text="ISO 3166 alpha-2.")
    return_url = serializers.URLField(required=False, help_text="Where Stripe sends the user back.")
    refresh_url = serializers.URLField(required=False, help_text="Where Stripe sends the user for a new link.")


class ContractRefSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    project_title = serializers.CharField(source="project.title", read_only=True)


class EarningSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    status = StatusField(choices=Earning.Status.choices, enum_name="EarningStatus")
    batch_id = serializers.UUIDField(source="batch.public_id", read_only=True)
    contract = ContractRefSerializer(read_only=True)
    supplier = SupplierSerializer(read_only=True)
    lab = LabSerializer(read_only=True)
    unit_rate = serializers.DecimalField(max_digits=12, decimal_places=4, read_only=True, help_text="Major units.")
    multiplier = serializers.DecimalField(max_digits=6, decimal_places=4, read_only=True)
    gold_accuracy = serializers.DecimalField(max_digits=5, decimal_places=4, read_only=True, allow_null=True)
    quality_snapshot_id = serializers.UUIDField(source="quality_snapshot_public_id", read_only=True, allow_null=True)
    gross = MoneyField(read_only=True, help_text="rate x units x multiplier: what the lab owes.")
    fee = MoneyField(read_only=True, help_text="The platform's fee (fee_bps of gross).")
    net = MoneyField(read_only=True, help_text="The supplier's part: gross - fee.")

    class Meta:
        model = Earning
        fields = [
            "id",
            "status",
            "batch_id",
            "contract",
            "supplier",
            "lab",
            "units",
            "unit_rate",
            "multiplier",
            "multiplier_basis",
            "gold_accuracy",
            "quality_snapshot_id",
            "fee_bps",
            "gross",
            "fee",
            "net",
            "earned_on",
        ]
        read_only_fields = fields


class EarningQuerySerializer(InputSerializer):
    contract = serializers.UUIDField(required=False, help_text="Only this contract's earnings.")
    status = serializers.ChoiceField(choices=Earning.Status.choices, required=False)
    earned_from = serializers.DateField(required=False)
    earned_to = serializers.DateField(required=False)
    org = serializers.UUIDField(required=False)
    cursor = serializers.CharField(required=False)


class UserRefSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    email = serializers.EmailField(read_only=True)


class PayoutRunSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    status = StatusField(choices=PayoutRun.Status.choices, enum_name="PayoutRunStatus")
    total = MoneyField(read_only=True)
    created_by = UserRefSerializer(read_only=True, allow_null=True)
    approved_by = UserRefSerializer(read_only=True, allow_null=True)
    second_approved_by = UserRefSerializer(read_only=True, allow_null=True)
    needs_two_approvals = serializers.SerializerMethodField()

    class Meta:
        model = PayoutRun
        fields = [
            "id",
            "status",
            "period_start",
            "period_end",
            "currency",
            "total",
            "line_count",
            "earning_count",
            "transfer_group",
            "needs_two_approvals",
            "created_by",
            "approved_by",
            "approved_at",
            "second_approved_by",
            "second_approved_at",
            "completed_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_needs_two_approvals(self, obj) -> bool:
        from apps.payments.services.payouts import needs_two_approvals

        return needs_two_approvals(obj)


class PayoutRunCreateSerializer(InputSerializer):
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    currency = serializers.ChoiceField(choices=SUPPORTED_CURRENCIES)


class PayoutRunQuerySerializer(InputSerializer):
    status = serializers.ChoiceField(choices=PayoutRun.Status.choices, required=False)
    currency = serializers.ChoiceField(choices=SUPPORTED_CURRENCIES, required=False)
    cursor = serializers.CharField(required=False)


class PayoutLineSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    status = StatusField(choices=PayoutLine.Status.choices, enum_name="PayoutLineStatus")
    supplier = SupplierSerializer(read_only=True)
    amount = MoneyField(read_only=True)

    class Meta:
        model = PayoutLine
        fields = [
            "id",
            "status",
            "supplier",
            "amount",
            "earning_count",
            "attempt",
            "idempotency_key",
            "destination",
            "source_transaction",
            "stripe_transfer_id",
            "error_code",
            "error",
            "submitted_at",
            "paid_at",
        ]
        read_only_fields = fields


class PayoutLineQuerySerializer(InputSerializer):
    status = serializers.ChoiceField(choices=PayoutLine.Status.choices, required=False)
    cursor = serializers.CharField(required=False)
