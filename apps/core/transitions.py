"""The one way a status changes.

A stateful model declares ``TRANSITIONS``: a map from each source status to the statuses it may
move to. ``transition()`` locks the row, checks the map, performs a conditional
``UPDATE ... WHERE status IN (allowed sources)`` (so two concurrent callers cannot both win),
writes an ``AuditEvent`` in the same transaction and schedules side effects for after commit.
Repeating a move that is already done is a no-op, so retried requests and tasks are safe.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from .errors import InvalidTransition
from .models import AuditEvent


def allowed_sources(transitions: Mapping[str, set[str] | frozenset[str]], to: str) -> set[str]:
    return {source for source, targets in transitions.items() if to in targets}


def transition(
    obj: models.Model,
    to: str,
    *,
    actor: Any = None,
    reason: str = "",
    field: str = "status",
    extra_updates: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    organization_public_id: Any = None,
    on_commit: Callable[[], None] | None = None,
) -> bool:
    """Move ``obj`` to status ``to``. Returns True if this call moved it, False if it was already there.

    ``extra_updates`` are written in the same conditional UPDATE (e.g. ``accepted_at``).
    Raises ``InvalidTransition`` when the current status does not allow the move.
    ``obj`` is refreshed in place with the stored values.
    """
    model = type(obj)
    transitions: Mapping[str, set[str]] = model.TRANSITIONS
    sources = allowed_sources(transitions, to)
    label = model._meta.model_name
    if not sources:
        raise InvalidTransition(f"No {label} can move to '{to}'.", code=f"{label}_invalid_transition")

    updates: dict[str, Any] = {field: to, **(extra_updates or {})}
    if any(f.name == "updated_at" for f in model._meta.concrete_fields):
        updates.setdefault("updated_at", timezone.now())

    with transaction.atomic():
        # Lock the row first so that a concurrent caller waits, then sees the move as done.
        current = model._default_manager.select_for_update().filter(pk=obj.pk).values_list(field, flat=True).first()
        if current == to:
            obj.refresh_from_db()
            return False
        code = f"{label}_not_{'_or_'.join(sorted(sources))}"[:100]
        message = f"This {model._meta.verbose_name} is '{current}' and cannot move to '{to}'."
        details = {"current_status": current, "requested_status": to}
        if current not in sources:
            raise InvalidTransition(message, code=code, details=details)
        # Conditional UPDATE: the backstop where the database ignores row locks (SQLite serialises).
        if not model._default_manager.filter(pk=obj.pk, **{f"{field}__in": sources}).update(**updates):
            raise InvalidTransition(message, code=code, details=details)
        AuditEvent.objects.create(
            actor=actor if getattr(actor, "pk", None) else None,
            organization_public_id=organization_public_id,
            action=f"{label}.{to}",
            target_type=ContentType.objects.get_for_model(model),
            target_id=obj.pk,
            from_status=current,
            to_status=to,
            reason=reason,
            data=data or {},
        )
        if on_commit is not None:
            transaction.on_commit(on_commit)
    obj.refresh_from_db()
    return True


def audit(
    obj: models.Model,
    action: str,
    *,
    actor: Any = None,
    reason: str = "",
    data: dict[str, Any] | None = None,
    organization_public_id: Any = None,
) -> AuditEvent:
    """Record a sensitive action that is not a status change (a role change, a key created)."""
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        organization_public_id=organization_public_id,
        action=action,
        target_type=ContentType.objects.get_for_model(type(obj)),
        target_id=obj.pk,
        reason=reason,
        data=data or {},
    )
