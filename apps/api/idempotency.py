"""``Idempotency-Key`` for API POSTs: the first response is stored and replayed for repeats.

A key is scoped to its caller (an API key, or a user for browser sessions). The record is
committed as ``in_progress`` before the handler runs, so a concurrent repeat sees it (or loses the
insert race on the unique constraint) and gets 409. A completed response (status < 500) is
replayed byte for byte; a 5xx or a crash deletes the record so that the client can retry.
Records older than ``IDEMPOTENCY_KEY_TTL_HOURS`` count as absent and are purged periodically.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import status

from apps.accounts.models import ApiKey

from .errors import ApiError
from .models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of presenting a key: either this request owns ``record``, or it replays it."""

    record: IdempotencyRecord
    replay: bool


def caller_for(request) -> str | None:
    """``key:<api key pk>`` for API-key callers, ``user:<user pk>`` for sessions, None if anonymous."""
    if isinstance(request.auth, ApiKey):
        return f"key:{request.auth.pk}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return None


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """SHA-256 (hex) of the method, the full path (with query string) and the raw body."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body or b""):
        digest.update(len(part).to_bytes(8, "big"))  # length-prefixed: no ambiguity between parts
        digest.update(part)
    return digest.hexdigest()


def validate_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ApiError(
            f"The {HEADER} header must be 1 to {MAX_KEY_LENGTH} printable characters.",
            code="invalid",
            status_code=status.HTTP_400_BAD_REQUEST,
            details={HEADER: [f"1 to {MAX_KEY_LENGTH} printable characters."]},
        )
    return key


def _expiry_cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)


def _decide(record: IdempotencyRecord, request_hash: str) -> Claim:
    """What a repeat of ``record`` gets: a replay, or a conflict."""
    if record.request_hash != request_hash:
        raise ApiError(
            f"This {HEADER} was already used for a different request; use a new key for a new request.",
            code="idempotency_key_reused",
            status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
            details={"original_method": record.method, "original_path": record.path},
        )
    if record.state != IdempotencyRecord.State.COMPLETED:
        raise ApiError(
            f"A request with this {HEADER} is still being processed; retry after it finishes.",
            code="idempotency_request_in_progress",
            status_code=status.HTTP_409_CONFLICT,
        )
    return Claim(record=record, replay=True)


def idempotency_claim(*, caller: str, key: str, method: str, path: str, request_hash: str) -> Claim:
    """Claim ``key`` for this request, or return the stored response to replay.

    Raises ``ApiError`` 422 (same key, different request) or 409 (the first is still running).
    The in-progress record is committed on return (this must run outside any transaction).
    """
    existing = IdempotencyRecord.objects.filter(caller=caller, key=key).first()
    if existing is not None and existing.created_at <= _expiry_cutoff():
        IdempotencyRecord.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
        existing = None
    if existing is not None:
        return _decide(existing, request_hash)
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                caller=caller, key=key, method=method.upper(), path=path[:500], request_hash=request_hash
            )
    except IntegrityError:
        # A concurrent request with the same key inserted first.
        winner = IdempotencyRecord.objects.filter(caller=caller, key=key).first()
        if winner is None:  # it failed and was released meanwhile; the client may retry
            raise ApiError(
                f"A request with this {HEADER} is being processed; retry shortly.",
                code="idempotency_request_in_progress",
                status_code=status.HTTP_409_CONFLICT,
            )
        return _decide(winner, request_hash)
    return Claim(record=record, replay=False)


def idempotency_complete(*, record: IdempotencyRecord, status_code: int, body: bytes, content_type: str) -> None:
    """Store the response of the request that owns ``record`` (only for status < 500)."""
    IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyRecord.State.IN_PROGRESS).update(
        state=IdempotencyRecord.State.COMPLETED,
        response_status=status_code,
        response_body=body,
        response_content_type=content_type[:100],
        completed_at=timezone.now(),
    )


def idempotency_release(*, record: IdempotencyRecord) -> None:
    """Forget an in-progress claim after a 5xx or a crash, so that the same key can be retried."""
    IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyRecord.State.IN_PROGRESS).delete()


def idempotency_records_purge(*, now: datetime | None = None) -> int:
    """Delete records past ``IDEMPOTENCY_KEY_TTL_HOURS`` (periodic task). Idempotent."""
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lte=_expiry_cutoff(now)).delete()
    return deleted
