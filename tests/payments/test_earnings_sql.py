"""The PostgreSQL accrual computes earnings in SQL (``INSERT ... SELECT``); ``compute_split`` and
``_build`` (the Python path, used on SQLite) stay the reference. These tests check that both give
exactly the same rows and the same minor units, multipliers included.

Run with DATABASE_URL=postgres://...; on SQLite these tests are skipped."""

import random
import uuid
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import assume, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from apps.ledger.models import JournalEntry
from apps.payments.models import Accrual, Earning
from apps.payments.services import earnings
from apps.payments.services.earnings import accrue_earnings, compute_split, fee_sql, gross_sql
from tests.payments.fixtures import make_batch, supplier_contract

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the SQL accrual path runs on PostgreSQL (set DATABASE_URL=postgres://...)",
)

RATES = ["0.0001", "0.0050", "0.3333", "1.2345", "2.0000", "150.0000", "99999.9999"]
UNITS = [1, 2, 3, 7, 99, 333, 12_345]
MULTIPLIERS = [None, "0", "0.3333", "0.5000", "0.9000", "1.0000", "1.1000", "1.2345", "9.9999"]


@pytest.mark.django_db
@hsettings(max_examples=300, deadline=None)
@given(
    rate=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("99999999.9999"), places=4),
    units=st.integers(min_value=0, max_value=10_000_000),
    multiplier=st.decimals(min_value=Decimal("0"), max_value=Decimal("9.9999"), places=4),
    bps=st.integers(min_value=0, max_value=10_000),
    currency=st.sampled_from(["USD", "JPY", "KWD", "EUR"]),
)
def test_the_sql_expressions_equal_compute_split(rate, units, multiplier, bps, currency):
    split = compute_split(unit_rate=rate, units=units, multiplier=multiplier, currency=currency, fee_bps=bps)
    assume(split.gross_minor < 2**63)  # the column is a bigint on both paths
    gross = gross_sql(rate="%(rate)s::numeric", units="%(units)s", multiplier="%(m)s::numeric", currency="%(cur)s")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT g, {fee_sql(gross='g', bps='%(bps)s')} FROM (SELECT {gross} AS g) x",
            {"rate": rate, "units": units, "m": multiplier, "cur": currency, "bps": bps},
        )
        gross_minor, fee_minor = cursor.fetchone()
    assert (gross_minor, fee_minor, gross_minor - fee_minor) == (split.gross_minor, split.fee_minor, split.net_minor)


@pytest.mark.django_db
@pytest.mark.parametrize("bps", [0, 1, 1500, 3333, 5000, 9999, 10_000])
def test_the_sql_accrual_writes_what_the_python_path_would(lab, settings, monkeypatch, bps):
    settings.PLATFORM_FEE_BPS = bps
    rng = random.Random(bps)
    contracts = [supplier_contract(lab, rate=rate, currency=cur) for rate in RATES for cur in ("USD", "JPY")]
    a_week_ago = timezone.now() - timedelta(days=7, hours=5)
    batches = []
    for contract in contracts:
        for _ in range(3):
            units = rng.choice(UNITS)
            status = rng.choice(["accepted", "partially_accepted", "overturned", "rejected"])
            accepted = rng.randint(0, units) if status == "partially_accepted" else None
            batches.append(
                make_batch(contract, units=units, status=status, accepted_units=accepted, reviewed_at=a_week_ago)
            )
    qualities = {}
    for batch in batches:
        m = rng.choice(MULTIPLIERS)
        if m is not None:
            qualities[batch.pk] = SimpleNamespace(
                multiplier=Decimal(m),
                basis=rng.choice(["batch", "contract"]),
                snapshot_public_id=rng.choice([None, uuid.uuid4()]),
                gold_accuracy=rng.choice([None, Decimal("0.9123")]),
            )
    monkeypatch.setattr(
        earnings, "_multipliers", lambda rows: {r["pk"]: qualities[r["pk"]] for r in rows if r["pk"] in qualities}
    )
    expected = {r["pk"]: earnings._build(r, qualities.get(r["pk"]), bps) for r in earnings.pending_rows()}
    assert expected, "the sample has earning batches"

    assert accrue_earnings(chunk=7) == len(expected)

    fields = [
        "batch_id", "contract_id", "supplier_id", "lab_id", "currency", "unit_rate", "units", "multiplier",
        "multiplier_basis", "quality_snapshot_public_id", "gold_accuracy", "fee_bps", "gross_minor", "fee_minor",
        "net_minor", "earned_on", "status",
    ]  # fmt: skip
    stored = {e.batch_id: e for e in Earning.objects.all()}
    assert set(stored) == set(expected)
    for pk, reference in expected.items():
        assert [getattr(stored[pk], f) for f in fields] == [getattr(reference, f) for f in fields], pk
    # Each chunk is booked by one entry per currency whose debits are the chunk's gross in that currency.
    for accrual in Accrual.objects.all():
        rows = list(Earning.objects.filter(accrual=accrual))
        assert accrual.earning_count == len(rows)
        for currency in {e.currency for e in rows}:
            gross = sum(e.gross_minor for e in rows if e.currency == currency)
            entry = JournalEntry.objects.filter(idempotency_key=f"accrual:{accrual.public_id}:{currency}").first()
            debits = sum(p.amount for p in entry.postings.all() if p.amount > 0) if entry else 0
            assert debits == gross


@pytest.mark.django_db
def test_a_batch_earned_meanwhile_is_skipped_not_doubled(lab, settings):
    settings.PLATFORM_FEE_BPS = 1500
    contract = supplier_contract(lab)
    first, second = make_batch(contract, units=10), make_batch(contract, units=20)
    rows = list(earnings.pending_rows())
    assert accrue_earnings(batch_ids=[first.pk]) == 1
    # A concurrent accrual took ``first`` after these rows were read: the chunk earns only ``second``.
    assert earnings._accrue_chunk(rows, 1500) == 1
    assert Earning.objects.filter(batch__in=[first, second]).count() == 2
    assert sorted(Accrual.objects.values_list("earning_count", flat=True)) == [1, 1]
