"""Earnings: every accepted batch earns once, computed in bulk and booked in the ledger.

Maths (integer minor units, one rounding):
    gross = to_minor(unit_rate x accepted units x quality multiplier)   -- what the lab owes
    fee, net = Money(gross).split_bps(PLATFORM_FEE_BPS)                  -- fee + net == gross, always

Decisions:
- A batch earns once (``Earning.batch`` is unique). Batches in ``WorkBatch.ACCEPTED_STATES`` earn;
  a rejected batch earns nothing; a rejected-then-overturned batch earns when it is overturned, on
  the day of the decision (``earned_on``).
- On PostgreSQL a chunk is one ``INSERT ... SELECT`` computed in SQL from the batches (``gross_sql`` /
  ``fee_sql``, the same maths as ``compute_split``, which stays the reference and is what SQLite runs;
  tests/payments/test_earnings_sql.py checks both agree) and its ledger entry is built from one aggregate.
- Accrual runs in chunks of batches (bulk reads, one ``bulk_create``); each chunk is booked as ONE
  balanced journal entry (key ``accrual:<accrual public id>``): Dr ``lab_receivable:<lab>`` gross per
  lab, Cr ``payee_payable:<supplier>`` net per supplier, Cr ``platform_fee_revenue`` the fees. The
  query count is O(1) per chunk, not per earning; the earning rows carry the detail.
- The multiplier comes from ``apps.quality.selectors.multiplier_for_batch``; a contract version
  without quality-pay bands has multiplier 1 by definition and is not asked about.
- Per-expert statements split the supplier's net of a batch over its annotators in proportion to
  their judgment counts (largest remainder, so the shares add up to the net exactly).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.accounts.models import Organization
from apps.core.money import Money, to_minor
from apps.payments.models import Accrual, Earning
from apps.work.models import Judgment, WorkBatch

CHUNK = 5000
ONE = Decimal("1.0000")


@dataclass(frozen=True)
class Split:
    gross_minor: int
    fee_minor: int
    net_minor: int


def compute_split(*, unit_rate: Decimal, units: int, multiplier: Decimal, currency: str, fee_bps: int) -> Split:
    """The earning of ``units`` at ``unit_rate`` (major units) x ``multiplier``: gross, fee, net in
    minor units; fee + net == gross exactly."""
    if isinstance(unit_rate, float) or isinstance(multiplier, float):
        raise TypeError("Rates and multipliers are Decimals, never floats.")
    gross = Money(to_minor(Decimal(unit_rate) * units * Decimal(multiplier), currency), currency)
    fee, net = gross.split_bps(fee_bps)
    return Split(gross.minor, fee.minor, net.minor)


def _multipliers(rows: list[dict]) -> dict[int, Any]:
    """batch id -> QualityMultiplier (multiplier, basis, snapshot_public_id, gold_accuracy), for the batches
    whose terms have quality-pay bands; the others have multiplier 1 and are not asked about."""
    from apps.quality import selectors as quality

    asked = [r["pk"] for r in rows if r["quality_pay"]]
    if not asked:
        return {}
    batches = list(WorkBatch.objects.filter(pk__in=asked).select_related("contract", "contract_version"))
    bulk = getattr(quality, "multipliers_for_batches", None)
    if bulk is not None:
        return dict(bulk(batches))
    return {batch.pk: quality.multiplier_for_batch(batch) for batch in batches}


def _earned_at_queryset():
    return WorkBatch.objects.filter(status__in=WorkBatch.ACCEPTED_STATES, earning__isnull=True).annotate(
        earned_at=Coalesce("appeal__decided_at", "reviewed_at", "updated_at")
    )


def _ledger_accounts(codes: Iterable[str], currency: str) -> dict[str, Any]:
    """code -> LedgerAccount for the chart's codes in ``currency``, opening the missing ones in bulk:
    O(1) queries however many suppliers (``ledger.account`` is one code at a time). Codes are built
    here from organisations' public ids, so they are valid by construction."""
    from apps.ledger import codes as chart
    from apps.ledger import services as ledger
    from apps.ledger.models import LedgerAccount

    bulk = getattr(ledger, "accounts", None)
    wanted = sorted(set(codes))
    if bulk is not None:
        return bulk(wanted, currency=currency)
    found = {a.code: a for a in LedgerAccount.objects.filter(code__in=wanted, currency=currency)}
    missing = [c for c in wanted if c not in found]
    if missing:
        suffixes = {c.partition(":")[2] for c in missing if ":" in c}
        orgs = {str(o.public_id): o.pk for o in Organization.objects.filter(public_id__in=suffixes)}
        LedgerAccount.objects.bulk_create(
            [
                LedgerAccount(
                    code=c,
                    currency=currency,
                    kind=chart.account_type(c).kind,
                    name=chart.account_type(c).label,
                    organization_id=orgs.get(c.partition(":")[2]),
                )
                for c in missing
            ],
            ignore_conflicts=True,
        )
        found = {a.code: a for a in LedgerAccount.objects.filter(code__in=wanted, currency=currency)}
    return found


