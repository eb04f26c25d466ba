"""Payout runs: finance pays suppliers their earnings, one Stripe transfer per supplier and run.

Decisions:
- A run for [period_start, period_end] takes every pending earning of its currency earned on or
  before ``period_end`` (older unpaid earnings, e.g. from an appeal overturned late, roll into the
  next run, so nothing is stranded); ``period_start`` labels the run. An earning sits in one run at
  a time (a conditional UPDATE pending -> in_run claims it). A run with nothing to pay is refused.
- Creation is O(1) queries whatever the number of suppliers: one UPDATE claims the earnings, one
  aggregate computes the lines, one bulk INSERT writes them, one UPDATE links earnings to lines.
- Approval (finance): at or below ``PAYOUT_FOUR_EYES_LIMIT_MINOR`` one approval, the creator's
  included. Above it two approvals by two DIFFERENT finance users; the creator may give one of them,
  never both, so the creator is never the only approver. The second approval moves the run to
  ``approved``; the same user approving twice gets ``four_eyes_required``.
- Processing: the job claims each line (conditional UPDATE pending -> submitting, committed before
  the call), then, holding the line's row lock (``skip_locked``, so concurrent jobs never work the
  same line at once), calls Stripe with the key stored on the line. A crash or a lost response leaves
  the line ``submitting``; the next job retries it with the SAME key and Stripe replays the transfer.
  A retryable error leaves it ``submitting`` (the task retries with backoff); a definitive refusal
  fails the line with Stripe's reason. A line whose account cannot receive transfers fails with the
  reasons and no call. ``retry_failed_lines`` moves failed lines back to pending with a new key
  version (``:v2``...): a failed line never created a transfer, so a new key cannot pay twice.
- Each paid line posts Dr ``payee_payable:<supplier>`` / Cr ``stripe_balance`` (key
  ``transfer:<line public id>``) and marks its earnings paid, in the same transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, OuterRef, Subquery, Sum
from django.utils import timezone

from apps.accounts.models import Organization, User
from apps.accounts.policies import require_staff
from apps.accounts.roles import GRANTS, Perm, StaffRole
from apps.core.errors import DomainError, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from apps.core.events import emit
from apps.core.money import SUPPORTED_CURRENCIES, Money
from apps.core.transitions import audit, transition
from apps.notifications.services import notify_many
from apps.payments import gateway
from apps.payments.models import ConnectedAccount, Earning, PayoutLine, PayoutRun

from .accounts import account_readiness
from .earnings import accrue_earnings

R = PayoutRun.Status
L = PayoutLine.Status
E = Earning.Status
MAX_JOB_RETRIES = 5


def line_key(line_public_id: Any, attempt: int) -> str:
    return f"payout-line:{line_public_id}:v{attempt}"


def _finance_users() -> list[User]:
    return list(User.objects.filter(staff_role=StaffRole.FINANCE, is_active=True).order_by("id"))


def _holders(organization: Organization, perm: str) -> list[User]:
    roles = GRANTS.get(perm, {}).get(organization.kind, set())
    return list(
        User.objects.filter(memberships__organization=organization, memberships__role__in=roles, is_active=True)
    )


def _locked_run(run: PayoutRun) -> PayoutRun:
    locked = PayoutRun.objects.select_for_update().filter(pk=run.pk).first()
    if locked is None:
        raise NotFound("Payout run not found.", code="payout_run_not_found")
    return locked


def _run_url(run: PayoutRun) -> str:
    return f"/finance/payouts/{run.public_id}/"


def source_charge_for(line: PayoutLine) -> str | None:
    """The Stripe charge that funds ``line`` (its ``source_transaction``), when known (see
    ``services.charges.source_charge_for``); None: the transfer draws on the platform's available balance."""
    from .charges import source_charge_for as _source_charge_for

    return _source_charge_for(line)


# --- Create --------------------------------------------------------------------------------------


