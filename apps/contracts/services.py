"""Writes for contracts: creation from an award, signing, amendments, the lifecycle, the NDA and
assignments with their gates."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import Organization, User
from apps.accounts.policies import require
from apps.accounts.roles import OrgKind, Perm, Role
from apps.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from apps.core.events import emit
from apps.core.money import to_minor
from apps.core.transitions import audit, transition
from apps.experts.models import Credential
from apps.notifications.services import notify_many
from apps.projects.models import GuidelineVersion, Project

from . import selectors
from .models import (
    DEFAULT_LABEL_SETS,
    DEFAULT_QUALITY_PAY,
    Assignment,
    Contract,
    ContractVersion,
    Milestone,
    NdaAcceptance,
    Signature,
)

# The terms a version carries, in the order they are hashed and shown.
TERM_FIELDS = (
    "unit_rate",
    "currency",
    "volume_cap",
    "budget_cap_minor",
    "sla_min_gold_accuracy",
    "sla_min_alpha",
    "sla_max_turnaround_days",
    "quality_pay",
    "label_set",
    "review_window_days",
    "appeal_window_days",
    "notice_period_days",
    "nda_version",
    "starts_on",
    "ends_on",
)
# effective_from is not a term: it follows from the signatures (or, for a rate cut, the notice period),
# so it is neither hashed nor amendable (hashing it broke the hash of a version once in force and made
# every rate cut differ from its base in more than the rate).
AMENDABLE = (set(TERM_FIELDS) - {"currency", "budget_cap_minor"}) | {"milestones", "budget_cap"}


def _people(organization: Organization) -> list[User]:
    return list(
        User.objects.filter(
            is_active=True,
            memberships__organization=organization,
            memberships__role__in=[Role.OWNER, Role.ADMIN, Role.MANAGER],
        ).distinct()
    )


def _tell_both(contract: Contract, *, kind: str, title: str, body: str = "") -> None:
    url = f"/contracts/{contract.public_id}/"
    for org in (contract.lab, contract.supplier):
        notify_many(recipients=_people(org), kind=kind, title=title, body=body, url=url)


# --- Terms ----------------------------------------------------------------------------------------


def canonical_terms(version: ContractVersion, milestones: list[dict] | None = None) -> dict[str, Any]:
    """Every term of a version as plain JSON values: what is shown, hashed and signed."""
    terms: dict[str, Any] = {}
    for name in TERM_FIELDS:
        value = getattr(version, name)
        if isinstance(value, Decimal):
            value = f"{value:f}"
        elif isinstance(value, date):
            value = value.isoformat()
        terms[name] = value
    if milestones is None:
        milestones = [
            {
                "title": m.title,
                "amount_minor": m.amount_minor,
                "due_on": m.due_on.isoformat(),
                "acceptance_criteria": m.acceptance_criteria,
            }
            # .all() uses a prefetch (the contract page prefetches every version's milestones); order in Python
            for m in sorted(version.milestones.all(), key=lambda m: m.position)
        ]
    terms["milestones"] = milestones
    return terms


def terms_hash(terms: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(terms, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def validate_quality_pay(bands: Any) -> list[list[str]]:
    """[[min accuracy, multiplier], ...], accuracies strictly decreasing in (0, 1], multipliers >= 0."""
    if not isinstance(bands, list) or not bands:
        raise ValidationFailed(
            "Give at least one band.", details={"quality_pay": ["A list of [accuracy, multiplier]."]}
        )
    clean: list[list[str]] = []
    previous = None
    for index, band in enumerate(bands):
        try:
            accuracy, multiplier = (Decimal(str(v)) for v in band)
        except (TypeError, ValueError, InvalidOperation):
            raise ValidationFailed(
                f"Band {index + 1} is not [accuracy, multiplier].",
                details={f"quality_pay[{index}]": ['[minimum accuracy, multiplier], e.g. ["0.85", "1.00"].']},
            )
        if (
            not (accuracy.is_finite() and multiplier.is_finite())
            or not (0 < accuracy <= 1)
            or not (0 <= multiplier <= 5)
        ):
            raise ValidationFailed(
                f"Band {index + 1}: accuracy must be in (0, 1] and the multiplier in [0, 5].",
                details={f"quality_pay[{index}]": ["Accuracy in (0, 1], multiplier in [0, 5]."]},
            )
        if previous is not None and accuracy >= previous:
            raise ValidationFailed(
                "Bands go from the highest accuracy down.",
                details={f"quality_pay[{index}]": ["Each band's accuracy must be below the one before."]},
            )
        previous = accuracy
        clean.append([f"{accuracy:f}", f"{multiplier:f}"])
    return clean


def quality_multiplier(bands: list[list[str]], gold_accuracy: Decimal) -> Decimal:
    """The pay multiplier for a measured gold accuracy: the first band it reaches; 0 below all bands
    (the work goes back for rework)."""
    if isinstance(gold_accuracy, float):
        raise TypeError("Pass the accuracy as a Decimal: a float like 0.95 is not exactly 0.95.")
    for accuracy, multiplier in bands:
        if gold_accuracy >= Decimal(accuracy):
            return Decimal(multiplier)
    return Decimal(0)


def _clean_milestones(raw: Any, currency: str) -> list[dict]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValidationFailed("Milestones are a list.", details={"milestones": ["A list."]})
    out = []
    errors: dict[str, list[str]] = {}
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            errors[f"milestones[{index}]"] = ["An object with title, amount, due_on and acceptance_criteria."]
            continue
        title = str(item.get("title", "")).strip()
        criteria = str(item.get("acceptance_criteria", "")).strip()
        try:
            amount = Decimal(str(item.get("amount")))
            amount_minor = to_minor(amount, currency) if amount.is_finite() else 0
        except (InvalidOperation, ValueError):
            amount_minor = 0
        due = item.get("due_on")
        if isinstance(due, str):
            try:
                due = date.fromisoformat(due)
            except ValueError:
                due = None
        if not title:
            errors[f"milestones[{index}].title"] = ["Required."]
        if amount_minor <= 0:
            errors[f"milestones[{index}].amount"] = ["A positive amount."]
        if not isinstance(due, date):
            errors[f"milestones[{index}].due_on"] = ["A date."]
        if not criteria:
            errors[f"milestones[{index}].acceptance_criteria"] = ["Say how the milestone is accepted."]
        if not errors:
            out.append(
                {
                    "title": title,
                    "amount_minor": amount_minor,
                    "due_on": due.isoformat(),
                    "acceptance_criteria": criteria,
                }
            )
    if errors:
        raise ValidationFailed("Please correct the milestones.", details=errors)
    return out


def _save_version(version: ContractVersion, milestones: list[dict]) -> ContractVersion:
    version.terms_hash = terms_hash(canonical_terms(version, milestones))
    version.save()
    Milestone.objects.bulk_create(
        Milestone(
            version=version,
            position=i + 1,
            title=m["title"],
            amount_minor=m["amount_minor"],
            due_on=date.fromisoformat(m["due_on"]),
            acceptance_criteria=m["acceptance_criteria"],
        )
        for i, m in enumerate(milestones)
    )
    return version


# --- Creation from an award ---------------------------------------------------------------------------


def contracts_create_for_award(*, award, actor: User | None = None) -> list[Contract]:
    """Turn each allocation of an award into a contract awaiting both signatures, with v1 terms from
    the project and the bid. Subscribed to ``bidding.hooks.project_awarded`` (same transaction).
    Idempotent: an allocation that already has a contract is skipped."""
    project: Project = award.project
    created = []
    for allocation in award.allocations.select_related("bid__bidder"):
        if Contract.objects.filter(allocation=allocation).exists():
            continue
        bid = allocation.bid
        contract = Contract.objects.create(project=project, allocation=allocation, lab=project.lab, supplier=bid.bidder)
        version = ContractVersion(
            contract=contract,
            number=1,
            proposed_by=actor,
            change_summary="Terms from the award",
            unit_rate=allocation.unit_price,
            currency=award.currency,
            volume_cap=allocation.volume,
            budget_cap_minor=allocation.amount_minor,
            sla_min_gold_accuracy=project.sla_min_gold_accuracy,
            sla_min_alpha=project.sla_min_alpha,
            sla_max_turnaround_days=project.sla_max_turnaround_days,
            quality_pay=DEFAULT_QUALITY_PAY,
            label_set=DEFAULT_LABEL_SETS.get(project.task_type, ["complete"]),
            starts_on=bid.starts_on,
            ends_on=bid.ends_on,
        )
        _save_version(version, [])
        audit(
            contract,
            "contract.created",
            actor=actor,
            organization_public_id=project.lab.public_id,
            data={"allocation_volume": allocation.volume},
        )
        _tell_both(
            contract,
            kind="contract.created",
            title=f"Contract to sign: {project.title}",
            body="Review the terms (rate, volume, SLA, quality-pay bands, windows, milestones) and sign.",
        )
        created.append(contract)
    return created


# --- Signing and amendments --------------------------------------------------------------------------


def _side(contract: Contract, organization: Organization) -> str:
    if organization.pk == contract.lab_id:
        return Signature.Side.LAB
    if organization.pk == contract.supplier_id:
        return Signature.Side.SUPPLIER
    raise NotFound("Contract not found.", code="contract_not_found")


def contract_sign(
    *, actor: User, organization: Organization, contract: Contract, shown_terms_hash: str, ip_address: str | None = None
) -> ContractVersion:
    """Sign the version awaiting signatures for ``organization``'s side. ``shown_terms_hash`` must be
    the hash of the terms the signer saw: a mismatch (the terms changed) is refused. When both
    sides have signed, the version takes effect and a pending contract becomes active. Signing
    twice is a no-op."""
    require(actor, organization, Perm.CONTRACTS_SIGN)
    side = _side(contract, organization)
    with transaction.atomic():
        locked = Contract.objects.select_for_update().get(pk=contract.pk)
        version = locked.versions.filter(status=ContractVersion.Status.PROPOSED).first()
        current = locked.current_version
        if version is None and current is not None and current.terms_hash == shown_terms_hash:
            if current.signatures.filter(side=side).exists():
                return current  # a retried signature of terms already in force: nothing to do
        if version is None:
            raise DomainError("No terms await signatures on this contract.", code="nothing_to_sign")
        if shown_terms_hash != version.terms_hash:
            raise DomainError(
                "The terms changed since they were shown to you; read them again and sign the new terms.",
                code="terms_hash_mismatch",
                details={"terms_hash": version.terms_hash},
            )
        if locked.status in (Contract.Status.COMPLETED, Contract.Status.TERMINATED):
            raise DomainError(f"This contract is {locked.status}.", code="contract_closed")
        signature, created = Signature.objects.get_or_create(
            version=version,
            side=side,
            defaults={"signed_by": actor, "ip_address": ip_address, "terms_hash": version.terms_hash},
        )
        if created:
            audit(
                version,
                "contract.signed",
                actor=actor,
                organization_public_id=organization.public_id,
                data={"side": side, "version": version.number, "terms_hash": version.terms_hash},
            )
            emit(
                "contract.signed",
                obj=version,
                organization_ids=[locked.lab_id, locked.supplier_id],
                data={
                    "contract": str(locked.public_id),
                    "project": str(locked.project.public_id),
                    "version": version.number,
                    "side": side,
                    "terms_hash": version.terms_hash,
                },
                actor=actor,
            )
            other = locked.supplier if side == Signature.Side.LAB else locked.lab
            notify_many(
                recipients=_people(other),
                kind="contract.signed",
                title=f"{organization.name if organization.kind != OrgKind.INDIVIDUAL else 'The expert'} "
                f"signed v{version.number}: {locked.project.title}",
                url=f"/contracts/{locked.public_id}/",
            )
        if version.signatures.count() == 2:
            _make_effective(locked, version, actor=actor, effective_from=timezone.localdate())
    version.refresh_from_db()
    return version


def _make_effective(contract: Contract, version: ContractVersion, *, actor: User | None, effective_from: date) -> None:
    previous = contract.current_version
    transition(version, ContractVersion.Status.EFFECTIVE, actor=actor, extra_updates={"effective_from": effective_from})
    if previous is not None and previous.pk != version.pk:
        transition(previous, ContractVersion.Status.SUPERSEDED, actor=actor)
    Contract.objects.filter(pk=contract.pk).update(current_version=version, updated_at=timezone.now())
    contract.refresh_from_db()
    if contract.status == Contract.Status.PENDING_SIGNATURE:
        transition(contract, Contract.Status.ACTIVE, actor=actor, organization_public_id=contract.lab.public_id)
        emit(
            "contract.activated",
            obj=contract,
            organization_ids=[contract.lab_id, contract.supplier_id],
            data={
                "contract": str(contract.public_id),
                "project": str(contract.project.public_id),
                "version": version.number,
                "effective_from": effective_from.isoformat(),
            },
            actor=actor,
        )
        if contract.project.status == Project.Status.AWARDED:
            transition(
                contract.project,
                Project.Status.IN_PROGRESS,
                actor=None,
                reason="first contract active",
                organization_public_id=contract.lab.public_id,
            )
        _tell_both(
            contract,
            kind="contract.activated",
            title=f"Contract active: {contract.project.title}",
            body="Both sides signed. The supplier can now assign experts.",
        )
    else:
        _tell_both(
            contract,
            kind="amendment.effective",
            title=f"Amendment v{version.number} in force: {contract.project.title}",
            body=version.change_summary,
        )


def contract_amend(
    *, actor: User, organization: Organization, contract: Contract, changes: dict[str, Any], change_summary: str
) -> ContractVersion:
    """Propose new terms as the next version (both sides sign again). Before the contract is active
    this replaces the unsigned proposal. A rate decrease proposed by the lab takes effect no earlier
    than the notice period, even without the supplier's signature; the supplier's signature makes it
    effective at once."""
    require(actor, organization, Perm.CONTRACTS_SIGN)
    _side(contract, organization)
    unknown = set(changes) - AMENDABLE
    if unknown:
        raise ValidationFailed("Unknown or fixed terms.", details={name: ["Cannot be amended."] for name in unknown})
    if not (change_summary or "").strip():
        raise ValidationFailed("Say what changes.", details={"change_summary": ["This field is required."]})
    with transaction.atomic():
        locked = Contract.objects.select_for_update().get(pk=contract.pk)
        if locked.status in (Contract.Status.COMPLETED, Contract.Status.TERMINATED):
            raise DomainError(f"This contract is {locked.status}.", code="contract_closed")
        base = locked.current_version or locked.versions.order_by("-number").first()
        pending = locked.versions.filter(status=ContractVersion.Status.PROPOSED).first()
        if pending is not None:
            transition(pending, ContractVersion.Status.WITHDRAWN, actor=actor, reason="replaced by a new proposal")
        number = locked.versions.order_by("-number").values_list("number", flat=True).first() + 1
        version = ContractVersion(
            contract=locked, number=number, proposed_by=actor, change_summary=change_summary.strip()[:300]
        )
        for name in TERM_FIELDS:
            setattr(version, name, getattr(base, name))
        version.effective_from = None
        milestones = canonical_terms(base)["milestones"]
        errors: dict[str, list[str]] = {}
        for name, value in changes.items():
            try:
                if name == "milestones":
                    milestones = _clean_milestones(value, base.currency)
                elif name == "quality_pay":
                    version.quality_pay = validate_quality_pay(value)
                elif name == "label_set":
                    labels = [str(v).strip() for v in value] if isinstance(value, list) else []
                    if not labels or len(set(labels)) != len(labels) or any(not v for v in labels):
                        raise ValidationFailed("bad", details={"label_set": ["Distinct, non-empty labels."]})
                    version.label_set = labels
                elif name in ("unit_rate", "sla_min_gold_accuracy", "sla_min_alpha"):
                    number_value = None if value in (None, "") else Decimal(str(value))
                    if name == "unit_rate" and (number_value is None or not 0 < number_value < 10**8):
                        raise ValidationFailed("bad", details={name: ["A positive rate below 100,000,000."]})
                    low = -1 if name == "sla_min_alpha" else 0  # Krippendorff's alpha may be negative
                    if name != "unit_rate" and number_value is not None and not low <= number_value <= 1:
                        raise ValidationFailed("bad", details={name: [f"A number between {low} and 1."]})
                    if number_value is not None and number_value != number_value.quantize(Decimal("0.0001")):
                        raise ValidationFailed("bad", details={name: ["At most 4 decimal places."]})
                    setattr(version, name, number_value)
                elif name == "budget_cap":
                    amount = Decimal(str(value))
                    if not 0 < amount < 10**15:
                        raise ValidationFailed("bad", details={name: ["A positive amount."]})
                    version.budget_cap_minor = to_minor(amount, base.currency)
                elif name in ("starts_on", "ends_on"):
                    setattr(version, name, value if isinstance(value, date) else date.fromisoformat(str(value)))
                elif name == "nda_version":
                    text = str(value or "").strip()
                    if not 0 < len(text) <= 40:
                        raise ValidationFailed("bad", details={name: ["A version name of 1 to 40 characters."]})
                    version.nda_version = text
                else:  # volume_cap and the *_days terms: whole numbers the columns hold
                    whole = int(str(value).strip())
                    low, high = (1, 2_147_483_647) if name == "volume_cap" else (0, 3650)
                    if not low <= whole <= high or (name == "sla_max_turnaround_days" and whole == 0):
                        raise ValidationFailed("bad", details={name: [f"A whole number from {low} to {high}."]})
                    setattr(version, name, whole)
            except ValidationFailed as exc:
                errors.update(exc.details)
            except (InvalidOperation, ValueError, TypeError):
                errors[name] = ["Not a valid value."]
        if version.ends_on < version.starts_on:
            errors["ends_on"] = ["The end date must not be before the start date."]
        if errors:
            raise ValidationFailed("Please correct: " + ", ".join(sorted(errors)) + ".", details=errors)
        if version.unit_rate < base.unit_rate and locked.current_version is not None:
            # A rate cut needs the notice period unless the supplier signs it.
            version.effective_from = timezone.localdate() + timedelta(days=base.notice_period_days)
        _save_version(version, milestones)
        audit(
            version,
            "amendment.proposed",
            actor=actor,
            organization_public_id=locked.lab.public_id,
            data={"version": number, "changes": sorted(changes)},
        )
        other = locked.supplier if organization.pk == locked.lab_id else locked.lab
        notify_many(
            recipients=_people(other),
            kind="amendment.proposed",
            title=f"Amendment v{number} to sign: {locked.project.title}",
            body=version.change_summary,
            url=f"/contracts/{locked.public_id}/",
        )
    return version


def amendments_apply_due(*, today: date | None = None) -> int:
    """Periodic: a lab-signed rate cut whose notice period has passed takes effect without the
    supplier's signature. Idempotent."""
    today = today or timezone.localdate()
    count = 0
    due = ContractVersion.objects.filter(
        status=ContractVersion.Status.PROPOSED,
        effective_from__lte=today,
        signatures__side=Signature.Side.LAB,
        contract__status__in=[Contract.Status.ACTIVE, Contract.Status.PAUSED],
    ).select_related("contract__project", "contract__lab", "contract__supplier")
    for version in due:
        base = version.contract.current_version
        if base is None or not is_rate_cut_only(base, version):
            continue
        with transaction.atomic():
            _make_effective(version.contract, version, actor=None, effective_from=version.effective_from)
            count += 1
    return count