def post_accrual(accrual: Accrual, earnings: list[Earning]) -> Any:
    """Book a chunk of earnings: one balanced entry per currency of the chunk."""
    return _post_totals(
        accrual,
        (
            (e.currency, e._lab_public_id, e._supplier_public_id, e.gross_minor, e.fee_minor, e.net_minor, 1)
            for e in earnings
        ),
    )


def _post_totals(accrual: Accrual, rows: Iterable[tuple[str, Any, Any, int, int, int, int]]) -> Any:
    """Book (currency, lab public id, supplier public id, gross, fee, net, earning count) rows -- single
    earnings or sums of them -- as one balanced entry per currency."""
    from apps.ledger import services as ledger

    by_currency: dict[str, list[tuple]] = defaultdict(list)
    for row in rows:
        by_currency[row[0]].append(row)
    entry = None
    for currency, rows_ in sorted(by_currency.items()):
        receivable: dict[str, int] = defaultdict(int)
        payable: dict[str, int] = defaultdict(int)
        fees = count = 0
        for _, lab_public_id, supplier_public_id, gross, fee, net, n in rows_:
            count += n
            receivable[f"lab_receivable:{lab_public_id}"] += gross
            payable[f"payee_payable:{supplier_public_id}"] += net
            fees += fee
        accounts = _ledger_accounts([*receivable, *payable, "platform_fee_revenue"], currency)
        legs = [ledger.Leg(accounts[c], amount) for c, amount in sorted(receivable.items()) if amount]
        legs += [ledger.Leg(accounts[c], -amount) for c, amount in sorted(payable.items()) if amount]
        if fees:
            legs.append(ledger.Leg(accounts["platform_fee_revenue"], -fees))
        if not legs:
            continue
        entry = ledger.post(
            description=f"Earnings accrued: {count} accepted batches",
            currency=currency,
            legs=legs,
            idempotency_key=f"accrual:{accrual.public_id}:{currency}",
            source_type="payments.accrual",
            source_id=str(accrual.public_id),
        )
    return entry


def _build(row: dict, quality: Any, fee_bps: int) -> Earning:
    multiplier = Decimal(quality.multiplier) if quality is not None else ONE
    units = row["accepted_units"] if row["accepted_units"] is not None else row["unit_count"]
    split = compute_split(
        unit_rate=row["unit_rate"], units=units, multiplier=multiplier, currency=row["currency"], fee_bps=fee_bps
    )
    earning = Earning(
        batch_id=row["pk"],
        contract_id=row["contract_id"],
        supplier_id=row["supplier_id"],
        lab_id=row["lab_id"],
        currency=row["currency"],
        unit_rate=row["unit_rate"],
        units=units,
        multiplier=multiplier,
        multiplier_basis=quality.basis if quality is not None else "no quality-pay terms",
        quality_snapshot_public_id=getattr(quality, "snapshot_public_id", None),
        gold_accuracy=getattr(quality, "gold_accuracy", None),
        fee_bps=fee_bps,
        gross_minor=split.gross_minor,
        fee_minor=split.fee_minor,
        net_minor=split.net_minor,
        earned_on=timezone.localtime(row["earned_at"]).date(),
    )
    earning._lab_public_id = row["lab_public_id"]
    earning._supplier_public_id = row["supplier_public_id"]
    return earning


