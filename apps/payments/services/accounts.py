"""Connected accounts: the supplier organisation's Stripe account, created once and mirrored.

Decisions:
- Only supplier organisations (vendor or individual) get an account; the permission is
  ``payments.manage`` (vendor owners and managers, the independent expert).
- The account is created with the deterministic key ``acct:<org public_id>``: a retry after a lost
  response or a crash replays the same Stripe account instead of creating a second one.
- ``apply_account_update`` ignores an update whose Stripe ``created`` time is older than the last one
  applied (webhooks arrive out of order).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.db import IntegrityError, transaction

from apps.accounts.models import Organization, User
from apps.accounts.policies import require
from apps.accounts.roles import OrgKind, Perm
from apps.core.errors import DomainError, NotFound
from apps.core.transitions import audit
from apps.payments import gateway
from apps.payments.models import ConnectedAccount

SUPPLIER_KINDS = (OrgKind.VENDOR, OrgKind.INDIVIDUAL)


@contextmanager
def _stripe_errors() -> Iterator[None]:
    """Stripe's refusal or absence as a domain error the interfaces can show (nothing was stored)."""
    try:
        yield
    except gateway.GatewayError as exc:
        raise DomainError(
            f"Stripe did not complete the request: {exc.message}",
            code="stripe_unavailable" if exc.retryable else "stripe_refused",
            details={"stripe_code": exc.code, "retryable": exc.retryable},
        ) from exc


def _check_supplier(organization: Organization) -> None:
    if organization.kind not in SUPPLIER_KINDS:
        raise DomainError(
            "Only vendors and independent experts receive payouts; labs pay by charge or invoice.",
            code="not_a_supplier",
            details={"organization_kind": organization.kind},
        )


def _owner_email(organization: Organization) -> str:
    membership = organization.memberships.filter(role="owner").select_related("user").order_by("id").first()
    return membership.user.email if membership else ""


def _mirror(account: ConnectedAccount, remote: Any) -> None:
    account.charges_enabled = bool(remote.charges_enabled)
    account.payouts_enabled = bool(remote.payouts_enabled)
    account.details_submitted = bool(remote.details_submitted)
    account.requirements_due = list(remote.requirements_due or [])
    account.disabled_reason = remote.disabled_reason or ""
    account.transfers_capability = getattr(remote, "transfers_capability", None) or account.transfers_capability


def connect_account(*, actor: User, organization: Organization, country: str = "US") -> ConnectedAccount:
    """Create the organisation's Stripe connected account, once. Idempotent: a second call returns
    the stored account; a retried call after a lost response replays the same Stripe account."""
    require(actor, organization, Perm.PAYMENTS_MANAGE)
    _check_supplier(organization)
    existing = ConnectedAccount.objects.filter(organization=organization).first()
    if existing is not None:
        return existing
    business_type = "individual" if organization.kind == OrgKind.INDIVIDUAL else "company"
    with _stripe_errors():
        remote = gateway.create_connected_account(
            email=_owner_email(organization) or actor.email,
            country=country,
            business_type=business_type,
            metadata={"organization": str(organization.public_id)},
            idempotency_key=f"acct:{organization.public_id}",
        )
    account = ConnectedAccount(organization=organization, stripe_account_id=remote.id, country=country.upper())
    _mirror(account, remote)
    try:
        with transaction.atomic(durable=True):
            account.save()
            audit(
                account,
                "connected_account.created",
                actor=actor,
                organization_public_id=organization.public_id,
                data={"stripe_account_id": remote.id},
            )
    except IntegrityError:
        # A concurrent call stored the same (replayed) account first.
        return ConnectedAccount.objects.filter(organization=organization).first()
    return account


def onboarding_link(*, actor: User, organization: Organization, refresh_url: str, return_url: str) -> str:
    """A fresh single-use Stripe onboarding URL for the organisation's account (created first if
    missing). Not idempotent by design: links expire after minutes."""
    account = connect_account(actor=actor, organization=organization)
    with _stripe_errors():
        return gateway.create_account_link(
            account=account.stripe_account_id, refresh_url=refresh_url, return_url=return_url
        )


def refresh_account(*, actor: User | None, organization: Organization) -> ConnectedAccount:
    """Re-read the account from Stripe (after the user returns from onboarding)."""
    account = ConnectedAccount.objects.filter(organization=organization).first()
    if account is None:
        raise NotFound("This organisation has no connected account yet.", code="connected_account_not_found")
    with _stripe_errors():
        remote = gateway.retrieve_account(account.stripe_account_id)
    with transaction.atomic():
        account = ConnectedAccount.objects.select_for_update().filter(pk=account.pk).first()
        _mirror(account, remote)
        account.save()
    return account


def _field(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def apply_account_update(*, account: Any, event_created: int) -> ConnectedAccount | None:
    """Mirror an ``account.updated`` payload (a dict or the gateway's ConnectedAccount) onto the stored
    account. Ignores an update older than the last one applied (returns the account unchanged), and
    an unknown account (returns None). Idempotent."""
    stripe_id = _field(account, "id")
    requirements = _field(account, "requirements") or {}
    due = _field(account, "requirements_due")
    if due is None:
        due = []
        for key in [*(_field(requirements, "past_due") or []), *(_field(requirements, "currently_due") or [])]:
            if key not in due:
                due.append(key)
    disabled_reason = _field(account, "disabled_reason")
    if disabled_reason is None:
        disabled_reason = _field(requirements, "disabled_reason")
    capability = _field(account, "transfers_capability")
    if capability is None:
        capability = _field(_field(account, "capabilities") or {}, "transfers")
    with transaction.atomic():
        stored = ConnectedAccount.objects.select_for_update().filter(stripe_account_id=stripe_id).first()
        if stored is None:
            return None
        if event_created < stored.last_event_created:
            return stored
        stored.charges_enabled = bool(_field(account, "charges_enabled", False))
        stored.payouts_enabled = bool(_field(account, "payouts_enabled", False))
        stored.details_submitted = bool(_field(account, "details_submitted", False))
        stored.requirements_due = list(due)
        stored.disabled_reason = disabled_reason or ""
        if capability:
            stored.transfers_capability = str(capability)
        stored.last_event_created = event_created
        stored.save()
    return stored


def can_receive_transfers(organization: Organization) -> tuple[bool, list[str]]:
    """Whether a transfer to the organisation may be sent now, and if not, every reason why."""
    account = getattr(organization, "_payments_account", None)
    if account is None:
        account = ConnectedAccount.objects.filter(organization=organization).first()
    return account_readiness(account)


def account_readiness(account: ConnectedAccount | None) -> tuple[bool, list[str]]:
    if account is None:
        return False, ["No Stripe account is connected yet."]
    reasons: list[str] = []
    if account.disabled_reason:
        reasons.append(f"Stripe disabled the account: {account.disabled_reason}.")
    if not account.details_submitted:
        reasons.append("Onboarding is not finished.")
    if not account.payouts_enabled:
        reasons.append("Payouts are not enabled on the Stripe account.")
    if account.transfers_capability != "active":
        reasons.append(f"The transfers capability is {account.transfers_capability}.")
    if account.requirements_due:
        reasons.append("Stripe needs: " + ", ".join(account.requirements_due) + ".")
    return not reasons, reasons
