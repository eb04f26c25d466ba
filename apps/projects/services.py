"""Writes for projects (draft, publish, close, cancel, start, complete) and their guidelines."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from apps.accounts.models import Organization, User
from apps.accounts.policies import require
from apps.accounts.roles import OrgKind, Perm, Role
from apps.core.errors import DomainError, NotFound, ValidationFailed
from apps.core.events import emit
from apps.core.money import SUPPORTED_CURRENCIES, exponent, to_minor
from apps.core.transitions import audit, transition
from apps.experts.models import CredentialType, Domain
from apps.notifications.services import notify_many

from . import hooks
from .markdown import render_markdown
from .models import GuidelineAcknowledgement, GuidelineVersion, Project, TaskType, Unit, Visibility
from .selectors import project_visible_to_supplier

# Fields a project must have before it can be published (and the error each names).
REQUIRED_TO_PUBLISH = (
    "title", "description", "task_type", "domain", "unit_name", "volume", "budget_cap_minor", "target_unit_price",
    "sla_min_gold_accuracy", "sla_max_turnaround_days", "bid_deadline", "starts_on", "ends_on",
)  # fmt: skip
# Storage limits: a larger value would fail in the database (integer / numeric(12, 4) / bigint overflow).
MAX_INTEGER = 2_147_483_647
MAX_PRICE = Decimal("100000000")
MAX_BUDGET = Decimal(10) ** 15  # major units; minor units stay within a bigint even with 3 decimals
# How each field is called in the API and forms (the budget is given in major units).
FIELD_NAMES = {"budget_cap_minor": "budget_cap", "domain": "domain"}
EDITABLE = {
    "title", "description", "task_type", "domain", "required_credential_types", "unit_name", "volume", "currency",
    "budget_cap", "target_unit_price", "sla_min_gold_accuracy", "sla_min_alpha", "sla_max_turnaround_days",
    "bid_deadline", "starts_on", "ends_on", "visibility", "invited_organizations", "show_bid_count",
}  # fmt: skip


def _decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    if isinstance(value, float):
        value = repr(value)
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError
    if not result.is_finite():
        raise ValueError
    return result


def _clean_fields(fields: dict[str, Any], *, currency: str) -> tuple[dict[str, Any], list[Organization] | None]:
    """Validate the given project fields; every bad one is named in one ValidationFailed."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    invited: list[Organization] | None = None
    currency = (fields.get("currency") or currency or "USD").strip().upper()
    if currency not in SUPPORTED_CURRENCIES:
        errors["currency"] = [f"Choose one of {', '.join(SUPPORTED_CURRENCIES)}."]
    clean["currency"] = currency
    for name, value in fields.items():
        if name not in EDITABLE:
            errors[name] = ["Unknown or read-only field."]
        elif name in ("title", "description"):
            value = (value or "").strip()
            limit = 200 if name == "title" else 20000
            if len(value) > limit:
                errors[name] = [f"At most {limit} characters."]
            clean[name] = value
        elif name == "task_type":
            if value and value not in TaskType.values:
                errors[name] = [f"Choose one of: {', '.join(TaskType.values)}."]
            clean[name] = value or ""
        elif name == "unit_name":
            if value and value not in Unit.values:
                errors[name] = [f"Choose one of: {', '.join(Unit.values)}."]
            clean[name] = value or ""
        elif name == "domain":
            domain = Domain.objects.filter(slug=value).first() if value else None
            if value and domain is None:
                errors[name] = [f"Unknown domain '{value}'."]
            clean["domain"] = domain
        elif name == "required_credential_types":
            values = list(dict.fromkeys(value or []))
            unknown = [v for v in values if v not in CredentialType.values]
            if unknown:
                errors[name] = [f"Unknown credential type: {', '.join(map(str, unknown))}."]
            clean[name] = values
        elif name in ("volume", "sla_max_turnaround_days"):
            if value in (None, ""):
                clean[name] = None
                continue
            try:
                number = int(value)
            except (TypeError, ValueError):
                number = 0
            if number <= 0 or number > MAX_INTEGER or (name == "sla_max_turnaround_days" and number > 3650):
                errors[name] = ["A positive whole number."]
            clean[name] = number
        elif name in ("budget_cap", "target_unit_price", "sla_min_gold_accuracy", "sla_min_alpha"):
            try:
                number = _decimal(value)
            except ValueError:
                errors[name] = ["A number, e.g. '2.40'."]
                continue
            if number is None:
                clean["budget_cap_minor" if name == "budget_cap" else name] = None
            elif name == "budget_cap":
                if number <= 0:
                    errors[name] = ["A positive amount."]
                elif number >= MAX_BUDGET:
                    errors[name] = ["Too large to store."]
                else:
                    clean["budget_cap_minor"] = to_minor(number, currency)
            elif name == "target_unit_price":
                if number >= MAX_PRICE:
                    errors[name] = ["Must be below 100,000,000."]
                elif number <= 0 or number != number.quantize(Decimal("0.0001")):
                    errors[name] = ["A positive price with at most 4 decimal places."]
                clean[name] = number
            elif name == "sla_min_gold_accuracy":
                if not 0 <= number <= 1:
                    errors[name] = ["A fraction between 0 and 1, e.g. 0.85."]
                clean[name] = number
            else:
                if not -1 <= number <= 1:
                    errors[name] = ["Krippendorff's alpha lies between -1 and 1, e.g. 0.6."]
                clean[name] = number
        elif name == "bid_deadline":
            if value not in (None, "") and not isinstance(value, datetime):
                errors[name] = ["A date and time."]
            clean[name] = value or None
        elif name in ("starts_on", "ends_on"):
            if value not in (None, "") and not isinstance(value, date):
                errors[name] = ["A date."]
            clean[name] = value or None
        elif name == "visibility":
            if value not in Visibility.values:
                errors[name] = [f"Choose one of: {', '.join(Visibility.values)}."]
            clean[name] = value
        elif name == "invited_organizations":
            ids = [str(v) for v in (value or [])]
            orgs = {str(o.public_id): o for o in Organization.objects.filter(public_id__in=_valid_uuids(ids))}
            bad = [i for i in ids if i not in orgs or orgs[i].kind == OrgKind.LAB]
            if bad:
                errors[name] = [f"Not a vendor or independent expert: {', '.join(bad)}."]
            invited = [orgs[i] for i in ids if i in orgs]
        elif name == "show_bid_count":
            clean[name] = bool(value)
    if errors:
        raise ValidationFailed("Please correct: " + ", ".join(sorted(errors)) + ".", details=errors)
    return clean, invited


