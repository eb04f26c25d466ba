"""Calibration rounds: a lab sends one calibration test to chosen suppliers' experts, then compares the
suppliers on accuracy against gold (with Wilson intervals) and on agreement.

Services and selectors live together here (one capability, one module). Visibility:

* the lab that owns a round sees it and its report;
* an invited supplier sees the round (to take it) but never the report: ``calibration_report`` raises
  ``NotFound`` for everyone but the owning lab, so no supplier learns a competitor's figures;
* experts are named in the report by their pseudonymous handle only.

Answers are read as the assessment services store them (original terms, see ``grading.py``):
single_choice ``{"option": i}``, multiple_choice ``{"options": [...]}``, ab_preference
``{"choice": "A"|"B"|"tie", ...}``, likert ``{"value": n}``, numeric ``{"value": x}``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.accounts.models import Membership, Organization, User
from apps.accounts.policies import has_permission, require
from apps.accounts.roles import OrgKind, Perm, Role
from apps.core.errors import NotFound, ValidationFailed
from apps.core.transitions import audit, transition
from apps.experts.models import ExpertProfile, RosterEntry
from apps.notifications.services import notify
from apps.projects.models import Project

from . import stats
from .models import AnswerKey, Attempt, AttemptItem, CalibrationRound, Item, Test

FOUR = Decimal("0.0001")
_BAD_ID = (ValueError, TypeError, ValidationError)
SUPPLIER_KINDS = (OrgKind.VENDOR, OrgKind.INDIVIDUAL)
# item type -> Krippendorff level; multiple choice is compared as the exact set (nominal), free text not at all
LEVELS = {
    Item.Type.SINGLE_CHOICE: "nominal",
    Item.Type.MULTIPLE_CHOICE: "nominal",
    Item.Type.AB_PREFERENCE: "nominal",
    Item.Type.LIKERT: "ordinal",
    Item.Type.NUMERIC: "interval",
}
AB_CODES = {"A": 0, "B": 1, "tie": 2}


# --- Services ------------------------------------------------------------------------------------------


def _supplier_recipients(supplier: Organization) -> QuerySet[User]:
    roles = [Role.OWNER, Role.MANAGER] if supplier.kind == OrgKind.VENDOR else [Role.OWNER]
    return User.objects.filter(
        memberships__organization=supplier, memberships__role__in=roles, is_active=True
    ).distinct()


def calibration_round_create(
    *,
    actor: User,
    lab: Organization,
    test: Test,
    title: str,
    deadline: datetime,
    suppliers: Iterable[UUID | str],
    pilot_project: Project | None = None,
) -> CalibrationRound:
    """Open a round of ``test`` for the suppliers (public ids of vendors or independent experts) and tell
    their managers. The test must be a published calibration test of the lab or of the platform."""
    require(actor, lab, Perm.TESTS_AUTHOR)
    errors: dict[str, list[str]] = {}
    if lab.kind != OrgKind.LAB:
        errors["lab"] = ["Only a lab runs calibration rounds."]
    if test.kind != Test.Kind.CALIBRATION or test.status != Test.Status.PUBLISHED:
        errors["test"] = ["Choose a published calibration test."]
    elif test.owner_id not in (None, lab.pk):
        errors["test"] = ["Choose a test of your lab or a platform test."]
    if not (title or "").strip():
        errors["title"] = ["A title is required."]
    if deadline is None or deadline <= timezone.now():
        errors["deadline"] = ["The deadline must be in the future."]
    if pilot_project is not None and pilot_project.lab_id != lab.pk:
        errors["pilot_project"] = ["The pilot must be one of your lab's projects."]
    wanted = []
    try:
        wanted = list(dict.fromkeys(UUID(str(s)) for s in suppliers))
    except _BAD_ID:
        errors["suppliers"] = ["Unknown supplier id."]
    orgs = list(Organization.objects.filter(public_id__in=wanted, kind__in=SUPPLIER_KINDS))
    if "suppliers" not in errors:
        if not wanted:
            errors["suppliers"] = ["Invite at least one supplier."]
        elif len(orgs) != len(wanted):
            errors["suppliers"] = ["Every supplier must be a vendor or an independent expert."]
    if errors:
        raise ValidationFailed("The calibration round is incomplete.", details=errors)

    with transaction.atomic(durable=True):
        round_ = CalibrationRound.objects.create(
            lab=lab, test=test, title=title.strip(), deadline=deadline, pilot_project=pilot_project, created_by=actor
        )
        round_.suppliers.set(orgs)
        audit(
            round_,
            "calibrationround.created",
            actor=actor,
            organization_public_id=lab.public_id,
            data={"suppliers": [str(o.public_id) for o in orgs], "test": str(test.public_id)},
        )
        for supplier in orgs:
            for recipient in _supplier_recipients(supplier):
                notify(
                    recipient=recipient,
                    kind="calibration.invited",
                    title=f"Calibration round: {round_.title}",
                    body=f"{lab.name} invites your experts to a calibration test before {deadline:%Y-%m-%d %H:%M} UTC.",
                    data={"round": str(round_.public_id), "supplier": str(supplier.public_id)},
                )
    return round_


def calibration_round_close(*, actor: User, round: CalibrationRound) -> CalibrationRound:  # noqa: A002
    """Close the round (no new attempts). Closing a closed round is a no-op."""
    require(actor, round.lab, Perm.TESTS_AUTHOR)
    with transaction.atomic(durable=True):
        transition(round, CalibrationRound.Status.CLOSED, actor=actor, organization_public_id=round.lab.public_id)
    return round


# --- Selectors -----------------------------------------------------------------------------------------


def calibration_round_list(*, actor: User, organization: Organization) -> QuerySet[CalibrationRound]:
    """The lab's own rounds, or the rounds a supplier is invited to."""
    if organization.kind == OrgKind.LAB:
        require(actor, organization, Perm.PROJECTS_VIEW)
        qs = CalibrationRound.objects.filter(lab=organization)
    else:
        require(actor, organization, Perm.MARKETPLACE_BROWSE)
        qs = CalibrationRound.objects.filter(suppliers=organization)
    return qs.select_related("lab", "test", "pilot_project").order_by("-created_at", "-id")


