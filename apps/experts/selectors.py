"""Reads of expert data, scoped and privacy-filtered.

Who sees a person behind a profile: the expert themselves, platform operations, and a vendor on
whose roster they are (invited, active or suspended). Labs see the pseudonymous handle and
verified credential summaries only; a lab whose contract the expert is assigned to will be added
by the Contracts capability through ``identity_visible_to``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.utils import timezone

from apps.accounts.models import Organization, User
from apps.accounts.policies import is_staff_role, require, require_staff
from apps.accounts.roles import OrgKind, Perm, Role, StaffRole
from apps.core.errors import NotFound, ValidationFailed

from .models import Credential, CredentialFlag, Domain, ExpertProfile, RosterEntry

_BAD_ID = (ValueError, TypeError, ValidationError)
OPEN_ROSTER = [RosterEntry.Status.INVITED, RosterEntry.Status.ACTIVE, RosterEntry.Status.SUSPENDED]


def verified_credentials_q(prefix: str = "", today: date | None = None) -> Q:
    """Verified and not past expiry (the daily task may not have run yet today)."""
    today = today or timezone.localdate()
    return Q(**{f"{prefix}status": Credential.Status.VERIFIED}) & (
        Q(**{f"{prefix}expires_on__isnull": True}) | Q(**{f"{prefix}expires_on__gt": today})
    )


def _verified_prefetch() -> Prefetch:
    return Prefetch(
        "credentials",
        queryset=Credential.objects.filter(verified_credentials_q()).order_by("type", "title"),
        to_attr="verified_credentials",
    )


# --- Search --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpertSearch:
    domain: str | None = None  # slug; matches its sub-domains too
    credential_type: str | None = None
    country: str | None = None
    language: str | None = None
    min_weekly_hours: int | None = None
    # Restrict to these users (e.g. holders of a current qualification); filled by the interface
    # layer, so that experts need not know about assessments. None: no restriction.
    user_ids: frozenset[int] | None = None


def expert_search(*, actor: User, organization: Organization | None, search: ExpertSearch) -> QuerySet[ExpertProfile]:
    """Discoverable experts matching ``search``, for a lab or vendor member (or operations).

    Each row carries ``verified_credentials`` (prefetched) and ``identity_visible`` (annotated):
    True only where the actor's vendor has the expert on its roster, or for operations.
    """
    is_ops = is_staff_role(actor, StaffRole.OPERATIONS)
    if not is_ops:
        if organization is None:
            raise NotFound("Expert search is for lab and vendor members.", code="not_found")
        require(actor, organization, Perm.EXPERTS_SEARCH)
    # A profile nobody filled in (no headline) is not an offer of work, so it is not listed.
    qs = ExpertProfile.objects.filter(is_discoverable=True, user__is_active=True).exclude(headline="")
    if search.domain:
        root = Domain.objects.filter(slug=search.domain).first()
        if root is None:
            raise ValidationFailed(f"Unknown domain '{search.domain}'.", details={"domain": ["Unknown domain."]})
        subtree = Domain.objects.filter(Q(pk=root.pk) | Q(path__startswith=f"{root.path}/"))
        qs = qs.filter(
            Exists(ExpertProfile.domains.through.objects.filter(expertprofile_id=OuterRef("pk"), domain__in=subtree))
        )
    if search.credential_type:
        qs = qs.filter(
            Exists(
                Credential.objects.filter(verified_credentials_q(), profile=OuterRef("pk"), type=search.credential_type)
            )
        )
    if search.country:
        qs = qs.filter(country=search.country.upper())
    if search.language:
        qs = (
            qs.filter(languages__contains=[search.language.lower()])
            if _json_contains_supported()
            else qs.filter(languages__icontains=f'"{search.language.lower()}"')
        )
    if search.min_weekly_hours is not None:
        qs = qs.filter(weekly_hours__gte=search.min_weekly_hours)
    if search.user_ids is not None:
        qs = qs.filter(user_id__in=search.user_ids)
    return _with_visibility(qs, actor=actor, organization=organization, is_ops=is_ops)


def _json_contains_supported() -> bool:
    # PostgreSQL answers JSON containment with an index; SQLite matches the quoted code in the text.
    return connection.features.supports_json_field_contains


def _with_visibility(qs, *, actor: User, organization: Organization | None, is_ops: bool):
    if is_ops:
        visible = Value(True)
    elif organization is not None and organization.kind == OrgKind.VENDOR:
        visible = Exists(
            RosterEntry.objects.filter(vendor=organization, user=OuterRef("user_id"), status__in=OPEN_ROSTER)
        )
    else:
        visible = Value(False)
    return (
        qs.annotate(identity_visible=visible)
        .select_related("user")
        .prefetch_related("domains__parent", _verified_prefetch())
        .order_by("-created_at", "-id")
    )


def expert_get(*, actor: User, organization: Organization | None, public_id: UUID | str) -> ExpertProfile:
    try:
        return expert_search(actor=actor, organization=organization, search=ExpertSearch()).get(public_id=public_id)
    except (ExpertProfile.DoesNotExist, *_BAD_ID):
        raise NotFound("Expert not found.", code="expert_not_found")


# --- Credentials -----------------------------------------------------------------------------------


def credential_list_for_expert(*, actor: User) -> QuerySet[Credential]:
    return Credential.objects.filter(profile__user=actor).order_by("-created_at", "-id")


def credential_review_queue(*, actor: User, status: str | None = Credential.Status.PENDING) -> QuerySet[Credential]:
    """Operations' queue: pending credentials oldest first, with the expert and any open flags."""
    require_staff(actor, StaffRole.OPERATIONS)
    qs = Credential.objects.select_related("profile__user", "verified_by").prefetch_related(
        Prefetch(
            "flags",
            queryset=CredentialFlag.objects.filter(status=CredentialFlag.Status.OPEN).select_related(
                "other_credential__profile__user"
            ),
            to_attr="open_flags",
        )
    )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("created_at", "id")


