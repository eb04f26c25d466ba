"""Reads scoped to one organisation and to members who manage its integrations; outside: NotFound."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from apps.accounts.models import Organization, User
from apps.accounts.policies import require
from apps.accounts.roles import Perm
from apps.core.errors import NotFound

from .models import Delivery, DeliveryAttempt, Event, WebhookEndpoint


def _scope(actor: User, organization: Organization | None) -> Organization:
    if organization is None:
        raise NotFound("Organisation not found.", code="organization_not_found")
    require(actor, organization, Perm.INTEGRATIONS_MANAGE)
    return organization


def endpoint_list(*, actor: User, organization: Organization | None) -> QuerySet[WebhookEndpoint]:
    organization = _scope(actor, organization)
    return WebhookEndpoint.objects.filter(organization=organization).select_related("organization")


def endpoint_get(*, actor: User, organization: Organization | None, public_id) -> WebhookEndpoint:
    endpoint = endpoint_list(actor=actor, organization=organization).filter(public_id=public_id).first()
    if endpoint is None:
        raise NotFound("Webhook endpoint not found.", code="webhook_endpoint_not_found")
    return endpoint


def delivery_list(
    *,
    actor: User,
    organization: Organization | None,
    endpoint_id=None,
    event_type: str | None = None,
    status: str | None = None,
) -> QuerySet[Delivery]:
    organization = _scope(actor, organization)
    deliveries = Delivery.objects.filter(endpoint__organization=organization).select_related(
        "event", "endpoint__organization"
    )
    if endpoint_id is not None:
        deliveries = deliveries.filter(endpoint__public_id=endpoint_id)
    if event_type:
        deliveries = deliveries.filter(event__type=event_type)
    if status:
        deliveries = deliveries.filter(status=status)
    return deliveries


def delivery_get(*, actor: User, organization: Organization | None, public_id) -> Delivery:
    delivery = delivery_list(actor=actor, organization=organization).filter(public_id=public_id).first()
    if delivery is None:
        raise NotFound("Delivery not found.", code="delivery_not_found")
    return delivery


def attempt_list(*, delivery: Delivery) -> QuerySet[DeliveryAttempt]:
    return DeliveryAttempt.objects.filter(delivery=delivery)


def event_list(
    *,
    actor: User,
    organization: Organization | None,
    event_type: str | None = None,
    created_after: datetime | None = None,
) -> QuerySet[Event]:
    """The organisation's event log: only events about its own objects."""
    organization = _scope(actor, organization)
    events = Event.objects.filter(organizations=organization)
    if event_type:
        events = events.filter(type=event_type)
    if created_after is not None:
        events = events.filter(created_at__gt=created_after)
    return events
