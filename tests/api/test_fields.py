"""Money in the API: ``{"amount": "12.50", "currency": "USD"}``, amounts as strings, never floats."""

import pytest
from rest_framework import serializers

from apps.api.fields import MoneyField
from apps.core.money import Money


class PriceSerializer(serializers.Serializer):
    price = MoneyField()


@pytest.mark.parametrize(
    "money,rendered",
    [
        (Money(1250, "USD"), {"amount": "12.50", "currency": "USD"}),
        (Money(5, "EUR"), {"amount": "0.05", "currency": "EUR"}),
        (Money(-1999, "GBP"), {"amount": "-19.99", "currency": "GBP"}),
        (Money(1500, "JPY"), {"amount": "1500", "currency": "JPY"}),
        (Money(0, "USD"), {"amount": "0.00", "currency": "USD"}),
    ],
)
def test_money_renders_as_a_string_amount_with_the_currencys_digits(money, rendered):
    assert PriceSerializer({"price": money}).data == {"price": rendered}


@pytest.mark.parametrize(
    "given,expected",
    [
        ({"amount": "12.50", "currency": "USD"}, Money(1250, "USD")),
        ({"amount": "12.5", "currency": "USD"}, Money(1250, "USD")),
        ({"amount": 12, "currency": "USD"}, Money(1200, "USD")),
        ({"amount": "1500", "currency": "JPY"}, Money(1500, "JPY")),
    ],
)
def test_money_input_becomes_exact_minor_units(given, expected):
    serializer = PriceSerializer(data={"price": given})

    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["price"] == expected


@pytest.mark.parametrize(
    "given",
    [
        {"amount": 12.5, "currency": "USD"},  # a float
        {"amount": "12.505", "currency": "USD"},  # more digits than cents: no silent rounding
        {"amount": "1.5", "currency": "JPY"},
        {"amount": "12.50", "currency": "XXX"},
        {"amount": "12.50", "currency": "usd"},
        {"amount": "twelve", "currency": "USD"},
        {"amount": "NaN", "currency": "USD"},
        {"amount": "Infinity", "currency": "USD"},
        {"amount": True, "currency": "USD"},
        {"amount": "12.50"},
        {"amount": "12.50", "currency": "USD", "extra": 1},
        "12.50 USD",
    ],
)
def test_bad_money_input_is_refused_naming_the_field(given):
    serializer = PriceSerializer(data={"price": given})

    assert not serializer.is_valid()
    assert list(serializer.errors) == ["price"]


def test_money_round_trips():
    money = Money(123456, "EUR")

    serializer = PriceSerializer(data=PriceSerializer({"price": money}).data)

    assert serializer.is_valid() and serializer.validated_data["price"] == money