def calibration_round_get(*, actor: User, organization: Organization | None, public_id: UUID | str) -> CalibrationRound:
    if organization is None:
        raise NotFound("Calibration round not found.", code="calibration_round_not_found")
    try:
        return calibration_round_list(actor=actor, organization=organization).get(public_id=public_id)
    except (CalibrationRound.DoesNotExist, *_BAD_ID):
        raise NotFound("Calibration round not found.", code="calibration_round_not_found")


def _eligible_supplier_ids(round: CalibrationRound, expert: User) -> set[int]:  # noqa: A002
    """Invited suppliers the expert takes the round for now: an active roster entry, or ownership of an
    invited independent expert's organisation."""
    supplier_ids = set(round.suppliers.values_list("pk", flat=True))
    vendors = RosterEntry.objects.filter(
        user=expert, vendor_id__in=supplier_ids, status=RosterEntry.Status.ACTIVE
    ).values_list("vendor_id", flat=True)
    owned = Membership.objects.filter(
        user=expert, organization_id__in=supplier_ids, organization__kind=OrgKind.INDIVIDUAL, role=Role.OWNER
    ).values_list("organization_id", flat=True)
    return set(vendors) | set(owned)


def calibration_round_can_attempt(*, round: CalibrationRound, expert: User) -> bool:  # noqa: A002
    """Open, before the deadline, and the expert is on an invited vendor's active roster or owns an
    invited independent expert's organisation."""
    if round.status != CalibrationRound.Status.OPEN or timezone.now() >= round.deadline:
        return False
    return bool(_eligible_supplier_ids(round, expert))


# --- Report --------------------------------------------------------------------------------------------


