"""Outbound webhooks: endpoints, the outbox subscriber, delivery with retries, redelivery.

- ``on_domain_event`` (subscribed to ``apps.core.events.domain_event``) stores the event and one
  delivery per subscribed active endpoint of each organisation it concerns, inside the emitting
  transaction; the first attempt is queued on commit, so a rolled-back change delivers nothing.
- ``delivery_send`` makes one attempt: it claims the delivery with a lease (a conditional UPDATE),
  re-checks the URL against the SSRF guard, POSTs outside any transaction, then records the attempt.
  A failure is retried by the sweeper (``deliveries_send_due``, every minute) with exponential backoff
  and jitter for 24 hours from the first attempt. An endpoint failing for 24 hours in a row is disabled
  and the organisation's admins are told.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Organization, User
from apps.accounts.policies import require
from apps.accounts.roles import GRANTS, Perm
from apps.core.errors import DomainError, ValidationFailed
from apps.core.events import EVENT_TYPES
from apps.core.transitions import audit, transition
from apps.notifications.services import notify_many

from . import sender, signing, ssrf
from .models import ALL_EVENTS, TEST_EVENT, Delivery, DeliveryAttempt, Event, WebhookEndpoint

E = WebhookEndpoint.Status
D = Delivery.Status
# Seconds before retry n (n = attempts so far in the window), each +-10% jitter; the last repeats.
BACKOFF_SECONDS = (60, 300, 1800, 7200, 21600, 43200)
RETRY_WINDOW = timedelta(hours=24)
DISABLE_AFTER = timedelta(hours=24)
# A claimed delivery is retried after this if its worker died mid-attempt.
LEASE = timedelta(minutes=2)
MAX_ENDPOINTS_PER_ORGANIZATION = 20
USER_AGENT = "ExpertDataMarketplace-Webhooks/1"
_UNSET: Any = object()


# --- helpers -------------------------------------------------------------------------------------------------


def _admins(organization: Organization) -> list[User]:
    roles = GRANTS.get(Perm.INTEGRATIONS_MANAGE, {}).get(organization.kind, set())
    return list(
        User.objects.filter(
            is_active=True, memberships__organization=organization, memberships__role__in=roles
        ).distinct()
    )


def endpoint_url(endpoint: WebhookEndpoint) -> str:
    return f"/orgs/{endpoint.organization.slug}/webhooks/{endpoint.public_id}/"


def _clean_url(url: Any) -> str:
    if not isinstance(url, str) or not url.strip():
        raise ValidationFailed("Give the endpoint's URL.", details={"url": ["This field is required."]})
    url = url.strip()
    if len(url) > 2000:
        raise ValidationFailed("The URL is too long.", details={"url": ["At most 2000 characters."]})
    ssrf.check_url(url)
    return url


def _clean_event_types(value: Any) -> list[str]:
    if not isinstance(value, list | tuple) or not value or not all(isinstance(v, str) for v in value):
        raise ValidationFailed(
            'Choose the event types to receive, or ["*"] for all.',
            details={"event_types": ['A non-empty list of event types, or ["*"].']},
        )
    unknown = sorted({v for v in value if v != ALL_EVENTS and v not in EVENT_TYPES})
    if unknown:
        raise ValidationFailed(
            f"Unknown event types: {', '.join(unknown)}.",
            details={"event_types": [f"Unknown: {', '.join(unknown)}. One of: *, {', '.join(sorted(EVENT_TYPES))}."]},
        )
    if ALL_EVENTS in value:
        return [ALL_EVENTS]
    return sorted(set(value))


def _clean_description(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > 200:
        raise ValidationFailed("The description is too long.", details={"description": ["At most 200 characters."]})
    return value.strip()


def endpoint_secrets(endpoint: WebhookEndpoint, *, now: datetime | None = None) -> list[str]:
    """The secrets that sign a delivery now: the current one, then the previous one during its grace period."""
    now = now or timezone.now()
    found = [signing.decrypt(endpoint.secret_encrypted)]
    if (
        endpoint.previous_secret_encrypted
        and endpoint.previous_secret_expires_at
        and now < endpoint.previous_secret_expires_at
    ):
        found.append(signing.decrypt(endpoint.previous_secret_encrypted))
    return found


def event_body(event: Event) -> bytes:
    """The JSON body every delivery of ``event`` carries (compact, keys in a fixed order)."""
    payload = {
        "id": str(event.public_id),
        "type": event.type,
        "created": event.created_at.isoformat().replace("+00:00", "Z"),
        "data": event.data,
    }
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def delivery_headers(event: Event, endpoint: WebhookEndpoint, body: bytes, *, now: datetime) -> dict[str, str]:
    timestamp = int(now.timestamp())
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Webhook-Id": str(event.public_id),
        "Webhook-Timestamp": str(timestamp),
        "Webhook-Signature": signing.signature_header(endpoint_secrets(endpoint, now=now), timestamp, body),
    }


def _link(event: Event, organization_ids: list[int]) -> None:
    # One INSERT (``organizations.add`` would first read the links back): the event is new.
    through = Event.organizations.through
    through.objects.bulk_create([through(event_id=event.pk, organization_id=pk) for pk in organization_ids])


def _queue(delivery_ids: list[int]) -> None:
    from .tasks import send_delivery

    for pk in delivery_ids:
        send_delivery.delay_on_commit(pk)


# --- endpoints -----------------------------------------------------------------------------------------------


def endpoint_create(
    *, actor: User, organization: Organization, url: Any, event_types: Any, description: Any = ""
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint for ``organization`` (owners and admins). Returns it and its secret, which is
    shown this once. The URL passes the SSRF guard. Audited."""
    require(actor, organization, Perm.INTEGRATIONS_MANAGE)
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for name, cleaner, value in (
        ("url", _clean_url, url),
        ("event_types", _clean_event_types, event_types),
        ("description", _clean_description, description),
    ):
        try:
            clean[name] = cleaner(value)
        except ValidationFailed as exc:
            errors.update(exc.details)
    if errors:
        raise ValidationFailed("The endpoint is not valid.", details=errors)
    secret = signing.generate_secret()
    with transaction.atomic():
        Organization.objects.select_for_update().filter(pk=organization.pk).first()
        if WebhookEndpoint.objects.filter(organization=organization).count() >= MAX_ENDPOINTS_PER_ORGANIZATION:
            raise DomainError(
                f"An organisation may register at most {MAX_ENDPOINTS_PER_ORGANIZATION} endpoints.",
                code="too_many_endpoints",
            )
        endpoint = WebhookEndpoint.objects.create(
            organization=organization, created_by=actor, secret_encrypted=signing.encrypt(secret), **clean
        )
        audit(
            endpoint,
            "webhook_endpoint.created",
            actor=actor,
            organization_public_id=organization.public_id,
            data={"url": endpoint.url, "event_types": endpoint.event_types},
        )
    return endpoint, secret