def is_rate_cut_only(base: ContractVersion, version: ContractVersion) -> bool:
    old, new = canonical_terms(base), canonical_terms(version)
    old.pop("unit_rate"), new.pop("unit_rate")
    return old == new and version.unit_rate < base.unit_rate


# --- Lifecycle -----------------------------------------------------------------------------------------


def _lifecycle(
    *, actor: User, organization: Organization, contract: Contract, to: str, reason: str = "", lab_only: bool = True
) -> bool:
    require(actor, organization, Perm.CONTRACTS_SIGN)
    side = _side(contract, organization)
    if lab_only and side != Signature.Side.LAB:
        raise PermissionDenied("Only the lab can do this to a contract.", code="lab_only")
    with transaction.atomic():
        moved = transition(
            contract,
            to,
            actor=actor,
            reason=reason,
            organization_public_id=contract.lab.public_id,
            extra_updates={"status_reason": reason} if reason else None,
        )
        if moved and to in (Contract.Status.COMPLETED, Contract.Status.TERMINATED):
            # A closed contract has no one working on it.
            for assignment in contract.assignments.filter(
                status__in=[Assignment.Status.ACTIVE, Assignment.Status.SUSPENDED]
            ):
                transition(assignment, Assignment.Status.ENDED, actor=actor, reason=f"contract {to}")
        if moved:
            _tell_both(
                contract,
                kind="contract.status_changed",
                title=f"Contract {to.replace('_', ' ')}: {contract.project.title}",
                body=reason,
            )
    return moved


