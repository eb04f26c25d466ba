"""Payout-run benchmark: 100,000 accepted batches across 5,000 suppliers computed into a draft run on
PostgreSQL (accrual of every earning, its ledger entries, the lines), then the same batch count across
1,000 suppliers, to show that the SQL query count does not grow with the number of suppliers.

    .venv/bin/python bench/payouts.py [--batches 100000] [--suppliers 5000 1000] [--keep]

Needs a PostgreSQL server; by default postgres@127.0.0.1:5432 (BENCH_DATABASE_URL: a URL to the
server's maintenance database, by a role that may create databases). Each scale runs in its own
child process on a fresh throwaway database (BENCH_DB_NAME, default bench_payouts), migrated, loaded
with bulk_create, measured, and dropped at the end (unless --keep).

Reported per scale: wall time of ``create_run`` (which accrues the earnings first), the number of SQL
queries it ran (CaptureQueriesContext), the child's peak RSS (and before the run) and the load average. Target: under 20 s for 100,000 batches / 5,000 suppliers.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The throwaway-database helpers are bench/ingest.py's, shared by every PostgreSQL benchmark.
from ingest import DEFAULT_SERVER, ROOT, _db_url, _recreate, _server_ok  # noqa: E402

TARGET_SECONDS = 20.0


def _load(batches: int, suppliers: int):
    """One lab, ``suppliers`` vendors each with an active contract (no quality-pay bands: multiplier 1),
    ``batches`` accepted batches spread evenly; a finance user. Bulk inserts only."""
    import hashlib
    import uuid
    from datetime import date, timedelta
    from decimal import Decimal

    from django.utils import timezone

    from apps.accounts.models import Organization, User
    from apps.contracts.models import Contract, ContractVersion
    from apps.work.models import WorkBatch
    from tests.factories import ProjectFactory

    lab = Organization.objects.create(name="Bench Lab", slug="bench-lab", kind="lab")
    project = ProjectFactory(lab=lab, status="in_progress")
    vendors = Organization.objects.bulk_create(
        [Organization(name=f"Vendor {i}", slug=f"vendor-{i}", kind="vendor") for i in range(suppliers)]
    )
    contracts = Contract.objects.bulk_create(
        [Contract(project=project, lab=lab, supplier=v, status="active") for v in vendors]
    )
    today = timezone.localdate()
    versions = ContractVersion.objects.bulk_create(
        [
            ContractVersion(
                contract=c, number=1, status="effective", unit_rate=Decimal("1.2345"), currency="USD",
                volume_cap=1_000_000, budget_cap_minor=10**12, quality_pay=[], label_set=["A", "B"],
                starts_on=today, ends_on=today + timedelta(days=90), effective_from=today,
                terms_hash=hashlib.sha256(str(c.pk).encode()).hexdigest(),
            )
            for c in contracts
        ]
    )  # fmt: skip
    for contract, version in zip(contracts, versions, strict=True):
        contract.current_version = version
    Contract.objects.bulk_update(contracts, ["current_version"], batch_size=2000)
    now = timezone.now()
    rows = []
    for i in range(batches):
        k = i % suppliers
        units = 10 + i % 90
        rows.append(
            WorkBatch(
                contract=contracts[k], contract_version=versions[k], client_batch_key=str(uuid.uuid4()),
                period_start=date(2025, 3, 1), period_end=date(2025, 3, 7), unit_count=units,
                content_sha256="0" * 64, status="accepted", accepted_units=units, reviewed_at=now,
                review_due_at=now + timedelta(days=5),
            )
        )  # fmt: skip
    WorkBatch.objects.bulk_create(rows, batch_size=5000)
    return User.objects.create_user("finance@bench.test", "x", staff_role="finance")


def child(args: argparse.Namespace) -> dict:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.local")
    import django

    django.setup()
    from datetime import date

    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.payments.services import payouts

    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    finance = _load(args.batches, args.child_suppliers)
    load_s = time.perf_counter() - t0

    # Wall time without tracemalloc (it slows Python several-fold); memory from the peak RSS of this child.
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # Phases: the accrual (earnings + ledger entries, committed chunk by chunk) and the run itself (lines,
    # claim, commit), timed by wrapping the accrual that create_run calls first.
    accrual = {"seconds": 0.0, "queries": 0}
    accrue = payouts.accrue_earnings

    def timed_accrue(**kwargs):
        started, before = time.perf_counter(), len(queries)
        try:
            return accrue(**kwargs)
        finally:
            accrual["seconds"] += time.perf_counter() - started
            accrual["queries"] += len(queries) - before

    payouts.accrue_earnings = timed_accrue
    t0 = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        run = payouts.create_run(
            actor=finance, period_start=date(2000, 1, 1), period_end=date(2100, 1, 1), currency="USD"
        )
    wall = time.perf_counter() - t0
    payouts.accrue_earnings = accrue
    load = os.getloadavg()[0]
    return {
        "suppliers": args.child_suppliers,
        "batches": args.batches,
        "lines": run.line_count,
        "earnings": run.earning_count,
        "total_minor": run.total_minor,
        "load_seconds": round(load_s, 2),
        "create_run_seconds": round(wall, 2),
        "queries": len(queries),
        "accrual_seconds": round(accrual["seconds"], 2),
        "accrual_queries": accrual["queries"],
        "rss_before_mb": round(rss_before, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_average": round(load, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=100_000)
    parser.add_argument("--suppliers", type=int, nargs="+", default=[5000, 1000])
    parser.add_argument("--keep", action="store_true", help="keep the last database")
    parser.add_argument("--child-suppliers", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child_suppliers:
        print(json.dumps(child(args)))
        return 0

    server = os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER)
    name = os.environ.get("BENCH_DB_NAME", "bench_payouts")
    if _server_ok(server) is None:  # it says why
        return 0
    results = []
    for suppliers in args.suppliers:
        _recreate(server, name)
        env = {**os.environ, "DATABASE_URL": _db_url(server, name), "CELERY_BROKER_URL": ""}
        out = subprocess.run(  # noqa: S603 - this very script, our own arguments
            [sys.executable, __file__, "--batches", str(args.batches), "--child-suppliers", str(suppliers)],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if out.returncode != 0:
            print(out.stdout, out.stderr, sep="\n")
            return 1
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    if not args.keep:
        _recreate(server, name, drop_only=True)

    print(f"Payout run benchmark: {args.batches:,} accepted batches, PostgreSQL")
    print(
        f"{'suppliers':>10} {'lines':>7} {'create_run s':>13} {'(accrual s':>11} {'run s)':>7} {'queries':>8} "
        f"{'(accrual)':>10} {'RSS MB (before)':>16} {'load':>5}"
    )
    for r in results:
        print(
            f"{r['suppliers']:>10,} {r['lines']:>7,} {r['create_run_seconds']:>13} {r['accrual_seconds']:>11} "
            f"{round(r['create_run_seconds'] - r['accrual_seconds'], 2):>7} {r['queries']:>8} "
            f"{r['accrual_queries']:>10} {r['peak_rss_mb']:>7} ({r['rss_before_mb']:>6}) {r['load_average']:>5}"
        )
    counts = {r["queries"] for r in results}
    worst = max(r["create_run_seconds"] for r in results)
    print(f"query count {'constant' if len(counts) == 1 else 'VARIES'} across supplier counts: {sorted(counts)}")
    print(f"target < {TARGET_SECONDS:.0f} s: {'met' if worst < TARGET_SECONDS else 'MISSED'} (worst {worst} s)")
    return 0 if len(counts) == 1 and worst < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
