"""Writes for delivered work: the lab's gold items, work batches (streamed ingest), the lab's review,
automatic acceptance after the review window, and appeals decided by platform operations.

Decisions (see also apps/work/ingest.py for the row rules):

- Gold re-upload: the last upload wins. An item already in the project's gold set gets the new
  answer; items not in the upload are kept. Each upload writes one audit row with the counts
  created / updated / unchanged. Answers must be in the label set of every contract on the project
  with terms in force (not terminated); with no such contract any text is accepted.
- Volume: a batch's units count against the contract's ``volume_cap`` unless it was rejected (or
  the rejection upheld); a partially accepted batch counts its accepted units; a batch under appeal
  still counts (it may be overturned).
- A rejection or partial acceptance needs a reason from ``RejectionReason`` and written evidence,
  and is refused once the review window has passed (the batch is then due to auto-accept); a plain
  accept is allowed at any time while the batch is submitted.
- ``accepted_units`` is set for every accepted outcome (accept, auto-accept, partial, overturned).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Case, F, IntegerField, Sum, When
from django.utils import timezone

from apps.accounts.models import Organization, User
from apps.accounts.policies import require, require_staff
from apps.accounts.roles import GRANTS, Perm, StaffRole
from apps.contracts.models import Contract, ContractVersion
from apps.contracts.selectors import active_assignees, terms_in_force
from apps.core.errors import DomainError, NotFound, ValidationFailed
from apps.core.events import emit
from apps.core.transitions import audit, transition
from apps.notifications.services import notify_many
from apps.projects.models import Project
from apps.projects.selectors import latest_guideline

from . import ingest
from .models import Appeal, GoldItem, RejectionReason, WorkBatch

B = WorkBatch.Status
MAX_KEY = 200
MAX_TEXT = 5000


# --- Helpers ---------------------------------------------------------------------------------------------


def _holders(organization: Organization, perm: str) -> list[User]:
    """Active members of ``organization`` whose role grants ``perm`` (who is told about it)."""
    roles = GRANTS.get(perm, {}).get(organization.kind, set())
    return list(
        User.objects.filter(
            is_active=True, memberships__organization=organization, memberships__role__in=roles
        ).distinct()
    )


def _operations() -> list[User]:
    return list(User.objects.filter(is_active=True, staff_role=StaffRole.OPERATIONS))


def _url(batch: WorkBatch) -> str:
    return f"/work/batches/{batch.public_id}/"


def _required_text(value: Any, name: str, errors: dict[str, list[str]], *, limit: int = MAX_TEXT) -> str:
    text = (value or "").strip() if isinstance(value, str | None) else ""
    if not text:
        errors[name] = ["This field is required."]
    elif len(text) > limit:
        errors[name] = [f"At most {limit} characters."]
    return text


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationFailed("Please correct: " + ", ".join(sorted(errors)) + ".", details=errors)


def _date(value: Any, name: str, errors: dict[str, list[str]]) -> date | None:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            pass
    if not isinstance(value, date):
        errors[name] = ["A date, e.g. 2025-03-01."]
        return None
    return value


# --- Gold ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoldUploadResult:
    created: int
    updated: int
    unchanged: int


def gold_labels(project: Project) -> list[str] | None:
    """The answers a gold item may carry: the labels common to every contract on the project with
    terms in force (in the first contract's order), or None (free text) when there is none."""
    label_sets = [
        list(labels)
        for labels in ContractVersion.objects.filter(
            pk__in=Contract.objects.filter(project=project, current_version__isnull=False)
            .exclude(status=Contract.Status.TERMINATED)
            .values("current_version")
        )
        .order_by("created_at", "id")
        .values_list("label_set", flat=True)
    ]
    if not label_sets:
        return None
    common = set(label_sets[0]).intersection(*label_sets[1:])
    return [label for label in label_sets[0] if label in common]


def gold_upload(*, actor: User, project: Project, rows: Any, fmt: str | None = None) -> GoldUploadResult:
    """Add or update the project's gold items from ``rows`` (a list of {"item_id", "answer"}
    mappings, or a JSONL/CSV upload with ``fmt``). All or nothing: a bad row refuses the upload with
    every bad row's number and reason. A re-uploaded item gets the new answer. Audited; idempotent
    (the same upload again changes nothing)."""
    require(actor, project.lab, Perm.WORK_REVIEW)
    answers, errors = ingest.gold_records(rows, fmt=fmt, allowed=gold_labels(project))
    errors.raise_if_any("gold items")
    created = updated = unchanged = 0
    items = list(answers)
    with transaction.atomic(durable=True):
        for start in range(0, len(items), ingest.BULK_CHUNK):
            chunk = items[start : start + ingest.BULK_CHUNK]
            existing = {g.item_id: g for g in GoldItem.objects.filter(project=project, item_id__in=chunk)}
            new, changed = [], []
            for item in chunk:
                gold = existing.get(item)
                if gold is None:
                    new.append(GoldItem(project=project, item_id=item, answer=answers[item], uploaded_by=actor))
                elif gold.answer != answers[item]:
                    gold.answer, gold.uploaded_by, gold.updated_at = answers[item], actor, timezone.now()
                    changed.append(gold)
                else:
                    unchanged += 1
            GoldItem.objects.bulk_create(new)
            GoldItem.objects.bulk_update(changed, ["answer", "uploaded_by", "updated_at"])
            created += len(new)
            updated += len(changed)
        audit(
            project,
            "gold.uploaded",
            actor=actor,
            organization_public_id=project.lab.public_id,
            data={"created": created, "updated": updated, "unchanged": unchanged},
        )
    return GoldUploadResult(created=created, updated=updated, unchanged=unchanged)


# --- Delivery ---------------------------------------------------------------------------------------------


def units_committed(contract: Contract, *, exclude_pk: int | None = None) -> int:
    """Units of ``contract``'s volume taken by its batches (see the module docstring)."""
    qs = WorkBatch.objects.filter(contract=contract).exclude(status__in=[B.REJECTED, B.UPHELD])
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    taken = qs.aggregate(
        units=Sum(
            Case(
                When(status=B.PARTIALLY_ACCEPTED, then=F("accepted_units")),
                default=F("unit_count"),
                output_field=IntegerField(),
            )
        )
    )["units"]
    return taken or 0


def _check_volume(contract: Contract, terms: ContractVersion, unit_count: int, *, exclude_pk: int | None = None):
    taken = units_committed(contract, exclude_pk=exclude_pk)
    remaining = max(terms.volume_cap - taken, 0)
    if unit_count > remaining:
        raise ValidationFailed(
            f"This batch claims {unit_count} units; only {remaining} of the contract's {terms.volume_cap} remain.",
            code="volume_exceeded",
            details={"unit_count": [f"At most {remaining} (the contract's remaining volume)."]},
        )


def _check_contract_open(contract: Contract) -> ContractVersion:
    terms = terms_in_force(contract)
    if contract.status != Contract.Status.ACTIVE or terms is None:
        raise DomainError(
            f"This contract is {contract.status}; work can be delivered only on an active contract.",
            code="contract_not_active",
            details={"contract_status": contract.status},
        )
    return terms


def _clean_batch(
    *, client_batch_key: Any, period_start: Any, period_end: Any, unit_count: Any, fmt: Any
) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    key = _required_text(client_batch_key, "client_batch_key", errors, limit=MAX_KEY)
    start = _date(period_start, "period_start", errors)
    end = _date(period_end, "period_end", errors)
    if start and end and end < start:
        errors["period_end"] = ["The period must not end before it starts."]
    if type(unit_count) is not int or not 0 < unit_count <= ingest.MAX_SECONDS:
        errors["unit_count"] = ["A positive whole number."]
    fmt = (fmt or "").strip().lower() if isinstance(fmt, str) else ""
    if fmt not in ingest.FORMATS:
        errors["fmt"] = ["One of: jsonl, csv."]
    _raise(errors)
    return {"client_batch_key": key, "period_start": start, "period_end": end, "unit_count": unit_count, "fmt": fmt}


def _replay(batch: WorkBatch, clean: dict[str, Any], *, upload: Any = None, sha256: str = "") -> WorkBatch:
    """A retried upload under a used key: the same request returns the batch, another is refused.
    Compares the batch's period and units, and the file's hash (computed from ``upload`` unless
    already known)."""
    same = (batch.period_start, batch.period_end, batch.unit_count) == (
        clean["period_start"],
        clean["period_end"],
        clean["unit_count"],
    ) and (sha256 or ingest.sha256_of(upload)) == batch.content_sha256
    if not same:
        raise DomainError(
            "This client batch key was already used for a different batch; use a new key for new work.",
            code="batch_key_reused",
            details={"client_batch_key": [f"Already used by batch {batch.public_id}."]},
        )
    return batch


def judgment_rules(contract: Contract, terms: ContractVersion) -> ingest.JudgmentRules:
    """Read once per upload: the active assignees and the label set in force."""
    annotators = {str(public_id): pk for pk, public_id in active_assignees(contract).values_list("pk", "public_id")}
    labels = tuple(str(label) for label in terms.label_set)
    return ingest.JudgmentRules(annotators=annotators, labels=labels, order_required=ingest.is_preference(labels))


def batch_submit(
    *,
    actor: User,
    organization: Organization,
    contract: Contract,
    client_batch_key: str,
    period_start: date,
    period_end: date,
    unit_count: int,
    upload: Any,
    fmt: str,
) -> WorkBatch:
    """The supplier delivers a batch: its period, unit count and a JSONL or CSV file of judgments
    (a binary file-like or bytes), streamed and validated row by row (apps/work/ingest.py). All or
    nothing: any bad row refuses the batch (ValidationFailed, details.rows) and stores nothing.
    Idempotent per ``client_batch_key``: the same request again returns the stored batch; the key
    with other content is refused (``batch_key_reused``). Audited; the lab's reviewers are told."""
    require(actor, organization, Perm.WORK_SUBMIT)
    if contract.supplier_id != organization.pk:
        raise NotFound("Contract not found.", code="contract_not_found")
    clean = _clean_batch(
        client_batch_key=client_batch_key,
        period_start=period_start,
        period_end=period_end,
        unit_count=unit_count,
        fmt=fmt,
    )
    existing = WorkBatch.objects.filter(contract=contract, client_batch_key=clean["client_batch_key"]).first()
    if existing is not None:
        return _replay(existing, clean, upload=upload)
    terms = _check_contract_open(contract)
    _check_volume(contract, terms, clean["unit_count"])  # early, before reading a large file
    rules = judgment_rules(contract, terms)
    now = timezone.now()
    report = ingest.JudgmentReport()
    try:
        with transaction.atomic(durable=True):
            batch = WorkBatch.objects.create(
                contract=contract,
                contract_version=terms,
                submitted_by=actor,
                client_batch_key=clean["client_batch_key"],
                period_start=clean["period_start"],
                period_end=clean["period_end"],
                unit_count=clean["unit_count"],
                guideline_version=latest_guideline(contract.project),
                review_due_at=now + timedelta(days=terms.review_window_days),
            )
            rows = ingest.judgment_rows(upload, fmt=clean["fmt"], rules=rules, batch_id=batch.pk, report=report)
            ingest.store_judgments(rows, report)
            if report.judgment_count == 0:
                raise ValidationFailed("The file holds no judgments.", details={"upload": ["No rows."]})
            # Lock the contract, then re-check what a concurrent delivery or a pause may have changed.
            locked = Contract.objects.select_for_update().get(pk=contract.pk)
            if locked.status != Contract.Status.ACTIVE or locked.current_version_id != terms.pk:
                raise DomainError(
                    "The contract changed while the batch was uploading; upload it again.",
                    code="contract_changed",
                    details={"contract_status": locked.status},
                )
            _check_volume(locked, terms, clean["unit_count"], exclude_pk=batch.pk)
            WorkBatch.objects.filter(pk=batch.pk).update(
                content_sha256=report.sha256, judgment_count=report.judgment_count
            )
            batch.refresh_from_db()
            audit(
                batch,
                "workbatch.submitted",
                actor=actor,
                organization_public_id=organization.public_id,
                data={
                    "unit_count": batch.unit_count,
                    "judgment_count": batch.judgment_count,
                    "content_sha256": batch.content_sha256,
                    "bytes": report.size_bytes,
                },
            )
            emit(
                "batch.submitted",
                obj=batch,
                organization_ids=[contract.lab_id, contract.supplier_id],
                data={
                    "batch": str(batch.public_id),
                    "contract": str(contract.public_id),
                    "project": str(contract.project.public_id),
                    "unit_count": batch.unit_count,
                    "judgment_count": batch.judgment_count,
                    "period_start": batch.period_start.isoformat(),
                    "period_end": batch.period_end.isoformat(),
                },
                actor=actor,
            )
            notify_many(
                recipients=_holders(contract.lab, Perm.WORK_REVIEW),
                kind="batch.submitted",
                title=f"Batch delivered: {contract.project.title}",
                body=(
                    f"{organization.name} delivered {batch.unit_count} units ({batch.judgment_count} judgments) "
                    f"for {batch.period_start} to {batch.period_end}. Review it by "
                    f"{timezone.localtime(batch.review_due_at):%Y-%m-%d %H:%M}, or it is accepted automatically."
                ),
                url=_url(batch),
            )
    except ValidationFailed:
        # After the rollback (a PostgreSQL transaction is unusable once its COPY was aborted): name
        # each bad annotator id; the listed rows are updated in place.
        ingest.classify_annotator_misses(report)
        raise
    except IntegrityError:
        # A concurrent upload with the same key committed first (our insert waited for it): this
        # one is its retry or a reuse of the key. The file was not read yet unless a hash exists.
        existing = WorkBatch.objects.filter(contract=contract, client_batch_key=clean["client_batch_key"]).first()
        if existing is None:
            raise
        return _replay(existing, clean, upload=upload, sha256=report.sha256)
    return batch


# --- Review ------------------------------------------------------------------------------------------------


def _review_target(actor: User | None, batch: WorkBatch) -> Organization:
    lab = batch.contract.lab
    if actor is not None:
        require(actor, lab, Perm.WORK_REVIEW)
    return lab


def _notify_reviewed(batch: WorkBatch, outcome: str, detail: str = "") -> None:
    contract = batch.contract
    notify_many(
        recipients=_holders(contract.supplier, Perm.WORK_SUBMIT),
        kind="batch.reviewed",
        title=f"Batch {outcome}: {contract.project.title}",
        body=f"Your batch for {batch.period_start} to {batch.period_end} ({batch.unit_count} units) was {outcome}."
        + (f" {detail}" if detail else ""),
        url=_url(batch),
    )


def _emit_reviewed(batch: WorkBatch, event_type: str, actor: User | None, **extra: Any) -> None:
    contract = batch.contract
    emit(
        event_type,
        obj=batch,
        organization_ids=[contract.lab_id, contract.supplier_id],
        data={
            "batch": str(batch.public_id),
            "contract": str(contract.public_id),
            "project": str(contract.project.public_id),
            "status": batch.status,
            "unit_count": batch.unit_count,
            **extra,
        },
        actor=actor,
    )


def batch_accept(*, actor: User, batch: WorkBatch) -> WorkBatch:
    """The lab accepts every unit of a submitted batch. Idempotent; audited; the supplier is told."""
    lab = _review_target(actor, batch)
    now = timezone.now()
    with transaction.atomic(durable=True):
        moved = transition(
            batch,
            B.ACCEPTED,
            actor=actor,
            organization_public_id=lab.public_id,
            extra_updates={"accepted_units": batch.unit_count, "reviewed_by": actor, "reviewed_at": now},
        )
        if moved:
            _emit_reviewed(batch, "batch.accepted", actor, accepted_units=batch.accepted_units, auto_accepted=False)
            _notify_reviewed(batch, "accepted")
    return batch


def _clean_rejection(reason: Any, evidence: Any) -> tuple[str, str]:
    errors: dict[str, list[str]] = {}
    if reason not in RejectionReason.values:
        errors["reason"] = [f"One of: {', '.join(RejectionReason.values)}."]
    evidence = _required_text(evidence, "evidence", errors)
    _raise(errors)
    return reason, evidence


def _check_not_yet_reviewed(batch: WorkBatch, target: str, same: bool) -> bool:
    """True if ``batch`` already has this outcome (a retry: no-op); refuse a different outcome."""
    if batch.status != target:
        return False
    if not same:
        raise DomainError(
            "This batch was already reviewed with other terms.",
            code="batch_already_reviewed",
            details={"status": batch.status},
        )
    return True


def _check_review_window(batch: WorkBatch, now: datetime) -> None:
    if batch.status == B.SUBMITTED and now > batch.review_due_at:
        raise DomainError(
            "The review window has passed; the batch is due to be accepted automatically.",
            code="review_window_closed",
            details={"review_due_at": batch.review_due_at.isoformat()},
        )


def batch_partially_accept(
    *, actor: User, batch: WorkBatch, accepted_units: int, reason: str, evidence: str
) -> WorkBatch:
    """The lab accepts ``accepted_units`` (more than 0, fewer than the batch's units) and refuses the
    rest, with a reason from the taxonomy and written evidence. Within the review window only.
    Idempotent (the same review again is a no-op); audited; the supplier is told."""
    lab = _review_target(actor, batch)
    reason, evidence = _clean_rejection(reason, evidence)
    if type(accepted_units) is not int or not 0 < accepted_units < batch.unit_count:
        _raise(
            {"accepted_units": [f"Between 1 and {batch.unit_count - 1}; accept or reject the whole batch otherwise."]}
        )
    same = (batch.accepted_units, batch.rejection_reason, batch.review_evidence) == (accepted_units, reason, evidence)
    if _check_not_yet_reviewed(batch, B.PARTIALLY_ACCEPTED, same):
        return batch
    now = timezone.now()
    _check_review_window(batch, now)
    with transaction.atomic(durable=True):
        moved = transition(
            batch,
            B.PARTIALLY_ACCEPTED,
            actor=actor,
            reason=evidence,
            organization_public_id=lab.public_id,
            data={"accepted_units": accepted_units, "rejection_reason": reason},
            extra_updates={
                "accepted_units": accepted_units,
                "rejection_reason": reason,
                "review_evidence": evidence,
                "reviewed_by": actor,
                "reviewed_at": now,
            },
        )
        if moved:
            _emit_reviewed(
                batch, "batch.accepted", actor, accepted_units=accepted_units, auto_accepted=False,
                rejection_reason=reason,
            )  # fmt: skip
            label = RejectionReason(reason).label
            _notify_reviewed(batch, "partially accepted", f"{accepted_units} units accepted. Reason: {label}.")
    return batch


def batch_reject(*, actor: User, batch: WorkBatch, reason: str, evidence: str) -> WorkBatch:
    """The lab rejects a submitted batch with a reason from the taxonomy and written evidence, within
    the review window. The supplier may appeal within the contract's appeal window. Idempotent (the
    same rejection again is a no-op); audited; the supplier is told."""
    lab = _review_target(actor, batch)
    reason, evidence = _clean_rejection(reason, evidence)
    if _check_not_yet_reviewed(
        batch, B.REJECTED, (batch.rejection_reason, batch.review_evidence) == (reason, evidence)
    ):
        return batch
    now = timezone.now()
    _check_review_window(batch, now)
    with transaction.atomic(durable=True):
        moved = transition(
            batch,
            B.REJECTED,
            actor=actor,
            reason=evidence,
            organization_public_id=lab.public_id,
            data={"rejection_reason": reason},
            extra_updates={
                "rejection_reason": reason,
                "review_evidence": evidence,
                "reviewed_by": actor,
                "reviewed_at": now,
            },
        )
        if moved:
            _emit_reviewed(batch, "batch.rejected", actor, accepted_units=0, rejection_reason=reason)
            deadline = now + timedelta(days=batch.contract_version.appeal_window_days)
            _notify_reviewed(
                batch,
                "rejected",
                f"Reason: {RejectionReason(reason).label}. You may appeal until {timezone.localtime(deadline):%Y-%m-%d}.",
            )
    return batch


def batch_auto_accept(*, batch_id: int, now: datetime | None = None) -> bool:
    """Accept one batch whose review window has passed unreviewed (``auto_accepted``). Idempotent:
    False if it was reviewed meanwhile or is not due."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        batch = (
            WorkBatch.objects.select_for_update(skip_locked=True)
            .select_related("contract__lab", "contract__supplier", "contract__project")
            .filter(pk=batch_id, status=B.SUBMITTED, review_due_at__lte=now)
            .first()
        )
        if batch is None:
            return False
        moved = transition(
            batch,
            B.ACCEPTED,
            actor=None,
            reason="The review window passed without a review.",
            organization_public_id=batch.contract.lab.public_id,
            data={"auto_accepted": True},
            extra_updates={"accepted_units": batch.unit_count, "auto_accepted": True, "reviewed_at": now},
        )
        if moved:
            _emit_reviewed(batch, "batch.accepted", None, accepted_units=batch.accepted_units, auto_accepted=True)
            _notify_reviewed(batch, "accepted", "The lab did not review it within the review window.")
    return moved


def batches_auto_accept_due(*, now: datetime | None = None) -> int:
    """Periodic: accept every submitted batch past its review deadline. Resumable; returns how many."""
    now = now or timezone.now()
    due = (
        WorkBatch.objects.filter(status=B.SUBMITTED, review_due_at__lte=now)
        .order_by("review_due_at", "id")
        .values_list("pk", flat=True)
    )
    return sum(batch_auto_accept(batch_id=pk, now=now) for pk in list(due))


# --- Appeals -------------------------------------------------------------------------------------------------


def appeal_deadline(batch: WorkBatch) -> datetime | None:
    if batch.reviewed_at is None:
        return None
    return batch.reviewed_at + timedelta(days=batch.contract_version.appeal_window_days)


def appeal_open(*, actor: User, organization: Organization, batch: WorkBatch, reason: str) -> Appeal:
    """The supplier appeals a rejected batch within the appeal window (from the review); the batch
    moves to ``appealed`` and platform operations and the lab are told. A batch is appealed once:
    the same appeal again returns it (no-op); another is refused (``appeal_exists``). Audited."""
    require(actor, organization, Perm.WORK_SUBMIT)
    if batch.contract.supplier_id != organization.pk:
        raise NotFound("Batch not found.", code="batch_not_found")
    errors: dict[str, list[str]] = {}
    reason = _required_text(reason, "reason", errors)
    _raise(errors)
    existing = Appeal.objects.filter(batch=batch).first()
    if existing is not None:
        if existing.reason == reason:
            return existing
        raise DomainError("This batch was already appealed.", code="appeal_exists", details={"status": existing.status})
    now = timezone.now()
    deadline = appeal_deadline(batch)
    if batch.status == B.REJECTED and deadline is not None and now > deadline:
        raise DomainError(
            f"The appeal window closed on {timezone.localtime(deadline):%Y-%m-%d %H:%M}.",
            code="appeal_window_closed",
            details={"appeal_deadline": deadline.isoformat()},
        )
    contract = batch.contract
    try:
        with transaction.atomic(durable=True):
            transition(batch, B.APPEALED, actor=actor, reason=reason, organization_public_id=organization.public_id)
            appeal = Appeal.objects.create(batch=batch, appealed_by=actor, reason=reason)
            audit(appeal, "appeal.opened", actor=actor, organization_public_id=organization.public_id, reason=reason)
            notify_many(
                recipients=[*_operations(), *_holders(contract.lab, Perm.WORK_REVIEW)],
                kind="appeal.opened",
                title=f"Rejection appealed: {contract.project.title}",
                body=f"{organization.name} appealed the rejection of a batch ({batch.unit_count} units): {reason[:300]}",
                url=_url(batch),
            )
    except IntegrityError:
        existing = Appeal.objects.filter(batch=batch).first()
        if existing is not None and existing.reason == reason:
            return existing
        raise DomainError("This batch was already appealed.", code="appeal_exists")
    return appeal


APPEAL_OUTCOMES = {"overturn": (Appeal.Status.OVERTURNED, B.OVERTURNED), "uphold": (Appeal.Status.UPHELD, B.UPHELD)}


def appeal_decide(*, actor: User, appeal: Appeal, outcome: str, reason: str) -> Appeal:
    """Platform operations decide an open appeal: ``overturn`` (the batch counts as accepted, every
    unit) or ``uphold`` (the rejection stands), with reasons both sides read. Idempotent (the same
    decision again is a no-op; another is refused); audited; both sides are told."""
    require_staff(actor, StaffRole.OPERATIONS)
    errors: dict[str, list[str]] = {}
    if outcome not in APPEAL_OUTCOMES:
        errors["outcome"] = ["One of: overturn, uphold."]
    reason = _required_text(reason, "reason", errors)
    _raise(errors)
    appeal_status, batch_status = APPEAL_OUTCOMES[outcome]
    if appeal.status == appeal_status and appeal.decision_reason != reason:
        raise DomainError(
            "This appeal was already decided.", code="appeal_already_decided", details={"status": appeal.status}
        )
    batch = appeal.batch
    contract = batch.contract
    now = timezone.now()
    with transaction.atomic(durable=True):
        moved = transition(
            appeal,
            appeal_status,
            actor=actor,
            reason=reason,
            organization_public_id=contract.supplier.public_id,
            extra_updates={"decided_by": actor, "decision_reason": reason, "decided_at": now},
        )
        extra = {"accepted_units": batch.unit_count} if batch_status == B.OVERTURNED else {}
        transition(
            batch, batch_status, actor=actor, reason=reason, organization_public_id=contract.lab.public_id,
            extra_updates=extra,
        )  # fmt: skip
        if moved:
            emit(
                "appeal.decided",
                obj=appeal,
                organization_ids=[contract.lab_id, contract.supplier_id],
                data={
                    "appeal": str(appeal.public_id),
                    "batch": str(batch.public_id),
                    "contract": str(contract.public_id),
                    "project": str(contract.project.public_id),
                    "outcome": str(appeal_status),
                    "accepted_units": batch.accepted_units,
                },
                actor=actor,
            )
            verdict = "overturned: the batch counts as accepted" if outcome == "overturn" else "upheld"
            notify_many(
                recipients=[*_holders(contract.supplier, Perm.WORK_SUBMIT), *_holders(contract.lab, Perm.WORK_REVIEW)],
                kind="appeal.decided",
                title=f"Appeal decided: {contract.project.title}",
                body=f"The rejection was {verdict}. Operations' reasons: {reason[:500]}",
                url=_url(batch),
            )
    return appeal
