"""Page forms for projects and their guidelines. They parse input; the services decide what is valid."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

from django import forms

from apps.accounts.models import Organization
from apps.accounts.roles import OrgKind
from apps.core.money import SUPPORTED_CURRENCIES, Money
from apps.experts.forms import domain_choices
from apps.experts.models import CredentialType
from apps.experts.selectors import owner_handle, supplier_label

from .models import Project, TaskType, Unit, Visibility

# Browsers post datetime-local as "2026-05-01T14:30"; the site's time zone is UTC.
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class ProjectForm(forms.Form):
    """A draft project. Every field but the title may stay empty until publishing."""

    title = forms.CharField(max_length=200)
    description = forms.CharField(
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="What the data is for, what experts will do and what a good unit looks like.",
    )
    task_type = forms.ChoiceField(required=False, label="Task type", choices=[("", "—")] + list(TaskType.choices))
    domain = forms.ChoiceField(required=False)
    required_credential_types = forms.MultipleChoiceField(
        required=False,
        label="Required credentials",
        choices=CredentialType.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only experts with a verified credential of each ticked type can work on it.",
    )
    unit_name = forms.ChoiceField(required=False, label="Unit", choices=[("", "—")] + list(Unit.choices))
    volume = forms.IntegerField(required=False, min_value=1, help_text="Units wanted.")
    currency = forms.ChoiceField(choices=[(c, c) for c in SUPPORTED_CURRENCIES])
    budget_cap = forms.DecimalField(
        required=False, min_value=0, max_digits=16, decimal_places=2, label="Budget cap",
        help_text="In major units of the currency, e.g. 25000.00.",
    )  # fmt: skip
    target_unit_price = forms.DecimalField(
        required=False, min_value=0, max_digits=12, decimal_places=4, label="Target unit price",
        help_text="Per unit, up to 4 decimals. Bidders see it.",
    )  # fmt: skip
    sla_min_gold_accuracy = forms.DecimalField(
        required=False, max_digits=5, decimal_places=4, label="SLA: min. gold accuracy",
        help_text="A fraction, e.g. 0.85. Until a bidder has a quality history, bids are compared at this accuracy.",
    )  # fmt: skip
    sla_min_alpha = forms.DecimalField(
        required=False, max_digits=5, decimal_places=4, label="SLA: min. Krippendorff's alpha",
        help_text="Inter-annotator agreement, e.g. 0.6. Optional.",
    )  # fmt: skip
    sla_max_turnaround_days = forms.IntegerField(
        required=False, min_value=1, label="SLA: max. turnaround (days)", help_text="From batch assignment to delivery."
    )
    bid_deadline = forms.DateTimeField(
        required=False,
        label="Bid deadline (UTC)",
        input_formats=[DATETIME_LOCAL, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(format=DATETIME_LOCAL, attrs={"type": "datetime-local"}),
        help_text="Date and time in UTC. Bidding closes automatically then.",
    )
    starts_on = forms.DateField(required=False, label="Work starts", widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(required=False, label="Work ends", widget=forms.DateInput(attrs={"type": "date"}))
    visibility = forms.ChoiceField(choices=Visibility.choices, widget=forms.RadioSelect, initial=Visibility.PUBLIC)
    invited_organizations = forms.MultipleChoiceField(
        required=False,
        label="Invited organisations",
        help_text="Vendors and independent experts who may see and bid on an invited-only project.",
    )
    show_bid_count = forms.BooleanField(required=False, label="Show bidders how many bids were received")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["domain"].choices = [("", "—")] + domain_choices(parents_selectable=False)
        # An independent expert's organisation carries their own name: labs see it by handle only.
        suppliers = (
            Organization.objects.exclude(kind=OrgKind.LAB).annotate(handle=owner_handle("pk")).order_by("name", "id")
        )
        self.fields["invited_organizations"].choices = [
            (str(o.public_id), f"{supplier_label(o, o.handle)} ({o.get_kind_display().lower()})") for o in suppliers
        ]

    @staticmethod
    def initial_for(project: Project) -> dict:
        budget = None
        if project.budget_cap_minor is not None:
            budget = Money(project.budget_cap_minor, project.currency).amount
        return {
            "title": project.title,
            "description": project.description,
            "task_type": project.task_type,
            "domain": project.domain.slug if project.domain_id else "",
            "required_credential_types": project.required_credential_types,
            "unit_name": project.unit_name,
            "volume": project.volume,
            "currency": project.currency,
            "budget_cap": budget,
            "target_unit_price": project.target_unit_price,
            "sla_min_gold_accuracy": project.sla_min_gold_accuracy,
            "sla_min_alpha": project.sla_min_alpha,
            "sla_max_turnaround_days": project.sla_max_turnaround_days,
            "bid_deadline": project.bid_deadline,
            "starts_on": project.starts_on,
            "ends_on": project.ends_on,
            "visibility": project.visibility,
            "invited_organizations": [str(o.public_id) for o in project.invited_organizations.all()],
            "show_bid_count": project.show_bid_count,
        }

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        for name in ("budget_cap", "target_unit_price", "sla_min_gold_accuracy", "sla_min_alpha"):
            value = data[name]
            data[name] = None if value is None else str(value)
        if data["visibility"] != Visibility.INVITED:
            data["invited_organizations"] = []
        return data


class GuidelineForm(forms.Form):
    body_markdown = forms.CharField(
        label="Guidelines (Markdown)",
        max_length=200_000,
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "true"}),
        help_text="Headings, lists, tables, links and code. Scripts, styles and embeds are removed.",
    )
    change_summary = forms.CharField(
        required=False,
        max_length=300,
        label="What changed",
        help_text="Required from version 2 on; experts who read an earlier version are asked to acknowledge again.",
    )


class MarketplaceFilterForm(forms.Form):
    task_type = forms.ChoiceField(required=False, label="Task type", choices=[("", "Any")] + list(TaskType.choices))
    domain = forms.ChoiceField(required=False)
    min_budget = forms.DecimalField(
        required=False, min_value=0, max_digits=16, decimal_places=2, label="Min. budget",
        help_text="In the project's currency.",
    )  # fmt: skip
    deadline_before = forms.DateField(
        required=False, label="Bids close by", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["domain"].choices = [("", "Any")] + domain_choices(parents_selectable=True)

    def deadline_limit(self) -> datetime | None:
        """The end of the chosen day, in UTC."""
        day = self.cleaned_data.get("deadline_before")
        return datetime.combine(day, time.max, tzinfo=UTC) if day else None

    def min_budget_value(self) -> Decimal | None:
        return self.cleaned_data.get("min_budget")