def contract_pause(*, actor: User, organization: Organization, contract: Contract) -> bool:
    return _lifecycle(actor=actor, organization=organization, contract=contract, to=Contract.Status.PAUSED)


def contract_resume(*, actor: User, organization: Organization, contract: Contract) -> bool:
    if contract.status == Contract.Status.PENDING_SIGNATURE:
        # ACTIVE is also reachable from PENDING_SIGNATURE, but only through both signatures.
        raise DomainError("This contract is not signed yet; it is not paused.", code="contract_not_paused")
    return _lifecycle(actor=actor, organization=organization, contract=contract, to=Contract.Status.ACTIVE)


def contract_complete(*, actor: User, organization: Organization, contract: Contract) -> bool:
    return _lifecycle(actor=actor, organization=organization, contract=contract, to=Contract.Status.COMPLETED)


def contract_terminate(*, actor: User, organization: Organization, contract: Contract, reason: str) -> bool:
    """Either side ends the contract, with a reason both see."""
    if not (reason or "").strip():
        raise ValidationFailed("Give a reason.", details={"reason": ["This field is required."]})
    return _lifecycle(
        actor=actor,
        organization=organization,
        contract=contract,
        to=Contract.Status.TERMINATED,
        reason=reason.strip(),
        lab_only=False,
    )


