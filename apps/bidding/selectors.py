"""Reads for the marketplace, sealed: a bidder sees only its own bids; the lab sees the bids on its
project only once bidding has closed (before that, only how many arrived)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q, QuerySet

from apps.accounts.models import Organization, User
from apps.accounts.policies import require
from apps.accounts.roles import OrgKind, Perm
from apps.assessments.calibration import pilot_accuracy_by_supplier
from apps.core.errors import DomainError, NotFound, ValidationFailed
from apps.core.money import Money, to_minor
from apps.experts.models import Credential
from apps.experts.selectors import owner_handle, verified_credentials_q
from apps.projects.models import Project
from apps.projects.selectors import project_visible_to_supplier

from .hooks import quality_history_provider
from .models import Bid, BidRevision, Question

_BAD_ID = (ValueError, TypeError, ValidationError)


# Built once (annotate() resolves a copy per query); rebuilding it cost ~0.1 ms per list request.
_BIDDER_HANDLE = owner_handle("bidder_id")


_BID_RELATED = ("project__lab", "bidder", "submitted_by", "allocation")


def _bid_relations(qs: QuerySet[Bid]) -> QuerySet[Bid]:
    return qs.select_related(*_BID_RELATED).annotate(bidder_handle=_BIDDER_HANDLE)


def bid_list_for_bidder(*, actor: User, organization: Organization, project: Project | None = None) -> QuerySet[Bid]:
    """The organisation's own bids (every status). Without the bidder's handle annotation: that label is
    the lab's view of a bidder (``Bid.bidder_label``), not needed by the bidder itself."""
    require(actor, organization, Perm.BIDS_MANAGE)
    qs = Bid.objects.filter(bidder=organization)
    if project is not None:
        qs = qs.filter(project=project)
    return qs.select_related(*_BID_RELATED).order_by("-created_at", "-id")


def bid_list_for_project(*, actor: User, project: Project) -> QuerySet[Bid]:
    """The lab's view of the bids on its project, once bidding has closed (live and decided ones;
    withdrawn bids are not shown)."""
    require(actor, project.lab, Perm.PROJECTS_VIEW)
    if project.status in (Project.Status.DRAFT, Project.Status.OPEN):
        raise DomainError("Bids are sealed until bidding closes.", code="bids_sealed")
    qs = Bid.objects.filter(project=project).exclude(status=Bid.Status.WITHDRAWN)
    return _bid_relations(qs).order_by("unit_price", "id")


def bid_get(*, actor: User, organization: Organization | None, public_id: UUID | str) -> Bid:
    """A bid the actor may see: its own organisation's, or one on its lab's project after the close."""
    if organization is None:
        raise NotFound("Bid not found.", code="bid_not_found")
    if organization.kind == OrgKind.LAB:
        require(actor, organization, Perm.PROJECTS_VIEW)
        qs = (
            Bid.objects.filter(project__lab=organization)
            .exclude(project__status__in=[Project.Status.DRAFT, Project.Status.OPEN])
            .exclude(status=Bid.Status.WITHDRAWN)
        )
    else:
        require(actor, organization, Perm.BIDS_MANAGE)
        qs = Bid.objects.filter(bidder=organization)
    try:
        return _bid_relations(qs).get(public_id=public_id)
    except (Bid.DoesNotExist, *_BAD_ID):
        raise NotFound("Bid not found.", code="bid_not_found")


def bid_revisions(bid: Bid) -> QuerySet[BidRevision]:
    """Every revision of a bid the caller already got through ``bid_get``."""
    return bid.revisions.prefetch_related("team__expert_profile").order_by("number")


def bid_count(project: Project) -> int:
    return Bid.objects.filter(project=project).exclude(status=Bid.Status.WITHDRAWN).count()


def bid_count_visible_to_bidders(project: Project) -> int | None:
    """'n bids received', only where the lab chose to show it."""
    return bid_count(project) if project.show_bid_count else None


# --- Questions -------------------------------------------------------------------------------------------


def question_list(*, actor: User, organization: Organization | None, project: Project) -> QuerySet[Question]:
    """The lab sees every question (with the asker); a supplier sees public answers and its own."""
    if organization is not None and organization.pk == project.lab_id:
        require(actor, organization, Perm.PROJECTS_VIEW)
        qs = Question.objects.filter(project=project)
    else:
        if organization is None or not project_visible_to_supplier(project, organization):
            raise NotFound("Project not found.", code="project_not_found")
        require(actor, organization, Perm.MARKETPLACE_BROWSE)
        qs = Question.objects.filter(project=project).filter(
            Q(asker_organization=organization)
            | Q(status=Question.Status.ANSWERED, visibility=Question.Visibility.PUBLIC)
        )
    return (
        qs.select_related("asker_organization", "project")
        .annotate(asker_handle=owner_handle("asker_organization_id"))
        .order_by("created_at", "id")
    )


