"""Writes for the marketplace: questions and answers, sealed bids and their revisions, the close of
bidding, cancellation, shortlisting, rejection and the award."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import Organization, User
from apps.accounts.policies import require
from apps.accounts.roles import OrgKind, Perm, Role
from apps.core.errors import DomainError, NotFound, ValidationFailed
from apps.core.events import emit
from apps.core.money import to_minor
from apps.core.transitions import audit, transition
from apps.experts.models import RosterEntry
from apps.notifications.services import notify_many
from apps.projects.models import Project
from apps.projects.selectors import project_visible_to_supplier

from . import hooks
from .models import Award, AwardAllocation, Bid, BidRevision, Question


def _managers(organizations) -> list[User]:
    return list(
        User.objects.filter(
            is_active=True,
            memberships__organization__in=organizations,
            memberships__role__in=[Role.OWNER, Role.MANAGER, Role.ADMIN],
        ).distinct()
    )


def _bidder_orgs(project: Project, *, live_only: bool = True):
    bids = Bid.objects.filter(project=project)
    if live_only:
        bids = bids.filter(status__in=Bid.LIVE)
    return Organization.objects.filter(pk__in=bids.values("bidder_id"))


def _url(project: Project) -> str:
    return f"/marketplace/{project.public_id}/"


# --- Project lifecycle steps that concern bidders ----------------------------------------------------


def project_close_bidding(*, actor: User | None, project: Project) -> bool:
    """Close bidding (the deadline passed, or the lab closes early); sealed bids open to the lab.
    Bidders are told. Idempotent."""
    if actor is not None:
        require(actor, project.lab, Perm.PROJECTS_MANAGE)
    with transaction.atomic():
        moved = transition(
            project,
            Project.Status.BIDDING_CLOSED,
            actor=actor,
            organization_public_id=project.lab.public_id,
            reason="deadline passed" if actor is None else "closed early by the lab",
        )
        if moved:
            notify_many(
                recipients=_managers(_bidder_orgs(project)),
                kind="project.bidding_closed",
                title=f"Bidding closed: {project.title}",
                body="The lab is now comparing bids; you will hear the outcome here.",
                url=_url(project),
            )
    return moved


def projects_close_due(*, now: datetime | None = None) -> int:
    """Periodic: close bidding on every open project whose deadline has passed. Resumable."""
    now = now or timezone.now()
    count = 0
    due = Project.objects.filter(status=Project.Status.OPEN, bid_deadline__lte=now).select_related("lab")
    for project in due.iterator():
        count += project_close_bidding(actor=None, project=project)
    return count


def project_cancel(*, actor: User, project: Project, reason: str) -> bool:
    """Cancel a project before completion, with a reason every bidder sees. Idempotent."""
    require(actor, project.lab, Perm.PROJECTS_MANAGE)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Give a reason; bidders see it.", details={"reason": ["This field is required."]})
    with transaction.atomic():
        moved = transition(
            project,
            Project.Status.CANCELLED,
            actor=actor,
            reason=reason,
            organization_public_id=project.lab.public_id,
            extra_updates={"status_reason": reason},
        )
        if moved:
            notify_many(
                recipients=_managers(_bidder_orgs(project, live_only=False)),
                kind="project.cancelled",
                title=f"Cancelled: {project.title}",
                body=f"Reason: {reason}",
                url=_url(project),
            )
    return moved


# --- Questions ------------------------------------------------------------------------------------------


def question_ask(*, actor: User, organization: Organization, project: Project, text: str) -> Question:
    """A prospective bidder asks the lab a clarifying question while the project is open."""
    require(actor, organization, Perm.BIDS_MANAGE)
    if not project_visible_to_supplier(project, organization):
        raise NotFound("Project not found.", code="project_not_found")
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("Write your question.", details={"text": ["This field is required."]})
    if len(text) > 5000:
        raise ValidationFailed("At most 5000 characters.", details={"text": ["At most 5000 characters."]})
    if project.status != Project.Status.OPEN:
        raise DomainError(f"This project is {project.status}; questions are closed.", code="project_not_open")
    with transaction.atomic():
        question = Question.objects.create(project=project, asker_organization=organization, asked_by=actor, text=text)
        audit(question, "question.asked", actor=actor, organization_public_id=project.lab.public_id)
        notify_many(
            recipients=_managers([project.lab]),
            kind="question.asked",
            title=f"New question on {project.title}",
            body=text[:300],
            url=f"/projects/{project.public_id}/",
        )
    return question


def question_answer(*, actor: User, question: Question, answer: str, visibility: str) -> bool:
    """The lab answers publicly (every bidder sees question and answer, never the asker) or
    privately (only the asker's organisation). Repeating the same answer is a no-op; a different
    second answer is refused (409 ``question_already_answered``): an answer bidders read stays put."""
    project = question.project
    require(actor, project.lab, Perm.PROJECTS_MANAGE)
    answer = (answer or "").strip()
    errors: dict[str, list[str]] = {}
    if not answer:
        errors["answer"] = ["This field is required."]
    if visibility not in Question.Visibility.values:
        errors["visibility"] = [f"Choose one of: {', '.join(Question.Visibility.values)}."]
    if errors:
        raise ValidationFailed("Please correct: " + ", ".join(sorted(errors)) + ".", details=errors)
    if question.status == Question.Status.ANSWERED and (question.answer, question.visibility) != (answer, visibility):
        raise DomainError("This question has already been answered.", code="question_already_answered")
    with transaction.atomic():
        moved = transition(
            question,
            Question.Status.ANSWERED,
            actor=actor,
            organization_public_id=project.lab.public_id,
            extra_updates={
                "answer": answer,
                "visibility": visibility,
                "answered_by": actor,
                "answered_at": timezone.now(),
            },
        )
        if moved:
            notify_many(
                recipients=_managers([question.asker_organization]),
                kind="question.answered",
                title=f"The lab answered your question on {project.title}",
                body=answer[:300],
                url=_url(project),
            )
    return moved


# --- Bids -------------------------------------------------------------------------------------------------


def _clean_terms(project: Project, terms: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    try:
        price = Decimal(str(terms.get("unit_price", "")).strip())
        if not price.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        errors["unit_price"] = ["A price, e.g. '2.40'."]
    else:
        if price <= 0:
            errors["unit_price"] = ["The unit price must be positive."]
        elif price >= Decimal("100000000") or price != price.quantize(Decimal("0.0001")):
            errors["unit_price"] = ["At most 4 decimal places and below 100,000,000."]
        clean["unit_price"] = price
    for name in ("volume", "weekly_capacity"):
        try:
            number = int(terms.get(name))
        except (TypeError, ValueError):
            number = 0
        if number <= 0 or number > 2_147_483_647:
            errors[name] = ["A positive whole number."]
        clean[name] = number
    if clean.get("volume", 0) > 0 and project.volume and clean["volume"] > project.volume:
        errors["volume"] = [f"The project wants {project.volume} units; offer at most that."]
    for name in ("starts_on", "ends_on"):
        value = terms.get(name)
        if not isinstance(value, date):
            errors[name] = ["A date."]
        clean[name] = value
    if isinstance(clean.get("starts_on"), date) and isinstance(clean.get("ends_on"), date):
        if clean["ends_on"] < clean["starts_on"]:
            errors["ends_on"] = ["The end date must not be before the start date."]
    proposal = (terms.get("proposal") or "").strip()
    if len(proposal) > 20000:
        errors["proposal"] = ["At most 20,000 characters."]
    clean["proposal"] = proposal
    if errors:
        raise ValidationFailed("Please correct: " + ", ".join(sorted(errors)) + ".", details=errors)
    return clean


def _team(organization: Organization, team: list[str] | None) -> list[User]:
    """The proposed team: experts on the vendor's active roster; an individual bids as themself."""
    if organization.kind == OrgKind.INDIVIDUAL:
        return list(User.objects.filter(memberships__organization=organization, memberships__role=Role.OWNER))
    if not team:
        raise ValidationFailed(
            "Propose at least one expert from your roster.", details={"team": ["Propose at least one expert."]}
        )
    ids = []
    for value in team:
        try:
            ids.append(uuid.UUID(str(value)))
        except ValueError:
            raise ValidationFailed(f"'{value}' is not an expert id.", details={"team": [f"'{value}' is not an id."]})
    entries = {
        str(e.user.public_id): e.user
        for e in RosterEntry.objects.filter(
            vendor=organization, status=RosterEntry.Status.ACTIVE, user__public_id__in=ids
        ).select_related("user")
    }
    missing = [str(i) for i in ids if str(i) not in entries]
    if missing:
        raise ValidationFailed(
            "Every team member must be an active expert on your roster.",
            details={"team": [f"Not on your active roster: {', '.join(missing)}."]},
        )
    return [entries[str(i)] for i in ids]


def _require_open(project: Project) -> None:
    if project.status != Project.Status.OPEN or (project.bid_deadline and project.bid_deadline <= timezone.now()):
        when = f" at {project.bid_deadline:%d %B %Y, %H:%M} UTC" if project.bid_deadline else ""
        raise DomainError(
            f"Bidding on this project closed{when}.",
            code="bidding_closed",
            details={"bid_deadline": project.bid_deadline.isoformat() if project.bid_deadline else None},
        )


def bid_submit(
    *, actor: User, organization: Organization, project: Project, team: list[str] | None = None, **terms: Any
) -> Bid:
    """Submit a sealed bid for ``organization`` (a vendor or an independent expert) on an open
    project it may see. One live bid per bidder and project; revise it instead."""
    require(actor, organization, Perm.BIDS_MANAGE)
    if not project_visible_to_supplier(project, organization):
        raise NotFound("Project not found.", code="project_not_found")
    _require_open(project)
    clean = _clean_terms(project, terms)
    members = _team(organization, team)
    try:
        with transaction.atomic():
            bid = Bid.objects.create(
                project=project, bidder=organization, submitted_by=actor, currency=project.currency, **clean
            )
            revision = BidRevision.objects.create(bid=bid, number=1, submitted_by=actor, **clean)
            revision.team.set(members)
            audit(
                bid, "bid.submitted", actor=actor, organization_public_id=organization.public_id, data={"revision": 1}
            )
            # Sealed: the lab learns that a bid arrived, not who bid or at what price.
            emit(
                "bid.submitted",
                obj=bid,
                organization_ids=[project.lab_id, organization.pk],
                data={"bid": str(bid.public_id), "project": str(project.public_id)},
                actor=actor,
            )
            notify_many(
                recipients=_managers([project.lab]),
                kind="bid.received",
                title=f"A bid arrived on {project.title}",
                body="Bids stay sealed until bidding closes.",
                url=f"/projects/{project.public_id}/",
            )
    except IntegrityError:
        raise DomainError(
            "Your organisation already has a live bid on this project; revise it instead.", code="bid_already_live"
        )
    return bid


def bid_revise(*, actor: User, bid: Bid, team: list[str] | None = None, **terms: Any) -> Bid:
    """Replace a live bid's terms with a new revision; every earlier revision is kept."""
    require(actor, bid.bidder, Perm.BIDS_MANAGE)
    project = bid.project
    _require_open(project)
    clean = _clean_terms(project, terms)
    members = _team(bid.bidder, team)
    with transaction.atomic():
        locked = Bid.objects.select_for_update().get(pk=bid.pk)
        if locked.status not in Bid.LIVE:
            raise DomainError(f"This bid is {locked.status} and cannot be revised.", code="bid_not_live")
        number = locked.revision_number + 1
        revision = BidRevision.objects.create(bid=locked, number=number, submitted_by=actor, **clean)
        revision.team.set(members)
        for name, value in clean.items():
            setattr(locked, name, value)
        locked.revision_number = number
        locked.save()
        audit(
            locked, "bid.revised", actor=actor, organization_public_id=bid.bidder.public_id, data={"revision": number}
        )
    return locked


def bid_withdraw(*, actor: User, bid: Bid) -> bool:
    """Withdraw a live bid before the deadline. Idempotent."""
    require(actor, bid.bidder, Perm.BIDS_MANAGE)
    if bid.status != Bid.Status.WITHDRAWN:
        _require_open(bid.project)
    with transaction.atomic():
        moved = transition(bid, Bid.Status.WITHDRAWN, actor=actor, organization_public_id=bid.bidder.public_id)
        if moved:
            emit(
                "bid.withdrawn",
                obj=bid,
                organization_ids=[bid.project.lab_id, bid.bidder_id],
                data={"bid": str(bid.public_id), "project": str(bid.project.public_id)},
                actor=actor,
            )
    return moved


def _require_bids_open_to_lab(project: Project) -> None:
    """Bids are sealed, to the lab too, until bidding closes."""
    if project.status == Project.Status.OPEN:
        raise DomainError("Bids are sealed until bidding closes; close bidding first.", code="bids_sealed")
    if project.status != Project.Status.BIDDING_CLOSED:
        raise DomainError(f"This project is {project.status}.", code="project_not_bidding_closed")


def bid_shortlist(*, actor: User, bid: Bid) -> bool:
    require(actor, bid.project.lab, Perm.PROJECTS_MANAGE)
    _require_bids_open_to_lab(bid.project)
    return transition(bid, Bid.Status.SHORTLISTED, actor=actor, organization_public_id=bid.project.lab.public_id)


def bid_reject(*, actor: User, bid: Bid, reason: str) -> bool:
    """Reject a bid with a reason the bidder sees. Idempotent."""
    require(actor, bid.project.lab, Perm.PROJECTS_MANAGE)
    _require_bids_open_to_lab(bid.project)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Give a reason; the bidder sees it.", details={"reason": ["This field is required."]})
    with transaction.atomic():
        moved = transition(
            bid,
            Bid.Status.REJECTED,
            actor=actor,
            reason=reason,
            organization_public_id=bid.project.lab.public_id,
            extra_updates={"status_reason": reason},
        )
        if moved:
            notify_many(
                recipients=_managers([bid.bidder]),
                kind="bid.rejected",
                title=f"Your bid on {bid.project.title} was not selected",
                body=f"Reason: {reason}",
                url=_url(bid.project),
            )
    return moved


# --- Award ---------------------------------------------------------------------------------------------


def award_create(*, actor: User, project: Project, allocations: list[dict[str, Any]], note: str = "") -> Award:
    """Award the project to one or more live bids, each with a volume. The volumes add up to at most
    the project's volume and their cost to at most its budget cap. Winners are awarded, every other
    live bid loses, and every bidder is told. One award per project: a second attempt is refused."""
    require(actor, project.lab, Perm.PROJECTS_MANAGE)
    if not allocations:
        raise ValidationFailed("Allocate volume to at least one bid.", details={"allocations": ["Required."]})
    errors: dict[str, list[str]] = {}
    wanted: list[tuple[str, int]] = []
    for index, item in enumerate(allocations):
        bid_id, volume = str(item.get("bid", "")), item.get("volume")
        try:
            volume = int(volume)
        except (TypeError, ValueError):
            volume = 0
        if volume <= 0:
            errors[f"allocations[{index}].volume"] = ["A positive whole number."]
        wanted.append((bid_id, volume))
    if len({b for b, _ in wanted}) != len(wanted):
        errors["allocations"] = ["Each bid may appear once."]
    if errors:
        raise ValidationFailed("Please correct: " + ", ".join(sorted(errors)) + ".", details=errors)

    with transaction.atomic():
        locked = Project.objects.select_for_update().select_related("lab").get(pk=project.pk)
        if locked.status == Project.Status.AWARDED or Award.objects.filter(project=locked).exists():
            raise DomainError("This project has already been awarded.", code="project_already_awarded")
        _require_bids_open_to_lab(locked)
        bids = {
            str(b.public_id): b
            for b in Bid.objects.select_for_update().filter(
                project=locked, public_id__in=[b for b, _ in wanted if _is_uuid(b)]
            )
        }
        total_volume = 0
        total_minor = 0
        rows = []
        for index, (bid_id, volume) in enumerate(wanted):
            bid = bids.get(bid_id)
            if bid is None:
                errors[f"allocations[{index}].bid"] = ["No such bid on this project."]
                continue
            if bid.status not in Bid.LIVE:
                errors[f"allocations[{index}].bid"] = [f"This bid is {bid.status}; only a live bid can be awarded."]
                continue
            if volume > bid.volume:
                errors[f"allocations[{index}].volume"] = [f"The bid offers {bid.volume} units."]
                continue
            amount = to_minor(bid.unit_price * volume, locked.currency)
            total_volume += volume
            total_minor += amount
            rows.append((bid, volume, amount))
        if not errors and locked.volume and total_volume > locked.volume:
            errors["allocations"] = [f"{total_volume} units allocated; the project wants at most {locked.volume}."]
        if not errors and locked.budget_cap_minor is not None and total_minor > locked.budget_cap_minor:
            errors["allocations"] = ["The allocations cost more than the budget cap."]
        if errors:
            raise ValidationFailed("Please correct: " + ", ".join(sorted(errors)) + ".", details=errors)

        transition(locked, Project.Status.AWARDED, actor=actor, organization_public_id=locked.lab.public_id)
        award = Award.objects.create(
            project=locked,
            awarded_by=actor,
            total_minor=total_minor,
            currency=locked.currency,
            note=(note or "").strip(),
        )
        winners = set()
        for bid, volume, amount in rows:
            AwardAllocation.objects.create(
                award=award, bid=bid, volume=volume, unit_price=bid.unit_price, amount_minor=amount
            )
            transition(
                bid,
                Bid.Status.AWARDED,
                actor=actor,
                organization_public_id=locked.lab.public_id,
                data={"volume": volume, "amount_minor": amount},
            )
            winners.add(bid.pk)
            notify_many(
                recipients=_managers([bid.bidder]),
                kind="bid.awarded",
                title=f"You won {volume} units of {locked.title}",
                body="A contract to sign follows.",
                url=_url(locked),
            )
        for bid in (
            Bid.objects.filter(project=locked, status__in=Bid.LIVE).exclude(pk__in=winners).select_related("bidder")
        ):
            transition(bid, Bid.Status.LOST, actor=actor, organization_public_id=locked.lab.public_id)
            notify_many(
                recipients=_managers([bid.bidder]),
                kind="bid.lost",
                title=f"Your bid on {locked.title} was not awarded",
                body="Thank you for bidding.",
                url=_url(locked),
            )
        audit(
            award,
            "award.created",
            actor=actor,
            organization_public_id=locked.lab.public_id,
            data={"volume": total_volume, "total_minor": total_minor, "bids": len(rows)},
        )
        # Contracts (a layer above) turn each allocation into a contract in this same transaction.
        hooks.project_awarded.fire(award=award, actor=actor)
        # The lab and the winners only; a winner does not learn the other winners' bids or volumes.
        emit(
            "project.awarded",
            obj=award,
            organization_ids=[locked.lab_id, *(bid.bidder_id for bid, _volume, _amount in rows)],
            data={"project": str(locked.public_id), "award": str(award.public_id)},
            actor=actor,
        )
    project.refresh_from_db()
    return award


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
