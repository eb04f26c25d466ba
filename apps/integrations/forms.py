from django import forms

from apps.core.events import EVENT_TYPES

from .models import ALL_EVENTS


def event_type_choices() -> list[tuple[str, str]]:
    return [(ALL_EVENTS, "All event types (including ones added later)")] + [
        (name, f"{name}: {description}") for name, description in sorted(EVENT_TYPES.items())
    ]


class WebhookEndpointForm(forms.Form):
    url = forms.CharField(
        label="URL",
        max_length=2000,
        help_text="https only; it must resolve to public addresses.",
        widget=forms.URLInput(attrs={"placeholder": "https://hooks.example.com/marketplace"}),
    )
    description = forms.CharField(max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        label="Event types",
        choices=event_type_choices,
        initial=[ALL_EVENTS],
        widget=forms.CheckboxSelectMultiple(attrs={"class": "scope-choices"}),
    )