# --- NDA and assignments --------------------------------------------------------------------------------


def nda_accept(*, actor: User, contract: Contract, ip_address: str | None = None) -> NdaAcceptance:
    """The expert accepts the contract's NDA version in force. Idempotent."""
    if not selectors.is_supplier_person(contract, actor):
        raise NotFound("Contract not found.", code="contract_not_found")
    terms = contract.current_version
    if terms is None:
        raise DomainError("The contract is not signed yet.", code="contract_not_active")
    acceptance, created = NdaAcceptance.objects.get_or_create(
        contract=contract, user=actor, nda_version=terms.nda_version, defaults={"ip_address": ip_address}
    )
    if created:
        audit(
            contract,
            "nda.accepted",
            actor=actor,
            organization_public_id=contract.supplier.public_id,
            data={"nda_version": terms.nda_version},
        )
    return acceptance


def _expert_by_id(public_id: Any) -> User:
    try:
        return User.objects.get(public_id=public_id)
    except (User.DoesNotExist, ValueError, TypeError, DjangoValidationError):
        raise ValidationFailed("Unknown expert.", details={"expert": ["No such expert."]})


def assignment_create(
    *, actor: User, organization: Organization, contract: Contract, expert_public_id: Any
) -> Assignment:
    """The supplier assigns an expert to an active contract. Refused, naming every unmet gate:
    roster, required credentials (verified and unexpired), the NDA, the current guideline version."""
    require(actor, organization, Perm.ASSIGNMENTS_MANAGE)
    if organization.pk != contract.supplier_id:
        raise NotFound("Contract not found.", code="contract_not_found")
    if contract.status != Contract.Status.ACTIVE:
        raise DomainError(
            f"This contract is {contract.status}; experts are assigned to active contracts.", code="contract_not_active"
        )
    expert = _expert_by_id(expert_public_id)
    unmet = selectors.assignment_gates(contract, expert)
    if unmet:
        raise DomainError(
            "Not assignable: " + "; ".join(g["message"] for g in unmet),
            code="assignment_gates_unmet",
            details={"gates": unmet},
        )
    try:
        with transaction.atomic():
            assignment = Assignment.objects.create(contract=contract, expert=expert, assigned_by=actor)
            audit(assignment, "assignment.created", actor=actor, organization_public_id=organization.public_id)
            notify_many(
                recipients=[expert],
                kind="assignment.created",
                title=f"You are assigned to {contract.project.title}",
                url=f"/contracts/{contract.public_id}/",
            )
    except IntegrityError:
        raise DomainError("This expert is already assigned to the contract.", code="already_assigned")
    return assignment


