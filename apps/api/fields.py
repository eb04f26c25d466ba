"""Serializer fields shared by every API resource."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.money import SUPPORTED_CURRENCIES, Money, exponent

_MONEY_SCHEMA = {
    "type": "object",
    "properties": {
        "amount": {
            "type": "string",
            "pattern": r"^-?\d+(\.\d+)?$",
            "description": "Major units as a decimal string with the currency's minor digits, e.g. `12.50`.",
            "example": "12.50",
        },
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$", "description": "ISO 4217 code.", "example": "USD"},
    },
    "required": ["amount", "currency"],
}


@extend_schema_field(_MONEY_SCHEMA)
class MoneyField(serializers.Field):
    """``Money`` as ``{"amount": "12.50", "currency": "USD"}``: the amount is a string, never a float.

    On input the amount must have no more digits than the currency's minor unit (no rounding).
    """

    default_error_messages = {
        "invalid": 'Expected {{"amount": "<decimal string>", "currency": "<ISO code>"}}.',
        "currency": "Unsupported currency '{currency}'; use one of {supported}.",
        "precision": "{currency} amounts have at most {digits} decimal places.",
        "float": "Send the amount as a string, not a number.",
    }

    def to_representation(self, value: Money) -> dict[str, str]:
        return {"amount": value.format_amount(), "currency": value.currency}

    def to_internal_value(self, data) -> Money:
        if not isinstance(data, dict) or set(data) != {"amount", "currency"}:
            self.fail("invalid")
        amount, currency = data["amount"], data["currency"]
        if isinstance(amount, float):
            self.fail("float")
        if not isinstance(currency, str) or currency not in SUPPORTED_CURRENCIES:
            self.fail("currency", currency=currency, supported=", ".join(SUPPORTED_CURRENCIES))
        if isinstance(amount, bool) or not isinstance(amount, (str, int)):
            self.fail("invalid")
        digits = exponent(currency)
        try:
            value = Decimal(str(amount).strip())
            exact = value.is_finite() and value == value.quantize(Decimal(1).scaleb(-digits))
        except InvalidOperation:
            self.fail("invalid")
        if not value.is_finite():
            self.fail("invalid")
        if not exact:
            self.fail("precision", currency=currency, digits=digits)
        return Money.from_decimal(value, currency)


class StatusField(serializers.ChoiceField):
    """A read-only status rendered as its own named enum in the schema (e.g. ``InvitationStatus``).

    Naming each status set avoids drf-spectacular's enum-name collisions between resources that
    all call their field ``status``. Statuses are never writable (they change through transitions).
    """

    def __init__(self, *, choices, enum_name: str, **kwargs):
        self.enum_name = enum_name
        kwargs["read_only"] = True
        super().__init__(choices=choices, **kwargs)