def endpoint_update(
    *,
    actor: User,
    endpoint: WebhookEndpoint,
    url: Any = _UNSET,
    event_types: Any = _UNSET,
    description: Any = _UNSET,
    active: Any = _UNSET,
) -> WebhookEndpoint:
    """Change an endpoint's URL, event types, description or whether it is active. Enabling clears the
    failure record; disabling by hand keeps pending deliveries until it is enabled again. Audited."""
    organization = endpoint.organization
    require(actor, organization, Perm.INTEGRATIONS_MANAGE)
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for name, cleaner, value in (
        ("url", _clean_url, url),
        ("event_types", _clean_event_types, event_types),
        ("description", _clean_description, description),
    ):
        if value is _UNSET:
            continue
        try:
            clean[name] = cleaner(value)
        except ValidationFailed as exc:
            errors.update(exc.details)
    if active is not _UNSET and not isinstance(active, bool):
        errors["active"] = ["true or false."]
    if errors:
        raise ValidationFailed("The endpoint is not valid.", details=errors)
    with transaction.atomic():
        changed = {name: value for name, value in clean.items() if getattr(endpoint, name) != value}
        if changed:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(**changed, updated_at=timezone.now())
            audit(
                endpoint,
                "webhook_endpoint.updated",
                actor=actor,
                organization_public_id=organization.public_id,
                data={k: v for k, v in changed.items() if k != "description"},
            )
        if active is True:
            transition(
                endpoint,
                E.ACTIVE,
                actor=actor,
                organization_public_id=organization.public_id,
                extra_updates={"disabled_reason": "", "failing_since": None},
            )
        elif active is False:
            transition(
                endpoint,
                E.DISABLED,
                actor=actor,
                organization_public_id=organization.public_id,
                extra_updates={"disabled_reason": "Disabled by an administrator."},
            )
    endpoint.refresh_from_db()
    return endpoint


