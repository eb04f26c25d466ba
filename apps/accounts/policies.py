"""Access checks over memberships. Every interface asks these; none decides access by itself."""

from __future__ import annotations

from apps.core.errors import NotFound, PermissionDenied

from .models import Membership, Organization, User
from .roles import role_has_permission


def membership_for(user: User | None, organization: Organization) -> Membership | None:
    if user is None or not user.is_authenticated:
        return None
    cache = getattr(user, "_membership_cache", None)
    if cache is None:
        cache = user._membership_cache = {}
    if organization.pk not in cache:
        cache[organization.pk] = (
            Membership.objects.filter(user=user, organization=organization).select_related("organization").first()
        )
    return cache[organization.pk]


def has_permission(user: User | None, organization: Organization, perm: str) -> bool:
    membership = membership_for(user, organization)
    return membership is not None and role_has_permission(organization.kind, membership.role, perm)


def require(user: User | None, organization: Organization, perm: str) -> Membership:
    """Return the actor's membership if it grants ``perm``.

    Not a member: NotFound (the organisation is invisible to outsiders). A member without the
    permission: PermissionDenied naming it.
    """
    membership = membership_for(user, organization)
    if membership is None:
        raise NotFound("Organisation not found.", code="organization_not_found")
    if not role_has_permission(organization.kind, membership.role, perm):
        raise PermissionDenied(
            f"Your role '{membership.role}' in {organization.name} does not allow this ({perm}).",
            code="role_not_allowed",
            details={"required_permission": perm, "role": membership.role},
        )
    return membership


def forget_memberships(user: User) -> None:
    """Drop the per-request membership cache after a membership changed."""
    if hasattr(user, "_membership_cache"):
        del user._membership_cache


def require_staff(user: User | None, staff_role: str) -> None:
    """Platform staff only (operations or finance). Everyone else: NotFound, as if nothing was there."""
    if user is None or not user.is_authenticated or not user.is_active or user.staff_role != staff_role:
        raise NotFound("Not found.", code="not_found")


def is_staff_role(user: User | None, staff_role: str) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active and user.staff_role == staff_role)
