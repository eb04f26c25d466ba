"""Page forms for delivered work: the supplier's upload and appeal, the lab's review and gold upload,
operations' appeal decision. They parse input; the services decide what is valid."""

from __future__ import annotations

import secrets

from django import forms
from django.utils import timezone

from .models import RejectionReason

FORMAT_CHOICES = [("auto", "From the file name (.jsonl or .csv)"), ("jsonl", "JSONL"), ("csv", "CSV")]
_EXTENSIONS = {"jsonl": "jsonl", "ndjson": "jsonl", "json": "jsonl", "csv": "csv"}
REASON_CHOICES = [("", "Choose a reason"), *RejectionReason.choices]


def fresh_batch_key() -> str:
    """A client batch key nobody used: the date and a random suffix (a retry reuses it)."""
    return f"batch-{timezone.localdate():%Y%m%d}-{secrets.token_hex(4)}"


def resolve_format(chosen: str, filename: str) -> str | None:
    """The upload's format: the one chosen, or the file name's extension's; None if unknown."""
    if chosen in ("jsonl", "csv"):
        return chosen
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return _EXTENSIONS.get(extension)


class BatchUploadForm(forms.Form):
    upload = forms.FileField(
        label="Judgments file",
        help_text="JSONL (one judgment per line) or CSV with a header: item_id, annotator (the expert's id), "
        "label, and optionally displayed_order, started_at, seconds_spent, comment.",
        widget=forms.ClearableFileInput(attrs={"accept": ".jsonl,.ndjson,.json,.csv,text/csv,application/x-ndjson"}),
    )
    fmt = forms.ChoiceField(label="Format", choices=FORMAT_CHOICES, initial="auto")
    period_start = forms.DateField(label="Period from", widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label="Period to", widget=forms.DateInput(attrs={"type": "date"}))
    unit_count = forms.IntegerField(
        label="Units", min_value=1, widget=forms.NumberInput(attrs={"min": "1"}), help_text="Units this batch claims."
    )
    client_batch_key = forms.CharField(
        label="Client batch key",
        max_length=200,
        help_text="Your reference for this delivery. Uploading again with the same key and file changes nothing.",
    )

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("upload")
        if upload is not None:
            fmt = resolve_format(cleaned.get("fmt") or "auto", upload.name or "")
            if fmt is None:
                self.add_error("fmt", "Choose JSONL or CSV: the file name does not end in .jsonl or .csv.")
            cleaned["resolved_fmt"] = fmt
        return cleaned


class AcceptForm(forms.Form):
    """Accept every unit: no input."""


class RejectForm(forms.Form):
    reason = forms.ChoiceField(label="Reason", choices=REASON_CHOICES)
    evidence = forms.CharField(
        label="Evidence",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What you found, specifically enough to check: the supplier and, on appeal, operations read it.",
    )


class PartialForm(RejectForm):
    accepted_units = forms.IntegerField(
        label="Accepted units", min_value=1, widget=forms.NumberInput(attrs={"min": "1"})
    )

    field_order = ["accepted_units", "reason", "evidence"]

    def __init__(self, *args, unit_count: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if unit_count:
            field = self.fields["accepted_units"]
            field.widget.attrs["max"] = str(max(unit_count - 1, 1))
            field.help_text = f"Between 1 and {unit_count - 1} of the batch's {unit_count}; the rest are refused."


class AppealForm(forms.Form):
    reason = forms.CharField(
        label="Why the rejection is wrong",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Platform operations decide; the lab reads your reason too.",
    )


class AppealDecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Decision",
        choices=[("overturn", "Overturn: the batch counts as accepted"), ("uphold", "Uphold the rejection")],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label="Reasons", max_length=5000, widget=forms.Textarea(attrs={"rows": 3}), help_text="Both sides read them."
    )


class GoldUploadForm(forms.Form):
    upload = forms.FileField(
        label="Gold file",
        required=False,
        help_text="JSONL or CSV with item_id and answer.",
        widget=forms.ClearableFileInput(attrs={"accept": ".jsonl,.ndjson,.json,.csv,text/csv,application/x-ndjson"}),
    )
    text = forms.CharField(
        label="Or paste the rows",
        required=False,
        max_length=2_000_000,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "class": "mono"}),
        help_text='One JSON object per line, e.g. {"item_id": "q-17", "answer": "A"}; or CSV starting with the '
        "header line item_id,answer.",
    )
    fmt = forms.ChoiceField(
        label="Format",
        choices=[("auto", "Detect"), *FORMAT_CHOICES[1:]],
        initial="auto",
    )

    def clean(self):
        cleaned = super().clean()
        upload, text = cleaned.get("upload"), (cleaned.get("text") or "").strip()
        chosen = cleaned.get("fmt") or "auto"
        if upload is None and not text:
            if not self.errors:
                self.add_error("upload", "Choose a file or paste the rows.")
            return cleaned
        if upload is not None and text:
            self.add_error("text", "Choose a file or paste the rows, not both.")
            return cleaned
        if upload is not None:
            fmt = resolve_format(chosen, upload.name or "")
        elif chosen in ("jsonl", "csv"):
            fmt = chosen
        else:  # pasted: JSON lines start with "{"
            fmt = "jsonl" if text.startswith("{") else "csv"
        if fmt is None:
            self.add_error("fmt", "Choose JSONL or CSV: the file name does not end in .jsonl or .csv.")
        cleaned["resolved_fmt"] = fmt
        cleaned["text"] = text
        return cleaned
