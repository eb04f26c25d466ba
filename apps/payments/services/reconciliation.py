"""Reconciliation: our records against Stripe's, every day and on demand.

A run covers a window (default: the last ``WINDOW_DAYS`` days) and checks:
- charges: each internal charge with a ``ch_`` against Stripe's charge (missing, amount/currency, refunded amount,
  status); a charge still ``pending`` while Stripe says it succeeded is a ``status_mismatch``; Stripe charges in
  the window we do not know are ``unexpected_in_stripe``;
- transfers: each paid payout line against its ``tr_`` (missing, amount, currency, destination, reversed amount
  against our succeeded reversals); Stripe transfers in the window we do not know are ``unexpected_in_stripe``;
- reversals: a succeeded reversal must exist on its transfer in Stripe (through ``amount_reversed``);
- transfer groups: the transfers funded by a charge (``source_transaction``, net of reversals) never exceed it;
- connected payouts: each connected account's payouts are mirrored (new ones are recorded, not exceptions); a
  mirrored payout Stripe does not know is missing, a status or amount that differs is a mismatch, and a ``paid``
  automatic payout must equal the sum of its balance transactions;
- the platform balance: the ledger's ``stripe_balance`` equals the sum of the platform's balance transactions;
- stuck: payout lines ``submitting``, reversals and refunds ``pending``, charges ``pending`` with no Stripe object,
  and inbox events unprocessed, all for more than ``STUCK_AFTER`` (30 minutes).
An exception is recorded once while open (its ``fingerprint``); a later run that finds it again sets
``last_seen_run``. Resolution (finance): a note and, where money is off, an adjusting entry through
``apps.ledger.services.adjust``; the records themselves are never edited.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.policies import require_staff
from apps.accounts.roles import StaffRole
from apps.core.errors import DomainError, NotFound, ValidationFailed
from apps.core.transitions import audit, transition
from apps.notifications.services import notify_many
from apps.payments import gateway
from apps.payments.models import (
    Charge,
    ConnectedAccount,
    ConnectedPayout,
    PayoutLine,
    ReconciliationException,
    ReconciliationRun,
    Refund,
    StripeEvent,
    TransferReversal,
)

logger = logging.getLogger(__name__)

K = ReconciliationException.Kind
WINDOW_DAYS = 3
STUCK_AFTER = timedelta(minutes=30)


@dataclass
class Finding:
    kind: str
    object_type: str
    internal_ref: str = ""
    stripe_id: str = ""
    expected: int | None = None
    actual: int | None = None
    currency: str = ""
    detail: str = ""

    @property
    def fingerprint(self) -> str:
        return f"{self.kind}:{self.object_type}:{self.internal_ref}:{self.stripe_id}:{self.detail[:60]}"[:400]


@dataclass
class _Report:
    findings: list[Finding] = field(default_factory=list)
    checked: int = 0

    def add(self, **kwargs: Any) -> None:
        self.findings.append(Finding(**kwargs))


# --- Checks -------------------------------------------------------------------------------------------------


def _check_charges(report: _Report, start: datetime, end: datetime) -> None:
    ours = list(Charge.objects.filter(created_at__gte=start - timedelta(days=1), created_at__lt=end))
    known_ids = set(Charge.objects.filter(stripe_charge_id__isnull=False).values_list("stripe_charge_id", flat=True))
    remote = {c.id: c for c in gateway.list_charges(created_gte=start, created_lt=end)}
    for charge in ours:
        report.checked += 1
        ref = str(charge.public_id)
        cur = charge.currency
        if charge.stripe_charge_id and charge.status != Charge.Status.PENDING:
            stripe = remote.get(charge.stripe_charge_id)
            if stripe is None:
                try:
                    stripe = gateway.retrieve_charge(charge.stripe_charge_id)
                except gateway.InvalidRequest:
                    report.add(kind=K.MISSING_IN_STRIPE, object_type="charge", internal_ref=ref,
                               stripe_id=charge.stripe_charge_id, expected=charge.amount_minor, currency=cur)  # fmt: skip
                    continue
            if stripe.amount != charge.amount_minor or stripe.currency.upper() != cur:
                report.add(kind=K.AMOUNT_MISMATCH, object_type="charge", internal_ref=ref, stripe_id=stripe.id,
                           expected=charge.amount_minor, actual=stripe.amount, currency=cur,
                           detail=f"Stripe: {stripe.amount} {stripe.currency.upper()}")  # fmt: skip
            if stripe.amount_refunded != charge.amount_refunded_minor:
                report.add(kind=K.AMOUNT_MISMATCH, object_type="charge", internal_ref=ref, stripe_id=stripe.id,
                           expected=charge.amount_refunded_minor, actual=stripe.amount_refunded, currency=cur,
                           detail="amount refunded")  # fmt: skip
            if charge.status in (Charge.Status.SUCCEEDED, Charge.Status.PARTIALLY_REFUNDED,
                                 Charge.Status.REFUNDED, Charge.Status.DISPUTED) and stripe.status != "succeeded":  # fmt: skip
                report.add(kind=K.STATUS_MISMATCH, object_type="charge", internal_ref=ref, stripe_id=stripe.id,
                           currency=cur, detail=f"ours {charge.status}, Stripe {stripe.status}")  # fmt: skip
        elif charge.status == Charge.Status.PENDING:
            stripe = remote.get(charge.stripe_charge_id or "")
            if stripe is None and charge.stripe_payment_intent_id:
                stripe = next((c for c in remote.values() if c.payment_intent == charge.stripe_payment_intent_id), None)
            if stripe is not None and stripe.status == "succeeded":
                report.add(kind=K.STATUS_MISMATCH, object_type="charge", internal_ref=ref, stripe_id=stripe.id,
                           expected=charge.amount_minor, actual=stripe.amount, currency=cur,
                           detail="ours pending, Stripe succeeded (confirmation not processed)")  # fmt: skip
    for stripe_id, stripe in remote.items():
        if stripe_id not in known_ids and stripe.status == "succeeded":
            by_intent = (
                stripe.payment_intent and Charge.objects.filter(stripe_payment_intent_id=stripe.payment_intent).exists()
            )
            if not by_intent:
                report.add(kind=K.UNEXPECTED_IN_STRIPE, object_type="charge", stripe_id=stripe_id,
                           actual=stripe.amount, currency=stripe.currency.upper())  # fmt: skip


def _check_transfers(report: _Report, start: datetime, end: datetime) -> None:
    lines = list(
        PayoutLine.objects.filter(status=PayoutLine.Status.PAID, stripe_transfer_id__isnull=False)
        .filter(Q(paid_at__gte=start - timedelta(days=1)) | Q(paid_at__isnull=True))
        .select_related("run")
    )
    reversed_ours = dict(
        TransferReversal.objects.filter(status=TransferReversal.Status.SUCCEEDED)
        .values_list("stripe_transfer_id")
        .annotate(s=Sum("amount_minor"))
        .order_by()
    )
    known = set(
        PayoutLine.objects.filter(stripe_transfer_id__isnull=False).values_list("stripe_transfer_id", flat=True)
    )
    remote = {t.id: t for t in gateway.list_transfers(created_gte=start, created_lt=end)}
    for line in lines:
        report.checked += 1
        ref = str(line.public_id)
        stripe = remote.get(line.stripe_transfer_id)
        if stripe is None:
            try:
                stripe = gateway.retrieve_transfer(line.stripe_transfer_id)
            except gateway.InvalidRequest:
                report.add(kind=K.MISSING_IN_STRIPE, object_type="transfer", internal_ref=ref,
                           stripe_id=line.stripe_transfer_id, expected=line.amount_minor, currency=line.currency)  # fmt: skip
                continue
        if stripe.amount != line.amount_minor or stripe.currency.upper() != line.currency:
            report.add(kind=K.AMOUNT_MISMATCH, object_type="transfer", internal_ref=ref, stripe_id=stripe.id,
                       expected=line.amount_minor, actual=stripe.amount, currency=line.currency,
                       detail=f"Stripe: {stripe.amount} {stripe.currency.upper()}")  # fmt: skip
        if line.destination and stripe.destination != line.destination:
            report.add(kind=K.AMOUNT_MISMATCH, object_type="transfer", internal_ref=ref, stripe_id=stripe.id,
                       currency=line.currency, detail=f"destination: ours {line.destination}, Stripe {stripe.destination}")  # fmt: skip
        ours_reversed = reversed_ours.get(stripe.id, 0)
        if stripe.amount_reversed != ours_reversed:
            report.add(kind=K.AMOUNT_MISMATCH, object_type="reversal", internal_ref=ref, stripe_id=stripe.id,
                       expected=ours_reversed, actual=stripe.amount_reversed, currency=line.currency,
                       detail="amount reversed")  # fmt: skip
    for stripe_id, stripe in remote.items():
        if stripe_id not in known:
            report.add(kind=K.UNEXPECTED_IN_STRIPE, object_type="transfer", stripe_id=stripe_id,
                       actual=stripe.amount, currency=stripe.currency.upper(),
                       detail=f"to {stripe.destination}, group {stripe.transfer_group or '-'}")  # fmt: skip


def _check_groups(report: _Report) -> None:
    """Two grouped sums, whatever the number of charges."""
    sent = dict(
        PayoutLine.objects.filter(status__in=[PayoutLine.Status.SUBMITTING, PayoutLine.Status.PAID])
        .exclude(source_transaction="")
        .values_list("source_transaction")
        .annotate(s=Sum("amount_minor"))
        .order_by()
    )
    taken_back = dict(
        TransferReversal.objects.filter(status=TransferReversal.Status.SUCCEEDED)
        .values_list("line__source_transaction")
        .annotate(s=Sum("amount_minor"))
        .order_by()
    )
    funding = Charge.objects.filter(stripe_charge_id__in=list(sent)).exclude(status=Charge.Status.PENDING)
    for charge in funding:
        funded = sent.get(charge.stripe_charge_id, 0) - taken_back.get(charge.stripe_charge_id, 0)
        if funded > charge.amount_minor:
            report.add(kind=K.AMOUNT_MISMATCH, object_type="transfer_group", internal_ref=str(charge.public_id),
                       stripe_id=charge.stripe_charge_id, expected=charge.amount_minor, actual=funded,
                       currency=charge.currency, detail="transfers funded by the charge exceed it")  # fmt: skip


def _check_payouts(report: _Report, start: datetime) -> None:
    from .webhooks import upsert_payout

    for account in ConnectedAccount.objects.all():
        try:
            remote = {p.id: p for p in gateway.list_payouts(account=account.stripe_account_id, created_gte=start)}
        except gateway.InvalidRequest as exc:
            logger.warning("Payouts of %s not readable: %s", account.stripe_account_id, exc.message)
            continue
        mirrored = {p.stripe_payout_id: p for p in ConnectedPayout.objects.filter(account=account)}
        for payout_id, payout in remote.items():
            report.checked += 1
            stored = mirrored.get(payout_id)
            if stored is None:
                stored, _ = upsert_payout(payout=payout, account_id=account.stripe_account_id, event_created=0)
            else:
                if stored.status != payout.status:
                    report.add(kind=K.STATUS_MISMATCH, object_type="payout", internal_ref=str(stored.public_id),
                               stripe_id=payout_id, currency=stored.currency,
                               detail=f"ours {stored.status}, Stripe {payout.status}")  # fmt: skip
                if stored.amount_minor != payout.amount:
                    report.add(kind=K.AMOUNT_MISMATCH, object_type="payout", internal_ref=str(stored.public_id),
                               stripe_id=payout_id, expected=stored.amount_minor, actual=payout.amount,
                               currency=stored.currency)  # fmt: skip
            if payout.status == "paid" and payout.automatic:
                txns = list(gateway.list_balance_transactions(account=account.stripe_account_id, payout=payout_id))
                swept = sum(t.net for t in txns if t.type != "payout")
                if swept != payout.amount:
                    report.add(kind=K.AMOUNT_MISMATCH, object_type="payout", internal_ref=str(stored.public_id),
                               stripe_id=payout_id, expected=payout.amount, actual=swept,
                               currency=payout.currency.upper(), detail="sum of balance transactions")  # fmt: skip
                elif stored.reconciled_at is None:
                    ConnectedPayout.objects.filter(pk=stored.pk).update(reconciled_at=timezone.now())
        for payout_id, stored in mirrored.items():
            if payout_id in remote or stored.created_at < start:
                continue
            try:
                gateway.retrieve_payout(payout_id, account=account.stripe_account_id)
            except gateway.InvalidRequest:
                report.add(kind=K.MISSING_IN_STRIPE, object_type="payout", internal_ref=str(stored.public_id),
                           stripe_id=payout_id, expected=stored.amount_minor, currency=stored.currency)  # fmt: skip


def _check_platform_balance(report: _Report) -> None:
    """The ledger's ``stripe_balance`` equals the sum of the platform's balance transactions, per currency (a top-up
    or a fee nobody booked shows here). Reads every platform balance transaction: fine for a daily job."""
    from apps.ledger.models import Posting

    ours = dict(
        Posting.objects.filter(account__code="stripe_balance")
        .values_list("currency")
        .annotate(s=Sum("amount"))
        .order_by()
    )
    theirs: dict[str, int] = {}
    for txn in gateway.list_balance_transactions():
        theirs[txn.currency.upper()] = theirs.get(txn.currency.upper(), 0) + txn.net
    for currency in sorted(set(ours) | set(theirs)):
        report.checked += 1
        if ours.get(currency, 0) != theirs.get(currency, 0):
            report.add(kind=K.AMOUNT_MISMATCH, object_type="platform_balance", internal_ref=f"stripe_balance:{currency}",
                       expected=ours.get(currency, 0), actual=theirs.get(currency, 0), currency=currency,
                       detail="ledger stripe_balance vs Stripe balance transactions")  # fmt: skip


def _check_stuck(report: _Report, now: datetime) -> None:
    cutoff = now - STUCK_AFTER
    for line in PayoutLine.objects.filter(status=PayoutLine.Status.SUBMITTING, submitted_at__lt=cutoff):
        report.add(kind=K.STUCK, object_type="payout_line", internal_ref=str(line.public_id),
                   stripe_id=line.stripe_transfer_id or "", expected=line.amount_minor, currency=line.currency,
                   detail=f"submitting since {line.submitted_at:%Y-%m-%d %H:%M} UTC")  # fmt: skip
    for reversal in TransferReversal.objects.filter(status__in=["pending", "failed"], created_at__lt=cutoff):
        report.add(kind=K.STUCK, object_type="reversal", internal_ref=str(reversal.public_id),
                   stripe_id=reversal.stripe_transfer_id, expected=reversal.amount_minor, currency=reversal.currency,
                   detail=f"{reversal.status}: {reversal.error[:200]}")  # fmt: skip
    for refund in Refund.objects.filter(status=Refund.Status.PENDING, created_at__lt=cutoff):
        report.add(kind=K.STUCK, object_type="refund", internal_ref=str(refund.public_id),
                   expected=refund.amount_minor, currency=refund.currency, detail="pending")  # fmt: skip
    for charge in Charge.objects.filter(
        status=Charge.Status.PENDING, created_at__lt=cutoff, stripe_payment_intent_id__isnull=True,
        stripe_invoice_id__isnull=True,
    ):  # fmt: skip
        report.add(kind=K.STUCK, object_type="charge", internal_ref=str(charge.public_id),
                   expected=charge.amount_minor, currency=charge.currency, detail="no Stripe object yet")  # fmt: skip
    for event in StripeEvent.objects.filter(processed_at__isnull=True, received_at__lt=cutoff):
        report.add(kind=K.STUCK, object_type="event", internal_ref=str(event.public_id), stripe_id=event.event_id,
                   detail=f"{event.type}: {event.last_error[:200]}")  # fmt: skip


# --- Runs ---------------------------------------------------------------------------------------------------


def start_run(*, actor: User, window_days: int = WINDOW_DAYS) -> ReconciliationRun:
    """Finance asks for a run now: recorded at once, executed in Celery after commit."""
    require_staff(actor, StaffRole.FINANCE)
    if not isinstance(window_days, int) or not 1 <= window_days <= 90:
        raise ValidationFailed("The window is 1 to 90 days.", details={"window_days": ["Between 1 and 90."]})
    now = timezone.now()
    with transaction.atomic():
        run = ReconciliationRun.objects.create(
            trigger=ReconciliationRun.Trigger.MANUAL,
            window_start=now - timedelta(days=window_days),
            window_end=now,
            started_by=actor,
        )
        audit(run, "reconciliation.started", actor=actor, data={"window_days": window_days})

        def _enqueue() -> None:
            from apps.payments.tasks_webhooks import run_reconciliation_job

            run_reconciliation_job.delay(run.pk)

        transaction.on_commit(_enqueue)
    return run


def run_reconciliation(
    *, actor: User | None, trigger: str = "manual", window_days: int = WINDOW_DAYS
) -> ReconciliationRun:
    """Create and execute a run in this process (the daily task; tests)."""
    if actor is not None:
        require_staff(actor, StaffRole.FINANCE)
    now = timezone.now()
    run = ReconciliationRun.objects.create(
        trigger=trigger, window_start=now - timedelta(days=window_days), window_end=now + timedelta(seconds=1),
        started_by=actor,
    )  # fmt: skip
    return execute_run(run_pk=run.pk)


def execute_run(*, run_pk: int) -> ReconciliationRun:
    run = ReconciliationRun.objects.get(pk=run_pk)
    if run.status != ReconciliationRun.Status.RUNNING:
        return run
    report = _Report()
    try:
        _check_charges(report, run.window_start, run.window_end)
        _check_transfers(report, run.window_start, run.window_end)
        _check_groups(report)
        _check_payouts(report, run.window_start)
        _check_platform_balance(report)
        _check_stuck(report, timezone.now())
    except gateway.GatewayError as exc:
        transition(run, ReconciliationRun.Status.FAILED, extra_updates={
            "error": f"{exc.code}: {exc.message}"[:2000], "finished_at": timezone.now(),
            "checked_count": report.checked})  # fmt: skip
        return run
    new = _record(run, report.findings)
    transition(
        run,
        ReconciliationRun.Status.COMPLETED,
        extra_updates={
            "finished_at": timezone.now(),
            "checked_count": report.checked,
            "exception_count": len(report.findings),
            "new_exception_count": new,
        },
    )
    if new:
        notify_many(
            recipients=User.objects.filter(staff_role=StaffRole.FINANCE, is_active=True),
            kind="reconciliation.exceptions",
            title=f"Reconciliation found {new} new exception{'s' if new != 1 else ''}",
            body="Open the finance dashboard to resolve them.",
            url="/finance/",
        )
    return run


def _record(run: ReconciliationRun, findings: list[Finding]) -> int:
    new = 0
    seen: set[str] = set()
    for finding in findings:
        fp = finding.fingerprint
        if fp in seen:
            continue
        seen.add(fp)
        with transaction.atomic():
            updated = ReconciliationException.objects.filter(fingerprint=fp, status="open").update(
                last_seen_run=run, updated_at=timezone.now()
            )
            if updated:
                continue
            try:
                with transaction.atomic():
                    ReconciliationException.objects.create(
                        run=run,
                        last_seen_run=run,
                        kind=finding.kind,
                        object_type=finding.object_type,
                        internal_ref=finding.internal_ref,
                        stripe_id=finding.stripe_id,
                        expected=finding.expected,
                        actual=finding.actual,
                        currency=finding.currency,
                        detail=finding.detail,
                        fingerprint=fp,
                    )
                new += 1
            except IntegrityError:
                continue
    return new


# --- Resolution ---------------------------------------------------------------------------------------------


def resolve_exception(
    *, actor: User, exception: ReconciliationException, note: str, legs: list[dict[str, Any]] | None = None,
    currency: str | None = None,
) -> ReconciliationException:  # fmt: skip
    """Finance closes an exception with a note and, where money is off, an adjusting entry (``legs``:
    ``[{"account": code, "amount": signed minor units}, ...]``, balanced; key ``recon:<exception id>``)."""
    from apps.ledger import services as ledger

    require_staff(actor, StaffRole.FINANCE)
    if not isinstance(note, str) or not note.strip():
        raise ValidationFailed("Say how the exception was resolved.", details={"note": ["Required."]})
    with transaction.atomic():
        locked = ReconciliationException.objects.select_for_update().get(pk=exception.pk)
        if locked.status != ReconciliationException.Status.OPEN:
            raise DomainError("This exception is already resolved.", code="exception_already_resolved")
        entry = None
        if legs:
            errors: dict[str, list[str]] = {}
            parsed = []
            for n, leg in enumerate(legs, start=1):
                if not isinstance(leg, dict) or not isinstance(leg.get("account"), str):
                    errors[f"legs.{n}"] = ["Each leg is {account, amount}."]
                    continue
                parsed.append(ledger.Leg(leg["account"], leg.get("amount")))
            if errors:
                raise ValidationFailed("The adjusting entry is not valid.", details=errors)
            entry = ledger.adjust(
                actor=actor,
                description=f"Reconciliation {locked.kind} {locked.stripe_id or locked.internal_ref}"[:500],
                currency=(currency or locked.currency or "").upper(),
                legs=parsed,
                reason=note.strip(),
                idempotency_key=f"recon:{locked.public_id}",
                source_type="payments.reconciliation_exception",
                source_id=str(locked.public_id),
            )
        transition(
            locked,
            ReconciliationException.Status.RESOLVED,
            actor=actor,
            reason=note.strip()[:500],
            extra_updates={
                "resolved_by": actor,
                "resolved_at": timezone.now(),
                "note": note.strip(),
                "adjusting_entry": entry,
            },
        )
    return locked


# --- Reads and export ---------------------------------------------------------------------------------------


def run_list(*, actor: User):
    require_staff(actor, StaffRole.FINANCE)
    return ReconciliationRun.objects.select_related("started_by").order_by("-created_at", "-id")


def run_get(*, actor: User, public_id: Any) -> ReconciliationRun:
    require_staff(actor, StaffRole.FINANCE)
    run = ReconciliationRun.objects.filter(public_id=public_id).first()
    if run is None:
        raise NotFound("Reconciliation run not found.", code="reconciliation_run_not_found")
    return run


def exception_list(*, actor: User, status: str | None = None, kind: str | None = None, run: Any = None):
    require_staff(actor, StaffRole.FINANCE)
    qs = ReconciliationException.objects.select_related("run", "resolved_by", "adjusting_entry")
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if run:
        qs = qs.filter(run__public_id=run)
    return qs.order_by("-created_at", "-id")


def exception_get(*, actor: User, public_id: Any) -> ReconciliationException:
    require_staff(actor, StaffRole.FINANCE)
    found = ReconciliationException.objects.filter(public_id=public_id).select_related("run").first()
    if found is None:
        raise NotFound("Reconciliation exception not found.", code="reconciliation_exception_not_found")
    return found


AGEING_BUCKETS = (("0-1 days", 0, 1), ("1-7 days", 1, 7), ("7-30 days", 7, 30), ("30+ days", 30, None))


def ageing(*, actor: User) -> list[tuple[str, int]]:
    """Open exceptions by age bucket."""
    require_staff(actor, StaffRole.FINANCE)
    now = timezone.now()
    rows = []
    for label, low, high in AGEING_BUCKETS:
        qs = ReconciliationException.objects.filter(status="open", created_at__lte=now - timedelta(days=low))
        if high is not None:
            qs = qs.filter(created_at__gt=now - timedelta(days=high))
        rows.append((label, qs.count()))
    return rows


EXPORT_COLUMNS = ["id", "run", "kind", "object_type", "internal_ref", "stripe_id", "expected", "actual", "currency",
                  "detail", "status", "found_at", "resolved_at", "resolved_by", "note", "adjusting_entry"]  # fmt: skip


class _Echo:
    def write(self, value: str) -> str:
        return value


def _text(value: str) -> str:
    """Free text (notes, details) cannot start a spreadsheet formula."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def export_exceptions(*, actor: User, status: str | None = None) -> Iterator[str]:
    """CSV rows, streamed (``iterator``), of the exceptions finance may see."""
    qs = exception_list(actor=actor, status=status)
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_COLUMNS)
    for e in qs.iterator(chunk_size=1000):
        yield writer.writerow([
            e.public_id, e.run.public_id, e.kind, e.object_type, e.internal_ref, e.stripe_id,
            "" if e.expected is None else e.expected, "" if e.actual is None else e.actual, e.currency,
            _text(e.detail), e.status, e.created_at.isoformat(), e.resolved_at.isoformat() if e.resolved_at else "",
            e.resolved_by.email if e.resolved_by else "", _text(e.note),
            e.adjusting_entry.public_id if e.adjusting_entry else "",
        ])  # fmt: skip
