"""Page forms for the Workforce pages. They parse input; the services decide what is valid."""

from __future__ import annotations

import zoneinfo
from collections import defaultdict

from django import forms
from django.conf.global_settings import LANGUAGES
from django_countries import countries

from apps.core.money import SUPPORTED_CURRENCIES

from . import search_filters
from .models import CredentialType, Domain

LANGUAGE_CHOICES = sorted(((code, f"{name} ({code})") for code, name in LANGUAGES), key=lambda c: c[1])
TIMEZONE_NAMES = sorted(zoneinfo.available_timezones())


def domain_choices(*, parents_selectable: bool) -> list:
    """Domains grouped under their top-level domain, for a grouped select.

    With ``parents_selectable`` (search) the top-level domain itself is the first option of its
    group ("all of Medicine"); for a profile, experts pick the specific domains and the top level.
    """
    domains = list(Domain.objects.select_related("parent").order_by("path"))
    children: dict[int, list[Domain]] = defaultdict(list)
    roots = []
    for domain in domains:
        if domain.parent_id:
            children[domain.parent_id].append(domain)
        else:
            roots.append(domain)
    groups = []
    for root in roots:
        first = (root.slug, f"All of {root.name}" if parents_selectable else f"{root.name} (general)")
        groups.append((root.name, [first] + [(d.slug, d.name) for d in children[root.pk]]))
    return groups


class ProfileForm(forms.Form):
    headline = forms.CharField(
        max_length=160, required=False, help_text="One line labs see next to your handle, e.g. 'Radiologist, 12 years'."
    )
    bio = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Your experience. Labs see it; leave out your name if you want to stay pseudonymous.",
    )
    domains = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, help_text="Choose every domain you work in."
    )
    languages = forms.MultipleChoiceField(required=False, choices=LANGUAGE_CHOICES, widget=forms.CheckboxSelectMultiple)
    country = forms.ChoiceField(required=False, choices=[("", "—")])
    timezone = forms.CharField(
        max_length=64,
        required=False,
        label="Time zone",
        help_text="An IANA name, e.g. Europe/Berlin.",
        widget=forms.TextInput(attrs={"list": "timezone-names", "autocomplete": "off", "spellcheck": "false"}),
    )
    weekly_hours = forms.IntegerField(
        min_value=0, max_value=168, label="Weekly hours", help_text="Hours per week you can work."
    )
    hourly_rate = forms.DecimalField(
        required=False, min_value=0, decimal_places=2, max_digits=12, label="Hourly rate", help_text="Optional."
    )
    rate_currency = forms.ChoiceField(choices=[(c, c) for c in SUPPORTED_CURRENCIES], label="Currency")
    is_discoverable = forms.BooleanField(required=False, label="Labs and vendors can find me in expert search")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["domains"].choices = domain_choices(parents_selectable=False)
        self.fields["country"].choices = [("", "—")] + list(countries)

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        rate = data.pop("hourly_rate")
        data["hourly_rate"] = None if rate is None else str(rate)
        return data


class CredentialForm(forms.Form):
    type = forms.ChoiceField(choices=CredentialType.choices)
    title = forms.CharField(max_length=200, help_text="e.g. 'Board certified, diagnostic radiology'.")
    issuer = forms.CharField(max_length=200, help_text="Who issued it, e.g. 'American Board of Radiology'.")
    identifier = forms.CharField(
        max_length=120, required=False, help_text="Licence or certificate number, if it has one."
    )
    jurisdiction = forms.CharField(max_length=120, required=False, help_text="Country or state, if it applies.")
    issued_on = forms.DateField(required=False, label="Issued on", widget=forms.DateInput(attrs={"type": "date"}))
    expires_on = forms.DateField(required=False, label="Expires on", widget=forms.DateInput(attrs={"type": "date"}))
    evidence = forms.FileField(
        help_text="A PDF, PNG or JPEG of at most 10 MB: a certificate, a licence or a registry page.",
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/png,image/jpeg"}),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=2000, required=False)


class VerifyForm(forms.Form):
    reverify_on = forms.DateField(required=False)


class ResolveFlagForm(forms.Form):
    resolution = forms.CharField(max_length=2000, required=False)


class RosterInviteForm(forms.Form):
    email = forms.EmailField(label="Expert's e-mail", help_text="They get a link to join; new people set a password.")


class ConflictOfInterestForm(forms.Form):
    """Joining a roster: a conflict of interest is declared, or 'none' is chosen explicitly."""

    no_conflict = forms.BooleanField(required=False, label="I have no conflict of interest")
    conflict_of_interest = forms.CharField(
        required=False,
        max_length=5000,
        label="Conflicts of interest",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Employers, clients, grants or holdings that could bias your work for this vendor's customers.",
    )

    def clean(self):
        cleaned = super().clean()
        text = (cleaned.get("conflict_of_interest") or "").strip()
        if cleaned.get("no_conflict") and text:
            self.add_error("conflict_of_interest", "Either describe a conflict or tick “no conflict”, not both.")
        elif not cleaned.get("no_conflict") and not text:
            self.add_error(
                "conflict_of_interest", "Describe your conflicts of interest, or tick “I have no conflict of interest”."
            )
        cleaned["declaration"] = "" if cleaned.get("no_conflict") else text
        return cleaned


class JoinForm(ConflictOfInterestForm):
    """Joining through the e-mailed link with a new account: choose a password as well."""

    full_name = forms.CharField(label="Your name", max_length=150, help_text="Shown to the vendor, never to labs.")
    password1 = forms.CharField(
        label="Choose a password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters; not a common password.",
    )
    password2 = forms.CharField(
        label="Repeat the password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    field_order = ["full_name", "password1", "password2", "no_conflict", "conflict_of_interest"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") and cleaned.get("password2") and cleaned["password1"] != cleaned["password2"]:
            self.add_error("password2", "The two passwords differ.")
        return cleaned


class ExpertSearchForm(forms.Form):
    domain = forms.ChoiceField(required=False)
    credential_type = forms.ChoiceField(
        required=False, label="Verified credential", choices=[("", "Any")] + list(CredentialType.choices)
    )
    country = forms.ChoiceField(required=False)
    language = forms.ChoiceField(required=False, choices=[("", "Any")] + LANGUAGE_CHOICES)
    min_weekly_hours = forms.IntegerField(required=False, min_value=0, max_value=168, label="Min. weekly hours")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["domain"].choices = [("", "Any")] + domain_choices(parents_selectable=True)
        self.fields["country"].choices = [("", "Any")] + list(countries)
        for extra in search_filters.REGISTRY.values():
            self.fields[extra.name] = forms.ChoiceField(
                required=False, label=extra.label, choices=[("", "Any")] + extra.choices()
            )
