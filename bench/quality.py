"""Quality benchmark through the database: the full recompute service (read 1,000,000 judgments from
PostgreSQL, score, write the snapshots, consensus and audits) and an incremental 10,000-judgment batch.

    .venv/bin/python bench/quality.py [--items 250000] [--runs 3] [--keep]

Data as issue 7 says (``apps/quality/numeric/synthetic.py``): 1,000 annotators, 250,000 items, overlap 4,
5 classes (a rating task, labels "1".."5"), 5% gold = 1,000,000 judgments, stored as real rows
(Organization, Project, Contract, 100 WorkBatches of 10,000 judgments, Judgment, GoldItem) loaded with COPY
into a throwaway database (BENCH_DB_NAME, default bench_quality) on BENCH_DATABASE_URL (default
postgres@127.0.0.1:5432), dropped at the end. The numeric core alone (and Dawid-Skene against crowd-kit)
is ``bench/quality_core.py``.

Each measurement is its own child process forked from a fork server started before this process grows,
so its peak RSS (getrusage ru_maxrss, Django and numpy included) is its own. Reported: the median wall
time of ``--runs`` full recomputes (each in a fresh process) with the load/compute/write split, and the
median of ``--runs`` incremental batches scored in one warm process (after one warm-up batch).
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import multiprocessing.forkserver
import os
import statistics
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import ROOT, _machine, _peak_mb, _recreate, bench_environment  # noqa: E402

BATCH = 10_000
TARGET_FULL_S = 3.0
TARGET_PEAK_MB = 1024
TARGET_BATCH_S = 0.100


# --- Children ----------------------------------------------------------------------------------------------


def child_run(kind: str, env: dict[str, str], options: dict, results) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        import django

        django.setup()
        results.send(child_full(options) if kind == "full" else child_incremental(options))
    except BaseException:
        results.send({"error": traceback.format_exc()})
    finally:
        results.close()


def child_full(options: dict) -> dict:
    from apps.contracts.models import Contract
    from apps.quality import services

    contract = Contract.objects.get(pk=options["contract"])
    started = time.perf_counter()
    run = services.score_contract(contract=contract)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "peak_mb": _peak_mb(),
        "load_ms": run.load_ms,
        "compute_ms": run.compute_ms,
        "write_ms": run.write_ms,
        "n_judgments": run.n_judgments,
        "n_snapshots": run.n_snapshots,
        "status": run.status,
    }


def child_incremental(options: dict) -> dict:
    from apps.quality import services
    from apps.work.models import WorkBatch

    batches = list(WorkBatch.objects.filter(contract_id=options["contract"]).order_by("id")[: options["runs"] + 1])
    if len(batches) < 2:
        raise SystemExit(f"the incremental measurement needs 2+ batches of {BATCH:,} judgments: raise --items")
    services.score_batch(batches[0])  # warm-up: first queries, imports
    times = []
    for batch in batches[1:]:
        started = time.perf_counter()
        run = services.score_batch(batch)
        times.append(time.perf_counter() - started)
    return {"times": times, "peak_mb": _peak_mb(), "n_judgments": run.n_judgments}


def _run_child(context, kind: str, env: dict, **options) -> dict:
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=child_run, args=(kind, env, options, send))
    child.start()
    send.close()
    result = receive.recv()
    child.join()
    if "error" in result or child.exitcode != 0:
        raise SystemExit(f"the {kind} run failed: {result.get('error', child.exitcode)}")
    return result


# --- Parent: set up -------------------------------------------------------------------------------------------


def _setup(n_items: int) -> tuple[int, int]:
    """Rows through the ORM for the few objects, COPY for the judgments; returns (contract pk, judgments)."""
    from datetime import timedelta
    from decimal import Decimal

    import numpy as np
    from django.db import connection
    from django.utils import timezone

    from apps.accounts.models import Membership, Organization, User
    from apps.accounts.roles import OrgKind, Role
    from apps.contracts.models import Contract, ContractVersion
    from apps.experts.models import ExpertProfile
    from apps.projects.models import GuidelineVersion, Project
    from apps.quality.numeric.synthetic import generate
    from apps.work.models import GoldItem, WorkBatch

    data = generate(n_items=n_items)
    j = data.judgments
    labels = ["1", "2", "3", "4", "5"]

    lab = Organization.objects.create(name="Bench Lab", slug="bench-lab", kind=OrgKind.LAB)
    vendor = Organization.objects.create(name="Bench Vendor", slug="bench-vendor", kind=OrgKind.VENDOR)
    manager = User.objects.create_user("manager@bench.test")
    Membership.objects.create(user=User.objects.create_user("admin@bench.test"), organization=lab, role=Role.ADMIN)
    Membership.objects.create(user=manager, organization=vendor, role=Role.MANAGER)
    project = Project.objects.create(lab=lab, title="Bench ratings", task_type="rating")
    guideline = GuidelineVersion.objects.create(project=project, number=1, body_markdown="Rate.", body_html="<p>R</p>")
    contract = Contract.objects.create(project=project, lab=lab, supplier=vendor, status="active")
    today = timezone.localdate()
    version = ContractVersion.objects.create(
        contract=contract, number=1, status="effective", unit_rate=Decimal("1.0000"), currency="USD",
        volume_cap=10**9, budget_cap_minor=10**12, quality_pay=[["0.95", "1.10"], ["0.85", "1.00"], ["0.75", "0.90"]],
        sla_min_gold_accuracy=Decimal("0.8000"), label_set=labels, starts_on=today,
        ends_on=today + timedelta(days=90), terms_hash="0" * 64,
    )  # fmt: skip
    Contract.objects.filter(pk=contract.pk).update(current_version=version)

    users = [User(email=f"expert{i}@bench.test") for i in range(j.n_annotators)]
    for user in users:
        user.set_unusable_password()
    users = User.objects.bulk_create(users)
    ExpertProfile.objects.bulk_create([ExpertProfile(user=u) for u in users])
    user_pk = np.array([u.pk for u in users], dtype=np.int64)

    n = j.n
    n_batches = (n + BATCH - 1) // BATCH
    batches = WorkBatch.objects.bulk_create(
        [
            WorkBatch(
                contract=contract,
                contract_version=version,
                client_batch_key=f"bench-{b}",
                period_start=today,
                period_end=today,
                unit_count=BATCH,
                judgment_count=min(BATCH, n - b * BATCH),
                guideline_version=guideline,
                review_due_at=timezone.now() + timedelta(days=5),
            )  # fmt: skip
            for b in range(n_batches)
        ]
    )
    batch_pk = np.array([b.pk for b in batches], dtype=np.int64)
    GoldItem.objects.bulk_create(
        [
            GoldItem(project=project, item_id=f"item-{i:07d}", answer=labels[g])
            for i, g in enumerate(data.gold)
            if g >= 0
        ],
        batch_size=5000,
    )

    order = np.where(j.order >= 0, j.order.astype(np.int64), -1)
    seconds = np.nan_to_num(j.seconds, nan=-1).astype(np.int64)
    columns = "batch_id, item_id, annotator_id, label, displayed_order, seconds_spent, comment"
    buf = io.StringIO()
    b_of = batch_pk[np.arange(n) // BATCH]
    a_of = user_pk[j.annotator]
    for k in range(n):
        o = order[k]
        s = seconds[k]
        buf.write(
            f"{b_of[k]}\titem-{j.item[k]:07d}\t{a_of[k]}\t{j.label[k]}\t{o if o >= 0 else '\\N'}\t"
            f"{s if s >= 0 else '\\N'}\t\n"
        )
    connection.ensure_connection()
    raw = connection.connection  # the psycopg connection under Django's wrapper
    with raw.cursor() as cur, cur.copy(f"COPY work_judgment ({columns}) FROM STDIN") as copy:
        copy.write(buf.getvalue())
    raw.commit()
    return contract.pk, n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=250_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    context = multiprocessing.get_context("forkserver")
    multiprocessing.forkserver.ensure_running()

    found = bench_environment("bench_quality", CELERY_TASK_ALWAYS_EAGER="true")
    if found is None:
        return 0
    server, name, version, db_url, env = found

    print(f"Quality benchmark: {args.items:,} items x 4 = {args.items * 4:,} judgments, PostgreSQL {version}")
    print(f"Machine: {_machine()}")
    _recreate(server, name)
    try:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        contract, n = _setup(args.items)
        import psycopg

        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        from django.db import connection

        connection.close()
        print(f"Loaded {n:,} judgments in {(n + BATCH - 1) // BATCH} batches in {time.perf_counter() - started:.1f} s")

        full = []
        for run in range(args.runs):
            result = _run_child(context, "full", env, contract=contract)
            full.append(result)
            print(
                f"  full run {run + 1}: {result['seconds']:6.2f} s (read {result['load_ms'] / 1000:.2f}, compute "
                f"{result['compute_ms'] / 1000:.2f}, write {result['write_ms'] / 1000:.2f}), peak {result['peak_mb']:5.0f} MB, "
                f"{result['n_snapshots']:,} snapshots, {result['status']}"
            )
        inc = _run_child(context, "incremental", env, contract=contract, runs=args.runs)
        for i, seconds in enumerate(inc["times"]):
            print(f"  incremental batch {i + 1}: {seconds * 1000:6.1f} ms ({inc['n_judgments']:,} judgments)")
    finally:
        if not args.keep:
            _recreate(server, name, drop_only=True)
        else:
            print(f"Kept database {name}")

    full_s = statistics.median(r["seconds"] for r in full)
    peak = max(r["peak_mb"] for r in full)
    inc_s = statistics.median(inc["times"])
    print()
    ok_full = full_s < TARGET_FULL_S
    ok_peak = peak < TARGET_PEAK_MB
    ok_inc = inc_s < TARGET_BATCH_S
    print(f"full recompute, median of {args.runs}: {full_s:.2f} s (target < {TARGET_FULL_S:.0f} s): "
          f"{'PASS' if ok_full else 'FAIL'}")  # fmt: skip
    print(f"full recompute peak RSS, worst run: {peak:.0f} MB (target < {TARGET_PEAK_MB} MB): "
          f"{'PASS' if ok_peak else 'FAIL'}")  # fmt: skip
    print(f"incremental {BATCH:,}-judgment batch, median: {inc_s * 1000:.0f} ms (target < {TARGET_BATCH_S * 1000:.0f} ms): "
          f"{'PASS' if ok_inc else 'FAIL'}")  # fmt: skip
    return 0 if ok_full and ok_peak and ok_inc else 1


if __name__ == "__main__":
    sys.exit(main())