def _valid_uuids(values: list[str]) -> list[str]:
    import uuid

    out = []
    for value in values:
        try:
            out.append(str(uuid.UUID(value)))
        except ValueError:
            continue
    return out


def _check_dates(project: Project, errors: dict[str, list[str]]) -> None:
    if project.starts_on and project.ends_on and project.ends_on < project.starts_on:
        errors.setdefault("ends_on", []).append("The end date must not be before the start date.")


def project_create(*, actor: User, lab: Organization, **fields: Any) -> Project:
    """Create a draft project for ``lab``; drafts may be incomplete. Audited."""
    require(actor, lab, Perm.PROJECTS_MANAGE)
    if lab.kind != OrgKind.LAB:
        raise DomainError("Only a lab posts projects.", code="not_a_lab")
    if not (fields.get("title") or "").strip():
        raise ValidationFailed("Give the project a title.", details={"title": ["This field is required."]})
    clean, invited = _clean_fields(fields, currency="USD")
    with transaction.atomic():
        project = Project(lab=lab, created_by=actor, **clean)
        errors: dict[str, list[str]] = {}
        _check_dates(project, errors)
        if errors:
            raise ValidationFailed("Please correct: " + ", ".join(sorted(errors)) + ".", details=errors)
        project.save()
        if invited is not None:
            project.invited_organizations.set(invited)
        audit(project, "project.created", actor=actor, organization_public_id=lab.public_id)
    return project


