"""Writes for expert profiles, credentials (with their verification) and vendor rosters."""

from __future__ import annotations

import re
import secrets
import zoneinfo
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.conf.global_settings import LANGUAGES
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_countries import countries

from apps.accounts.models import Membership, Organization, User, hash_secret
from apps.accounts.policies import forget_memberships, require, require_staff
from apps.accounts.roles import OrgKind, Perm, Role, StaffRole
from apps.core.errors import DomainError, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from apps.core.money import SUPPORTED_CURRENCIES, to_minor
from apps.core.transitions import audit, transition
from apps.notifications.services import notify, notify_many

from . import hooks
from .evidence import inspect_evidence
from .models import Credential, CredentialFlag, CredentialType, Domain, ExpertProfile, RosterEntry

LANGUAGE_CODES = {code for code, _ in LANGUAGES}
_TIMEZONES = zoneinfo.available_timezones()
# Major units per hour; keeps hourly_rate_minor far inside a bigint whatever the currency.
MAX_HOURLY_RATE = Decimal(1_000_000)

# --- Profiles ------------------------------------------------------------------------------------


def profile_get_or_create(*, user: User) -> ExpertProfile:
    """The user's expert profile, created empty on first use. Idempotent."""
    profile, _ = ExpertProfile.objects.get_or_create(user=user)
    return profile


def profile_update(*, actor: User, **fields: Any) -> ExpertProfile:
    """Update the actor's own profile with the given fields; every field is validated first and a
    bad one is named without anything being saved.

    Fields: headline, bio, domains (list of slugs), languages (ISO 639-1 codes), country (ISO 3166
    alpha-2), timezone (IANA), weekly_hours (0-168), hourly_rate (major units as a decimal string,
    or None), rate_currency, is_discoverable.
    """
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    domains = None
    for name, value in fields.items():
        if name in ("headline", "bio"):
            limit = 160 if name == "headline" else 5000
            value = (value or "").strip()
            if len(value) > limit:
                errors[name] = [f"At most {limit} characters."]
            clean[name] = value
        elif name == "domains":
            slugs = list(dict.fromkeys(value or []))
            found = {d.slug: d for d in Domain.objects.filter(slug__in=slugs)}
            unknown = [s for s in slugs if s not in found]
            if unknown:
                errors[name] = [f"Unknown domain: {', '.join(unknown)}."]
            domains = [found[s] for s in slugs if s in found]
        elif name == "languages":
            codes = [str(c).strip().lower() for c in (value or [])]
            unknown = [c for c in codes if c not in LANGUAGE_CODES]
            if unknown:
                errors[name] = [f"Unknown language code: {', '.join(unknown)} (use ISO 639-1, e.g. 'en')."]
            clean[name] = list(dict.fromkeys(codes))
        elif name == "country":
            code = (value or "").strip().upper()
            if code and code not in countries:
                errors[name] = [f"Unknown country code '{code}' (use ISO 3166 alpha-2, e.g. 'DE')."]
            clean[name] = code
        elif name == "timezone":
            tz = (value or "").strip()
            if tz and tz not in _TIMEZONES:
                errors[name] = [f"Unknown time zone '{tz}' (use an IANA name, e.g. 'Europe/Berlin')."]
            clean[name] = tz
        elif name == "weekly_hours":
            try:
                hours = int(value)
            except (TypeError, ValueError):
                hours = -1
            if not 0 <= hours <= 168:
                errors[name] = ["A whole number of hours between 0 and 168."]
            clean[name] = hours
        elif name == "hourly_rate":
            if value in (None, ""):
                clean["hourly_rate_minor"] = None
                continue
            try:
                rate = Decimal(str(value))
            except InvalidOperation:
                rate = Decimal(-1)
            if not rate.is_finite() or rate < 0 or rate > MAX_HOURLY_RATE:
                errors[name] = [f"A non-negative amount up to {MAX_HOURLY_RATE}, e.g. '85.00'."]
            else:
                clean["_hourly_rate"] = rate
        elif name == "rate_currency":
            currency = (value or "").strip().upper()
            if currency not in SUPPORTED_CURRENCIES:
                errors[name] = [f"Choose one of {', '.join(SUPPORTED_CURRENCIES)}."]
            clean[name] = currency
        elif name == "is_discoverable":
            clean[name] = bool(value)
        else:
            errors[name] = ["Unknown field."]
    if errors:
        raise ValidationFailed("Please correct: " + ", ".join(sorted(errors)) + ".", code="invalid", details=errors)
    with transaction.atomic():
        profile = ExpertProfile.objects.select_for_update().get(pk=profile_get_or_create(user=actor).pk)
        rate = clean.pop("_hourly_rate", None)
        changes_currency = clean.get("rate_currency", profile.rate_currency) != profile.rate_currency
        if changes_currency and rate is None and "hourly_rate_minor" not in clean and profile.hourly_rate_minor:
            # No exchange rates here: a rate in one currency is not silently relabelled as another.
            raise ValidationFailed(
                "Give the hourly rate in the new currency.",
                details={"hourly_rate": ["Required when the currency changes."]},
            )
        for name, value in clean.items():
            setattr(profile, name, value)
        if rate is not None:
            profile.hourly_rate_minor = to_minor(rate, profile.rate_currency)
        profile.save()
        if domains is not None:
            profile.domains.set(domains)
    return profile


