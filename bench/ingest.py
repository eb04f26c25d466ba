"""Ingest benchmark: a 1,000,000-judgment JSONL batch through ``batch_submit`` into PostgreSQL,
against the physical limit measured in the same run: PostgreSQL COPY of the same rows from a file.

    .venv/bin/python bench/ingest.py [--rows 1000000] [--runs 3] [--keep]

Needs a PostgreSQL server; by default postgres@127.0.0.1:5432. Point it elsewhere with
BENCH_DATABASE_URL (a URL to the server's maintenance database, by a role that may create
databases), e.g. BENCH_DATABASE_URL=postgres://me:secret@db.example:5432/postgres. It creates a
throwaway database (BENCH_DB_NAME, default bench_ingest), migrates it, and drops it at the end.

Each measured run is its own child process, so its peak RSS (getrusage ru_maxrss) is its own. The
children are forked from a multiprocessing fork server started before this process grows: Linux
carries a process's peak RSS across fork and exec, so a child of the (large) parent would report
the parent's peak as its own.
Runs are interleaved (COPY, ingest, COPY, ingest, ...), the judgments table is emptied and a
checkpoint taken before each. Reported: rows/s and peak RSS per run, the medians and the ratio.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import multiprocessing.forkserver
import os
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
ANNOTATORS = 60
PER_ITEM = 3
TARGET_RATIO = 0.40
TARGET_PEAK_MB = 300


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _db_url(server: str, name: str) -> str:
    base, _, _ = server.rpartition("/")
    return f"{base}/{name}"


# --- Children: one measured run each ------------------------------------------------------------------------


def child_run(kind: str, env: dict[str, str], options: dict, results) -> None:
    """Entry point of a measured child (forked from the fork server): run one measurement."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # the product's own output (task and e-mail logs) would interleave with the table
    os.dup2(devnull, 2)
    args = argparse.Namespace(**options)
    try:
        results.send(child_copy(args) if kind == "copy" else child_ingest(args))
    except BaseException:
        results.send({"error": traceback.format_exc()})
    finally:
        results.close()


def child_copy(args: argparse.Namespace) -> dict:
    """The physical limit: stream the prepared COPY file into the judgments table, in one transaction."""
    import psycopg

    columns = "batch_id, item_id, annotator_id, label, displayed_order, started_at, seconds_spent, comment"
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"COPY work_judgment ({columns}) FROM STDIN") as copy:
            with open(args.file, "rb") as source:
                while block := source.read(1024 * 1024):
                    copy.write(block)
        conn.commit()
        seconds = time.perf_counter() - started
        rows = conn.execute("SELECT count(*) FROM work_judgment").fetchone()[0]
    return {"rows": rows, "seconds": seconds, "peak_mb": _peak_mb()}


def child_ingest(args: argparse.Namespace) -> dict:
    """The product path: ``batch_submit`` of the JSONL file (parse, validate, COPY, audit, notify)."""
    import django

    django.setup()
    from apps.accounts.models import Organization, User
    from apps.contracts.models import Contract
    from apps.work import services

    contract = Contract.objects.select_related("project", "lab", "supplier").get(pk=args.contract)
    vendor = Organization.objects.get(pk=contract.supplier_id)
    manager = User.objects.get(email="manager@bench.test")
    with open(args.file, "rb") as upload:
        started = time.perf_counter()
        batch = services.batch_submit(
            actor=manager,
            organization=vendor,
            contract=contract,
            client_batch_key=f"bench-{args.run}",
            period_start=datetime(2025, 3, 1).date(),
            period_end=datetime(2025, 3, 31).date(),
            unit_count=args.rows,
            upload=upload,
            fmt="jsonl",
        )
        seconds = time.perf_counter() - started
    return {"rows": batch.judgment_count, "seconds": seconds, "peak_mb": _peak_mb()}


# --- Parent: set up, generate, measure, report ------------------------------------------------------------------


def _server_ok(server: str) -> str | None:
    try:
        import psycopg

        with psycopg.connect(server, connect_timeout=3) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]
    except Exception as exc:  # any failure means: no server to benchmark against
        print(f"SKIPPED: no PostgreSQL at {server} ({type(exc).__name__}: {str(exc).strip()[:200]}).")
        print("Start one, or point the benchmark at another with BENCH_DATABASE_URL=postgres://user@host:port/postgres")
        return None


