"""The provenance datasheet of an accepted batch: who did each item (by pseudonymous handle), their
verified credential types, the guideline version they had acknowledged, time spent and the review
outcome; and for the batch, the credential mix and totals.

Who may read it: both parties to the contract (the lab that bought the work, and the supplier
that delivered it, which knows its own people anyway). Only for accepted, partially accepted and
overturned batches. It never carries a gold answer, nor marks which items are gold, nor a label.

Per-judgment rows are streamed from the database (a batch may hold a million); per-annotator facts
are read once for the batch. Credential types are those verified and unexpired when the datasheet
is generated; the guideline version is the highest one the annotator acknowledged on the project
at or before the batch's submission (None if none).

Higher apps add columns without this module importing them (``work`` sits below ``quality`` in the
layers): a *provider* registered with :func:`register_provider` (from its app's ``ready()``) is called
once per datasheet with the batch, the annotators' user ids and whether the reader is the lab, and
returns a :class:`Contribution`: per-item columns (looked up a chunk of item ids at a time, so the rows
still stream), per-annotator facts and summary fields, or None to add nothing.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Sum
from django.utils import timezone

from apps.accounts.models import Organization, User
from apps.core.errors import DomainError
from apps.experts.models import Credential, CredentialType
from apps.experts.selectors import supplier_label, verified_credentials_q
from apps.projects.models import GuidelineAcknowledgement

from .models import Judgment, WorkBatch
from .selectors import annotator_handles, batch_get

ROW_FIELDS = (
    "item_id",
    "annotator",
    "credential_types",
    "guideline_version",
    "started_at",
    "seconds_spent",
    "review_outcome",
)
OUTCOME_LABELS = {
    WorkBatch.Status.ACCEPTED: "Accepted",
    WorkBatch.Status.PARTIALLY_ACCEPTED: "Partially accepted",
    WorkBatch.Status.OVERTURNED: "Accepted on appeal",
}
_CHUNK = 5000
# Spreadsheet formula prefixes: a supplier's item id must not run as a formula in the lab's sheet.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Annotator:
    handle: str
    credential_types: tuple[str, ...]
    guideline_version: int | None
    judgments: int
    seconds_spent: int
    facts: dict[str, Any] = field(default_factory=dict, compare=False)  # from providers, e.g. quality scores


@dataclass(frozen=True)
class Contribution:
    """What one provider adds to a batch's datasheet.

    ``item_columns`` are appended to every row, in this order; ``item_values(item_ids)`` maps each of a
    chunk of item ids to its values (a missing item or column is None). ``annotator_facts`` maps an
    annotator's user id to facts shown with the annotator; ``summary`` is merged into the summary."""

    item_columns: tuple[str, ...] = ()
    item_values: Callable[[list[str]], dict[str, dict[str, Any]]] | None = None
    annotator_facts: dict[int, dict[str, Any]] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)


# provider(batch, annotator user ids, for_lab) -> Contribution | None
Provider = Callable[[WorkBatch, list[int], bool], "Contribution | None"]
_PROVIDERS: list[Provider] = []


def register_provider(provider: Provider) -> None:
    """Add a column provider (idempotent: registering the same function twice adds it once)."""
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def registered_providers() -> tuple[Provider, ...]:
    return tuple(_PROVIDERS)