# --- Credentials -----------------------------------------------------------------------------------


def _normalise(text: str) -> str:
    """'  ABC-123 45 ' -> 'abc12345': what two people would type differently for the same thing."""
    return re.sub(r"[\s\-_./]", "", (text or "").casefold())


def _operations_users():
    return User.objects.filter(staff_role=StaffRole.OPERATIONS, is_active=True)


def credential_submit(
    *,
    actor: User,
    type: str,
    title: str,
    issuer: str,
    evidence,
    identifier: str = "",
    jurisdiction: str = "",
    issued_on: date | None = None,
    expires_on: date | None = None,
) -> Credential:
    """Add a credential to the actor's profile, pending review by operations.

    The evidence must be a PDF/PNG/JPEG (by content) of at most 10 MB. The same identifier from
    the same issuer on another account raises a flag for operations (possible account sharing).
    """
    errors: dict[str, list[str]] = {}
    if type not in CredentialType.values:
        errors["type"] = [f"Choose one of: {', '.join(CredentialType.values)}."]
    for name, value, limit in (("title", title, 200), ("issuer", issuer, 200)):
        if not (value or "").strip():
            errors[name] = ["This field is required."]
        elif len(value) > limit:
            errors[name] = [f"At most {limit} characters."]
    if len(identifier or "") > 120:
        errors["identifier"] = ["At most 120 characters."]
    if len(jurisdiction or "") > 120:
        errors["jurisdiction"] = ["At most 120 characters."]
    if issued_on and issued_on > timezone.localdate():
        errors["issued_on"] = ["The issue date cannot be in the future."]
    if issued_on and expires_on and expires_on <= issued_on:
        errors["expires_on"] = ["The expiry date must be after the issue date."]
    if expires_on and expires_on <= timezone.localdate():
        errors["expires_on"] = ["This credential has already expired."]
    if errors:
        raise ValidationFailed("Please correct: " + ", ".join(sorted(errors)) + ".", details=errors)
    info = inspect_evidence(evidence)
    profile = profile_get_or_create(user=actor)
    with transaction.atomic():
        credential = Credential(
            profile=profile,
            type=type,
            title=title.strip(),
            issuer=issuer.strip(),
            identifier=(identifier or "").strip(),
            issuer_key=_normalise(issuer),
            identifier_key=_normalise(identifier),
            jurisdiction=(jurisdiction or "").strip(),
            issued_on=issued_on,
            expires_on=expires_on,
            evidence_name=(getattr(evidence, "name", "") or "evidence")[:255],
            evidence_content_type=info.content_type,
            evidence_extension=info.extension,
            evidence_size=info.size,
            evidence_sha256=info.sha256,
        )
        credential.evidence.save("evidence", evidence, save=False)
        credential.save()
        audit(credential, "credential.submitted", actor=actor, data={"type": type})
        _flag_duplicates(credential)
    return credential


