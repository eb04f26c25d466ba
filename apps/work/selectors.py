"""Reads of delivered work, scoped: batches and judgments to the contract's two parties, gold items
to the lab alone, appeals to the parties and platform operations.

Gold answers never leave through a batch or judgment read: a judgment carries the annotator's
label only, and nothing here marks which items are gold to anyone but the lab.
"""

from __future__ import annotations

from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Q, QuerySet, Subquery

from apps.accounts.models import Organization, User
from apps.accounts.policies import is_staff_role, require, require_staff
from apps.accounts.roles import Perm, StaffRole
from apps.core.errors import NotFound
from apps.experts.models import ExpertProfile
from apps.projects.models import Project

from .models import Appeal, GoldItem, Judgment, WorkBatch

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


def judgment_list(*, actor: User, organization: Organization | None, batch: WorkBatch) -> QuerySet[Judgment]:
    """A batch's judgments in upload order, for either party, each annotated with the annotator's
    pseudonymous ``annotator_handle``. Decode ``label`` with ``judgment_label``."""
    batch_get(actor=actor, organization=organization, public_id=batch.public_id)
    return Judgment.objects.filter(batch=batch).annotate(annotator_handle=_handle("annotator_id")).order_by("id")


def _handle(ref: str) -> Subquery:
    return Subquery(ExpertProfile.objects.filter(user_id=OuterRef(ref)).values("handle")[:1])


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


def appeal_get(*, actor: User, organization: Organization | None, public_id: UUID | str) -> Appeal:
    """An appeal, for operations (``organization`` ignored) or either party to the batch's contract."""
    if is_staff_role(actor, StaffRole.OPERATIONS):
        qs = appeal_queue(actor=actor, status=None)
    else:
        if organization is None:
            raise NotFound("Appeal not found.", code="appeal_not_found")
        require(actor, organization, Perm.CONTRACTS_VIEW)
        qs = Appeal.objects.filter(
            Q(batch__contract__lab=organization) | Q(batch__contract__supplier=organization)
        ).select_related("batch__contract")
    try:
        return qs.get(public_id=public_id)
    except (Appeal.DoesNotExist, *_BAD_ID):
        raise NotFound("Appeal not found.", code="appeal_not_found")
