"""Writes for people, organisations, memberships, invitations and API keys."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify

from apps.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from apps.core.transitions import audit, transition

from . import api_scopes
from .models import ApiKey, Invitation, Membership, Organization, User, hash_secret
from .policies import forget_memberships, require
from .roles import ROLES_BY_KIND, OrgKind, Perm, Role, invitable_roles

API_KEY_PREFIX = "hdk"


class AccountType:
    LAB = "lab"
    VENDOR = "vendor"
    EXPERT = "expert"
    INVITED = "invited"  # joins through an invitation; creates no organisation

    CHOICES = [
        (LAB, "A lab: I post data projects"),
        (VENDOR, "A vendor: I run a team of experts"),
        (EXPERT, "An independent expert: I work on my own"),
        (INVITED, "I was invited to join an existing organisation"),
    ]


def _unique_slug(name: str) -> str:
    base = slugify(name)[:60] or "org"
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def organization_create(*, actor: User, name: str, kind: str) -> Organization:
    """Create an organisation with ``actor`` as its owner. Audited. Not idempotent (names may repeat)."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("The organisation needs a name.", details={"name": ["This field is required."]})
    if kind not in OrgKind.values:
        raise ValidationFailed(
            f"Unknown organisation kind '{kind}'.", details={"kind": [f"Choose one of {OrgKind.values}."]}
        )
    with transaction.atomic():
        org = Organization.objects.create(name=name[:200], slug=_unique_slug(name), kind=kind, created_by=actor)
        Membership.objects.create(user=actor, organization=org, role=Role.OWNER)
        audit(org, "organization.created", actor=actor, organization_public_id=org.public_id, data={"kind": kind})
    forget_memberships(actor)
    return org


def signup_complete(
    *, user: User, account_type: str, organization_name: str = "", full_name: str = ""
) -> Organization | None:
    """Finish a sign-up: record the name and create the organisation the person chose to be.

    An independent expert gets a single-member organisation of kind ``individual``. An invited
    person gets none here; the invitation link adds the membership.
    """
    if full_name:
        user.full_name = full_name.strip()[:150]
        user.save(update_fields=["full_name", "updated_at"])
    if account_type == AccountType.LAB:
        return organization_create(actor=user, name=organization_name, kind=OrgKind.LAB)
    if account_type == AccountType.VENDOR:
        return organization_create(actor=user, name=organization_name, kind=OrgKind.VENDOR)
    if account_type == AccountType.EXPERT:
        return organization_create(actor=user, name=user.full_name or user.email.split("@")[0], kind=OrgKind.INDIVIDUAL)
    if account_type == AccountType.INVITED:
        return None
    raise ValidationFailed("Choose what you are.", details={"account_type": ["Choose one of the options."]})


# --- Invitations ---------------------------------------------------------------------------------


def invitation_create(*, actor: User, organization: Organization, email: str, role: str) -> tuple[Invitation, str]:
    """Invite ``email`` to ``organization`` with ``role``; e-mails the link after commit.

    Returns the invitation and the raw token (only its hash is stored). Refused for a
    single-member (individual) organisation, an existing member, or a pending invitation.
    """
    membership = require(actor, organization, Perm.MEMBERS_INVITE)
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationFailed("Enter a valid e-mail address.", details={"email": ["Enter a valid e-mail address."]})
    allowed = invitable_roles(organization.kind, membership.role)
    if role not in allowed:
        raise ValidationFailed(
            f"Role '{role}' cannot be given in a {organization.kind} organisation by a {membership.role}.",
            details={"role": [f"Choose one of: {', '.join(allowed)}."]},
        )
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise ValidationFailed(
            f"{email} is already a member of {organization.name}.",
            code="already_member",
            details={"email": ["Already a member."]},
        )
    token = secrets.token_urlsafe(32)
    expires_at = timezone.now() + timedelta(hours=settings.INVITATION_TTL_HOURS)
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                organization=organization,
                email=email,
                role=role,
                invited_by=actor,
                token_hash=hash_secret(token),
                expires_at=expires_at,
            )
            audit(
                invitation,
                "invitation.created",
                actor=actor,
                organization_public_id=organization.public_id,
                data={"email": email, "role": role},
            )
            transaction.on_commit(lambda: _send_invitation_email(invitation.pk, token))
    except IntegrityError:
        raise ValidationFailed(
            f"{email} already has a pending invitation to {organization.name}; revoke it to send a new one.",
            code="invitation_already_pending",
            details={"email": ["A pending invitation already exists."]},
        )
    return invitation, token


def invitation_link(token: str) -> str:
    return f"{settings.SITE_URL}/invitations/{token}/"