def _d4(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(FOUR, rounding=ROUND_HALF_UP)


def _code(item_type: str, answer: Any) -> Any:
    """The answer as a comparable code (int/float/tuple), or None when it cannot be compared."""
    if not isinstance(answer, dict):
        return None
    try:
        if item_type == Item.Type.SINGLE_CHOICE:
            return int(answer["option"])
        if item_type == Item.Type.MULTIPLE_CHOICE:
            return tuple(sorted(int(i) for i in answer.get("options") or []))
        if item_type == Item.Type.AB_PREFERENCE:
            return AB_CODES.get(answer.get("choice"))
        if item_type == Item.Type.LIKERT:
            return int(answer["value"])
        if item_type == Item.Type.NUMERIC:
            return float(Decimal(str(answer["value"])))
    except (KeyError, TypeError, ValueError, InvalidOperation):
        return None
    return None


def _supplier_of_attempts(attempts: list[Attempt], suppliers: list[Organization]) -> dict[int, Organization]:
    """attempt pk -> the invited supplier it counts for: a vendor whose roster the expert had joined by
    the attempt (entries are never deleted, so a later offboarding does not erase the pilot), or the
    independent organisation the expert owns. An expert matching none is left out."""
    by_pk = {o.pk: o for o in suppliers}
    experts = {a.expert_id for a in attempts}
    joined: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for user_id, vendor_id, joined_at in RosterEntry.objects.filter(
        user_id__in=experts, vendor_id__in=by_pk, joined_at__isnull=False
    ).values_list("user_id", "vendor_id", "joined_at"):
        joined[user_id].append((joined_at, vendor_id))
    owned = dict(
        Membership.objects.filter(
            user_id__in=experts, organization_id__in=by_pk, organization__kind=OrgKind.INDIVIDUAL, role=Role.OWNER
        ).values_list("user_id", "organization_id")
    )
    out = {}
    for attempt in attempts:
        moment = attempt.submitted_at or attempt.started_at
        vendors = sorted(vendor for at, vendor in joined.get(attempt.expert_id, []) if at <= moment)
        if vendors:
            out[attempt.pk] = by_pk[vendors[0]]
        elif attempt.expert_id in owned:
            out[attempt.pk] = by_pk[owned[attempt.expert_id]]
    return out


def _graded_attempts(rounds: QuerySet[CalibrationRound] | list[CalibrationRound]) -> list[Attempt]:
    """The latest graded attempt per expert and round."""
    latest: dict[tuple[int, int], Attempt] = {}
    for attempt in (
        Attempt.objects.filter(calibration_round__in=rounds, status=Attempt.Status.GRADED)
        .select_related("expert__expert_profile")
        .order_by("submitted_at", "id")
    ):
        latest[(attempt.calibration_round_id, attempt.expert_id)] = attempt
    return list(latest.values())


@dataclass
class AccuracyRow:
    name: str  # supplier label, or an expert's handle
    answered: int  # items answered
    gold_items: int  # graded answers on items with an answer key
    accuracy: Decimal | None
    lower: Decimal
    upper: Decimal
    supplier: str = ""  # for experts: the supplier's label


@dataclass
class CalibrationReport:
    round: CalibrationRound
    experts: list[AccuracyRow]
    suppliers: list[AccuracyRow]  # the league table: by Wilson lower bound, best first
    alpha: dict[str, dict[str, stats.Agreement]]  # scope ("all" or supplier) -> level -> alpha
    fleiss: dict[str, stats.Agreement]  # scope -> Fleiss' kappa on the nominal items
    cohen_pairs: list[tuple[str, str, float | None, int]]  # expert handles, nominal items
    disagreements: list[dict]  # items on which the answers split most, with each supplier's modal answer
    chart: list[dict] = field(default_factory=list)  # [{"supplier", "accuracy", "lower", "upper"}]


def _accuracy_row(name: str, answered: int, earned: list[Decimal], supplier: str = "") -> AccuracyRow:
    successes = sum(earned, Decimal(0))
    lower, upper = stats.wilson_interval(float(successes), len(earned))
    accuracy = _d4(successes / len(earned)) if earned else None
    return AccuracyRow(name, answered, len(earned), accuracy, lower, upper, supplier)


def _supplier_name(org: Organization, owners: dict[int, str]) -> str:
    return org.name if org.kind != OrgKind.INDIVIDUAL else owners.get(org.pk, "independent expert")


def calibration_report(*, actor: User, round: CalibrationRound) -> CalibrationReport:  # noqa: A002
    """The owning lab's comparison of the invited suppliers. Everyone else: NotFound."""
    if not has_permission(actor, round.lab, Perm.PROJECTS_VIEW):
        raise NotFound("Calibration round not found.", code="calibration_round_not_found")
    suppliers = list(round.suppliers.all())
    owners = dict(
        ExpertProfile.objects.filter(
            user__memberships__organization__in=suppliers,
            user__memberships__organization__kind=OrgKind.INDIVIDUAL,
            user__memberships__role=Role.OWNER,
        ).values_list("user__memberships__organization_id", "handle")
    )
    attempts = _graded_attempts([round])
    supplier_of = _supplier_of_attempts(attempts, suppliers)
    attempts = [a for a in attempts if a.pk in supplier_of]
    keyed = set(AnswerKey.objects.filter(item__test=round.test_id).values_list("item_id", flat=True))
    items = AttemptItem.objects.filter(attempt__in=attempts).select_related("item").order_by("attempt_id", "position")

    handle = {a.pk: getattr(getattr(a.expert, "expert_profile", None), "handle", f"expert-{a.pk}") for a in attempts}
    label = {a.pk: _supplier_name(supplier_of[a.pk], owners) for a in attempts}
    answered: dict[int, int] = defaultdict(int)
    earned: dict[int, list[Decimal]] = defaultdict(list)
    # level -> scope -> item -> values; nominal codes per expert for Cohen
    values: dict[str, dict[str, dict[int, list]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    nominal_by_expert: dict[str, dict[int, Any]] = defaultdict(dict)
    by_item_supplier: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for ai in items:
        if ai.answer is None:
            continue
        answered[ai.attempt_id] += 1
        if ai.item_id in keyed and ai.earned is not None:
            earned[ai.attempt_id].append(ai.earned)
        level = LEVELS.get(ai.item.type)
        code = _code(ai.item.type, ai.answer) if level else None
        if code is None:
            continue
        scope = label[ai.attempt_id]
        values[level]["all"][ai.item_id].append(code)
        values[level][scope][ai.item_id].append(code)
        if level == "nominal":
            nominal_by_expert[handle[ai.attempt_id]][ai.item_id] = code
            by_item_supplier[ai.item_id][scope].append(code)

    experts = sorted(
        (_accuracy_row(handle[a.pk], answered[a.pk], earned[a.pk], label[a.pk]) for a in attempts),
        key=lambda r: (r.supplier, -r.lower, r.name),
    )
    pooled_answered: dict[str, int] = defaultdict(int)
    pooled_earned: dict[str, list[Decimal]] = defaultdict(list)
    for a in attempts:
        pooled_answered[label[a.pk]] += answered[a.pk]
        pooled_earned[label[a.pk]].extend(earned[a.pk])
    league = sorted(
        (_accuracy_row(name, pooled_answered[name], pooled_earned[name]) for name in {label[a.pk] for a in attempts}),
        key=lambda r: (-r.lower, -(r.accuracy or 0), r.name),
    )

    alpha: dict[str, dict[str, stats.Agreement]] = defaultdict(dict)
    fleiss: dict[str, stats.Agreement] = {}
    for level, scopes in values.items():
        for scope, per_item in scopes.items():
            units = list(per_item.values())
            alpha[scope][level] = stats.krippendorff_alpha(units, level=level)
            if level == "nominal":
                fleiss[scope] = stats.fleiss_kappa(stats.category_table(units)[0])

    disagreements = []
    for row in stats.items_most_disagreed(values["nominal"]["all"]) if "nominal" in values else []:
        split = {
            scope: stats.items_most_disagreed({row.item: codes}, min_answers=1)[0].modal_labels
            for scope, codes in sorted(by_item_supplier[row.item].items())
        }
        disagreements.append(
            {
                "item": row.item,
                "n": row.n,
                "modal_labels": row.modal_labels,
                "modal_share": _d4(row.modal_share),
                "tie": row.tie,
                "by_supplier": split,
                "suppliers_differ": len(set(split.values())) > 1,
            }
        )
    disagreements.sort(key=lambda d: (not d["suppliers_differ"], d["modal_share"], -d["n"]))

    return CalibrationReport(
        round=round,
        experts=experts,
        suppliers=league,
        alpha=dict(alpha),
        fleiss=fleiss,
        cohen_pairs=stats.cohen_kappa_pairs(nominal_by_expert),
        disagreements=disagreements,
        chart=[{"supplier": r.name, "accuracy": r.accuracy, "lower": r.lower, "upper": r.upper} for r in league],
    )


# --- Pilot accuracy for bids ---------------------------------------------------------------------------


def pilot_accuracy_by_supplier(project: Project) -> dict[int, Decimal]:
    """supplier organisation pk -> pooled accuracy against gold (4 decimals) of its experts' graded
    attempts in the calibration rounds piloting ``project``. Suppliers without gold answers are absent."""
    rounds = list(CalibrationRound.objects.filter(pilot_project=project).prefetch_related("suppliers"))
    if not rounds:
        return {}
    attempts = _graded_attempts(rounds)
    supplier_of: dict[int, Organization] = {}
    for round_ in rounds:
        mine = [a for a in attempts if a.calibration_round_id == round_.pk]
        supplier_of.update(_supplier_of_attempts(mine, list(round_.suppliers.all())))
    rows = AttemptItem.objects.filter(attempt_id__in=supplier_of, earned__isnull=False, answer__isnull=False).filter(
        Q(item__answer_key__isnull=False)
    )
    totals: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for attempt_id, value in rows.values_list("attempt_id", "earned"):
        total = totals[supplier_of[attempt_id].pk]
        total[0] += value
        total[1] += 1
    return {org: _d4(s / n) for org, (s, n) in totals.items() if n}
