"""Finance's ledger forms: journal filters, the CSV export period and the adjusting entry.
They parse input (amounts in major units, exact); the ledger's services decide what is valid."""

from __future__ import annotations

import secrets
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils import timezone

from apps.core.money import SUPPORTED_CURRENCIES, Money, exponent, to_minor

from .services import Leg

ADJUST_ROWS = 6
CURRENCY_CHOICES = [(c, c) for c in SUPPORTED_CURRENCIES]
_DATE = forms.DateInput(attrs={"type": "date"})


def fresh_adjustment_key() -> str:
    """A one-time token for one adjusting-entry form: a resubmission posts nothing more."""
    return f"adjustment:{timezone.now():%Y%m%d}-{secrets.token_hex(8)}"


class PeriodMixin:
    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("occurred_from"), cleaned.get("occurred_to")
        if start and end and start > end:
            self.add_error("occurred_to", "The last day must not be before the first.")
        return cleaned


class JournalFilterForm(PeriodMixin, forms.Form):
    account = forms.CharField(
        label="Account code", required=False, max_length=120, help_text="Exact code, e.g. stripe_balance."
    )
    source_type = forms.CharField(label="Source type", required=False, max_length=60)
    source_id = forms.CharField(label="Source id", required=False, max_length=120)
    occurred_from = forms.DateField(label="From", required=False, widget=_DATE)
    occurred_to = forms.DateField(label="To", required=False, widget=_DATE)


class BalanceFilterForm(forms.Form):
    currency = forms.ChoiceField(label="Currency", required=False, choices=[("", "All"), *CURRENCY_CHOICES])
    as_of = forms.DateField(label="As of (end of day, UTC)", required=False, widget=_DATE)


class ExportForm(PeriodMixin, forms.Form):
    occurred_from = forms.DateField(label="From", widget=_DATE)
    occurred_to = forms.DateField(label="To", widget=_DATE)


class AdjustmentForm(forms.Form):
    """An adjusting entry: a description, a reason, and up to ``ADJUST_ROWS`` rows of account +
    debit or credit. ``cleaned_data["legs"]`` holds the legs; ``rows`` the form row of each leg."""

    key = forms.CharField(widget=forms.HiddenInput, max_length=200)
    description = forms.CharField(label="Description", max_length=500)
    currency = forms.ChoiceField(label="Currency", choices=CURRENCY_CHOICES, initial="USD")
    reason = forms.CharField(
        label="Reason", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the books need this correction (e.g. the reconciliation exception). Kept with the entry.",
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for row in range(1, ADJUST_ROWS + 1):
            self.fields[f"leg_{row}_account"] = forms.CharField(
                label=f"Row {row}: account", required=False, max_length=120
            )
            self.fields[f"leg_{row}_debit"] = forms.CharField(label=f"Row {row}: debit", required=False, max_length=30)
            self.fields[f"leg_{row}_credit"] = forms.CharField(
                label=f"Row {row}: credit", required=False, max_length=30
            )
        self.rows: list[int] = []

    def row_fields(self):
        """(row number, account field, debit field, credit field) for the template."""
        return [
            (row, self[f"leg_{row}_account"], self[f"leg_{row}_debit"], self[f"leg_{row}_credit"])
            for row in range(1, ADJUST_ROWS + 1)
        ]

    def _amount(self, row: int, side: str, raw: str, currency: str) -> int | None:
        try:
            value = Decimal(raw.replace(",", "").strip())
        except InvalidOperation:
            self.add_error(f"leg_{row}_{side}", f"Row {row}: {raw!r} is not an amount.")
            return None
        digits = exponent(currency)
        if not value.is_finite() or value <= 0:
            self.add_error(f"leg_{row}_{side}", f"Row {row}: the {side} must be more than zero.")
            return None
        if value != value.quantize(Decimal(1).scaleb(-digits)):
            self.add_error(f"leg_{row}_{side}", f"Row {row}: {currency} amounts have at most {digits} decimal places.")
            return None
        return to_minor(value, currency)

    def clean(self):
        cleaned = super().clean()
        currency = cleaned.get("currency")
        legs: list[Leg] = []
        rows: list[int] = []
        for row in range(1, ADJUST_ROWS + 1):
            code = (cleaned.get(f"leg_{row}_account") or "").strip()
            debit = (cleaned.get(f"leg_{row}_debit") or "").strip()
            credit = (cleaned.get(f"leg_{row}_credit") or "").strip()
            if not (code or debit or credit):
                continue
            if not code:
                self.add_error(f"leg_{row}_account", f"Row {row}: name the account.")
            if bool(debit) == bool(credit):
                self.add_error(f"leg_{row}_debit", f"Row {row}: give either a debit or a credit.")
                continue
            if currency is None:
                continue
            side, raw = ("debit", debit) if debit else ("credit", credit)
            amount = self._amount(row, side, raw, currency)
            if amount is not None and code:
                legs.append(Leg(code, amount if side == "debit" else -amount))
                rows.append(row)
        if not self.errors:
            if len(legs) < 2:
                self.add_error(None, "An entry needs at least two rows: something debited and something credited.")
            elif sum(leg.amount for leg in legs):
                debits = sum(leg.amount for leg in legs if leg.amount > 0)
                credits = -sum(leg.amount for leg in legs if leg.amount < 0)
                self.add_error(
                    None,
                    f"Debits ({_major(debits, currency)}) and credits ({_major(credits, currency)}) must be equal; "
                    f"they differ by {_major(abs(debits - credits), currency)} {currency}.",
                )
        cleaned["legs"] = legs
        self.rows = rows
        return cleaned

    def field_for(self, detail_key: str) -> str | None:
        """The form field a service error's ``legs.<n>`` names (the n-th leg posted)."""
        prefix, _, number = detail_key.partition(".")
        if prefix != "legs" or not number.isdigit() or not 0 < int(number) <= len(self.rows):
            return None
        return f"leg_{self.rows[int(number) - 1]}_account"


def _major(minor: int, currency: str) -> str:
    return Money(minor, currency).format_amount()