def _send_invitation_email(invitation_pk: int, token: str) -> None:
    invitation = Invitation.objects.select_related("organization", "invited_by").get(pk=invitation_pk)
    context = {"invitation": invitation, "link": invitation_link(token)}
    send_mail(
        subject=f"You are invited to join {invitation.organization.name}",
        message=render_to_string("accounts/email/invitation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[invitation.email],
    )


def invitation_get_by_token(token: str) -> Invitation:
    invitation = Invitation.objects.select_related("organization").filter(token_hash=hash_secret(token or "")).first()
    if invitation is None:
        raise NotFound("This invitation link is not valid.", code="invitation_not_found")
    return invitation


def invitation_accept(*, actor: User, token: str) -> Membership:
    """Accept an invitation by its link token: the actor becomes a member with the invited role.

    The actor's e-mail must be the invited one. Expired, revoked or already used links are
    refused. Idempotent for the person who accepted it.
    """
    invitation = invitation_get_by_token(token)
    if actor.email.lower() != invitation.email.lower():
        raise PermissionDenied(
            f"This invitation was sent to {invitation.email}; log in with that address to accept it.",
            code="invitation_email_mismatch",
        )
    if invitation.status == Invitation.Status.ACCEPTED and invitation.accepted_by_id == actor.pk:
        membership = Membership.objects.filter(user=actor, organization=invitation.organization).first()
        if membership is None:  # accepted once, then removed: the link does not work again
            raise DomainError("This invitation has already been used.", code="invitation_not_pending")
        return membership
    if invitation.status == Invitation.Status.PENDING and invitation.is_expired:
        invitation_expire(invitation=invitation)
        raise DomainError("This invitation has expired; ask for a new one.", code="invitation_expired")
    if invitation.status != Invitation.Status.PENDING:
        raise DomainError(
            f"This invitation is {invitation.status} and can no longer be used.", code="invitation_not_pending"
        )
    org = invitation.organization
    with transaction.atomic():
        moved = transition(
            invitation,
            Invitation.Status.ACCEPTED,
            actor=actor,
            organization_public_id=org.public_id,
            extra_updates={"accepted_by": actor, "accepted_at": timezone.now()},
        )
        if not moved and invitation.accepted_by_id != actor.pk:
            raise DomainError("This invitation has already been used.", code="invitation_not_pending")
        membership, created = Membership.objects.get_or_create(
            user=actor, organization=org, defaults={"role": invitation.role}
        )
        if created:
            audit(
                membership,
                "membership.created",
                actor=actor,
                organization_public_id=org.public_id,
                data={"role": membership.role, "via": "invitation"},
            )
    forget_memberships(actor)
    return membership


def invitation_revoke(*, actor: User, invitation: Invitation) -> bool:
    """Revoke a pending invitation; its link stops working. Idempotent."""
    require(actor, invitation.organization, Perm.MEMBERS_INVITE)
    return transition(
        invitation, Invitation.Status.REVOKED, actor=actor, organization_public_id=invitation.organization.public_id
    )


def invitation_expire(*, invitation: Invitation) -> bool:
    return transition(
        invitation, Invitation.Status.EXPIRED, actor=None, organization_public_id=invitation.organization.public_id
    )


def invitations_expire_due(*, now: datetime | None = None) -> int:
    """Mark every pending invitation past its expiry as expired (periodic task). Resumable."""
    now = now or timezone.now()
    count = 0
    due = Invitation.objects.filter(status=Invitation.Status.PENDING, expires_at__lte=now).select_related(
        "organization"
    )
    for invitation in due.iterator():
        count += invitation_expire(invitation=invitation)
    return count


# --- Memberships ---------------------------------------------------------------------------------


def _ensure_another_owner(membership: Membership) -> None:
    others = Membership.objects.filter(organization=membership.organization, role=Role.OWNER).exclude(pk=membership.pk)
    if membership.role == Role.OWNER and not others.exists():
        raise DomainError(
            f"{membership.user.email} is the last owner of {membership.organization.name}; make someone else owner first.",
            code="last_owner",
        )


def membership_add(*, actor: User | None, organization: Organization, user: User, role: str) -> Membership:
    """Add ``user`` to ``organization`` directly (staff or system onboarding, no invitation).

    ``actor`` None means the system (demo data, migrations of customers); a person must hold the
    member-management permission. Idempotent: an existing membership is returned unchanged.
    """
    if actor is not None:
        require(actor, organization, Perm.MEMBERS_MANAGE)
    if role not in ROLES_BY_KIND[organization.kind]:
        raise ValidationFailed(
            f"Role '{role}' does not exist in a {organization.kind} organisation.",
            details={"role": [f"Choose one of: {', '.join(ROLES_BY_KIND[organization.kind])}."]},
        )
    if organization.kind == OrgKind.INDIVIDUAL:
        raise DomainError(
            "An independent expert's organisation has a single member.", code="individual_org_single_member"
        )
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(
            user=user, organization=organization, defaults={"role": role}
        )
        if created:
            audit(
                membership,
                "membership.created",
                actor=actor,
                organization_public_id=organization.public_id,
                data={"role": role, "via": "direct"},
            )
    forget_memberships(user)
    return membership


def membership_change_role(*, actor: User, membership: Membership, role: str) -> Membership:
    """Give a member another role (owners only). The last owner cannot be demoted. Idempotent."""
    org = membership.organization
    require(actor, org, Perm.MEMBERS_MANAGE)
    if role not in ROLES_BY_KIND[org.kind]:
        raise ValidationFailed(
            f"Role '{role}' does not exist in a {org.kind} organisation.",
            details={"role": [f"Choose one of: {', '.join(ROLES_BY_KIND[org.kind])}."]},
        )
    if membership.role == role:
        return membership
    with transaction.atomic():
        locked = Membership.objects.select_for_update().select_related("user", "organization").get(pk=membership.pk)
        if role != Role.OWNER:
            _ensure_another_owner(locked)
        old = locked.role
        locked.role = role
        locked.save(update_fields=["role", "updated_at"])
        audit(
            locked,
            "membership.role_changed",
            actor=actor,
            organization_public_id=org.public_id,
            data={"user": str(locked.user.public_id), "from": old, "to": role},
        )
    forget_memberships(actor)
    return locked


def membership_remove(*, actor: User, membership: Membership) -> None:
    """Remove a member (owners), or leave (anyone, themselves). Their API keys in the org are revoked.

    The last owner cannot be removed.
    """
    org = membership.organization
    if membership.user_id != actor.pk:
        require(actor, org, Perm.MEMBERS_MANAGE)
    with transaction.atomic():
        locked = Membership.objects.select_for_update().select_related("user", "organization").get(pk=membership.pk)
        _ensure_another_owner(locked)
        for key in ApiKey.objects.filter(organization=org, created_by=locked.user, status=ApiKey.Status.ACTIVE):
            _api_key_revoke(actor=actor, api_key=key, reason="creator removed from the organisation")
        audit(
            locked,
            "membership.removed",
            actor=actor,
            organization_public_id=org.public_id,
            data={"user": str(locked.user.public_id), "role": locked.role},
        )
        locked.delete()
    forget_memberships(actor)


# --- API keys ------------------------------------------------------------------------------------


def api_key_create(
    *,
    actor: User,
    organization: Organization,
    name: str,
    expires_at: datetime | None = None,
    scopes: list[str] | None = None,
    within_scopes: list[str] | None = None,
) -> tuple[ApiKey, str]:
    """Create an API key; returns it with the raw key, which is never stored or shown again.

    ``scopes`` None means full access (``*``). ``within_scopes``: the scopes of the API key making the
    request, if any; a key may only mint keys with scopes it holds itself.
    """
    require(actor, organization, Perm.API_KEYS_MANAGE)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("Give the key a name.", details={"name": ["This field is required."]})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed("The expiry must be in the future.", details={"expires_at": ["Must be in the future."]})
    scopes = api_scopes.normalize(scopes)
    if within_scopes is not None:
        api_scopes.require_within(scopes, within_scopes)
    prefix = f"{API_KEY_PREFIX}_{secrets.token_hex(4)}"
    raw = f"{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        key = ApiKey.objects.create(
            organization=organization,
            name=name[:100],
            prefix=prefix,
            key_hash=hash_secret(raw),
            created_by=actor,
            expires_at=expires_at,
            scopes=scopes,
        )
        audit(
            key,
            "api_key.created",
            actor=actor,
            organization_public_id=organization.public_id,
            data={"name": key.name, "prefix": prefix, "scopes": scopes},
        )
    return key, raw