def _flag_duplicates(credential: Credential) -> None:
    if not credential.identifier_key:
        return
    others = (
        Credential.objects.filter(issuer_key=credential.issuer_key, identifier_key=credential.identifier_key)
        .exclude(profile__user_id=credential.profile.user_id)
        .exclude(status__in=[Credential.Status.REJECTED, Credential.Status.REVOKED])
    )
    flagged = 0
    for other in others:
        CredentialFlag.objects.create(
            kind=CredentialFlag.Kind.DUPLICATE_IDENTIFIER, credential=credential, other_credential=other
        )
        flagged += 1
    if flagged:
        notify_many(
            recipients=_operations_users(),
            kind="credential.flagged",
            title="Possible account sharing: one credential identifier on two accounts",
            body=f"{credential.issuer} identifier {credential.identifier} also appears on {flagged} other account(s).",
            url="/operations/flags/",
        )


def _reverify_on(credential: Credential, today: date) -> date:
    default = today + timedelta(days=settings.CREDENTIAL_REVERIFY_DAYS)
    return min(default, credential.expires_on) if credential.expires_on else default


def credential_verify(*, actor: User, credential: Credential, reverify_on: date | None = None) -> bool:
    """Operations confirm a pending credential. Records who and when, and a re-verification date.
    Idempotent (verifying twice changes nothing)."""
    require_staff(actor, StaffRole.OPERATIONS)
    today = timezone.localdate()
    if reverify_on is not None and reverify_on <= today:
        raise ValidationFailed(
            "The re-verification date must be in the future.", details={"reverify_on": ["Future date."]}
        )
    if credential.expires_on and credential.expires_on <= today and credential.status == Credential.Status.PENDING:
        raise DomainError("This credential has expired; it cannot be verified.", code="credential_expired")
    with transaction.atomic():
        moved = transition(
            credential,
            Credential.Status.VERIFIED,
            actor=actor,
            extra_updates={
                "verified_by": actor,
                "verified_at": timezone.now(),
                "reverify_on": reverify_on or _reverify_on(credential, today),
                "status_reason": "",
            },
        )
        if moved:
            notify(
                recipient=credential.profile.user,
                kind="credential.verified",
                title=f"Verified: {credential.title}",
                body=f"Your {credential.get_type_display().lower()} from {credential.issuer} was verified.",
                url="/experts/credentials/",
            )
    return moved


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Give a reason; the expert sees it.", details={"reason": ["This field is required."]})
    return reason


def _credential_end(*, actor: User, credential: Credential, to: str, reason: str, kind: str, title: str) -> bool:
    """Reject or revoke: the reason is required, stored and sent to the expert."""
    require_staff(actor, StaffRole.OPERATIONS)
    reason = _require_reason(reason)
    with transaction.atomic():
        moved = transition(credential, to, actor=actor, reason=reason, extra_updates={"status_reason": reason})
        if moved:
            notify(
                recipient=credential.profile.user,
                kind=kind,
                title=f"{title}: {credential.title}",
                body=f"Reason: {reason}",
                url="/experts/credentials/",
            )
    return moved


def credential_reject(*, actor: User, credential: Credential, reason: str) -> bool:
    """Operations reject a pending credential with a reason the expert sees. Idempotent."""
    return _credential_end(
        actor=actor,
        credential=credential,
        to=Credential.Status.REJECTED,
        reason=reason,
        kind="credential.rejected",
        title="Not verified",
    )


def credential_revoke(*, actor: User, credential: Credential, reason: str) -> bool:
    """Operations withdraw a verified credential (e.g. the licence was suspended). Idempotent."""
    with transaction.atomic():
        moved = _credential_end(
            actor=actor,
            credential=credential,
            to=Credential.Status.REVOKED,
            reason=reason,
            kind="credential.revoked",
            title="Revoked",
        )
        if moved:
            hooks.credential_lapsed.fire(credential=credential)
    return moved


def credential_flag_resolve(*, actor: User, flag: CredentialFlag, resolution: str) -> bool:
    require_staff(actor, StaffRole.OPERATIONS)
    resolution = (resolution or "").strip()
    if not resolution:
        raise ValidationFailed("Say how it was resolved.", details={"resolution": ["This field is required."]})
    return transition(flag, CredentialFlag.Status.RESOLVED, actor=actor, extra_updates={"resolution": resolution})


