"""Page forms for questions, bids and the award. They parse input; the services decide what is valid."""

from __future__ import annotations

import re
from collections.abc import Sequence

from django import forms

from apps.accounts.roles import OrgKind
from apps.core.errors import DomainError
from apps.experts.models import RosterEntry

from .models import Bid, Question

_ROW_KEY = re.compile(r"allocations\[(\d+)\]\.(bid|volume)")


class QuestionForm(forms.Form):
    text = forms.CharField(
        label="Your question",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The lab sees which organisation asked. If it answers publicly, every bidder sees the question "
        "and the answer, never who asked.",
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(label="Answer", max_length=20000, widget=forms.Textarea(attrs={"rows": 3}))
    visibility = forms.ChoiceField(
        choices=Question.Visibility.choices, widget=forms.RadioSelect, initial=Question.Visibility.PUBLIC
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=2000, required=False)


class TeamField(forms.MultipleChoiceField):
    """Roster experts by id. The choices are what the page offers; whether each id is an active
    expert on the roster is the service's decision (it names the field when one is not)."""

    def validate(self, value):
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")


class BidForm(forms.Form):
    unit_price = forms.DecimalField(
        label="Unit price",
        max_digits=12,
        decimal_places=4,
        widget=forms.NumberInput(attrs={"step": "0.0001", "min": "0"}),
        help_text="Per unit, in the project's currency; up to 4 decimals.",
    )
    volume = forms.IntegerField(
        widget=forms.NumberInput(attrs={"min": "1"}), help_text="Units you offer (at most the project's volume)."
    )
    weekly_capacity = forms.IntegerField(
        label="Weekly capacity", widget=forms.NumberInput(attrs={"min": "1"}), help_text="Units per week."
    )
    starts_on = forms.DateField(label="Start", widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label="End", widget=forms.DateInput(attrs={"type": "date"}))
    proposal = forms.CharField(
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Your approach, quality process and relevant experience. Only the lab sees it, after bidding closes.",
    )
    team = TeamField(required=False, label="Proposed team", widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, organization, roster: Sequence[RosterEntry] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.is_individual = organization.kind == OrgKind.INDIVIDUAL
        if self.is_individual:
            del self.fields["team"]  # an independent expert bids as themself
            self.team_options = []
            return
        self.fields["team"].choices = [(str(e.user.public_id), e.user.display_name) for e in roster]
        chosen = {str(v) for v in (self["team"].value() or [])}
        self.team_options = [
            {
                "value": str(e.user.public_id),
                "name": e.user.full_name or e.user.email,
                "handle": getattr(getattr(e.user, "expert_profile", None), "handle", ""),
                "credentials": getattr(getattr(e.user, "expert_profile", None), "verified_credentials", []),
                "checked": str(e.user.public_id) in chosen,
            }
            for e in roster
        ]

    @staticmethod
    def initial_for(bid: Bid, team_ids: list[str]) -> dict:
        return {
            "unit_price": bid.unit_price,
            "volume": bid.volume,
            "weekly_capacity": bid.weekly_capacity,
            "starts_on": bid.starts_on,
            "ends_on": bid.ends_on,
            "proposal": bid.proposal,
            "team": team_ids,
        }

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        team = data.pop("team", None)
        return {"team": None if self.is_individual else list(team or []), **data}


class AwardForm(forms.Form):
    """One volume input per live bid (``allocations[i].volume``, with the bid in ``allocations[i].bid``)
    and a note. Empty or zero rows award nothing; the rest go to the service in row order."""

    note = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional; kept with the award.",
    )

    def __init__(self, *args, bids: Sequence[Bid], **kwargs):
        super().__init__(*args, **kwargs)
        self.bids = list(bids)
        for index, bid in enumerate(self.bids):
            self.fields[f"allocations[{index}].bid"] = forms.CharField(
                required=False, widget=forms.HiddenInput, initial=str(bid.public_id)
            )
            self.fields[f"allocations[{index}].volume"] = forms.IntegerField(
                required=False,
                min_value=0,
                label=f"Volume for {bid.bidder_label}",
                widget=forms.NumberInput(attrs={"min": "0", "max": str(bid.volume), "data-award-volume": ""}),
            )
        self._sent: list[int] = []

    def rows(self) -> list[dict]:
        out = []
        for index, bid in enumerate(self.bids):
            volume = self[f"allocations[{index}].volume"]
            out.append({"index": index, "bid": bid, "bid_field": self[f"allocations[{index}].bid"], "volume": volume})
        return out

    def allocations(self) -> list[dict]:
        """The rows with a volume, for ``award_create``; remembers which form row each one is."""
        items = []
        self._sent = []
        for index in range(len(self.bids)):
            volume = self.cleaned_data.get(f"allocations[{index}].volume")
            if volume:
                items.append({"bid": self.cleaned_data.get(f"allocations[{index}].bid", ""), "volume": volume})
                self._sent.append(index)
        return items

    def apply_service_error(self, error: DomainError) -> None:
        """Put the service's row errors (numbered among the rows sent) on the form's rows, each also
        named in the summary as ``allocations[i].volume`` with the form's row number."""
        placed = False
        for key, problems in (error.details or {}).items():
            problems = problems if isinstance(problems, list | tuple) else [problems]
            match = _ROW_KEY.fullmatch(key)
            if match and int(match[1]) < len(self._sent):
                index = self._sent[int(match[1])]
                for problem in problems:
                    self.add_error(None, f"allocations[{index}].{match[2]}: {problem}")
                    self.add_error(f"allocations[{index}].volume", str(problem))
                placed = True
            elif key == "note":
                for problem in problems:
                    self.add_error("note", str(problem))
                placed = True
            elif key == "allocations":
                self.add_error(None, error.message if list(problems) == ["Required."] else " ".join(problems))
                placed = True
        if not placed:
            self.add_error(None, error.message)
