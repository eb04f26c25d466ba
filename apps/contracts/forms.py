"""Page forms for contracts: signing, the lifecycle, amendments and assignments. They parse input;
the services decide what is valid (and name the field or row when it is not)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms

from apps.core.errors import DomainError
from apps.core.money import Money, to_minor

from .models import ContractVersion

# How many empty rows the amendment form offers beyond the bands and milestones in force.
SPARE_BAND_ROWS = 1
SPARE_MILESTONE_ROWS = 1
MAX_ROWS = 12

_BAND_KEY = re.compile(r"quality_pay\[(\d+)\](?:\.(accuracy|multiplier))?")
_MILESTONE_KEY = re.compile(r"milestones\[(\d+)\]\.(title|amount|due_on|acceptance_criteria)")
MILESTONE_PARTS = ("title", "amount", "due_on", "acceptance_criteria")
MILESTONE_LABELS = {
    "title": "Title",
    "amount": "Amount",
    "due_on": "Due date",
    "acceptance_criteria": "Acceptance criteria",
}


class SignForm(forms.Form):
    """The hash of the terms the signer was shown; the service refuses a sign-off of other terms."""

    terms_hash = forms.CharField(max_length=64, widget=forms.HiddenInput)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=2000, required=False)


class ExpertField(forms.ChoiceField):
    """An expert by id. The choices are what the page offers; whether the id is assignable is the
    service's decision (it names every unmet gate)."""

    def validate(self, value):
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")


class AssignForm(forms.Form):
    expert = ExpertField(label="Expert")

    def __init__(self, *args, candidates: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "Choose an expert")]
        for candidate in candidates:
            unmet = len(candidate["gates"])
            status = "ready" if not unmet else f"{unmet} gate{'s' if unmet != 1 else ''} unmet"
            choices.append((candidate["value"], f"{candidate['label']} ({status})"))
        self.fields["expert"].choices = choices


def _row_count(data, prefix: str, at_least: int) -> int:
    """The rows a submitted form had (its highest row number + 1), or ``at_least``."""
    highest = -1
    if data is not None:
        pattern = re.compile(re.escape(prefix) + r"\[(\d+)\]\.")
        for key in data:
            match = pattern.match(key)
            if match:
                highest = max(highest, int(match[1]))
    return min(MAX_ROWS, max(at_least, highest + 1))


