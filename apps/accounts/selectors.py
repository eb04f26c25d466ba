"""Reads scoped to what the actor may see. Outside the scope means NotFound, never another tenant's data."""

from __future__ import annotations

from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet

from apps.core.errors import NotFound

from .models import ApiKey, Invitation, Membership, Organization, User
from .policies import require
from .roles import Perm


def organization_list_for_user(user: User, *, only: Organization | None = None) -> QuerySet[Organization]:
    """Organisations the user belongs to (just ``only`` when the caller is an API key)."""
    # Filter through a subquery: joining memberships for the filter would also limit the count to 1.
    mine = Membership.objects.filter(user=user).values("organization_id")
    qs = Organization.objects.filter(pk__in=mine).annotate(member_count=Count("memberships", distinct=True))
    if only is not None:
        qs = qs.filter(pk=only.pk)
    return qs.order_by("name", "id")


def organization_get_for_user(user: User, public_id: UUID | str, *, only: Organization | None = None) -> Organization:
    try:
        return organization_list_for_user(user, only=only).get(public_id=public_id)
    except (Organization.DoesNotExist, ValueError, TypeError, ValidationError):
        raise NotFound("Organisation not found.", code="organization_not_found")


def organization_get_by_slug_for_user(user: User, slug: str) -> Organization:
    org = Organization.objects.filter(slug=slug, memberships__user=user).first()
    if org is None:
        raise NotFound("Organisation not found.", code="organization_not_found")
    return org


def membership_list_for_user(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("organization").order_by("organization__name")


def member_list(*, actor: User, organization: Organization) -> QuerySet[Membership]:
    require(actor, organization, Perm.MEMBERS_VIEW)
    return (
        Membership.objects.filter(organization=organization)
        .select_related("user", "organization")
        .order_by("created_at", "id")
    )


def member_get(*, actor: User, organization: Organization, public_id: UUID | str) -> Membership:
    try:
        return member_list(actor=actor, organization=organization).get(public_id=public_id)
    except (Membership.DoesNotExist, ValueError, TypeError, ValidationError):
        raise NotFound("Member not found.", code="member_not_found")


def invitation_list(*, actor: User, organization: Organization) -> QuerySet[Invitation]:
    require(actor, organization, Perm.MEMBERS_INVITE)
    return (
        Invitation.objects.filter(organization=organization)
        .select_related("organization", "invited_by")
        .order_by("-created_at", "-id")
    )


def invitation_get(*, actor: User, organization: Organization, public_id: UUID | str) -> Invitation:
    try:
        return invitation_list(actor=actor, organization=organization).get(public_id=public_id)
    except (Invitation.DoesNotExist, ValueError, TypeError, ValidationError):
        raise NotFound("Invitation not found.", code="invitation_not_found")


def invitation_list_for_email(email: str) -> QuerySet[Invitation]:
    """Pending invitations addressed to ``email`` (shown on the invitee's dashboard)."""
    return Invitation.objects.filter(email__iexact=email, status=Invitation.Status.PENDING).select_related(
        "organization"
    )


def api_key_list(*, actor: User, organization: Organization) -> QuerySet[ApiKey]:
    require(actor, organization, Perm.API_KEYS_MANAGE)
    return (
        ApiKey.objects.filter(organization=organization)
        .select_related("created_by", "organization")
        .order_by("-created_at", "-id")
    )


def api_key_get(*, actor: User, organization: Organization, public_id: UUID | str) -> ApiKey:
    try:
        return api_key_list(actor=actor, organization=organization).get(public_id=public_id)
    except (ApiKey.DoesNotExist, ValueError, TypeError, ValidationError):
        raise NotFound("API key not found.", code="api_key_not_found")