def create_run(*, actor: User, period_start: Any, period_end: Any, currency: str) -> PayoutRun:
    """Finance computes a draft run: accrues missing earnings first, then one line per supplier with
    the sum of its pending earnings of ``currency`` earned on or before ``period_end``. Refused when
    there is nothing to pay. Not idempotent (each call is a new run over what is still pending)."""
    require_staff(actor, StaffRole.FINANCE)
    errors: dict[str, list[str]] = {}
    if not isinstance(period_start, date):
        errors["period_start"] = ["A date (YYYY-MM-DD)."]
    if not isinstance(period_end, date):
        errors["period_end"] = ["A date (YYYY-MM-DD)."]
    if not errors and period_end < period_start:
        errors["period_end"] = ["On or after period_start."]
    currency = str(currency or "").upper()
    if currency not in SUPPORTED_CURRENCIES:
        errors["currency"] = [f"One of: {', '.join(SUPPORTED_CURRENCIES)}."]
    if errors:
        raise ValidationFailed("The payout run is not valid.", details=errors)
    accrue_earnings(until=period_end)
    now = timezone.now()
    with transaction.atomic(durable=True):
        public_id = uuid.uuid4()
        run = PayoutRun.objects.create(
            public_id=public_id,
            period_start=period_start,
            period_end=period_end,
            currency=currency,
            created_by=actor,
            transfer_group=f"PAYOUT-{public_id}",
        )
        payable = Earning.objects.filter(
            status=E.PENDING, currency=currency, earned_on__lte=period_end, net_minor__gt=0
        )
        # Earnings accrued after this point (a concurrent accrual) are left for the next run: ``pk <= last``.
        last = payable.aggregate(last=Max("pk"))["last"]
        if last is None:
            raise DomainError(
                f"No pending {currency} earnings up to {period_end}: nothing to pay.",
                code="payout_run_empty",
                details={"currency": currency, "period_end": str(period_end)},
            )
        payable = payable.filter(pk__lte=last)
        totals = payable.values("supplier_id").annotate(total=Sum("net_minor"), n=Count("id")).order_by("supplier_id")
        lines = []
        for row in totals.iterator(chunk_size=5000):
            line_id = uuid.uuid4()
            lines.append(
                PayoutLine(
                    public_id=line_id,
                    run=run,
                    supplier_id=row["supplier_id"],
                    amount_minor=row["total"],
                    currency=currency,
                    earning_count=row["n"],
                    idempotency_key=line_key(line_id, 1),
                )
            )
        PayoutLine.objects.bulk_create(lines)
        run.total_minor = sum(line.amount_minor for line in lines)
        expected = sum(line.earning_count for line in lines)
        # One UPDATE claims each earning (pending -> in_run) and links it to its supplier's line.
        if connection.vendor == "postgresql":
            claimed, claimed_total = _claim_earnings_sql(
                run, currency=currency, period_end=period_end, last=last, now=now
            )
        else:
            claimed = payable.update(
                status=E.IN_RUN,
                run=run,
                updated_at=now,
                line=Subquery(
                    PayoutLine.objects.filter(run=run, supplier_id=OuterRef("supplier_id")).order_by().values("pk")[:1]
                ),
            )
            claimed_total = Earning.objects.filter(run=run).aggregate(total=Sum("net_minor"))["total"]
        if claimed_total != run.total_minor or claimed != expected:
            # Another run claimed some of these earnings between the sums and the claim: roll back.
            raise DomainError(
                "Earnings changed while the run was computed; nothing was created. Try again.",
                code="payout_run_raced",
            )
        run.line_count = len(lines)
        run.earning_count = claimed
        run.save(update_fields=["total_minor", "line_count", "earning_count", "updated_at"])
        audit(run, "payout_run.created", actor=actor, data={"total_minor": run.total_minor, "lines": len(lines)})
    return run


# PostgreSQL: one UPDATE ... FROM joins each earning to its supplier's line of this run and returns what it
# claimed, so the race check needs no second pass over the run's earnings. The run's lines were inserted
# moments before and its id is in no statistics, so the planner estimates one line and picks a nested loop
# that scans every line of the run for each earning (77 s at 5,000 suppliers, and the same in production);
# nested loops are switched off for this one statement, which leaves a hash join: one pass over each side.
_CLAIM_SQL = """
WITH claimed AS (
    UPDATE payments_earning e
    SET status = %(in_run)s, run_id = %(run)s, line_id = l.id, updated_at = %(now)s
    FROM payments_payoutline l
    WHERE l.run_id = %(run)s AND l.supplier_id = e.supplier_id
        AND e.status = %(pending)s AND e.currency = %(currency)s AND e.earned_on <= %(period_end)s
        AND e.net_minor > 0 AND e.id <= %(last)s
    RETURNING e.net_minor
)
SELECT COUNT(*), COALESCE(SUM(net_minor), 0)::bigint FROM claimed
"""


