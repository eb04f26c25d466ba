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
    "project.published": "A lab published a project: it is open for bids.",
    "bid.submitted": "A bid was submitted on a project (sealed: ids only until bidding closes).",
    "bid.withdrawn": "A bidder withdrew its bid.",
    "project.awarded": "A lab awarded a project; each winning bidder's contract follows.",
    "contract.signed": "One side signed the terms of a contract (a first version or an amendment).",
    "contract.activated": "Both sides signed: the contract is active.",
    "assignment.suspended": "An expert's assignment was suspended because a gate no longer holds.",
    "batch.submitted": "A supplier delivered a work batch under a contract.",
    "quality.sla_breached": "A contract's measured quality fell below its SLA with enough evidence "
    "(payload: contract, metric, threshold, measured, lower, upper).",
    "quality.sla_recovered": "A contract's measured quality is back within its SLA "
    "(payload: contract, metric, threshold, measured, lower, upper).",
    "batch.accepted": "A lab accepted a work batch, wholly, partially or automatically after the review window.",
    "batch.rejected": "A lab rejected a work batch.",
    "appeal.decided": "Operations decided an appeal against a rejection: overturned or upheld.",
    "attempt.graded": "A test attempt was graded.",
    "qualification.granted": "An expert passed a qualification test and holds the qualification.",
    "payout_run.completed": "A payout run finished: every line paid, or some failed (partially_failed).",
    "payout.failed": "A payout to a supplier failed; the line says why and can be retried.",
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