def bench_environment(default_name: str, **defaults: str) -> tuple[str, str, str, str, dict] | None:
    """The throwaway database of a PostgreSQL benchmark and the environment it and its children run in:
    ``(server, database name, server version, database URL, env)``, or None (having said why) when the
    server is not usable. ``BENCH_DATABASE_URL`` picks the server, ``BENCH_DB_NAME`` the database;
    ``defaults`` are further environment defaults (e.g. eager Celery). This process's environment gets
    the database and settings too, for its own ``django.setup()``."""
    server = os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER)
    name = os.environ.get("BENCH_DB_NAME", default_name)
    version = _server_ok(server)
    if version is None:
        return None
    db_url = _db_url(server, name)
    env = {**os.environ, "DATABASE_URL": db_url, "DJANGO_SETTINGS_MODULE": "marketplace.settings.local"}
    env.setdefault("DJANGO_DEBUG", "false")  # DEBUG keeps every query in memory
    env.setdefault("EMAIL_URL", "dummymail://")  # e-mails the measured services send go nowhere
    for key, value in defaults.items():
        env.setdefault(key, value)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG", "EMAIL_URL")})
    return server, name, version, db_url, env


def _recreate(server: str, name: str, *, drop_only: bool = False) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _setup_fixtures(rows: int) -> tuple[int, int, list[tuple[int, str]]]:
    """A lab, a vendor with a manager, a project, an active contract (labels A, B, tie) and the
    assigned experts. Returns (contract pk, COPY target batch pk, [(expert pk, public id)])."""
    from decimal import Decimal

    from django.utils import timezone

    from apps.accounts.models import Membership, Organization, User
    from apps.accounts.roles import OrgKind, Role
    from apps.contracts.models import Assignment, Contract, ContractVersion
    from apps.experts.models import ExpertProfile
    from apps.projects.models import GuidelineVersion, Project
    from apps.work.models import WorkBatch

    lab = Organization.objects.create(name="Bench Lab", slug="bench-lab", kind=OrgKind.LAB)
    vendor = Organization.objects.create(name="Bench Vendor", slug="bench-vendor", kind=OrgKind.VENDOR)
    lab_admin = User.objects.create_user("admin@bench.test")
    manager = User.objects.create_user("manager@bench.test")
    Membership.objects.create(user=lab_admin, organization=lab, role=Role.ADMIN)
    Membership.objects.create(user=manager, organization=vendor, role=Role.MANAGER)
    project = Project.objects.create(lab=lab, title="Bench preferences", task_type="preference_comparison")
    GuidelineVersion.objects.create(project=project, number=1, body_markdown="Prefer.", body_html="<p>Prefer.</p>")
    contract = Contract.objects.create(project=project, lab=lab, supplier=vendor, status="active")
    today = timezone.localdate()
    version = ContractVersion.objects.create(
        contract=contract, number=1, status="effective", unit_rate=Decimal("1.0000"), currency="USD",
        volume_cap=100 * rows, budget_cap_minor=10**12, quality_pay=[["0.85", "1.00"]],
        label_set=["A", "B", "tie"], starts_on=today, ends_on=today + timedelta(days=90), terms_hash="0" * 64,
    )  # fmt: skip
    Contract.objects.filter(pk=contract.pk).update(current_version=version)
    experts = []
    for i in range(ANNOTATORS):
        user = User.objects.create_user(f"expert{i}@bench.test")
        ExpertProfile.objects.create(user=user)
        Assignment.objects.create(contract=contract, expert=user, assigned_by=manager)
        experts.append((user.pk, str(user.public_id)))
    target = WorkBatch.objects.create(
        contract=contract, contract_version=version, client_batch_key="copy-target", period_start=today,
        period_end=today, unit_count=rows, review_due_at=timezone.now() + timedelta(days=5),
    )  # fmt: skip
    return contract.pk, target.pk, experts