def credential_get(*, actor: User, public_id: UUID | str) -> Credential:
    """A credential the actor may see: their own, or any for operations."""
    qs = Credential.objects.select_related("profile__user", "verified_by")
    if not is_staff_role(actor, StaffRole.OPERATIONS):
        qs = qs.filter(profile__user=actor)
    try:
        return qs.get(public_id=public_id)
    except (Credential.DoesNotExist, *_BAD_ID):
        raise NotFound("Credential not found.", code="credential_not_found")


def credential_flag_list(*, actor: User, status: str | None = CredentialFlag.Status.OPEN) -> QuerySet[CredentialFlag]:
    require_staff(actor, StaffRole.OPERATIONS)
    qs = CredentialFlag.objects.select_related("credential__profile__user", "other_credential__profile__user")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("created_at", "id")


def credential_flag_get(*, actor: User, public_id: UUID | str) -> CredentialFlag:
    try:
        return credential_flag_list(actor=actor, status=None).get(public_id=public_id)
    except (CredentialFlag.DoesNotExist, *_BAD_ID):
        raise NotFound("Flag not found.", code="flag_not_found")


def profile_checklist(profile: ExpertProfile | None, credential_counts: dict[str, int]) -> list[tuple[str, bool]]:
    """What makes a profile useful to labs, item by item (for the profile page and the dashboard)."""
    verified = credential_counts.get(Credential.Status.VERIFIED, 0)
    if profile is None:
        return [
            ("Headline", False),
            ("Domains", False),
            ("Languages", False),
            ("Country and time zone", False),
            ("Weekly hours", False),
            ("A verified credential", bool(verified)),
        ]
    return [
        ("Headline", bool(profile.headline)),
        ("Domains", profile.domains.exists()),
        ("Languages", bool(profile.languages)),
        ("Country and time zone", bool(profile.country and profile.timezone)),
        ("Weekly hours", profile.weekly_hours > 0),
        ("A verified credential", bool(verified)),
    ]


def credential_counts_for(user: User) -> dict[str, int]:
    rows = credential_list_for_expert(actor=user).order_by().values("status").annotate(n=Count("id"))
    return {row["status"]: row["n"] for row in rows}


# --- Rosters ----------------------------------------------------------------------------------------


def roster_list(*, actor: User, vendor: Organization, status: str | None = None) -> QuerySet[RosterEntry]:
    """The vendor's roster with each expert's profile and verified credentials."""
    require(actor, vendor, Perm.ROSTER_VIEW)
    qs = RosterEntry.objects.filter(vendor=vendor).select_related("user", "user__expert_profile", "vendor")
    if status:
        qs = qs.filter(status=status)
    return qs.prefetch_related(
        Prefetch(
            "user__expert_profile__credentials",
            queryset=Credential.objects.filter(verified_credentials_q()).order_by("type", "title"),
            to_attr="verified_credentials",
        )
    ).order_by("-created_at", "-id")


def roster_entry_get(*, actor: User, vendor: Organization, public_id: UUID | str) -> RosterEntry:
    try:
        return roster_list(actor=actor, vendor=vendor).get(public_id=public_id)
    except (RosterEntry.DoesNotExist, *_BAD_ID):
        raise NotFound("Roster entry not found.", code="roster_entry_not_found")


def roster_entries_for_expert(*, actor: User) -> QuerySet[RosterEntry]:
    """The actor's own roster entries (invitations and memberships) across vendors."""
    return RosterEntry.objects.filter(user=actor).select_related("vendor").order_by("-created_at", "-id")


def roster_entry_get_for_expert(*, actor: User, public_id: UUID | str) -> RosterEntry:
    try:
        return roster_entries_for_expert(actor=actor).get(public_id=public_id)
    except (RosterEntry.DoesNotExist, *_BAD_ID):
        raise NotFound("Roster invitation not found.", code="roster_invitation_not_found")


def identity_visible_to(*, actor: User, organization: Organization | None, profile: ExpertProfile) -> bool:
    """May the actor (acting for ``organization``) see the expert's name and e-mail?"""
    if actor.pk == profile.user_id or is_staff_role(actor, StaffRole.OPERATIONS):
        return True
    if organization is None or organization.kind != OrgKind.VENDOR:
        return False
    return RosterEntry.objects.filter(vendor=organization, user_id=profile.user_id, status__in=OPEN_ROSTER).exists()


# --- How a supplier is named to a lab ----------------------------------------------------------------


def owner_handle(org_ref: str):
    """A subquery for the pseudonymous handle of the owner of the organisation at ``org_ref`` (an
    OuterRef path such as "bidder_id"): how an independent expert is named to labs."""
    return Subquery(
        ExpertProfile.objects.filter(
            user__memberships__organization_id=OuterRef(org_ref), user__memberships__role=Role.OWNER
        ).values("handle")[:1]
    )


def supplier_label(organization: Organization | None, handle: str | None = None) -> str:
    """A vendor by its name; an independent expert, whose organisation carries their own name, by the
    pseudonymous handle only (labs do not see experts' names before a contract assignment)."""
    if organization is None:
        return "—"
    if organization.kind != OrgKind.INDIVIDUAL:
        return organization.name
    if handle is None:
        handle = (
            ExpertProfile.objects.filter(
                user__memberships__organization=organization, user__memberships__role=Role.OWNER
            )
            .values_list("handle", flat=True)
            .first()
        )
    return f"Independent expert {handle}" if handle else "Independent expert"