def _claim_earnings_sql(run: PayoutRun, *, currency: str, period_end: date, last: int, now: Any) -> tuple[int, int]:
    params = {
        "in_run": E.IN_RUN,
        "pending": E.PENDING,
        "run": run.pk,
        "now": now,
        "currency": currency,
        "period_end": period_end,
        "last": last,
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('enable_nestloop', 'off', true)")
        cursor.execute(_CLAIM_SQL, params)
        count, total = cursor.fetchone()
        cursor.execute("SELECT set_config('enable_nestloop', 'on', true)")
    return count, total


# --- Approve -------------------------------------------------------------------------------------


def needs_two_approvals(run: PayoutRun) -> bool:
    return run.total_minor > settings.PAYOUT_FOUR_EYES_LIMIT_MINOR


def approve_run(*, actor: User, run: PayoutRun) -> PayoutRun:
    """A finance user approves a draft run. Above the four-eyes limit the first approval is recorded
    and a second, different finance user's approval moves the run to approved. Idempotent for an
    approver repeating an approval of an already approved run."""
    require_staff(actor, StaffRole.FINANCE)
    now = timezone.now()
    with transaction.atomic(durable=True):
        run = _locked_run(run)
        if run.status != R.DRAFT:
            if run.status == R.APPROVED and actor.pk in (run.approved_by_id, run.second_approved_by_id):
                return run
            raise InvalidTransition(
                f"This payout run is '{run.status}' and cannot be approved.",
                code="payout_run_not_draft",
                details={"current_status": run.status},
            )
        if not needs_two_approvals(run):
            transition(run, R.APPROVED, actor=actor, extra_updates={"approved_by": actor, "approved_at": now})
            return run
        if run.approved_by_id is None:
            PayoutRun.objects.filter(pk=run.pk).update(approved_by=actor, approved_at=now, updated_at=now)
            audit(run, "payout_run.first_approval", actor=actor, data={"total_minor": run.total_minor})
            others = [u for u in _finance_users() if u.pk != actor.pk]
            limit = Money(settings.PAYOUT_FOUR_EYES_LIMIT_MINOR, run.currency)
            notify_many(
                recipients=others,
                kind="payout_run.approval_needed",
                title=f"Payout run awaits a second approval ({Money(run.total_minor, run.currency)})",
                body=f"Runs above {limit} need two different finance approvers.",
                url=_run_url(run),
            )
            run.refresh_from_db()
            return run
        if run.approved_by_id == actor.pk:
            raise PermissionDenied(
                "This run is above the four-eyes limit: a second, different finance user must approve it.",
                code="four_eyes_required",
                details={"limit_minor": settings.PAYOUT_FOUR_EYES_LIMIT_MINOR, "total_minor": run.total_minor},
            )
        transition(run, R.APPROVED, actor=actor, extra_updates={"second_approved_by": actor, "second_approved_at": now})
    return run


# --- Process -------------------------------------------------------------------------------------


def _schedule(run: PayoutRun) -> None:
    from apps.payments import tasks

    run_id = run.pk
    transaction.on_commit(lambda: tasks.process_payout_run.delay(run_id))


def process_run(*, actor: User, run: PayoutRun) -> PayoutRun:
    """Finance starts (or resumes) sending an approved run's transfers: the run moves to processing
    and the Celery job is scheduled after commit. Calling it again on a processing run schedules the
    job again, which resumes where it stopped and never pays a line twice; on a finished run it is a
    no-op. A draft: InvalidTransition, nothing sent."""
    require_staff(actor, StaffRole.FINANCE)
    with transaction.atomic(durable=True):
        run = _locked_run(run)
        if run.status in (R.COMPLETED, R.PARTIALLY_FAILED):
            return run  # already processed: a repeated request changes nothing (retry failed lines explicitly)
        if run.status == R.APPROVED:
            transition(run, R.PROCESSING, actor=actor)
        elif run.status != R.PROCESSING:
            raise InvalidTransition(
                f"Only an approved run can be processed; this one is '{run.status}'.",
                code="payout_run_not_approved",
                details={"current_status": run.status},
            )
        _schedule(run)
    return run


def retry_failed_lines(*, actor: User, run: PayoutRun) -> PayoutRun:
    """Finance retries a partially failed run: each failed line goes back to pending with the next key
    version, the run back to processing, and the job is scheduled."""
    require_staff(actor, StaffRole.FINANCE)
    with transaction.atomic(durable=True):
        run = _locked_run(run)
        if run.status != R.PARTIALLY_FAILED:
            raise InvalidTransition(
                f"Only a partially failed run has lines to retry; this one is '{run.status}'.",
                code="payout_run_not_partially_failed",
                details={"current_status": run.status},
            )
        for line in run.lines.filter(status=L.FAILED).select_for_update():
            attempt = line.attempt + 1
            transition(
                line,
                L.PENDING,
                actor=actor,
                reason="retry",
                extra_updates={
                    "attempt": attempt,
                    "idempotency_key": line_key(line.public_id, attempt),
                    "error_code": "",
                    "error": "",
                },
            )
        transition(run, R.PROCESSING, actor=actor, reason="retry failed lines")
        _schedule(run)
    return run


@dataclass
class JobResult:
    paid: int = 0
    failed: int = 0
    waiting: int = 0
    finished: bool = False


def pay_run(*, run_id: int) -> JobResult:
    """The job: send every unpaid line of a processing run, then close the run when every line is
    paid or failed. Safe to run concurrently and to rerun after a crash (see the module notes)."""
    result = JobResult()
    run = PayoutRun.objects.filter(pk=run_id).first()
    if run is None or run.status != R.PROCESSING:
        return result
    # One read of the lines, their suppliers and accounts; then one transaction (and one Stripe call) per line.
    lines = list(run.lines.filter(status__in=[L.PENDING, L.SUBMITTING]).select_related("supplier").order_by("pk"))
    accounts = {
        a.organization_id: a
        for a in ConnectedAccount.objects.filter(organization_id__in=[line.supplier_id for line in lines])
    }
    for line in lines:
        outcome = _pay_line(run, line, accounts)
        if outcome == L.PAID:
            result.paid += 1
        elif outcome == L.FAILED:
            result.failed += 1
        elif outcome == L.SUBMITTING:
            result.waiting += 1
    result.finished = _finish(run)
    return result


def _fail(line: PayoutLine, run: PayoutRun, code: str, message: str) -> None:
    moved = transition(line, L.FAILED, reason=message[:500], extra_updates={"error_code": code, "error": message})
    if not moved:
        return
    data = {
        "payout_line": str(line.public_id),
        "payout_run": str(run.public_id),
        "amount": Money(line.amount_minor, line.currency).format_amount(),
        "currency": line.currency,
        "error_code": code,
    }
    emit("payout.failed", obj=line, organization_ids=[line.supplier_id], data=data)
    notify_many(
        recipients=[*_holders(line.supplier, Perm.PAYMENTS_MANAGE), *_finance_users()],
        kind="payout.failed",
        title=f"A payout of {Money(line.amount_minor, line.currency)} failed",
        body=message[:1000],
        url="/payments/account/",
    )


def _pay_line(run: PayoutRun, line: PayoutLine, accounts: dict[int, ConnectedAccount]) -> str | None:
    supplier = line.supplier
    claimed = False
    if line.status == L.PENDING:
        account = accounts.get(line.supplier_id)
        ready, reasons = account_readiness(account)
        if not ready:
            with transaction.atomic():
                try:
                    _fail(line, run, "account_cannot_receive", " ".join(reasons))
                except InvalidTransition:
                    return None  # another job claimed it meanwhile
            return L.FAILED
        # Claim with a conditional UPDATE (no row lock to wait on), committed before the Stripe call: a crash
        # from here on leaves the line 'submitting', to be resumed with the same key. Losing the claim means
        # another job owns the line.
        with transaction.atomic():
            claimed = bool(
                PayoutLine.objects.filter(pk=line.pk, status=L.PENDING).update(
                    status=L.SUBMITTING,
                    destination=account.stripe_account_id,
                    source_transaction=source_charge_for(line) or "",
                    submitted_at=timezone.now(),
                    updated_at=timezone.now(),
                )
            )
            if not claimed:
                return None
            audit(line, "payoutline.submitting", data={"from_status": L.PENDING, "key": line.idempotency_key})
    with transaction.atomic():
        # Hold the row lock during the call so no other job sends this line at the same time. A line we just
        # claimed is ours: wait for the lock. A line found 'submitting' (a crashed or concurrent job's) is
        # skipped while another job holds it. The status is re-checked once the lock is held.
        locking = PayoutLine.objects.select_for_update(skip_locked=not claimed)
        line = locking.filter(pk=line.pk, status=L.SUBMITTING).first()
        if line is None:
            return None
        line.supplier = supplier
        try:
            transfer = gateway.create_transfer(
                amount=line.amount_minor,
                currency=line.currency,
                destination=line.destination,
                transfer_group=run.transfer_group,
                source_transaction=line.source_transaction or None,
                metadata={"payout_line": str(line.public_id), "payout_run": str(run.public_id)},
                idempotency_key=line.idempotency_key,
            )
        except gateway.GatewayError as exc:
            if exc.retryable:
                return L.SUBMITTING
            _fail(line, run, exc.code or "stripe_error", exc.message)
            return L.FAILED
        _record_paid(line, run, transfer)
    return L.PAID


def _record_paid(line: PayoutLine, run: PayoutRun, transfer: Any) -> None:
    from apps.ledger import services as ledger

    transition(line, L.PAID, extra_updates={"stripe_transfer_id": transfer.id, "paid_at": timezone.now()})
    Earning.objects.filter(line=line, status=E.IN_RUN).update(status=E.PAID, updated_at=timezone.now())
    supplier = line.supplier
    ledger.post(
        description=f"Payout transfer {transfer.id}",
        currency=line.currency,
        legs=[
            ledger.Leg(
                ledger.account(f"payee_payable:{supplier.public_id}", currency=line.currency), line.amount_minor
            ),
            ledger.Leg(ledger.account("stripe_balance", currency=line.currency), -line.amount_minor),
        ],
        idempotency_key=f"transfer:{line.public_id}",
        source_type="payments.payout_line",
        source_id=transfer.id,
    )
    notify_many(
        recipients=_holders(supplier, Perm.PAYMENTS_MANAGE),
        kind="payout.sent",
        title=f"{Money(line.amount_minor, line.currency)} sent to your Stripe account",
        body=f"Transfer {transfer.id}. Stripe pays it out to your bank on your account's schedule.",
        url="/payments/earnings/",
    )


def _finish(run: PayoutRun) -> bool:
    with transaction.atomic():
        counts = dict(run.lines.values_list("status").annotate(n=Count("id")).order_by())
        if counts.get(L.PENDING) or counts.get(L.SUBMITTING):
            return False
        target = R.PARTIALLY_FAILED if counts.get(L.FAILED) else R.COMPLETED
        try:
            moved = transition(run, target, extra_updates={"completed_at": timezone.now()})
        except InvalidTransition:
            return False
        if moved:
            paid = run.lines.filter(status=L.PAID).aggregate(total=Sum("amount_minor"), n=Count("id"))
            emit(
                "payout_run.completed",
                obj=run,
                organization_ids=[],
                data={
                    "payout_run": str(run.public_id),
                    "status": target,
                    "paid_lines": paid["n"],
                    "paid_amount": Money(paid["total"] or 0, run.currency).format_amount(),
                    "failed_lines": counts.get(L.FAILED, 0),
                    "currency": run.currency,
                },
            )
            notify_many(
                recipients=_finance_users(),
                kind="payout_run.completed",
                title=f"Payout run {run.period_start}..{run.period_end} {target.replace('_', ' ')}",
                body=f"{paid['n']} lines paid, {counts.get(L.FAILED, 0)} failed.",
                url=_run_url(run),
            )
    return True


__all__ = ["approve_run", "create_run", "pay_run", "process_run", "retry_failed_lines", "source_charge_for"]