@dataclass
class Datasheet:
    batch: WorkBatch
    summary: dict[str, Any]
    annotators: dict[int, Annotator]
    contributions: list[Contribution] = field(default_factory=list)

    @property
    def extra_columns(self) -> tuple[str, ...]:
        """The providers' per-item columns, after ``ROW_FIELDS``."""
        return tuple(column for c in self.contributions if c.item_values is not None for column in c.item_columns)

    def rows(self, *, offset: int = 0, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """One row per judgment, in upload order (streamed): all of them, or from the ``offset``-th
        (0-based) at most ``limit``, as a page shows them. Providers' columns follow ``ROW_FIELDS``."""
        outcome = self.batch.status
        annotators = self.annotators
        judgments = (
            Judgment.objects.filter(batch=self.batch)
            .order_by("id")
            .values_list("item_id", "annotator_id", "started_at", "seconds_spent")
        )
        if offset or limit is not None:
            judgments = judgments[offset : None if limit is None else offset + limit]
        lookups = [c for c in self.contributions if c.item_values is not None and c.item_columns]
        chunk: list[tuple] = []
        for record in judgments.iterator(chunk_size=_CHUNK):
            chunk.append(record)
            if len(chunk) >= _CHUNK:
                yield from self._chunk_rows(chunk, annotators, outcome, lookups)
                chunk = []
        yield from self._chunk_rows(chunk, annotators, outcome, lookups)

    @staticmethod
    def _chunk_rows(chunk, annotators, outcome, lookups) -> Iterator[dict[str, Any]]:
        extras: list[tuple[tuple[str, ...], dict[str, dict[str, Any]]]] = []
        if chunk and lookups:
            item_ids = list(dict.fromkeys(record[0] for record in chunk))
            extras = [(c.item_columns, c.item_values(item_ids) or {}) for c in lookups]
        for item_id, annotator_id, started_at, seconds in chunk:
            who = annotators[annotator_id]
            row = {
                "item_id": item_id,
                "annotator": who.handle,
                "credential_types": list(who.credential_types),
                "guideline_version": who.guideline_version,
                "started_at": started_at.isoformat() if started_at else None,
                "seconds_spent": seconds,
                "review_outcome": outcome,
            }
            for columns, values in extras:
                found = values.get(item_id) or {}
                for column in columns:
                    row[column] = found.get(column)
            yield row


def datasheet_get(*, actor: User, organization: Organization | None, public_id: Any) -> Datasheet:
    """The datasheet of a batch the actor's organisation is a party to (else NotFound); refused
    (``batch_not_accepted``) unless the batch was accepted in whole, in part or on appeal."""
    batch = batch_get(actor=actor, organization=organization, public_id=public_id)
    if batch.status not in WorkBatch.ACCEPTED_STATES:
        raise DomainError(
            "A datasheet exists once the batch is accepted (in whole, in part or on appeal).",
            code="batch_not_accepted",
            details={"status": batch.status},
        )
    return build(batch, for_lab=organization is not None and organization.pk == batch.contract.lab_id)


def build(batch: WorkBatch, *, for_lab: bool = False) -> Datasheet:
    """Assemble the datasheet of ``batch`` (unscoped: callers check access, as datasheet_get does).
    ``for_lab``: the reader is the lab that bought the work (providers may add what only it may see)."""
    contract = batch.contract
    per_annotator = list(
        Judgment.objects.filter(batch=batch)
        .values("annotator_id")
        .annotate(n=Count("id"), seconds=Sum("seconds_spent"), timed=Count("seconds_spent"))
        .order_by("annotator_id")
    )
    ids = [row["annotator_id"] for row in per_annotator]
    handles = annotator_handles(ids)
    types: dict[int, set[str]] = {pk: set() for pk in ids}
    for user_id, kind in (
        Credential.objects.filter(verified_credentials_q(), profile__user_id__in=ids)
        .values_list("profile__user_id", "type")
        .distinct()
    ):
        types[user_id].add(kind)
    acknowledged = dict(
        GuidelineAcknowledgement.objects.filter(
            version__project_id=contract.project_id, user_id__in=ids, created_at__lte=batch.created_at
        )
        .values("user_id")
        .annotate(number=Max("version__number"))
        .values_list("user_id", "number")
    )
    annotators = {
        row["annotator_id"]: Annotator(
            handle=handles.get(row["annotator_id"], "(no profile)"),
            credential_types=tuple(sorted(types[row["annotator_id"]])),
            guideline_version=acknowledged.get(row["annotator_id"]),
            judgments=row["n"],
            seconds_spent=row["seconds"] or 0,
        )
        for row in per_annotator
    }
    totals = Judgment.objects.filter(batch=batch).aggregate(
        items=Count("item_id", distinct=True), timed=Count("seconds_spent"), seconds=Sum("seconds_spent")
    )
    mix_annotators: Counter[str] = Counter()
    mix_judgments: Counter[str] = Counter()
    for who in annotators.values():
        for kind in who.credential_types:
            mix_annotators[kind] += 1
            mix_judgments[kind] += who.judgments
    judgment_count = sum(who.judgments for who in annotators.values())
    versions: Counter[int | None] = Counter()
    for who in annotators.values():
        versions[who.guideline_version] += who.judgments
    labels = dict(CredentialType.choices)
    summary = {
        "batch": str(batch.public_id),
        "contract": str(contract.public_id),
        "project": contract.project.title,
        "lab": contract.lab.name,
        "supplier": supplier_label(contract.supplier),
        "period_start": batch.period_start.isoformat(),
        "period_end": batch.period_end.isoformat(),
        "submitted_at": batch.created_at.isoformat(),
        "content_sha256": batch.content_sha256,
        "guideline_version_at_submission": batch.guideline_version.number if batch.guideline_version else None,
        "review_outcome": batch.status,
        "review_outcome_label": OUTCOME_LABELS.get(batch.status, batch.status),
        "auto_accepted": batch.auto_accepted,
        "reviewed_at": batch.reviewed_at.isoformat() if batch.reviewed_at else None,
        "unit_count": batch.unit_count,
        "accepted_units": batch.accepted_units,
        "judgment_count": judgment_count,
        "item_count": totals["items"],
        "annotator_count": len(annotators),
        "seconds_spent_total": totals["seconds"] or 0,
        "judgments_with_time": totals["timed"],
        "credential_mix": [
            {
                "type": kind,
                "label": labels.get(kind, kind),
                "annotators": mix_annotators[kind],
                "judgments": mix_judgments[kind],
            }
            for kind in sorted(mix_annotators)
        ],
        "annotators_without_verified_credential": sum(1 for who in annotators.values() if not who.credential_types),
        "guideline_versions_acknowledged": [
            {"version": version, "judgments": versions[version]}
            for version in sorted(versions, key=lambda v: (v is None, v or 0))
        ],
        "generated_at": timezone.now().isoformat(),
    }
    contributions = [c for c in (provider(batch, ids, for_lab) for provider in _PROVIDERS) if c is not None]
    if contributions:
        for c in contributions:
            summary.update(c.summary)
            for pk, facts in c.annotator_facts.items():
                if pk in annotators:
                    annotators[pk].facts.update(facts)
        summary["annotators"] = [
            {
                "annotator": who.handle,
                "credential_types": list(who.credential_types),
                "guideline_version": who.guideline_version,
                "judgments": who.judgments,
                "seconds_spent": who.seconds_spent,
                **who.facts,
            }
            for who in sorted(annotators.values(), key=lambda a: a.handle)
        ]
    return Datasheet(batch=batch, summary=summary, annotators=annotators, contributions=contributions)


# --- Renderers (streamed) -----------------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"Not JSON serialisable: {type(value).__name__}")


def render_json(sheet: Datasheet) -> Iterator[str]:
    """``{"batch": {...summary...}, "rows": [{...}, ...]}`` in chunks, for a streaming response."""
    yield '{"batch": ' + json.dumps(sheet.summary, default=_json_default) + ', "rows": ['
    first = True
    buffer: list[str] = []
    for row in sheet.rows():
        buffer.append(("" if first else ",") + json.dumps(row))
        first = False
        if len(buffer) >= _CHUNK:
            yield "".join(buffer)
            buffer = []
    yield "".join(buffer) + "]}\n"


def _safe_cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def _csv_value(value: Any) -> str:
    """A provider's value in a CSV cell: empty for None, lists joined by ';', text defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ";".join(_csv_value(v) for v in value)
    if isinstance(value, dict):
        return _safe_cell(json.dumps(value, sort_keys=True))
    return _safe_cell(str(value)) if isinstance(value, str) else str(value)


def render_csv(sheet: Datasheet) -> Iterator[str]:
    """One line per judgment (``ROW_FIELDS``; credential types joined by ';'), with a header."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    extra = sheet.extra_columns
    writer.writerow(ROW_FIELDS + extra)
    for count, row in enumerate(sheet.rows(), start=1):
        writer.writerow(
            [
                _safe_cell(row["item_id"]),
                row["annotator"],
                ";".join(row["credential_types"]),
                row["guideline_version"] if row["guideline_version"] is not None else "",
                row["started_at"] or "",
                row["seconds_spent"] if row["seconds_spent"] is not None else "",
                row["review_outcome"],
            ]
            + [_csv_value(row[column]) for column in extra]
        )
        if count % _CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def render_summary_csv(sheet: Datasheet) -> str:
    """The batch summary as ``field,value`` lines (the credential mix one line per type)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["field", "value"])
    for key, value in sheet.summary.items():
        if key == "credential_mix":
            for mix in value:
                writer.writerow([f"credential_mix.{mix['type']}.annotators", mix["annotators"]])
                writer.writerow([f"credential_mix.{mix['type']}.judgments", mix["judgments"]])
        elif key == "guideline_versions_acknowledged":
            for entry in value:
                writer.writerow([f"guideline_version.{entry['version'] or 'none'}.judgments", entry["judgments"]])
        elif key == "annotators":
            for who in value:
                for fact, fact_value in who.items():
                    if fact != "annotator":
                        writer.writerow([f"annotator.{who['annotator']}.{fact}", _csv_value(fact_value)])
        else:
            writer.writerow([key, "" if value is None else value])
    return buffer.getvalue()