def project_update(*, actor: User, project: Project, **fields: Any) -> Project:
    """Change a draft's fields (only given fields change). Published projects are not editable."""
    require(actor, project.lab, Perm.PROJECTS_MANAGE)
    clean, invited = _clean_fields(fields, currency=project.currency)
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        if locked.status != Project.Status.DRAFT:
            raise DomainError(f"This project is {locked.status}; only a draft can be edited.", code="project_not_draft")
        if clean["currency"] != locked.currency and "budget_cap_minor" not in clean and locked.budget_cap_minor:
            # The budget is stored in minor units: keep its amount (5,000 USD -> 5,000 JPY, not 500,000).
            amount = Decimal(locked.budget_cap_minor).scaleb(-exponent(locked.currency))
            clean["budget_cap_minor"] = to_minor(amount, clean["currency"])
        for name, value in clean.items():
            setattr(locked, name, value)
        if "title" in clean and not clean["title"]:
            raise ValidationFailed("Give the project a title.", details={"title": ["This field is required."]})
        errors: dict[str, list[str]] = {}
        _check_dates(locked, errors)
        if errors:
            raise ValidationFailed("Please correct: " + ", ".join(sorted(errors)) + ".", details=errors)
        locked.save()
        if invited is not None:
            locked.invited_organizations.set(invited)
        audit(locked, "project.updated", actor=actor, organization_public_id=project.lab.public_id,
              data={"fields": sorted(fields)})  # fmt: skip
    return locked


def publication_problems(project: Project) -> dict[str, list[str]]:
    """What keeps a draft from being published, by field (empty when it is complete)."""
    problems: dict[str, list[str]] = {}
    for name in REQUIRED_TO_PUBLISH:
        value = getattr(project, name if name != "domain" else "domain_id")
        if value in (None, ""):
            problems.setdefault(FIELD_NAMES.get(name, name), []).append("Required to publish.")
    now = timezone.now()
    if project.bid_deadline and project.bid_deadline <= now:
        problems.setdefault("bid_deadline", []).append("The bid deadline must be in the future.")
    if project.bid_deadline and project.starts_on and project.starts_on < project.bid_deadline.date():
        problems.setdefault("starts_on", []).append("Work cannot start before the bid deadline.")
    _check_dates(project, problems)
    if project.visibility == Visibility.INVITED and not project.invited_organizations.exists():
        problems.setdefault("invited_organizations", []).append("Invite at least one organisation.")
    if not project.guideline_versions.exists():
        problems.setdefault("guidelines", []).append("Publish a first guideline version.")
    return problems


def project_publish(*, actor: User, project: Project) -> bool:
    """Open a complete draft for bids. Names every missing field. Idempotent."""
    require(actor, project.lab, Perm.PROJECTS_MANAGE)
    if project.status == Project.Status.OPEN:
        return False
    if project.status == Project.Status.DRAFT:
        problems = publication_problems(project)
        if problems:
            raise ValidationFailed(
                "The project is not complete: " + ", ".join(sorted(problems)) + ".",
                code="project_incomplete",
                details=problems,
            )
    with transaction.atomic():
        moved = transition(project, Project.Status.OPEN, actor=actor, organization_public_id=project.lab.public_id,
                           extra_updates={"published_at": timezone.now()})  # fmt: skip
        if moved:
            emit(
                "project.published",
                obj=project,
                organization_ids=[project.lab_id],  # only the lab: published is not a broadcast to vendors
                data={
                    "project": str(project.public_id),
                    "visibility": project.visibility,
                    "bid_deadline": project.bid_deadline.isoformat() if project.bid_deadline else None,
                },
                actor=actor,
            )
        if moved and project.visibility == Visibility.INVITED:
            notify_many(
                recipients=_supplier_managers(project.invited_organizations.all()),
                kind="project.invited",
                title=f"{project.lab.name} invites you to bid: {project.title}",
                body=f"Bids close on {project.bid_deadline:%d %B %Y, %H:%M} UTC.",
                url=f"/marketplace/{project.public_id}/",
            )
    return moved