class AmendmentForm(forms.Form):
    """New terms, prefilled with the terms they amend. Only what differs from those terms is sent
    to ``contract_amend``. Quality-pay bands and milestones are rows (``quality_pay[i].accuracy``,
    ``milestones[i].title``, ...); an empty row is left out and the service's row numbers are
    mapped back to the form's."""

    unit_rate = forms.DecimalField(
        label="Unit rate",
        max_digits=12,
        decimal_places=4,
        widget=forms.NumberInput(attrs={"step": "0.0001", "min": "0"}),
    )
    volume_cap = forms.IntegerField(label="Volume cap", min_value=1, widget=forms.NumberInput(attrs={"min": "1"}))
    budget_cap = forms.DecimalField(
        label="Budget cap",
        max_digits=14,
        decimal_places=3,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
    )
    sla_min_gold_accuracy = forms.DecimalField(
        label="Minimum gold accuracy",
        required=False,
        min_value=Decimal("0"),
        max_value=Decimal("1"),
        max_digits=5,
        decimal_places=4,
        widget=forms.NumberInput(attrs={"step": "0.0001", "min": "0", "max": "1"}),
        help_text="0 to 1; empty for none.",
    )
    sla_min_alpha = forms.DecimalField(
        label="Minimum Krippendorff's α",
        required=False,
        min_value=Decimal("-1"),
        max_value=Decimal("1"),
        max_digits=5,
        decimal_places=4,
        widget=forms.NumberInput(attrs={"step": "0.0001", "min": "-1", "max": "1"}),
        help_text="Empty for none.",
    )
    sla_max_turnaround_days = forms.IntegerField(
        label="Maximum turnaround (days)",
        required=False,
        min_value=1,
        max_value=365,
        widget=forms.NumberInput(attrs={"min": "1"}),
        help_text="Empty for none.",
    )
    review_window_days = forms.IntegerField(
        label="Review window (days)", min_value=0, max_value=365, widget=forms.NumberInput(attrs={"min": "0"})
    )
    appeal_window_days = forms.IntegerField(
        label="Appeal window (days)", min_value=0, max_value=365, widget=forms.NumberInput(attrs={"min": "0"})
    )
    notice_period_days = forms.IntegerField(
        label="Notice period (days)", min_value=0, max_value=365, widget=forms.NumberInput(attrs={"min": "0"})
    )
    ends_on = forms.DateField(label="End date", widget=forms.DateInput(attrs={"type": "date"}))
    change_summary = forms.CharField(
        label="What changes and why",
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Both sides see it in the version history.",
    )

    SCALARS = (
        "unit_rate",
        "volume_cap",
        "budget_cap",
        "sla_min_gold_accuracy",
        "sla_min_alpha",
        "sla_max_turnaround_days",
        "review_window_days",
        "appeal_window_days",
        "notice_period_days",
        "ends_on",
    )

    def __init__(self, data=None, *, base: ContractVersion, base_terms: dict[str, Any], **kwargs):
        self.base = base
        self.base_terms = base_terms
        self.currency = base.currency
        bands = base_terms["quality_pay"]
        milestones = base_terms["milestones"]
        if data is None:
            kwargs.setdefault("initial", self.initial_from(base, bands, milestones))
        super().__init__(data, **kwargs)
        self.band_count = _row_count(data, "quality_pay", len(bands) + SPARE_BAND_ROWS)
        self.milestone_count = _row_count(data, "milestones", len(milestones) + SPARE_MILESTONE_ROWS)
        for i in range(self.band_count):
            self.fields[f"quality_pay[{i}].accuracy"] = forms.DecimalField(
                label=f"Band {i + 1}: minimum gold accuracy",
                required=False,
                max_digits=6,
                decimal_places=4,
                widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "1"}),
            )
            self.fields[f"quality_pay[{i}].multiplier"] = forms.DecimalField(
                label=f"Band {i + 1}: pay multiplier",
                required=False,
                max_digits=6,
                decimal_places=4,
                widget=forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
            )
        for i in range(self.milestone_count):
            self.fields[f"milestones[{i}].title"] = forms.CharField(
                label=f"Milestone {i + 1}: title", required=False, max_length=200
            )
            self.fields[f"milestones[{i}].amount"] = forms.DecimalField(
                label=f"Milestone {i + 1}: amount ({self.currency})",
                required=False,
                max_digits=14,
                decimal_places=3,
                widget=forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
            )
            self.fields[f"milestones[{i}].due_on"] = forms.DateField(
                label=f"Milestone {i + 1}: due date", required=False, widget=forms.DateInput(attrs={"type": "date"})
            )
            self.fields[f"milestones[{i}].acceptance_criteria"] = forms.CharField(
                label=f"Milestone {i + 1}: acceptance criteria",
                required=False,
                max_length=5000,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        self._sent_bands: list[int] = []
        self._sent_milestones: list[int] = []

    @staticmethod
    def initial_from(base: ContractVersion, bands: list, milestones: list[dict]) -> dict:
        initial: dict[str, Any] = {
            "unit_rate": base.unit_rate,
            "volume_cap": base.volume_cap,
            "budget_cap": _major(base.budget_cap_minor, base.currency),
            "sla_min_gold_accuracy": base.sla_min_gold_accuracy,
            "sla_min_alpha": base.sla_min_alpha,
            "sla_max_turnaround_days": base.sla_max_turnaround_days,
            "review_window_days": base.review_window_days,
            "appeal_window_days": base.appeal_window_days,
            "notice_period_days": base.notice_period_days,
            "ends_on": base.ends_on,
        }
        for i, (accuracy, multiplier) in enumerate(bands):
            initial[f"quality_pay[{i}].accuracy"] = accuracy
            initial[f"quality_pay[{i}].multiplier"] = multiplier
        for i, m in enumerate(milestones):
            initial[f"milestones[{i}].title"] = m["title"]
            initial[f"milestones[{i}].amount"] = _major(m["amount_minor"], base.currency)
            initial[f"milestones[{i}].due_on"] = m["due_on"]
            initial[f"milestones[{i}].acceptance_criteria"] = m["acceptance_criteria"]
        return initial

    # --- rows, for the template -------------------------------------------------------------------

    def band_rows(self) -> list[dict]:
        return [
            {
                "index": i,
                "number": i + 1,
                "accuracy": self[f"quality_pay[{i}].accuracy"],
                "multiplier": self[f"quality_pay[{i}].multiplier"],
                "errors": self.errors.get(f"quality_pay[{i}].accuracy", [])
                + self.errors.get(f"quality_pay[{i}].multiplier", []),
            }
            for i in range(self.band_count)
        ]

    def milestone_rows(self) -> list[dict]:
        rows = []
        for i in range(self.milestone_count):
            parts = {part: self[f"milestones[{i}].{part}"] for part in MILESTONE_PARTS}
            rows.append({"index": i, "number": i + 1, **parts, "has_errors": any(p.errors for p in parts.values())})
        return rows

    # --- what goes to the service -----------------------------------------------------------------

    def clean(self):
        cleaned = super().clean()
        for i in range(self.band_count):
            accuracy = cleaned.get(f"quality_pay[{i}].accuracy")
            multiplier = cleaned.get(f"quality_pay[{i}].multiplier")
            if (accuracy is None) != (multiplier is None) and not self._row_has_errors("quality_pay", i):
                self._row_error(i, "Give both the minimum accuracy and the multiplier, or leave the row empty.")
        return cleaned

    def _row_has_errors(self, prefix: str, i: int) -> bool:
        return any(key.startswith(f"{prefix}[{i}].") for key in self.errors)

    def _row_error(self, i: int, message: str) -> None:
        self.add_error(None, f"Quality-pay band {i + 1}: {message}")
        self.add_error(f"quality_pay[{i}].accuracy", message)

    def changes(self) -> dict[str, Any]:
        """The terms that differ from those in force, as ``contract_amend`` takes them."""
        data = self.cleaned_data
        base, terms = self.base, self.base_terms
        out: dict[str, Any] = {}
        if data["unit_rate"] != base.unit_rate:
            out["unit_rate"] = str(data["unit_rate"])
        if data["volume_cap"] != base.volume_cap:
            out["volume_cap"] = data["volume_cap"]
        if to_minor(data["budget_cap"], self.currency) != base.budget_cap_minor:
            out["budget_cap"] = str(data["budget_cap"])
        for name in ("sla_min_gold_accuracy", "sla_min_alpha"):
            if data[name] != getattr(base, name):
                out[name] = "" if data[name] is None else str(data[name])
        for name in ("sla_max_turnaround_days", "review_window_days", "appeal_window_days", "notice_period_days"):
            if data[name] != getattr(base, name):
                out[name] = data[name]
        if data["ends_on"] != base.ends_on:
            out["ends_on"] = data["ends_on"].isoformat()

        bands, self._sent_bands = [], []
        for i in range(self.band_count):
            accuracy = data.get(f"quality_pay[{i}].accuracy")
            multiplier = data.get(f"quality_pay[{i}].multiplier")
            if accuracy is None and multiplier is None:
                continue
            bands.append([f"{accuracy:f}", f"{multiplier:f}"])
            self._sent_bands.append(i)
        old_bands = [[Decimal(a), Decimal(m)] for a, m in terms["quality_pay"]]
        if [[Decimal(a), Decimal(m)] for a, m in bands] != old_bands:
            out["quality_pay"] = bands

        milestones, self._sent_milestones = [], []
        for i in range(self.milestone_count):
            row = {part: data.get(f"milestones[{i}].{part}") for part in MILESTONE_PARTS}
            if all(value in (None, "") for value in row.values()):
                continue
            milestones.append(
                {
                    "title": row["title"] or "",
                    "amount": "" if row["amount"] is None else str(row["amount"]),
                    "due_on": row["due_on"].isoformat() if isinstance(row["due_on"], date) else "",
                    "acceptance_criteria": row["acceptance_criteria"] or "",
                }
            )
            self._sent_milestones.append(i)
        if self._milestones_differ(milestones, terms["milestones"]):
            out["milestones"] = milestones
        return out

    def _milestones_differ(self, new: list[dict], old: list[dict]) -> bool:
        if len(new) != len(old):
            return True
        for n, o in zip(new, old, strict=True):
            try:
                amount_minor = to_minor(Decimal(n["amount"]), self.currency) if n["amount"] else None
            except ArithmeticError:
                return True
            if (n["title"].strip(), amount_minor, n["due_on"], n["acceptance_criteria"].strip()) != (
                o["title"],
                o["amount_minor"],
                o["due_on"],
                o["acceptance_criteria"],
            ):
                return True
        return False

    def apply_service_error(self, error: DomainError) -> None:
        """Put the service's errors on the fields and rows they name (the service numbers bands and
        milestones among the rows sent), each also in the summary with the form's row number."""
        placed = False
        for key, problems in (error.details or {}).items():
            problems = [str(p) for p in (problems if isinstance(problems, list | tuple) else [problems])]
            band = _BAND_KEY.fullmatch(key)
            milestone = _MILESTONE_KEY.fullmatch(key)
            if band and int(band[1]) < len(self._sent_bands):
                row = self._sent_bands[int(band[1])]
                for problem in problems:
                    self._row_error(row, problem)
                placed = True
            elif milestone and int(milestone[1]) < len(self._sent_milestones):
                row, part = self._sent_milestones[int(milestone[1])], milestone[2]
                for problem in problems:
                    self.add_error(None, f"Milestone {row + 1}, {MILESTONE_LABELS[part].lower()}: {problem}")
                    self.add_error(f"milestones[{row}].{part}", problem)
                placed = True
            elif key == "quality_pay":
                self.add_error(None, "Quality-pay bands: " + " ".join(problems))
                placed = True
            elif key == "milestones":
                self.add_error(None, "Milestones: " + " ".join(problems))
                placed = True
            elif key in self.fields:
                label = self.fields[key].label or key
                for problem in problems:
                    self.add_error(None, f"{label}: {problem}")
                    self.add_error(key, problem)
                placed = True
        if not placed:
            self.add_error(None, error.message)


def _major(minor: int, currency: str) -> Decimal:
    return Money(minor, currency).amount