def endpoint_delete(*, actor: User, endpoint: WebhookEndpoint) -> None:
    """Delete an endpoint with its deliveries and their log (the event log keeps the events). Audited."""
    organization = endpoint.organization
    require(actor, organization, Perm.INTEGRATIONS_MANAGE)
    with transaction.atomic():
        audit(endpoint, "webhook_endpoint.deleted", actor=actor, organization_public_id=organization.public_id,
              data={"url": endpoint.url, "public_id": str(endpoint.public_id)})  # fmt: skip
        endpoint.delete()


def endpoint_rotate_secret(*, actor: User, endpoint: WebhookEndpoint) -> str:
    """A new secret, returned this once. The previous one keeps signing (a second signature) for
    ``WEBHOOK_SECRET_GRACE_HOURS``; a secret older than that is dropped. Audited."""
    organization = endpoint.organization
    require(actor, organization, Perm.INTEGRATIONS_MANAGE)
    secret = signing.generate_secret()
    now = timezone.now()
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            secret_encrypted=signing.encrypt(secret),
            previous_secret_encrypted=locked.secret_encrypted,
            previous_secret_expires_at=now + timedelta(hours=settings.WEBHOOK_SECRET_GRACE_HOURS),
            updated_at=now,
        )
        audit(endpoint, "webhook_endpoint.secret_rotated", actor=actor, organization_public_id=organization.public_id)
    endpoint.refresh_from_db()
    return secret


def _require_active(endpoint: WebhookEndpoint) -> None:
    if endpoint.status != E.ACTIVE:
        raise DomainError(
            "The endpoint is disabled; enable it first.", code="endpoint_disabled", details={"status": endpoint.status}
        )


def endpoint_send_test(*, actor: User, endpoint: WebhookEndpoint) -> Delivery:
    """Send a ``webhook.test`` event to this endpoint only (it appears in the organisation's event log)."""
    organization = endpoint.organization
    require(actor, organization, Perm.INTEGRATIONS_MANAGE)
    _require_active(endpoint)
    with transaction.atomic():
        event = Event.objects.create(
            type=TEST_EVENT,
            data={"endpoint": str(endpoint.public_id), "message": "A test event sent from the webhook settings."},
        )
        _link(event, [organization.pk])
        delivery = Delivery.objects.create(event=event, endpoint=endpoint, next_attempt_at=timezone.now())
        _queue([delivery.pk])
    return delivery


# --- the outbox ----------------------------------------------------------------------------------------------


def on_domain_event(
    *, event_type: str, obj: Any, organization_ids: list[int], data: dict[str, Any], actor: Any = None
) -> Event | None:
    """Subscriber of ``domain_event``: store the event for the organisations it concerns and one
    delivery per subscribed active endpoint of theirs; the first attempts run after commit."""
    if not organization_ids:
        return None
    now = timezone.now()
    event = Event.objects.create(type=event_type, data=data)
    _link(event, organization_ids)
    endpoints = WebhookEndpoint.objects.filter(organization_id__in=organization_ids, status=E.ACTIVE)
    deliveries = [
        Delivery.objects.create(event=event, endpoint=endpoint, next_attempt_at=now)
        for endpoint in endpoints
        if endpoint.wants(event_type)
    ]
    _queue([delivery.pk for delivery in deliveries])
    return event


def delivery_redeliver(*, actor: User, delivery: Delivery) -> Delivery:
    """Send a delivery's event again now, with a new 24-hour retry window (any status; a pending
    delivery is simply made due now). The endpoint must be active. Audited."""
    endpoint = delivery.endpoint
    organization = endpoint.organization
    require(actor, organization, Perm.INTEGRATIONS_MANAGE)
    _require_active(endpoint)
    now = timezone.now()
    reset = {"next_attempt_at": now, "window_attempts": 0, "window_started_at": None}
    with transaction.atomic():
        if delivery.status == D.PENDING:
            Delivery.objects.filter(pk=delivery.pk, status=D.PENDING).update(**reset, updated_at=now)
            audit(delivery, "delivery.redelivered", actor=actor, organization_public_id=organization.public_id)
        else:
            transition(
                delivery, D.PENDING, actor=actor, organization_public_id=organization.public_id, extra_updates=reset
            )
        _queue([delivery.pk])
    delivery.refresh_from_db()
    return delivery


# --- sending -------------------------------------------------------------------------------------------------


def _next_attempt_at(delivery: Delivery, now: datetime) -> datetime | None:
    """When to retry after a failed attempt, or None when the 24-hour window is spent."""
    deadline = delivery.window_started_at + RETRY_WINDOW
    if now >= deadline:
        return None
    base = BACKOFF_SECONDS[min(delivery.window_attempts, len(BACKOFF_SECONDS)) - 1]
    due = now + timedelta(seconds=base * random.uniform(0.9, 1.1))
    return min(due, deadline)  # one last attempt when the window closes