def _api_key_revoke(*, actor: User | None, api_key: ApiKey, reason: str = "") -> bool:
    return transition(
        api_key,
        ApiKey.Status.REVOKED,
        actor=actor,
        reason=reason,
        organization_public_id=api_key.organization.public_id,
        extra_updates={"revoked_at": timezone.now()},
    )


def api_key_revoke(*, actor: User, api_key: ApiKey) -> bool:
    """Revoke a key; requests with it fail from now on. Idempotent."""
    require(actor, api_key.organization, Perm.API_KEYS_MANAGE)
    return _api_key_revoke(actor=actor, api_key=api_key)


# last_used_at is written at most once a minute per key, not on every request.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_key_authenticate(raw: str) -> ApiKey | None:
    """The active, unexpired key matching ``raw``, with its last use recorded; else None."""
    key = api_key_verify(raw)
    if key is None or key.expires_at is not None and key.expires_at <= timezone.now():
        return None
    return key


def api_key_verify(raw: str) -> ApiKey | None:
    """The active key matching ``raw`` (expired or not: the caller tells expiry apart), last use recorded.

    One indexed query (unique ``key_hash``) plus, at most once a minute per key, an UPDATE.
    """
    if not raw or not raw.startswith(f"{API_KEY_PREFIX}_"):
        return None
    key = (
        ApiKey.objects.select_related("organization", "created_by")
        .filter(key_hash=hash_secret(raw), status=ApiKey.Status.ACTIVE)
        .first()
    )
    now = timezone.now()
    if key is None:
        return None
    if key.expires_at is not None and key.expires_at <= now:
        return key
    if key.last_used_at is None or now - key.last_used_at >= _LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