def pending_rows(*, until: date | None = None, batch_ids: Iterable[int] | None = None):
    """The accepted batches that have not earned yet, as plain rows (what ``_build`` and the SQL path
    read), ordered by contract so a chunk's earnings belong to few suppliers and its ledger entry has
    few legs. Plain rows, not model instances: five fewer objects per batch (the accrual is benchmarked)."""
    base = _earned_at_queryset()
    if until is not None:
        end = timezone.make_aware(datetime.combine(until, time.max))
        base = base.filter(earned_at__lte=end)
    if batch_ids is not None:
        base = base.filter(pk__in=list(batch_ids))
    return base.values(
        "pk",
        "contract_id",
        "earned_at",
        "accepted_units",
        "unit_count",
        supplier_id=F("contract__supplier_id"),
        lab_id=F("contract__lab_id"),
        supplier_public_id=F("contract__supplier__public_id"),
        lab_public_id=F("contract__lab__public_id"),
        unit_rate=F("contract_version__unit_rate"),
        currency=F("contract_version__currency"),
        quality_pay=F("contract_version__quality_pay"),
    ).order_by("contract_id", "pk")


def accrue_earnings(*, until: date | None = None, batch_ids: Iterable[int] | None = None, chunk: int = CHUNK) -> int:
    """Create the missing earnings of accepted batches (accepted on or before ``until``, if given),
    chunk by chunk, each chunk booked in the ledger in the same transaction. Idempotent: a batch that
    already earned is skipped; a chunk that raced another accrual is retried. Returns how many
    earnings were created."""
    fee_bps = settings.PLATFORM_FEE_BPS
    base = pending_rows(until=until, batch_ids=batch_ids)
    if connection.vendor == "postgresql":
        # One read of the light keys (what the quality lookup needs), then chunks by id: paging the
        # joined rows by keyset re-ran the anti-join and the sort for every chunk.
        keys = list(base.values("pk", "quality_pay"))
        return sum(_accrue_chunk_sql(keys[i : i + chunk], fee_bps) for i in range(0, len(keys), chunk))
    created = 0
    after: tuple[int, int] | None = None
    while True:
        page = base
        if after is not None:
            page = base.filter(Q(contract_id__gt=after[0]) | Q(contract_id=after[0], pk__gt=after[1]))
        batches = list(page[:chunk])
        if not batches:
            return created
        after = (batches[-1]["contract_id"], batches[-1]["pk"])
        for attempt in (1, 2):
            try:
                created += _accrue_chunk(batches, fee_bps)
                break
            except IntegrityError:
                if attempt == 2:
                    raise
                # Another accrual earned some of these batches first: take only what is still missing.
                batches = list(base.filter(pk__in=[b["pk"] for b in batches]))


def _accrue_chunk(batches: list[dict], fee_bps: int) -> int:
    if connection.vendor == "postgresql":
        return _accrue_chunk_sql(batches, fee_bps)
    qualities = _multipliers(batches)
    earnings = [_build(b, qualities.get(b["pk"]), fee_bps) for b in batches]
    with transaction.atomic():
        accrual = Accrual.objects.create(earning_count=len(earnings))
        for earning in earnings:
            earning.accrual = accrual
        Earning.objects.bulk_create(earnings, batch_size=CHUNK)
        entry = post_accrual(accrual, earnings)
        if entry is not None:
            Accrual.objects.filter(pk=accrual.pk).update(journal_entry_public_id=entry.public_id)
    return len(earnings)


