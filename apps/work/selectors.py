"""Reads of delivered work, scoped: batches and judgments to the contract's two parties (and, for a
batch under appeal, to platform operations), gold items to the lab alone, appeals to the parties and
platform operations.

Gold answers never leave through a batch or judgment read: a judgment carries the annotator's
label only, and nothing here marks which items are gold to anyone but the lab.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from apps.accounts.models import Organization, User
from apps.accounts.policies import is_staff_role, require, require_staff
from apps.accounts.roles import Perm, StaffRole
from apps.core.errors import NotFound
from apps.experts.models import ExpertProfile
from apps.projects.models import Project

from .models import Appeal, GoldItem, Judgment, WorkBatch
from .services import appeal_deadline

_BAD_ID = (ValueError, TypeError, ValidationError)


# --- Gold (the lab only) ------------------------------------------------------------------------------------


def gold_list(*, actor: User, organization: Organization | None, project: Project) -> QuerySet[GoldItem]:
    """The project's gold items, for members of the lab that owns it. Anyone else: NotFound."""
    if organization is None or organization.pk != project.lab_id:
        raise NotFound("Gold items not found.", code="gold_not_found")
    require(actor, organization, Perm.PROJECTS_VIEW)
    return GoldItem.objects.filter(project=project).order_by("item_id", "id")


def gold_get(*, actor: User, organization: Organization | None, project: Project, item_id: str) -> GoldItem:
    try:
        return gold_list(actor=actor, organization=organization, project=project).get(item_id=item_id)
    except GoldItem.DoesNotExist:
        raise NotFound("Gold item not found.", code="gold_not_found")


# --- Batches and judgments (the two parties) -----------------------------------------------------------------


def batch_list(
    *,
    actor: User,
    organization: Organization | None,
    contract_id: int | None = None,
    status: str | None = None,
) -> QuerySet[WorkBatch]:
    """Batches of the contracts ``organization`` is a party to (as lab or supplier), newest first."""
    if organization is None:
        raise NotFound("Batches not found.", code="batch_not_found")
    require(actor, organization, Perm.CONTRACTS_VIEW)
    qs = WorkBatch.objects.filter(Q(contract__lab=organization) | Q(contract__supplier=organization))
    if contract_id is not None:
        qs = qs.filter(contract_id=contract_id)
    if status:
        qs = qs.filter(status=status)
    return qs.select_related(
        "contract__project", "contract__lab", "contract__supplier", "contract_version", "guideline_version"
    ).order_by("-created_at", "-id")


def batch_get(*, actor: User, organization: Organization | None, public_id: UUID | str) -> WorkBatch:
    try:
        return batch_list(actor=actor, organization=organization).get(public_id=public_id)
    except (WorkBatch.DoesNotExist, *_BAD_ID):
        raise NotFound("Batch not found.", code="batch_not_found")


def batch_get_for_operations(*, actor: User, public_id: UUID | str) -> WorkBatch:
    """A batch under appeal, for platform operations (who read appealed batches only), with its
    appeal. Anyone else, or a batch never appealed: NotFound."""
    require_staff(actor, StaffRole.OPERATIONS)
    qs = WorkBatch.objects.filter(appeal__isnull=False).select_related(
        "contract__project",
        "contract__lab",
        "contract__supplier",
        "contract_version",
        "guideline_version",
        "appeal__appealed_by",
        "appeal__decided_by",
    )
    try:
        return qs.get(public_id=public_id)
    except (WorkBatch.DoesNotExist, *_BAD_ID):
        raise NotFound("Batch not found.", code="batch_not_found")


def batch_status_counts(batches: QuerySet[WorkBatch]) -> dict[str, int]:
    """How many of ``batches`` (a ``batch_list`` result) are in each status (absent: none)."""
    return {row["status"]: row["n"] for row in batches.order_by().values("status").annotate(n=Count("id"))}


def batch_list_awaiting_review(*, actor: User, organization: Organization) -> QuerySet[WorkBatch]:
    """The lab's batches awaiting its review, the soonest due first."""
    return (
        batch_list(actor=actor, organization=organization, status=WorkBatch.Status.SUBMITTED)
        .filter(contract__lab=organization)
        .order_by("review_due_at", "id")
    )


