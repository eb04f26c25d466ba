"""The journal as CSV for accounting: one line per posting, streamed (a period may hold millions)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, time

from apps.accounts.models import User
from apps.accounts.policies import require_staff
from apps.accounts.roles import StaffRole
from apps.core.errors import ValidationFailed
from apps.core.money import Money

from .models import Posting

FIELDS = [
    "entry_id",
    "occurred_at",
    "posted_at",
    "description",
    "source_type",
    "source_id",
    "idempotency_key",
    "reverses_entry_id",
    "account",
    "account_kind",
    "currency",
    "debit",
    "credit",
    "amount_minor",
]
_CHUNK = 500  # rows per streamed piece
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value: str) -> str:
    """Text a person typed must not run as a spreadsheet formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def journal_csv(*, actor: User, occurred_from: date, occurred_to: date) -> Iterator[str]:
    """The postings of the entries that occurred in [occurred_from, occurred_to] (UTC days,
    inclusive), in time order, as CSV pieces. Platform finance only (others: NotFound); checked
    before the first piece. Debit and credit in major units, ``amount_minor`` signed."""
    require_staff(actor, StaffRole.FINANCE)
    if occurred_from > occurred_to:
        raise ValidationFailed(
            "The period ends before it starts.", details={"occurred_to": ["Must not be before the first day."]}
        )
    postings = (
        Posting.objects.filter(
            entry__occurred_at__gte=datetime.combine(occurred_from, time.min, tzinfo=UTC),
            entry__occurred_at__lte=datetime.combine(occurred_to, time.max, tzinfo=UTC),
        )
        .select_related("entry", "entry__reverses", "account")
        .order_by("entry__occurred_at", "entry_id", "id")
    )
    return _render(postings)


def _render(postings) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(FIELDS)
    for count, posting in enumerate(postings.iterator(chunk_size=2000), start=1):
        entry = posting.entry
        amount = Money(abs(posting.amount), posting.currency).format_amount()
        writer.writerow(
            [
                entry.public_id,
                entry.occurred_at.isoformat(),
                entry.created_at.isoformat(),
                _safe(entry.description),
                _safe(entry.source_type),
                _safe(entry.source_id),
                _safe(entry.idempotency_key),
                entry.reverses.public_id if entry.reverses_id else "",
                posting.account.code,
                posting.account.kind,
                posting.currency,
                amount if posting.amount > 0 else "",
                amount if posting.amount < 0 else "",
                posting.amount,
            ]
        )
        if count % _CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