def _scale_sql(currency: str) -> str:
    """``10 ** exponent(currency)`` as SQL over the column or expression ``currency`` (``apps.core.money``
    is the source of the exponents)."""
    from apps.core import money

    cases: dict[int, list[str]] = defaultdict(list)
    for code, exp in sorted(money._EXPONENTS.items()):
        cases[exp].append(code)
    whens = " ".join(
        f"WHEN {currency} IN ({', '.join(repr(c) for c in codes)}) THEN {10**exp}"
        for exp, codes in sorted(cases.items())
    )
    return f"(CASE {whens} ELSE 100 END)"


def gross_sql(*, rate: str, units: str, multiplier: str, currency: str) -> str:
    """SQL for ``compute_split``'s gross: round half up (rate x units x multiplier x 10^exponent).
    PostgreSQL's numeric ``round()`` rounds half away from zero: ROUND_HALF_UP on these non-negative
    amounts, with exact numeric arithmetic like Decimal's."""
    return f"round(({rate}) * ({units}) * ({multiplier}) * {_scale_sql(currency)})::bigint"


def fee_sql(*, gross: str, bps: str) -> str:
    """SQL for ``compute_split``'s fee: ``Money.split_bps`` gives the fee the largest-remainder share of
    two parts, which is gross x bps / 10000 rounded half up (a tie goes to the fee, the earlier part):
    (gross x bps + 5000) div 10000 in integers (numeric, so that gross x bps cannot overflow bigint).
    The net is gross - fee."""
    return f"div(({gross})::numeric * ({bps}) + 5000, 10000)::bigint"


# The same maths as ``compute_split`` (the reference; tests/payments/test_earnings_sql.py compares them).
_INSERT_TEMPLATE = """
INSERT INTO payments_earning (
    public_id, created_at, updated_at, batch_id, contract_id, supplier_id, lab_id, accrual_id, currency,
    unit_rate, units, multiplier, multiplier_basis, quality_snapshot_public_id, gold_accuracy, fee_bps,
    gross_minor, fee_minor, net_minor, earned_on, status
)
SELECT gen_random_uuid(), %(now)s, %(now)s, s.batch_id, s.contract_id, s.supplier_id, s.lab_id, %(accrual)s,
    s.currency, s.unit_rate, s.units, s.multiplier, s.basis, s.snapshot, s.gold, %(bps)s,
    s.gross, {fee}, s.gross - {fee}, s.earned_on, 'pending'
FROM (
    SELECT b.id AS batch_id, b.contract_id, c.supplier_id, c.lab_id, v.currency, v.unit_rate,
        COALESCE(b.accepted_units, b.unit_count) AS units,
        COALESCE(q.multiplier, 1) AS multiplier, COALESCE(q.basis, %(no_terms)s) AS basis,
        q.snapshot, q.gold,
        {gross} AS gross,
        (COALESCE(a.decided_at, b.reviewed_at, b.updated_at) AT TIME ZONE %(tz)s)::date AS earned_on
    FROM work_workbatch b
    JOIN contracts_contract c ON c.id = b.contract_id
    JOIN contracts_contractversion v ON v.id = b.contract_version_id
    LEFT JOIN work_appeal a ON a.batch_id = b.id
    LEFT JOIN unnest(%(q_ids)s::bigint[], %(q_multipliers)s::numeric[], %(q_bases)s::text[],
                     %(q_snapshots)s::uuid[], %(q_gold)s::numeric[]) AS q(batch_id, multiplier, basis, snapshot, gold)
        ON q.batch_id = b.id
    JOIN unnest(%(ids)s::bigint[]) AS chunk(id) ON chunk.id = b.id
    WHERE b.status = ANY(%(states)s)
    ORDER BY b.contract_id, b.id
) s
ON CONFLICT (batch_id) DO NOTHING
"""
_INSERT_SQL = _INSERT_TEMPLATE.format(
    gross=gross_sql(
        rate="v.unit_rate",
        units="COALESCE(b.accepted_units, b.unit_count)",
        multiplier="COALESCE(q.multiplier, 1)",
        currency="v.currency",
    ),
    fee=fee_sql(gross="s.gross", bps="%(bps)s"),
)  # fixed fragments of this module; every value is a query parameter

