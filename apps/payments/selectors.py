"""Reads of payments, scoped to what the actor may see.

- Connected account and earnings of a supplier: its members with ``payments.manage`` (vendor owners
  and managers, the independent expert). A vendor's expert sees only their own statement.
- A lab sees what it owes (earnings of its contracts) with ``contracts.view``; never expert names.
- Payout runs and lines: platform finance only. Anyone else: NotFound.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet, Sum

from apps.accounts.models import Organization, User
from apps.accounts.policies import membership_for, require, require_staff
from apps.accounts.roles import OrgKind, Perm, Role, StaffRole
from apps.core.errors import NotFound
from apps.core.money import Money
from apps.work.models import Judgment

from .models import ConnectedAccount, Earning, PayoutLine, PayoutRun
from .services.accounts import SUPPLIER_KINDS, account_readiness

_BAD_ID = (ValueError, TypeError, ValidationError)


# --- Connected account -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountStatus:
    organization: Organization
    account: ConnectedAccount | None
    can_receive: bool
    reasons: list[str]


def account_status(*, actor: User, organization: Organization) -> AccountStatus:
    """The supplier's connected account (or None) and whether it can receive transfers, with reasons."""
    require(actor, organization, Perm.PAYMENTS_MANAGE)
    if organization.kind not in SUPPLIER_KINDS:
        raise NotFound("Labs have no payout account.", code="connected_account_not_found")
    account = ConnectedAccount.objects.filter(organization=organization).first()
    ready, reasons = account_readiness(account)
    return AccountStatus(organization, account, ready, reasons)


# --- Earnings ----------------------------------------------------------------------------------------------


def earning_list(
    *,
    actor: User,
    organization: Organization | None,
    contract_public_id: UUID | str | None = None,
    status: str | None = None,
    earned_from=None,
    earned_to=None,
) -> QuerySet[Earning]:
    """A supplier's own earnings (``payments.manage``) or, for a lab, the earnings of its contracts
    (what it owes; ``contracts.view``). Newest first."""
    if organization is None:
        raise NotFound("Earnings not found.", code="earning_not_found")
    if organization.kind == OrgKind.LAB:
        require(actor, organization, Perm.CONTRACTS_VIEW)
        qs = Earning.objects.filter(lab=organization)
    else:
        require(actor, organization, Perm.PAYMENTS_MANAGE)
        qs = Earning.objects.filter(supplier=organization)
    if contract_public_id:
        qs = qs.filter(contract__public_id=contract_public_id)
    if status:
        qs = qs.filter(status=status)
    if earned_from:
        qs = qs.filter(earned_on__gte=earned_from)
    if earned_to:
        qs = qs.filter(earned_on__lte=earned_to)
    return qs.select_related("batch", "contract__project", "supplier", "lab").order_by("-earned_on", "-id")


def earning_totals(qs: QuerySet[Earning]) -> list[dict]:
    """Sums of a list of earnings per currency and status."""
    return list(
        qs.order_by()
        .values("currency", "status")
        .annotate(gross=Sum("gross_minor"), fee=Sum("fee_minor"), net=Sum("net_minor"), n=Count("id"))
        .order_by("currency", "status")
    )


@dataclass(frozen=True)
class StatementRow:
    earning: Earning
    annotator_id: int
    annotator_label: str
    judgments: int
    batch_judgments: int
    share: Money


def expert_statement(
    *, actor: User, organization: Organization, annotator: User | None = None, limit: int = 500
) -> list[StatementRow]:
    """Per-expert statement rows of a vendor: for each earning, each annotator's judgment count in the
    batch and their share of the supplier's net (split by judgment count, adds up exactly).

    The vendor's owners and managers see everyone (``annotator`` filters); a vendor expert sees only
    their own rows. Anyone else: NotFound."""
    membership = membership_for(actor, organization)
    if membership is None or organization.kind not in SUPPLIER_KINDS:
        raise NotFound("Statement not found.", code="statement_not_found")
    if membership.role == Role.EXPERT:
        annotator = actor
    else:
        require(actor, organization, Perm.PAYMENTS_MANAGE)
    earnings = list(
        Earning.objects.filter(supplier=organization)
        .select_related("batch", "contract__project")
        .order_by("-earned_on", "-id")[:limit]
    )
    if not earnings:
        return []
    counts = (
        Judgment.objects.filter(batch_id__in=[e.batch_id for e in earnings])
        .values("batch_id", "annotator_id")
        .annotate(n=Count("id"))
        .order_by("batch_id", "annotator_id")
    )
    by_batch: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for row in counts:
        by_batch[row["batch_id"]].append((row["annotator_id"], row["n"]))
    names = {
        u.pk: u.display_name for u in User.objects.filter(pk__in={a for rows in by_batch.values() for a, _ in rows})
    }
    rows: list[StatementRow] = []
    for earning in earnings:
        batch_rows = by_batch.get(earning.batch_id, [])
        if not batch_rows:
            continue
        total = sum(n for _, n in batch_rows)
        parts = Money(earning.net_minor, earning.currency).allocate([n for _, n in batch_rows])
        for (annotator_id, n), part in zip(batch_rows, parts, strict=True):
            if annotator is not None and annotator_id != annotator.pk:
                continue
            rows.append(StatementRow(earning, annotator_id, names.get(annotator_id, ""), n, total, part))
    return rows


# --- Payout runs (finance) ----------------------------------------------------------------------------------


def run_list(*, actor: User, status: str | None = None, currency: str | None = None) -> QuerySet[PayoutRun]:
    require_staff(actor, StaffRole.FINANCE)
    qs = PayoutRun.objects.select_related("created_by", "approved_by", "second_approved_by")
    if status:
        qs = qs.filter(status=status)
    if currency:
        qs = qs.filter(currency=currency.upper())
    return qs.order_by("-created_at", "-id")


def run_get(*, actor: User, public_id: UUID | str) -> PayoutRun:
    try:
        run = run_list(actor=actor).filter(public_id=public_id).first()
    except _BAD_ID:
        run = None
    if run is None:
        raise NotFound("Payout run not found.", code="payout_run_not_found")
    return run


def line_list(*, actor: User, run: PayoutRun, status: str | None = None) -> QuerySet[PayoutLine]:
    require_staff(actor, StaffRole.FINANCE)
    qs = PayoutLine.objects.filter(run=run).select_related("supplier")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("id")


def line_status_counts(run: PayoutRun) -> dict[str, int]:
    return dict(run.lines.values_list("status").annotate(n=Count("id")).order_by())


def line_earnings(*, actor: User, line: PayoutLine) -> QuerySet[Earning]:
    require_staff(actor, StaffRole.FINANCE)
    return line.earnings.select_related("batch", "contract__project").order_by("earned_on", "id")
