from django import forms

from . import api_scopes
from .roles import ROLES_BY_KIND, Role
from .services import AccountType, signup_complete


class SignupForm(forms.Form):
    """Extra sign-up fields (allauth adds e-mail and password): who the person is."""

    full_name = forms.CharField(max_length=150, label="Your name")
    account_type = forms.ChoiceField(choices=AccountType.CHOICES, widget=forms.RadioSelect, label="I am")
    organization_name = forms.CharField(
        max_length=200, required=False, label="Organisation name", help_text="For a lab or a vendor."
    )

    field_order = ["full_name", "email", "password1", "password2", "account_type", "organization_name"]

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("account_type") in (AccountType.LAB, AccountType.VENDOR)
            and not cleaned.get("organization_name", "").strip()
        ):
            self.add_error("organization_name", "A lab or a vendor needs an organisation name.")
        return cleaned

    def signup(self, request, user):
        signup_complete(
            user=user,
            account_type=self.cleaned_data["account_type"],
            organization_name=self.cleaned_data.get("organization_name", ""),
            full_name=self.cleaned_data["full_name"],
        )


class InvitationForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=[])

    def __init__(self, *args, roles: tuple[str, ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r, Role(r).label) for r in roles]


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=[])

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r, Role(r).label) for r in ROLES_BY_KIND[kind]]


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses this key, e.g. 'labelling pipeline'.")
    expires_at = forms.DateTimeField(
        required=False,
        label="Expires (UTC)",
        help_text="Optional, e.g. 2027-12-31 23:59.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    scopes = forms.MultipleChoiceField(
        choices=api_scopes.scope_choices,
        initial=[api_scopes.FULL_ACCESS],
        widget=forms.CheckboxSelectMultiple(attrs={"class": "scope-choices"}),
        help_text="What the key may do. Give a pipeline only what it needs, e.g. projects:* and bids:read.",
    )


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=200, label="Organisation name")
    kind = forms.ChoiceField(choices=[("lab", "Lab"), ("vendor", "Vendor")], label="Type")