_TOTALS_SQL = """
SELECT e.currency, lab.public_id, supplier.public_id,
    SUM(e.gross_minor)::bigint, SUM(e.fee_minor)::bigint, SUM(e.net_minor)::bigint, COUNT(*)
FROM payments_earning e
JOIN accounts_organization lab ON lab.id = e.lab_id
JOIN accounts_organization supplier ON supplier.id = e.supplier_id
WHERE e.accrual_id = %s
GROUP BY e.currency, lab.public_id, supplier.public_id
"""


def _accrue_chunk_sql(batches: list[dict], fee_bps: int) -> int:
    """PostgreSQL: the chunk's earnings in one ``INSERT ... SELECT`` computed from the batches (no model
    instances), its ledger entry from one aggregate over what was inserted. A batch another accrual
    earned first is skipped (``ON CONFLICT DO NOTHING``), so there is nothing to retry."""
    qualities = _multipliers(batches)
    q_ids = sorted(qualities)
    params = {
        "now": timezone.now(),
        "bps": fee_bps,
        "no_terms": "no quality-pay terms",
        "tz": timezone.get_current_timezone_name(),
        "ids": [b["pk"] for b in batches],
        "states": list(WorkBatch.ACCEPTED_STATES),
        "q_ids": q_ids,
        "q_multipliers": [Decimal(qualities[i].multiplier) for i in q_ids],
        "q_bases": [qualities[i].basis for i in q_ids],
        "q_snapshots": [getattr(qualities[i], "snapshot_public_id", None) for i in q_ids],
        "q_gold": [getattr(qualities[i], "gold_accuracy", None) for i in q_ids],
    }
    with transaction.atomic():
        accrual = Accrual.objects.create(earning_count=0)
        with connection.cursor() as cursor:
            cursor.execute(_INSERT_SQL, {**params, "accrual": accrual.pk})
            created = cursor.rowcount
            if not created:
                accrual.delete()
                return 0
            cursor.execute(_TOTALS_SQL, [accrual.pk])
            totals = cursor.fetchall()
        accrual.earning_count = created
        entry = _post_totals(accrual, totals)
        Accrual.objects.filter(pk=accrual.pk).update(
            earning_count=created, journal_entry_public_id=entry.public_id if entry is not None else None
        )
    return created


def on_domain_event(*, event_type: str, obj: Any, **_: Any) -> None:
    """Subscriber of ``domain_event``: a batch accepted (or an appeal overturned) earns now, in the
    same transaction as the decision."""
    if event_type == "batch.accepted":
        batch_id = getattr(obj, "pk", None)
    elif event_type == "appeal.decided":
        batch_id = getattr(obj, "batch_id", None)
    else:
        return
    if batch_id is not None:
        accrue_earnings(batch_ids=[batch_id])


@dataclass(frozen=True)
class ExpertShare:
    annotator_id: int
    judgments: int
    net_minor: int


def expert_shares(earning: Earning) -> list[ExpertShare]:
    """The supplier's net of one batch split over its annotators by judgment count (adds up exactly).
    A batch without judgments has no shares."""
    counts = list(
        Judgment.objects.filter(batch_id=earning.batch_id)
        .values("annotator_id")
        .annotate(n=Count("id"))
        .order_by("annotator_id")
    )
    if not counts:
        return []
    parts = Money(earning.net_minor, earning.currency).allocate([c["n"] for c in counts])
    return [ExpertShare(c["annotator_id"], c["n"], p.minor) for c, p in zip(counts, parts, strict=True)]
