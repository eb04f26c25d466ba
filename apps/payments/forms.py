from django import forms

from apps.core.money import SUPPORTED_CURRENCIES


class PayoutRunForm(forms.Form):
    period_start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    currency = forms.ChoiceField(choices=[(c, c) for c in SUPPORTED_CURRENCIES], initial="USD")
