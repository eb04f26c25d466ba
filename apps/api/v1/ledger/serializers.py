"""Serializers of the ledger endpoints (platform finance only). Amounts are Money objects
(``{"amount": "12.50", "currency": "USD"}``), signed: a debit is positive, a credit negative."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.api.fields import MoneyField
from apps.api.v1.experts.fields import NamedChoiceField
from apps.core.money import Money
from apps.ledger.models import AccountKind, JournalEntry, Posting
from apps.ledger.selectors import AccountBalance


class PostingSerializer(serializers.Serializer):
    account = serializers.CharField(source="account.code", help_text="The account code, e.g. `stripe_balance`.")
    account_kind = NamedChoiceField(
        source="account.kind", choices=AccountKind.choices, enum_name="LedgerAccountKind", read_only=True
    )
    amount = serializers.SerializerMethodField(help_text="Signed: a debit is positive, a credit negative.")
    amount_minor = serializers.IntegerField(source="amount", help_text="The same in integer minor units.")

    @extend_schema_field(MoneyField)
    def get_amount(self, posting: Posting) -> dict:
        return MoneyField().to_representation(Money(posting.amount, posting.currency))


class JournalEntrySerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    posted_at = serializers.DateTimeField(source="created_at", read_only=True, help_text="When it was written.")
    occurred_at = serializers.DateTimeField(read_only=True, help_text="When the business event happened.")
    reverses = serializers.SlugRelatedField(
        slug_field="public_id", read_only=True, allow_null=True, help_text="The entry this one reverses, if any."
    )
    reversed_by = serializers.SerializerMethodField(help_text="The entry that reverses this one, if any.")
    actor = serializers.SlugRelatedField(
        slug_field="public_id",
        read_only=True,
        allow_null=True,
        help_text="Who posted it (a user id); null for the system.",
    )
    postings = PostingSerializer(many=True, read_only=True)

    class Meta:
        model = JournalEntry
        fields = [
            "id",
            "occurred_at",
            "posted_at",
            "description",
            "currency",
            "source_type",
            "source_id",
            "idempotency_key",
            "reverses",
            "reversed_by",
            "actor",
            "memo",
            "postings",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_reversed_by(self, entry: JournalEntry) -> str | None:
        reversal = getattr(entry, "reversed_by", None)
        return str(reversal.public_id) if reversal is not None else None


class EntryQuerySerializer(serializers.Serializer):
    account = serializers.CharField(required=False, max_length=120, help_text="Entries with a posting on this code.")
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False, help_text="The entry's currency.")
    source_type = serializers.CharField(required=False, max_length=60)
    source_id = serializers.CharField(required=False, max_length=120)
    occurred_from = serializers.DateField(required=False, help_text="First day, inclusive (UTC).")
    occurred_to = serializers.DateField(required=False, help_text="Last day, inclusive (UTC).")

    def validate(self, attrs):
        start, end = attrs.get("occurred_from"), attrs.get("occurred_to")
        if start and end and start > end:
            raise serializers.ValidationError({"occurred_to": ["Must not be before occurred_from."]})
        return attrs


class BalanceQuerySerializer(serializers.Serializer):
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False, help_text="One currency; default all.")
    prefix = serializers.CharField(
        required=False, max_length=120, help_text="Codes starting with this, e.g. `payee_payable`."
    )
    as_of = serializers.DateField(required=False, help_text="Balances at the end of this day (UTC); default now.")


class AccountBalanceSerializer(serializers.Serializer):
    account = serializers.CharField(source="code")
    name = serializers.CharField(source="account.name")
    kind = NamedChoiceField(choices=AccountKind.choices, enum_name="LedgerAccountKind", read_only=True)
    organization = serializers.SerializerMethodField(help_text="The organisation of a per-organisation account.")
    balance = serializers.SerializerMethodField(help_text="The sum of its postings: debit-positive.")
    natural_balance = serializers.SerializerMethodField(
        help_text="The balance in the account's normal direction (a liability with more credits is positive)."
    )
    clears_to_zero = serializers.BooleanField(help_text="A clearing account (lab receivable, payee payable).")
    needs_attention = serializers.BooleanField(help_text="A clearing account that does not stand at zero.")

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_organization(self, row: AccountBalance) -> str | None:
        organization = row.account.organization
        return str(organization.public_id) if organization is not None else None

    @extend_schema_field(MoneyField)
    def get_balance(self, row: AccountBalance) -> dict:
        return MoneyField().to_representation(Money(row.balance, row.currency))

    @extend_schema_field(MoneyField)
    def get_natural_balance(self, row: AccountBalance) -> dict:
        return MoneyField().to_representation(Money(row.natural, row.currency))


class BalanceSheetSerializer(serializers.Serializer):
    as_of = serializers.DateField(allow_null=True, help_text="The day the balances stand at; null for now.")
    balances = AccountBalanceSerializer(many=True)
