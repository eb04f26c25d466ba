"""Forms of the test pages: a test's settings, an item with its key, an import, a calibration round,
a rubric score and a revocation. Forms parse what the author types into the terms the services take
(option numbers become 0-based indices); the services validate the rest."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms

from apps.accounts.models import Organization
from apps.accounts.roles import OrgKind
from apps.experts.forms import domain_choices

from .models import Item, Test

TEST_FIELDS = [
    "title",
    "kind",
    "instructions",
    "time_limit_minutes",
    "items_per_attempt",
    "max_attempts",
    "cooldown_hours",
    "show_explanations",
    "pass_rule",
    "pass_threshold",
    "graders_per_free_text",
    "qualification_valid_days",
]


class TestForm(forms.ModelForm):
    """The settings; ``domain`` is a Domain slug (grouped by top-level domain) the service resolves."""

    domain = forms.ChoiceField(required=False, help_text="The field the test qualifies experts in.")

    class Meta:
        model = Test
        fields = TEST_FIELDS
        widgets = {"instructions": forms.Textarea(attrs={"rows": 4})}
        labels = {"pass_threshold": "Pass threshold (0–1)"}

    field_order = ["title", "domain"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["domain"].choices = [("", "—")] + domain_choices(parents_selectable=False)
        if self.instance.domain_id and "domain" not in self.initial:
            self.initial["domain"] = self.instance.domain.slug


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class ItemForm(forms.Form):
    type = forms.ChoiceField(choices=Item.Type.choices)
    prompt = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    options = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One option per line (choice items), or the two sides A then B (A/B preference).",
    )
    key = forms.CharField(
        required=False,
        label="Answer key",
        help_text="Single choice: the option number (1 = first). Multiple choice: numbers separated by commas. "
        "A/B: A, B or tie. Likert: the point. Numeric: the number. Free text: leave empty.",
    )
    allow_tie = forms.BooleanField(required=False, label="A/B: a tie is a valid answer")
    ask_strength = forms.BooleanField(required=False, label="A/B: also ask the strength (1–3)")
    likert_points = forms.TypedChoiceField(
        required=False, choices=[("", "—"), ("5", "5"), ("7", "7")], coerce=int, empty_value=None
    )
    numeric_tolerance = forms.DecimalField(required=False, max_digits=14, decimal_places=6, min_value=0)
    rubric = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Free text: one criterion per line as “criterion | points”.",
    )
    section = forms.CharField(required=False, max_length=100)
    explanation = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def _number(self, text: str, field: str = "key") -> int:
        try:
            return int(text.strip())
        except ValueError:
            raise forms.ValidationError({field: f"“{text.strip()}” is not a whole number."}) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = data.get("type")
        raw_key = (data.get("key") or "").strip()
        options = _lines(data.get("options", ""))
        data["options"] = options or None
        key: Any = None
        if kind == Item.Type.SINGLE_CHOICE and raw_key:
            key = self._number(raw_key) - 1
        elif kind == Item.Type.MULTIPLE_CHOICE and raw_key:
            key = sorted(self._number(part) - 1 for part in raw_key.split(",") if part.strip())
        elif kind == Item.Type.AB_PREFERENCE and raw_key:
            lowered = raw_key.lower()
            key = {"a": "A", "b": "B", "tie": "tie"}.get(lowered)
            if key is None:
                raise forms.ValidationError({"key": "Use A, B or tie."})
        elif kind == Item.Type.LIKERT and raw_key:
            key = self._number(raw_key)
        elif kind == Item.Type.NUMERIC and raw_key:
            try:
                Decimal(raw_key)
            except InvalidOperation:
                raise forms.ValidationError({"key": f"“{raw_key}” is not a number."}) from None
            key = raw_key
        data["key"] = key
        rubric = []
        for line in _lines(data.get("rubric", "")):
            criterion, _, points = line.rpartition("|")
            if not criterion.strip():
                raise forms.ValidationError({"rubric": f"“{line}” needs the form “criterion | points”."})
            rubric.append({"criterion": criterion.strip(), "points": self._number(points, "rubric")})
        data["rubric"] = rubric or None
        return data


class ImportForm(forms.Form):
    upload = forms.FileField(label="Items file")
    fmt = forms.ChoiceField(
        label="Format", choices=[("auto", "From the file name"), ("jsonl", "JSON Lines"), ("csv", "CSV")]
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        upload = data.get("upload")
        fmt = data.get("fmt") or "auto"
        if upload is not None and fmt == "auto":
            name = (upload.name or "").lower()
            if name.endswith(".csv"):
                fmt = "csv"
            elif name.endswith((".jsonl", ".ndjson", ".json")):
                fmt = "jsonl"
            else:
                raise forms.ValidationError({"fmt": "Choose the format: the file name does not tell."})
        data["resolved_fmt"] = fmt
        return data


class CalibrationRoundForm(forms.Form):
    title = forms.CharField(max_length=200)
    test = forms.ModelChoiceField(queryset=Test.objects.none(), help_text="A published test of yours.")
    deadline = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    suppliers = forms.ModelMultipleChoiceField(
        queryset=Organization.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    pilot_project = forms.ModelChoiceField(queryset=None, required=False, help_text="Optional: a paid pilot.")

    def __init__(self, *args, tests=None, projects=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["test"].queryset = tests if tests is not None else Test.objects.none()
        self.fields["suppliers"].queryset = Organization.objects.filter(
            kind__in=[OrgKind.VENDOR, OrgKind.INDIVIDUAL]
        ).order_by("name")
        from apps.projects.models import Project

        self.fields["pilot_project"].queryset = projects if projects is not None else Project.objects.none()


class RevokeForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class ScoreForm(forms.Form):
    """One number field per rubric criterion, 0..its points."""

    def __init__(self, *args, rubric=(), **kwargs):
        super().__init__(*args, **kwargs)
        for i, criterion in enumerate(rubric):
            self.fields[f"c{i}"] = forms.IntegerField(
                label=f"{criterion.get('criterion', '')} (0–{criterion.get('points', 0)})",
                min_value=0,
                max_value=int(criterion.get("points", 0)),
            )
        self.count = len(rubric)

    def points(self) -> list[int]:
        return [self.cleaned_data[f"c{i}"] for i in range(self.count)]