def _attempt(delivery: Delivery, now: datetime) -> sender.Result:
    try:
        target = ssrf.check_url(delivery.endpoint.url)  # again: the name may resolve elsewhere now
    except ValidationFailed as exc:
        return sender.Result(None, 0, f"Refused: {exc.message}"[:500], "")
    body = event_body(delivery.event)
    headers = delivery_headers(delivery.event, delivery.endpoint, body, now=now)
    return sender.post(target, body, headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS)


def _endpoint_failed(endpoint: WebhookEndpoint, now: datetime) -> None:
    locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if locked.failing_since is None:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=now)
        return
    if locked.status != E.ACTIVE or now - locked.failing_since < DISABLE_AFTER:
        return
    organization = locked.organization
    moved = transition(
        locked,
        E.DISABLED,
        actor=None,
        reason="Every delivery failed for 24 hours.",
        organization_public_id=organization.public_id,
        extra_updates={"disabled_reason": f"Every delivery failed since {locked.failing_since:%Y-%m-%d %H:%M} UTC."},
    )
    if moved:
        notify_many(
            recipients=_admins(organization),
            kind="webhook.disabled",
            title=f"Webhook endpoint disabled: {locked.url[:120]}",
            body=(
                "Every delivery to this endpoint failed for 24 hours, so it was disabled. Fix the receiver, "
                "enable the endpoint again and redeliver the events it missed (or read them from the event log)."
            ),
            url=endpoint_url(locked),
        )


def delivery_send(*, delivery_id: int, now: datetime | None = None) -> bool:
    """Make one attempt at a due, pending delivery of an active endpoint; False if there is none to make
    (already delivered, not due, claimed by another worker, endpoint disabled). Records the attempt;
    schedules the retry or gives up; tracks the endpoint's failures. Safe to call twice."""
    now = now or timezone.now()
    claimed = Delivery.objects.filter(
        pk=delivery_id, status=D.PENDING, next_attempt_at__lte=now, endpoint__status=E.ACTIVE
    ).update(next_attempt_at=now + LEASE)
    if not claimed:
        return False
    delivery = Delivery.objects.select_related("event", "endpoint__organization").get(pk=delivery_id)
    result = _attempt(delivery, now)  # outside any transaction: the receiver may be slow
    with transaction.atomic():
        Delivery.objects.select_for_update().filter(pk=delivery_id).values_list("pk", flat=True).get()
        delivery = Delivery.objects.select_related("event", "endpoint__organization").get(pk=delivery_id)
        window_started_at = delivery.window_started_at or now
        number = delivery.attempt_count + 1
        DeliveryAttempt.objects.create(
            delivery=delivery,
            number=number,
            status_code=result.status_code,
            latency_ms=max(0, result.latency_ms),
            succeeded=result.ok,
            error=result.error[:500],
            response_snippet=result.snippet[:500],
        )
        counters = {
            "attempt_count": number,
            "window_attempts": delivery.window_attempts + 1,
            "window_started_at": window_started_at,
            "last_attempt_at": now,
            "last_status_code": result.status_code,
        }
        Delivery.objects.filter(pk=delivery.pk).update(**counters)
        for name, value in counters.items():
            setattr(delivery, name, value)
        endpoint = delivery.endpoint
        organization_public_id = endpoint.organization.public_id
        if result.ok:
            transition(
                delivery,
                D.SUCCEEDED,
                organization_public_id=organization_public_id,
                extra_updates={"next_attempt_at": None, "delivered_at": now},
            )
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
            return True
        retry_at = _next_attempt_at(delivery, now)
        if retry_at is None:
            transition(
                delivery,
                D.FAILED,
                reason=result.error[:300],
                organization_public_id=organization_public_id,
                extra_updates={"next_attempt_at": None},
            )
        else:
            Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=retry_at)
        _endpoint_failed(endpoint, now)
    return True


def deliveries_send_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Periodic sweeper: attempt every pending delivery that is due (retries, and first attempts whose
    task was lost), oldest due first. Returns how many attempts were made. Resumable."""
    now = now or timezone.now()
    due = list(
        Delivery.objects.filter(status=D.PENDING, next_attempt_at__lte=now, endpoint__status=E.ACTIVE)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(delivery_send(delivery_id=pk, now=now) for pk in due)
