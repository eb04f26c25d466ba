"""Who sees which project.

A lab's members see all of their lab's projects. A supplier (vendor or independent expert) sees a
project that is past draft and public, or that invited it. Drafts are the lab's alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from apps.accounts.models import Organization, User
from apps.accounts.policies import require
from apps.accounts.roles import OrgKind, Perm
from apps.core.errors import NotFound, ValidationFailed
from apps.core.money import SUPPORTED_CURRENCIES, to_minor
from apps.experts.models import Domain
from apps.experts.selectors import owner_handle

from .models import GuidelineAcknowledgement, GuidelineVersion, Project, Visibility

_BAD_ID = (ValueError, TypeError, ValidationError)


def supplier_visibility_q(organization: Organization) -> Q:
    invited = Project.invited_organizations.through.objects.filter(project_id=OuterRef("pk"), organization=organization)
    return ~Q(status=Project.Status.DRAFT) & (Q(visibility=Visibility.PUBLIC) | Q(Exists(invited)))


def project_visible_to_supplier(project: Project, organization: Organization) -> bool:
    if organization.kind == OrgKind.LAB:
        return False
    return Project.objects.filter(supplier_visibility_q(organization), pk=project.pk).exists()


def _with_relations(qs: QuerySet[Project]) -> QuerySet[Project]:
    return qs.select_related("lab", "domain__parent").prefetch_related(
        Prefetch("guideline_versions", queryset=GuidelineVersion.objects.order_by("-number"))
    )


def project_list_for_lab(*, actor: User, lab: Organization, status: str | None = None) -> QuerySet[Project]:
    require(actor, lab, Perm.PROJECTS_VIEW)
    qs = Project.objects.filter(lab=lab)
    if status:
        qs = qs.filter(status=status)
    return _with_relations(qs).order_by("-created_at", "-id")


@dataclass(frozen=True)
class MarketplaceFilter:
    task_type: str | None = None
    domain: str | None = None  # slug; matches sub-domains
    min_budget: Decimal | None = None  # major units of the project's currency
    deadline_before: datetime | None = None
    include_closed: bool = False


def project_marketplace_list(
    *, actor: User, organization: Organization, filters: MarketplaceFilter | None = None
) -> QuerySet[Project]:
    """Projects a supplier may see: open ones by default (closed too with ``include_closed``)."""
    require(actor, organization, Perm.MARKETPLACE_BROWSE)
    filters = filters or MarketplaceFilter()
    qs = Project.objects.filter(supplier_visibility_q(organization))
    if not filters.include_closed:
        qs = qs.filter(status=Project.Status.OPEN)
    if filters.task_type:
        qs = qs.filter(task_type=filters.task_type)
    if filters.domain:
        root = Domain.objects.filter(slug=filters.domain).first()
        if root is None:
            raise ValidationFailed(f"Unknown domain '{filters.domain}'.", details={"domain": ["Unknown domain."]})
        qs = qs.filter(Q(domain=root) | Q(domain__path__startswith=f"{root.path}/"))
    if filters.min_budget is not None:
        # A budget is in its project's currency: compare in that currency's minor units.
        by_currency = Q()
        for currency in SUPPORTED_CURRENCIES:
            by_currency |= Q(currency=currency, budget_cap_minor__gte=to_minor(filters.min_budget, currency))
        qs = qs.filter(by_currency)
    if filters.deadline_before is not None:
        qs = qs.filter(bid_deadline__lte=filters.deadline_before)
    return _with_relations(qs).order_by("bid_deadline", "id")


def project_get(*, actor: User, organization: Organization | None, public_id: UUID | str) -> Project:
    """A project the actor may see, acting for ``organization``: their lab's, or a visible one."""
    if organization is None:
        raise NotFound("Project not found.", code="project_not_found")
    if organization.kind == OrgKind.LAB:
        qs = project_list_for_lab(actor=actor, lab=organization)
    else:
        require(actor, organization, Perm.MARKETPLACE_BROWSE)
        qs = _with_relations(Project.objects.filter(supplier_visibility_q(organization)))
    try:
        return qs.get(public_id=public_id)
    except (Project.DoesNotExist, *_BAD_ID):
        raise NotFound("Project not found.", code="project_not_found")


def guideline_get(*, actor: User, organization: Organization | None, public_id: UUID | str) -> GuidelineVersion:
    try:
        version = GuidelineVersion.objects.select_related("project__lab").get(public_id=public_id)
    except (GuidelineVersion.DoesNotExist, *_BAD_ID):
        raise NotFound("Guideline not found.", code="guideline_not_found")
    project_get(actor=actor, organization=organization, public_id=version.project.public_id)
    return version


def guideline_acknowledgements(*, actor: User, project: Project) -> QuerySet[GuidelineAcknowledgement]:
    """Who acknowledged which version (the lab's view)."""
    require(actor, project.lab, Perm.PROJECTS_VIEW)
    return (
        GuidelineAcknowledgement.objects.filter(version__project=project)
        .select_related("version", "user__expert_profile", "organization")
        .annotate(organization_handle=owner_handle("organization_id"))
        .order_by("-version__number", "created_at")
    )


def latest_guideline(project: Project) -> GuidelineVersion | None:
    return project.guideline_versions.order_by("-number").first()