def _generate(directory: Path, rows: int, experts: list[tuple[int, str]], copy_batch: int) -> tuple[Path, Path]:
    """The same rows twice, streamed to disk: JSONL for the service, COPY text format for COPY."""
    rng = random.Random(20250301)
    labels = ["A", "B", "tie"]
    base = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    jsonl_path, copy_path = directory / "judgments.jsonl", directory / "judgments.copy"
    with open(jsonl_path, "w", encoding="utf-8") as jsonl, open(copy_path, "w", encoding="utf-8") as copy:
        for n in range(rows):
            item = n // PER_ITEM
            pk, public_id = experts[(item + (n % PER_ITEM) * (ANNOTATORS // PER_ITEM)) % ANNOTATORS]
            label = rng.randrange(3)
            order = rng.randrange(2)
            started = (base + timedelta(seconds=n * 7)).isoformat().replace("+00:00", "Z")
            seconds = rng.randrange(5, 600)
            comment = f"Both fine; B cites the guideline ({item})." if rng.random() < 0.1 else ""
            row = {
                "item_id": f"item-{item:07d}",
                "annotator": public_id,
                "label": labels[label],
                "displayed_order": "AB" if order == 0 else "BA",
                "started_at": started,
                "seconds_spent": seconds,
            }
            if comment:
                row["comment"] = comment
            jsonl.write(json.dumps(row) + "\n")
            copy.write(f"{copy_batch}\titem-{item:07d}\t{pk}\t{label}\t{order}\t{started}\t{seconds}\t{comment}\n")
    return jsonl_path, copy_path


def _reset(db_url: str) -> None:
    import psycopg

    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("TRUNCATE work_judgment")
        conn.execute("CHECKPOINT")


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


def _machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {model}; {platform.system()} {platform.release()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the database and the files")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    # Started now, while this process is small: the measured children fork from it.
    context = multiprocessing.get_context("forkserver")
    multiprocessing.forkserver.ensure_running()

    found = bench_environment("bench_ingest")
    if found is None:
        return 0
    server, name, version, db_url, env = found

    print(f"Ingest benchmark: {args.rows:,} judgments, {args.runs} runs each, PostgreSQL {version}")
    print(f"Machine: {_machine()}")
    _recreate(server, name)
    tmp = Path(tempfile.mkdtemp(prefix="bench_ingest_"))
    try:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        contract, copy_batch, experts = _setup_fixtures(args.rows)
        from django.db import connection

        connection.close()
        started = time.perf_counter()
        jsonl_path, copy_path = _generate(tmp, args.rows, experts, copy_batch)
        size = jsonl_path.stat().st_size / 2**20
        print(
            f"Generated {jsonl_path.name} ({size:,.0f} MiB) and the COPY file in {time.perf_counter() - started:.1f} s"
        )

        results: dict[str, list[dict]] = {"copy": [], "ingest": []}
        for run in range(args.runs):
            for kind in ("copy", "ingest"):
                _reset(db_url)
                path = copy_path if kind == "copy" else jsonl_path
                result = _run_child(context, kind, env, file=str(path), contract=contract, run=run, rows=args.rows)
                if result["rows"] != args.rows:
                    raise SystemExit(f"{kind} stored {result['rows']} rows, expected {args.rows}")
                result["rate"] = result["rows"] / result["seconds"]
                results[kind].append(result)
                print(f"  run {run + 1} {kind:>6}: {result['rate']:>10,.0f} rows/s  {result['seconds']:6.2f} s  "
                      f"peak {result['peak_mb']:5.0f} MB")  # fmt: skip
    finally:
        if not args.keep:
            _recreate(server, name, drop_only=True)
            for path in tmp.iterdir():
                path.unlink()
            tmp.rmdir()
        else:
            print(f"Kept database {name} and files in {tmp}")

    copy_rate = statistics.median(r["rate"] for r in results["copy"])
    ingest_rate = statistics.median(r["rate"] for r in results["ingest"])
    copy_peak = statistics.median(r["peak_mb"] for r in results["copy"])
    ingest_peak = statistics.median(r["peak_mb"] for r in results["ingest"])
    ingest_peak_max = max(r["peak_mb"] for r in results["ingest"])
    ratio = ingest_rate / copy_rate
    print()
    print(f"{'method':<34} {'median rows/s':>14} {'median peak RSS':>16}")
    print(f"{'PostgreSQL COPY from file (limit)':<34} {copy_rate:>14,.0f} {copy_peak:>13.0f} MB")
    print(f"{'batch_submit JSONL (the service)':<34} {ingest_rate:>14,.0f} {ingest_peak:>13.0f} MB")
    print()
    ok_ratio = ratio >= TARGET_RATIO
    ok_peak = ingest_peak_max < TARGET_PEAK_MB
    print(f"ingest / COPY = {ratio:.0%} (target >= {TARGET_RATIO:.0%}): {'PASS' if ok_ratio else 'FAIL'}")
    print(f"ingest peak RSS, worst run = {ingest_peak_max:.0f} MB (target < {TARGET_PEAK_MB} MB): "
          f"{'PASS' if ok_peak else 'FAIL'}")  # fmt: skip
    return 0 if ok_ratio and ok_peak else 1


if __name__ == "__main__":
    sys.exit(main())
