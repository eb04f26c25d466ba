"""Domain events: named facts about the business ("batch.submitted") that higher layers react to.

A service calls ``emit()`` inside its transaction, after the change is made. ``emit`` fires the
``domain_event`` hook synchronously, so subscribers (the outbound-webhook outbox in
``apps.integrations``, incremental scoring in ``apps.quality``) record their consequences in the
same transaction and schedule any slow work with ``transaction.on_commit``. A rolled-back change
therefore never produces an event.

``organization_ids`` names every organisation the event is *about* (the lab and the supplier of a
contract, say): outbound webhooks deliver an event only to those organisations. ``data`` is the
JSON payload consumers see: public ids and plain values, never internal primary keys or the
names of experts.

Every event type is listed in ``EVENT_TYPES`` with a one-line description (the webhook UI and the
OpenAPI schema read it); ``emit`` refuses an unlisted type so a typo fails loudly in tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models

from .hooks import Hook

EVENT_TYPES: dict[str, str] = {
    "batch.submitted": "A supplier delivered a work batch under a contract.",
}

domain_event = Hook(
    "domain_event",
    "A domain event was emitted: event_type, obj (the model instance it is about), organization_ids "
    "(the organisations it concerns), data (the JSON payload), actor (the user or None).",
)


def emit(
    event_type: str,
    *,
    obj: models.Model,
    organization_ids: Iterable[int | None],
    data: dict[str, Any],
    actor: Any = None,
) -> None:
    """Announce ``event_type`` about ``obj`` to every subscriber, inside the caller's transaction."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"Unknown event type {event_type!r}: add it to apps.core.events.EVENT_TYPES.")
    organizations = sorted({pk for pk in organization_ids if pk is not None})
    domain_event.fire(
        event_type=event_type,
        obj=obj,
        organization_ids=organizations,
        data=data,
        actor=actor if getattr(actor, "pk", None) else None,
    )
