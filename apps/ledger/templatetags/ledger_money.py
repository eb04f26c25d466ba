"""``{{ amount|minor:currency }}``: integer minor units as major units with thousands separators."""

from django import template

from apps.core.money import Money, exponent

register = template.Library()


@register.filter
def minor(value, currency: str) -> str:
    if value is None or value == "":
        return ""
    amount = Money(int(value), currency).amount
    return f"{amount:,.{exponent(currency)}f}"