def credentials_expire_due(*, today: date | None = None) -> int:
    """Expire pending and verified credentials whose expiry date has passed; tell their owners."""
    today = today or timezone.localdate()
    due = Credential.objects.filter(
        status__in=[Credential.Status.PENDING, Credential.Status.VERIFIED], expires_on__lte=today
    ).select_related("profile__user")
    count = 0
    for credential in due.iterator():
        with transaction.atomic():
            was_verified = credential.status == Credential.Status.VERIFIED
            if transition(credential, Credential.Status.EXPIRED, actor=None, reason="expiry date passed"):
                count += 1
                if was_verified:
                    hooks.credential_lapsed.fire(credential=credential)
                notify(
                    recipient=credential.profile.user,
                    kind="credential.expired",
                    title=f"Expired: {credential.title}",
                    body="Add the renewed credential to keep working on projects that require it.",
                    url="/experts/credentials/",
                )
    return count


def credential_expiry_reminders_send(*, today: date | None = None) -> int:
    """Remind owners of verified credentials that expire within the reminder window, once each."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=settings.CREDENTIAL_EXPIRY_REMINDER_DAYS)
    due = Credential.objects.filter(
        status=Credential.Status.VERIFIED,
        expires_on__gt=today,
        expires_on__lte=horizon,
        expiry_reminder_sent_on__isnull=True,
    ).select_related("profile__user")
    count = 0
    for credential in due.iterator():
        with transaction.atomic():
            # Claim the reminder first so that a re-run never sends it twice.
            if not Credential.objects.filter(pk=credential.pk, expiry_reminder_sent_on__isnull=True).update(
                expiry_reminder_sent_on=today
            ):
                continue
            days = (credential.expires_on - today).days
            notify(
                recipient=credential.profile.user,
                kind="credential.expiring",
                title=f"{credential.title} expires in {days} days",
                body=f"It expires on {credential.expires_on:%d %B %Y}. Add the renewed credential before then.",
                url="/experts/credentials/",
            )
            count += 1
    return count


# --- Rosters ----------------------------------------------------------------------------------------


def _require_vendor(actor: User, vendor: Organization, perm: str) -> None:
    require(actor, vendor, perm)
    if vendor.kind != OrgKind.VENDOR:
        raise DomainError("Only a vendor organisation has a roster.", code="not_a_vendor")


def roster_invite(*, actor: User, vendor: Organization, email: str) -> tuple[RosterEntry, str]:
    """Invite ``email`` to the vendor's roster. An unknown address gets an account (no password yet);
    the e-mailed link lets them set one and join. Returns the entry and the raw link token."""
    _require_vendor(actor, vendor, Perm.ROSTER_MANAGE)
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationFailed("Enter a valid e-mail address.", details={"email": ["Enter a valid e-mail address."]})
    token = secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            user = User.objects.filter(email__iexact=email).first()
            new_account = user is None
            if new_account:
                user = User.objects.create_user(email=email, password=None)
            open_entry = RosterEntry.objects.filter(
                vendor=vendor,
                user=user,
                status__in=[RosterEntry.Status.INVITED, RosterEntry.Status.ACTIVE, RosterEntry.Status.SUSPENDED],
            ).first()
            if open_entry is not None:
                state = "already invited to" if open_entry.status == RosterEntry.Status.INVITED else "already on"
                raise ValidationFailed(
                    f"{email} is {state} the roster of {vendor.name}.",
                    code="already_on_roster",
                    details={"email": [f"This person is {state} the roster."]},
                )
            entry = RosterEntry.objects.create(
                vendor=vendor,
                user=user,
                invited_by=actor,
                token_hash=hash_secret(token),
                invite_expires_at=timezone.now() + timedelta(hours=settings.INVITATION_TTL_HOURS),
            )
            audit(
                entry,
                "roster.invited",
                actor=actor,
                organization_public_id=vendor.public_id,
                data={"email": email, "new_account": new_account},
            )
            if not new_account:
                notify(
                    recipient=user,
                    kind="roster.invited",
                    title=f"{vendor.name} invited you to its roster",
                    body="Declare any conflict of interest and accept or decline.",
                    url="/roster/invitations/",
                    email=False,  # the invitation e-mail below carries the link
                )
            transaction.on_commit(lambda: _send_roster_email(entry.pk, token, new_account))
    except IntegrityError:
        raise ValidationFailed(
            f"{email} is already on the roster of {vendor.name}.",
            code="already_on_roster",
            details={"email": ["This person is already on the roster."]},
        )
    return entry, token


def roster_invitation_link(token: str) -> str:
    return f"{settings.SITE_URL}/roster/join/{token}/"


def _send_roster_email(entry_pk: int, token: str, new_account: bool) -> None:
    entry = RosterEntry.objects.select_related("vendor", "user").get(pk=entry_pk)
    context = {"entry": entry, "link": roster_invitation_link(token), "new_account": new_account}
    send_mail(
        subject=f"{entry.vendor.name} invites you to its expert roster",
        message=render_to_string("experts/email/roster_invitation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[entry.user.email],
    )


def roster_entry_get_by_token(token: str) -> RosterEntry:
    entry = RosterEntry.objects.select_related("vendor", "user").filter(token_hash=hash_secret(token or "")).first()
    if entry is None:
        raise NotFound("This roster invitation link is not valid.", code="roster_invitation_not_found")
    return entry


def _notify_managers(vendor: Organization, *, kind: str, title: str, body: str = "") -> None:
    managers = User.objects.filter(
        memberships__organization=vendor, memberships__role__in=[Role.OWNER, Role.MANAGER], is_active=True
    )
    notify_many(recipients=managers, kind=kind, title=title, body=body, url=f"/orgs/{vendor.slug}/roster/")


def roster_accept(
    *, actor: User, entry: RosterEntry, conflict_of_interest: str = "", password: str | None = None, full_name: str = ""
) -> RosterEntry:
    """The invited expert joins: declares conflicts of interest (or none), becomes an active roster
    member and an ``expert`` member of the vendor. A new account sets its password here (the link
    proved the address). Idempotent for an entry already active."""
    if entry.user_id != actor.pk:
        raise NotFound("Roster invitation not found.", code="roster_invitation_not_found")
    if entry.status == RosterEntry.Status.ACTIVE:
        return entry
    if (
        entry.status == RosterEntry.Status.INVITED
        and entry.invite_expires_at
        and entry.invite_expires_at <= timezone.now()
    ):
        raise DomainError(
            "This roster invitation has expired; ask the vendor to invite you again.", code="roster_invitation_expired"
        )
    if entry.status != RosterEntry.Status.INVITED:
        raise DomainError(
            f"This invitation is {entry.status} and can no longer be accepted.", code="roster_entry_not_invited"
        )
    if len(conflict_of_interest or "") > 5000:
        raise ValidationFailed(
            "At most 5000 characters.", details={"conflict_of_interest": ["At most 5000 characters."]}
        )
    if password is not None:
        from django.contrib.auth.password_validation import validate_password

        try:
            validate_password(password, user=actor)
        except DjangoValidationError as exc:
            raise ValidationFailed("Choose a stronger password.", details={"password": list(exc.messages)})
    vendor = entry.vendor
    now = timezone.now()
    with transaction.atomic():
        moved = transition(
            entry,
            RosterEntry.Status.ACTIVE,
            actor=actor,
            organization_public_id=vendor.public_id,
            extra_updates={
                "joined_at": now,
                "conflict_of_interest": (conflict_of_interest or "").strip(),
                "coi_declared_at": now,
                "token_hash": None,
            },
        )
        if not moved:
            # A repeat (double submit, stale copy of the entry): the first call did the rest.
            return entry
        if password is not None:
            actor.set_password(password)
            if full_name.strip():
                actor.full_name = full_name.strip()[:150]
            actor.save(update_fields=["password", "full_name", "updated_at"])
            from allauth.account.models import EmailAddress

            EmailAddress.objects.update_or_create(
                user=actor, email=actor.email, defaults={"verified": True, "primary": True}
            )
        Membership.objects.get_or_create(user=actor, organization=vendor, defaults={"role": Role.EXPERT})
        coi = "declared a conflict of interest" if entry.conflict_of_interest else "declared no conflict of interest"
        _notify_managers(
            vendor, kind="roster.joined", title=f"{actor.display_name} joined your roster", body=f"They {coi}."
        )
    forget_memberships(actor)
    return entry


def roster_accept_by_token(
    *,
    token: str,
    conflict_of_interest: str = "",
    password: str | None = None,
    full_name: str = "",
    actor: User | None = None,
) -> RosterEntry:
    """Accept through the e-mailed link. A person without a password sets one (and their name);
    anyone else must be logged in as the invited person."""
    entry = roster_entry_get_by_token(token)
    user = entry.user
    if user.has_usable_password():
        if actor is None or actor.pk != user.pk:
            raise PermissionDenied(f"Log in as {user.email} to accept this invitation.", code="roster_login_required")
        password = None
    elif not password:
        raise ValidationFailed("Choose a password for your new account.", details={"password": ["Required."]})
    return roster_accept(
        actor=user, entry=entry, conflict_of_interest=conflict_of_interest, password=password, full_name=full_name
    )


def roster_decline(*, actor: User, entry: RosterEntry) -> bool:
    if entry.user_id != actor.pk:
        raise NotFound("Roster invitation not found.", code="roster_invitation_not_found")
    with transaction.atomic():
        moved = transition(
            entry,
            RosterEntry.Status.DECLINED,
            actor=actor,
            organization_public_id=entry.vendor.public_id,
            extra_updates={"token_hash": None},
        )
        if moved:
            _notify_managers(
                entry.vendor, kind="roster.declined", title=f"{entry.user.email} declined your roster invitation"
            )
    return moved


def roster_suspend(*, actor: User, entry: RosterEntry, reason: str) -> bool:
    """Suspend an active expert (they stay on the roster but cannot be assigned). Idempotent."""
    _require_vendor(actor, entry.vendor, Perm.ROSTER_MANAGE)
    reason = _require_reason(reason)
    with transaction.atomic():
        moved = transition(
            entry,
            RosterEntry.Status.SUSPENDED,
            actor=actor,
            reason=reason,
            organization_public_id=entry.vendor.public_id,
            extra_updates={"status_reason": reason},
        )
        if moved:
            notify(
                recipient=entry.user,
                kind="roster.suspended",
                title=f"{entry.vendor.name} suspended you from its roster",
                body=f"Reason: {reason}",
                url="/roster/invitations/",
            )
    return moved


def roster_reinstate(*, actor: User, entry: RosterEntry) -> bool:
    """Make a suspended expert active again. Idempotent. An invitation cannot be activated here:
    the expert joins only by accepting (with the conflict-of-interest declaration)."""
    _require_vendor(actor, entry.vendor, Perm.ROSTER_MANAGE)
    with transaction.atomic():
        current = RosterEntry.objects.select_for_update().filter(pk=entry.pk).values_list("status", flat=True).first()
        if current not in (RosterEntry.Status.SUSPENDED, RosterEntry.Status.ACTIVE):
            raise InvalidTransition(
                f"This roster entry is '{current}'; only a suspended expert can be reinstated.",
                code="rosterentry_not_suspended",
                details={"current_status": current, "requested_status": RosterEntry.Status.ACTIVE},
            )
        moved = transition(
            entry,
            RosterEntry.Status.ACTIVE,
            actor=actor,
            organization_public_id=entry.vendor.public_id,
            extra_updates={"status_reason": ""},
        )
        if moved:
            notify(
                recipient=entry.user,
                kind="roster.reinstated",
                title=f"{entry.vendor.name} reinstated you on its roster",
                url="/roster/invitations/",
            )
    return moved


def roster_offboard(*, actor: User, entry: RosterEntry, reason: str) -> bool:
    """Offboard an expert (or withdraw an invitation): the entry keeps the reason, the expert loses
    their ``expert`` membership of the vendor. Idempotent."""
    _require_vendor(actor, entry.vendor, Perm.ROSTER_MANAGE)
    reason = _require_reason(reason)
    with transaction.atomic():
        moved = transition(
            entry,
            RosterEntry.Status.OFFBOARDED,
            actor=actor,
            reason=reason,
            organization_public_id=entry.vendor.public_id,
            extra_updates={"status_reason": reason, "token_hash": None},
        )
        if moved:
            Membership.objects.filter(user=entry.user, organization=entry.vendor, role=Role.EXPERT).delete()
            notify(
                recipient=entry.user,
                kind="roster.offboarded",
                title=f"{entry.vendor.name} offboarded you from its roster",
                body=f"Reason: {reason}",
                url="/roster/invitations/",
            )
    return moved
