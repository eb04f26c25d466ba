"""CSV exports for accounting, streamed row by row (a run may have thousands of lines)."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from apps.core.money import Money

from .models import PayoutLine, PayoutRun

LINE_HEADER = [
    "run_id",
    "line_id",
    "supplier_id",
    "supplier_kind",
    "amount",
    "currency",
    "earnings",
    "status",
    "stripe_transfer_id",
    "transfer_group",
    "idempotency_key",
    "error_code",
    "error",
    "paid_at",
]


class _Echo:
    def write(self, value: str) -> str:
        return value


def run_lines_csv(run: PayoutRun) -> Iterator[str]:
    """The run's lines as CSV text chunks, read from the database in chunks."""
    writer = csv.writer(_Echo())
    yield writer.writerow(LINE_HEADER)
    lines = PayoutLine.objects.filter(run=run).select_related("supplier").order_by("id")
    for line in lines.iterator(chunk_size=2000):
        yield writer.writerow(
            [
                run.public_id,
                line.public_id,
                line.supplier.public_id,
                line.supplier.kind,
                Money(line.amount_minor, line.currency).format_amount(),
                line.currency,
                line.earning_count,
                line.status,
                line.stripe_transfer_id or "",
                run.transfer_group,
                line.idempotency_key,
                line.error_code,
                line.error,
                line.paid_at.isoformat() if line.paid_at else "",
            ]
        )


def run_lines_filename(run: PayoutRun) -> str:
    return f"payout-run-{run.period_start}-{run.period_end}-{run.currency}-{str(run.public_id)[:8]}.csv"