def _supplier_managers(organizations) -> list[User]:
    return list(
        User.objects.filter(
            is_active=True,
            memberships__organization__in=organizations,
            memberships__role__in=[Role.OWNER, Role.MANAGER],
        ).distinct()
    )


def project_start(*, actor: User, project: Project) -> bool:
    """Mark an awarded project as in progress (work has begun). Idempotent."""
    require(actor, project.lab, Perm.PROJECTS_MANAGE)
    return transition(project, Project.Status.IN_PROGRESS, actor=actor, organization_public_id=project.lab.public_id)


def project_complete(*, actor: User, project: Project) -> bool:
    """Mark an in-progress project as completed. Idempotent."""
    require(actor, project.lab, Perm.PROJECTS_MANAGE)
    return transition(project, Project.Status.COMPLETED, actor=actor, organization_public_id=project.lab.public_id)


# --- Guidelines ----------------------------------------------------------------------------------


def guideline_publish(
    *, actor: User, project: Project, body_markdown: str, change_summary: str = ""
) -> GuidelineVersion:
    """Publish the next guideline version (v1, v2, ...), rendered to sanitised HTML. Each new version
    needs a new acknowledgement from every expert."""
    require(actor, project.lab, Perm.PROJECTS_MANAGE)
    body = (body_markdown or "").strip()
    errors: dict[str, list[str]] = {}
    if not body:
        errors["body_markdown"] = ["Write the guidelines."]
    elif len(body) > 200_000:
        errors["body_markdown"] = ["At most 200,000 characters."]
    if len(change_summary or "") > 300:
        errors["change_summary"] = ["At most 300 characters."]
    if errors:
        raise ValidationFailed("Please correct: " + ", ".join(sorted(errors)) + ".", details=errors)
    if project.status in (Project.Status.CANCELLED, Project.Status.COMPLETED):
        raise DomainError(f"This project is {project.status}; its guidelines are final.", code="project_closed")
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        number = (locked.guideline_versions.aggregate(n=Max("number"))["n"] or 0) + 1
        if number > 1 and not (change_summary or "").strip():
            raise ValidationFailed(
                "Say what changed since the last version.", details={"change_summary": ["Required from v2 on."]}
            )
        version = GuidelineVersion.objects.create(
            project=locked, number=number, body_markdown=body, body_html=render_markdown(body),
            change_summary=(change_summary or "").strip(), published_by=actor,
        )  # fmt: skip
        locked.current_guideline = version
        locked.save(update_fields=["current_guideline", "updated_at"])
        project.current_guideline = version
        audit(version, "guideline.published", actor=actor, organization_public_id=project.lab.public_id,
              data={"number": number})  # fmt: skip
        if number > 1:
            # Everyone who acknowledged an earlier version must read and acknowledge this one.
            readers = User.objects.filter(is_active=True, guideline_acks__version__project=locked).distinct()
            notify_many(
                recipients=readers,
                kind="guideline.published",
                title=f"Guidelines v{number}: {locked.title}: please read and acknowledge",
                body=version.change_summary,
                url=f"/marketplace/{locked.public_id}/",
            )
        # Assignments (a layer above) are re-checked against the new version in this transaction.
        hooks.guideline_published.fire(version=version)
    return version


def guideline_acknowledge(
    *, actor: User, organization: Organization, version: GuidelineVersion
) -> GuidelineAcknowledgement:
    """The actor confirms they read ``version`` (acting for a supplier organisation that may see the
    project). Idempotent: acknowledging twice keeps the first time."""
    require(actor, organization, Perm.MARKETPLACE_BROWSE)
    if not project_visible_to_supplier(version.project, organization):
        raise NotFound("Guideline not found.", code="guideline_not_found")
    ack, created = GuidelineAcknowledgement.objects.get_or_create(
        version=version, user=actor, defaults={"organization": organization}
    )
    if created:
        audit(version, "guideline.acknowledged", actor=actor, organization_public_id=organization.public_id,
              data={"number": version.number})  # fmt: skip
    return ack