def question_get_for_lab(*, actor: User, lab: Organization, public_id: UUID | str) -> Question:
    require(actor, lab, Perm.PROJECTS_VIEW)
    try:
        return Question.objects.select_related("project__lab", "asker_organization").get(
            project__lab=lab, public_id=public_id
        )
    except (Question.DoesNotExist, *_BAD_ID):
        raise NotFound("Question not found.", code="question_not_found")


# --- Comparison ------------------------------------------------------------------------------------------


@dataclass
class ComparisonRow:
    bid: Bid
    unit_price: Money  # rounded for display; the exact Decimal is bid.unit_price
    total: Money
    weeks_to_finish: Decimal
    team_size: int
    team_credentials: dict[str, int] = field(default_factory=dict)
    quality_history: dict | None = None  # filled by the quality capability; None = "no history"
    expected_accuracy: Decimal | None = None
    accuracy_source: str = "none"  # "history", "pilot", "sla_assumption" or "none"
    cost_per_quality_unit: Decimal | None = None  # major units per quality-adjusted unit


SORT_KEYS = {
    "cost_per_quality_unit": lambda r: (r.cost_per_quality_unit is None, r.cost_per_quality_unit or 0),
    "unit_price": lambda r: r.bid.unit_price,
    "weeks_to_finish": lambda r: r.weeks_to_finish,
    "volume": lambda r: -r.bid.volume,
    "weekly_capacity": lambda r: -r.bid.weekly_capacity,
}


def expected_cost_per_quality_unit(unit_price: Decimal, expected_accuracy: Decimal | None) -> Decimal | None:
    """unit price / expected accuracy: what one correct unit is expected to cost (4 decimals)."""
    if expected_accuracy is None or expected_accuracy <= 0:
        return None
    return (unit_price / expected_accuracy).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def bid_comparison(*, actor: User, project: Project, sort: str = "cost_per_quality_unit") -> list[ComparisonRow]:
    """The lab's side-by-side view of the live and decided bids, ranked by expected cost per
    quality-adjusted unit. A bidder whose experts took a calibration round piloting the project is
    expected to reach its pooled pilot accuracy against gold ("pilot"); else its measured gold accuracy across its
    contracts ("history", from the quality capability); without a measured history or
    pilot, the expected accuracy is the project's SLA minimum, marked as an assumption."""
    if sort not in SORT_KEYS:
        raise ValidationFailed(f"Unknown sort '{sort}'.", details={"sort": [f"Choose one of {', '.join(SORT_KEYS)}."]})
    bids = list(
        bid_list_for_project(actor=actor, project=project).prefetch_related(
            Prefetch(
                "revisions",
                queryset=BidRevision.objects.order_by("-number").prefetch_related(
                    Prefetch(
                        "team__expert_profile__credentials",
                        queryset=Credential.objects.filter(verified_credentials_q()),
                        to_attr="verified",
                    )
                ),
                to_attr="ordered_revisions",
            )
        )
    )
    pilot = pilot_accuracy_by_supplier(project)
    rows = []
    for bid in bids:
        current = bid.ordered_revisions[0] if bid.ordered_revisions else None
        team = list(current.team.all()) if current else []
        credentials: Counter[str] = Counter()
        for member in team:
            profile = getattr(member, "expert_profile", None)
            for credential in getattr(profile, "verified", []) if profile else []:
                credentials[credential.type] += 1
        accuracy, source = None, "none"
        history = quality_history_provider(supplier=bid.bidder)
        if bid.bidder_id in pilot:
            accuracy, source = pilot[bid.bidder_id], "pilot"
        elif history is not None:
            accuracy, source = history["gold_accuracy"], "history"
        elif project.sla_min_gold_accuracy:
            accuracy, source = project.sla_min_gold_accuracy, "sla_assumption"
        rows.append(
            ComparisonRow(
                bid=bid,
                unit_price=Money(to_minor(bid.unit_price, bid.currency), bid.currency),
                total=Money(to_minor(bid.unit_price * bid.volume, bid.currency), bid.currency),
                weeks_to_finish=(Decimal(bid.volume) / Decimal(bid.weekly_capacity)).quantize(Decimal("0.1")),
                team_size=len(team),
                team_credentials=dict(sorted(credentials.items())),
                quality_history=history,
                expected_accuracy=accuracy,
                accuracy_source=source,
                cost_per_quality_unit=expected_cost_per_quality_unit(bid.unit_price, accuracy),
            )
        )
    rows.sort(key=SORT_KEYS[sort])
    return rows