def assignment_end(*, actor: User, organization: Organization, assignment: Assignment) -> bool:
    require(actor, organization, Perm.ASSIGNMENTS_MANAGE)
    if organization.pk != assignment.contract.supplier_id:
        raise NotFound("Assignment not found.", code="assignment_not_found")
    return transition(assignment, Assignment.Status.ENDED, actor=actor, organization_public_id=organization.public_id)


def assignment_resume(*, actor: User, organization: Organization, assignment: Assignment) -> bool:
    """Resume a suspended assignment once every gate holds again."""
    require(actor, organization, Perm.ASSIGNMENTS_MANAGE)
    if organization.pk != assignment.contract.supplier_id:
        raise NotFound("Assignment not found.", code="assignment_not_found")
    unmet = selectors.assignment_gates(assignment.contract, assignment.expert)
    if unmet:
        raise DomainError(
            "Still not assignable: " + "; ".join(g["message"] for g in unmet),
            code="assignment_gates_unmet",
            details={"gates": unmet},
        )
    return transition(
        assignment,
        Assignment.Status.ACTIVE,
        actor=actor,
        extra_updates={"status_reason": ""},
        organization_public_id=organization.public_id,
    )


def assignments_recheck(*, assignments=None) -> int:
    """Suspend every active assignment whose gates no longer hold (a new guideline version, an
    expired or revoked credential, a roster change), telling both sides. Returns how many."""
    qs = assignments if assignments is not None else Assignment.objects.all()
    qs = qs.filter(status=Assignment.Status.ACTIVE).select_related(
        "contract__project", "contract__lab", "contract__supplier", "contract__current_version", "expert"
    )
    count = 0
    for assignment in qs:
        unmet = selectors.assignment_gates(assignment.contract, assignment.expert)
        if not unmet:
            continue
        reason = "; ".join(g["message"] for g in unmet)
        with transaction.atomic():
            if transition(
                assignment,
                Assignment.Status.SUSPENDED,
                actor=None,
                reason=reason,
                extra_updates={"status_reason": reason},
                data={"gates": unmet},
            ):
                count += 1
                contract = assignment.contract
                emit(
                    "assignment.suspended",
                    obj=assignment,
                    organization_ids=[contract.lab_id, contract.supplier_id],
                    data={
                        "assignment": str(assignment.public_id),
                        "contract": str(contract.public_id),
                        "project": str(contract.project.public_id),
                        "gates": sorted({g["gate"] for g in unmet}),
                    },
                )
                for org in (contract.lab, contract.supplier):
                    notify_many(
                        recipients=_people(org),
                        kind="assignment.suspended",
                        title=f"Assignment suspended on {contract.project.title}",
                        body=reason,
                        url=f"/contracts/{contract.public_id}/",
                    )
                notify_many(
                    recipients=[assignment.expert],
                    kind="assignment.suspended",
                    title=f"Your assignment on {contract.project.title} is suspended",
                    body=reason,
                    url=f"/contracts/{contract.public_id}/",
                )
    return count


def on_guideline_published(*, version: GuidelineVersion) -> None:
    """Hook subscriber: a new guideline version needs a new acknowledgement from everyone assigned."""
    assignments_recheck(assignments=Assignment.objects.filter(contract__project_id=version.project_id))


def on_credential_lapsed(*, credential: Credential) -> None:
    """Hook subscriber: an expired or revoked credential may break a credential gate."""
    assignments_recheck(assignments=Assignment.objects.filter(expert_id=credential.profile.user_id))


def on_project_awarded(*, award, actor: User | None = None) -> None:
    contracts_create_for_award(award=award, actor=actor)