def batch_list_appealable(*, actor: User, organization: Organization, now: datetime | None = None) -> list[WorkBatch]:
    """The supplier's rejected batches not yet appealed whose appeal window is still open, the window
    closing soonest first; each carries its ``appeal_deadline``."""
    now = now or timezone.now()
    appealable = []
    rejected = batch_list(actor=actor, organization=organization, status=WorkBatch.Status.REJECTED).filter(
        contract__supplier=organization, appeal__isnull=True
    )
    for batch in rejected:
        deadline = appeal_deadline(batch)
        if deadline is not None and now <= deadline:
            batch.appeal_deadline = deadline
            appealable.append(batch)
    appealable.sort(key=lambda b: b.appeal_deadline)
    return appealable


def judgment_list(*, actor: User, organization: Organization | None, batch: WorkBatch) -> QuerySet[Judgment]:
    """A batch's judgments in upload order, for either party, each annotated with the annotator's
    pseudonymous ``annotator_handle``. Decode ``label`` with ``judgment_label``."""
    batch_get(actor=actor, organization=organization, public_id=batch.public_id)
    return _judgments(batch)


def judgment_list_for_operations(*, actor: User, batch: WorkBatch) -> QuerySet[Judgment]:
    """As ``judgment_list``, for platform operations and a batch under appeal (else NotFound)."""
    batch_get_for_operations(actor=actor, public_id=batch.public_id)
    return _judgments(batch)


def _judgments(batch: WorkBatch) -> QuerySet[Judgment]:
    return (
        Judgment.objects.filter(batch=batch).annotate(annotator_handle=annotator_handle("annotator_id")).order_by("id")
    )


def annotator_handle(ref: str) -> Subquery:
    """A subquery for the pseudonymous handle of the user at ``ref`` (an OuterRef path such as
    "annotator_id"); None for a user without an expert profile."""
    return Subquery(ExpertProfile.objects.filter(user_id=OuterRef(ref)).values("handle")[:1])


def annotator_handles(user_ids: Iterable[int]) -> dict[int, str]:
    """The pseudonymous handles of the given users, by user id (a user without an expert profile is
    absent)."""
    return dict(ExpertProfile.objects.filter(user_id__in=list(user_ids)).values_list("user_id", "handle"))


def judgment_label(batch: WorkBatch, code: int) -> str:
    """The label text of ``code`` under the terms the batch was delivered against."""
    return batch.contract_version.label_set[code]


# --- Appeals ---------------------------------------------------------------------------------------------------


def appeal_queue(*, actor: User, status: str | None = Appeal.Status.OPEN) -> QuerySet[Appeal]:
    """Operations' queue: appeals oldest first, with the batch, its contract and the parties."""
    require_staff(actor, StaffRole.OPERATIONS)
    qs = Appeal.objects.select_related(
        "batch__contract__project", "batch__contract__lab", "batch__contract__supplier", "appealed_by", "decided_by"
    )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("created_at", "id")


def appeal_list(*, actor: User, organization: Organization | None, status: str | None = None) -> QuerySet[Appeal]:
    """The appeals of batches ``organization`` is a party to (as lab or supplier), with the batch, its
    contract and the parties; all of them unless ``status`` is given."""
    if organization is None:
        raise NotFound("Appeals not found.", code="appeal_not_found")
    require(actor, organization, Perm.CONTRACTS_VIEW)
    qs = Appeal.objects.filter(
        Q(batch__contract__lab=organization) | Q(batch__contract__supplier=organization)
    ).select_related("batch__contract__project", "batch__contract__lab", "batch__contract__supplier")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("created_at", "id")


def appeal_get(*, actor: User, organization: Organization | None, public_id: UUID | str) -> Appeal:
    """An appeal, for operations (``organization`` ignored) or either party to the batch's contract."""
    if is_staff_role(actor, StaffRole.OPERATIONS):
        qs = appeal_queue(actor=actor, status=None)
    else:
        if organization is None:
            raise NotFound("Appeal not found.", code="appeal_not_found")
        qs = appeal_list(actor=actor, organization=organization)
    try:
        return qs.get(public_id=public_id)
    except (Appeal.DoesNotExist, *_BAD_ID):
        raise NotFound("Appeal not found.", code="appeal_not_found")
