"""API benchmark: a 50-row page of each main list through the API (API key, cursor pagination)
beside a plain Django JsonResponse of the same 50 rows, served by gunicorn with persistent
PostgreSQL connections, measured with a bounded keep-alive load generator on loopback.

    .venv/bin/python bench/api.py [--rows 10000] [--runs 3] [--seconds 10] [--threads 4] [--only projects,bids] [--keep]

Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres); creates
the throwaway database bench_api (BENCH_API_DB) and drops it at the end (unless --keep). Runs are interleaved
(plain, api, plain, api, ...); reported per endpoint: req/s, p99 latency, server CPU ms per request
(utime+stime of the gunicorn workers from /proc/<pid>/stat), the medians of the runs and the ratio
api/plain (target >= 0.6).

Lists: projects, bids (the vendor's), contracts, batches (of one contract) and quality score
snapshots, ``--rows`` rows each. Prints a Markdown table (docs/api.md, "Benchmark").
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The throwaway-database helpers are bench/ingest.py's, shared by every PostgreSQL benchmark.
from ingest import DEFAULT_SERVER, ROOT, _db_url, _recreate  # noqa: E402

DB_NAME = os.environ.get("BENCH_API_DB", "bench_api")
TARGET_RATIO = 0.6
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _seed(rows: int) -> dict:
    """``rows`` each of projects, bids, contracts (with v1 terms), batches (of one contract) and quality
    score snapshots, for one lab and one vendor; returns the ids and raw API keys the endpoints need."""
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from datetime import timedelta

    from django.utils import timezone

    from apps.accounts.roles import OrgKind, Role
    from apps.accounts.services import api_key_create
    from apps.bidding.models import Bid, BidRevision
    from apps.contracts.models import Contract, ContractVersion
    from apps.projects.models import GuidelineVersion, Project
    from apps.quality.models import ScoreSnapshot, ScoringRun
    from apps.work.models import WorkBatch
    from tests.factories import (
        CONTRACT_TERMS,
        DomainFactory,
        ExpertProfileFactory,
        OrganizationFactory,
        ProjectFactory,
        member,
    )

    lab = OrganizationFactory(name="Bench Lab", slug="bench-lab", kind=OrgKind.LAB)
    owner = member(lab, Role.OWNER, email="owner@bench.test")
    vendor = OrganizationFactory(name="Bench Vendor", slug="bench-vendor", kind=OrgKind.VENDOR)
    manager = member(vendor, Role.OWNER, email="manager@bench.test")
    domain = DomainFactory()
    now = timezone.now()
    today = timezone.localdate()

    projects = []
    for _ in range(rows):
        project = ProjectFactory.build(lab=lab, created_by=owner, domain=domain, guidelines=False, published=True)
        project.public_id = uuid.uuid4()
        projects.append(project)
    Project.objects.bulk_create(projects, batch_size=2000)
    guidelines = [  # published projects have guidelines (publishing needs them): v1 each, the current one
        GuidelineVersion(public_id=uuid.uuid4(), project=p, number=1, body_markdown="# Guidelines", body_html="<h1>Guidelines</h1>")
        for p in projects
    ]  # fmt: skip
    GuidelineVersion.objects.bulk_create(guidelines, batch_size=2000)
    for project, version in zip(projects, guidelines, strict=True):
        project.current_guideline = version
    Project.objects.bulk_update(projects, ["current_guideline"], batch_size=2000)
    bids = [
        Bid(public_id=uuid.uuid4(), project=p, bidder=vendor, submitted_by=manager, unit_price="2.0000", currency="USD",
            volume=1000, weekly_capacity=250, starts_on=today, ends_on=today + timedelta(days=30), proposal="Bench.")
        for p in projects
    ]  # fmt: skip
    Bid.objects.bulk_create(bids, batch_size=2000)
    # Each bid as bid_submit leaves it: revision 1 with the team (two experts from the vendor's roster).
    team = [ExpertProfileFactory(user=member(vendor, Role.EXPERT, email=f"expert{i}@bench.test")).user for i in (1, 2)]
    revisions = [
        BidRevision(public_id=uuid.uuid4(), bid=b, number=1, submitted_by=manager, unit_price=b.unit_price,
                    volume=b.volume, weekly_capacity=b.weekly_capacity, starts_on=b.starts_on, ends_on=b.ends_on,
                    proposal=b.proposal)
        for b in bids
    ]  # fmt: skip
    BidRevision.objects.bulk_create(revisions, batch_size=2000)
    Team = BidRevision.team.through
    Team.objects.bulk_create([Team(bidrevision=r, user=u) for r in revisions for u in team], batch_size=5000)
    contracts = [
        Contract(public_id=uuid.uuid4(), project=p, lab=lab, supplier=vendor, status="active") for p in projects
    ]
    Contract.objects.bulk_create(contracts, batch_size=2000)
    terms = {k: v for k, v in CONTRACT_TERMS.items()}
    versions = [
        ContractVersion(public_id=uuid.uuid4(), contract=c, number=1, status="effective", starts_on=today,
                        ends_on=today + timedelta(days=90), effective_from=today, terms_hash="0" * 64, **terms)
        for c in contracts
    ]  # fmt: skip
    ContractVersion.objects.bulk_create(versions, batch_size=2000)
    for contract, version in zip(contracts, versions, strict=True):
        contract.current_version = version
    Contract.objects.bulk_update(contracts, ["current_version"], batch_size=2000)
    first, first_version = contracts[0], versions[0]
    batches = [
        WorkBatch(public_id=uuid.uuid4(), contract=first, contract_version=first_version, submitted_by=manager,
                  client_batch_key=f"bench-{i}", period_start=today, period_end=today, unit_count=100,
                  judgment_count=100, content_sha256="0" * 64, review_due_at=now + timedelta(days=5))
        for i in range(rows)
    ]  # fmt: skip
    WorkBatch.objects.bulk_create(batches, batch_size=2000)
    run = ScoringRun.objects.create(kind=ScoringRun.Kind.values[0], scope=ScoringRun.Scope.values[0], contract=first)
    snapshots = [
        ScoreSnapshot(public_id=uuid.uuid4(), run=run, subject_kind="contract", contract=c, project_id=c.project_id, lab=lab,
                      supplier=vendor, algorithm_version="bench", n_judgments=500, n_items=100, n_annotators=5,
                      n_gold=50, gold_correct=45, gold_accuracy=0.9, gold_lower=0.79, gold_upper=0.96, alpha=0.7)
        for c in contracts
    ]  # fmt: skip
    ScoreSnapshot.objects.bulk_create(snapshots, batch_size=2000)
    from django.db import connection

    with connection.cursor() as cursor:  # planner statistics, as autovacuum keeps them on a live database
        cursor.execute("VACUUM ANALYZE")
    read_scopes = ["projects:read", "bids:read", "contracts:read", "work:read", "quality:read"]
    _key, lab_key = api_key_create(actor=owner, organization=lab, name="bench", scopes=read_scopes)
    _key, vendor_key = api_key_create(actor=manager, organization=vendor, name="bench", scopes=read_scopes)
    return {"lab": str(lab.public_id), "vendor": str(vendor.public_id), "contract": str(first.public_id),
            "lab_key": lab_key, "vendor_key": vendor_key}  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def _cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / CLK_TCK


def _load(port: int, path: str, headers: dict, seconds: float, threads: int) -> tuple[int, list[float]]:
    """A bounded closed-loop load: ``threads`` keep-alive connections, each one request at a time."""
    latencies: list[float] = []
    errors = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def run():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                errors.append(response.status)
            mine.append(time.perf_counter() - started)
        conn.close()
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if errors:
        raise SystemExit(f"{path}: {len(errors)} non-200 responses, e.g. {errors[:3]}")
    return len(latencies), latencies


def _measure(port, pids, path, headers, seconds, threads) -> dict:
    cpu_before = _cpu_seconds(pids)
    started = time.perf_counter()
    count, latencies = _load(port, path, headers, seconds, threads)
    elapsed = time.perf_counter() - started
    cpu = _cpu_seconds(pids) - cpu_before
    latencies.sort()
    return {
        "rps": count / elapsed,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "cpu_ms": cpu * 1000 / count,
    }


def _lists(ids: dict, only: str) -> dict:
    """list name: (plain path, api path, api headers)."""
    lab = {"Authorization": f"Bearer {ids['lab_key']}"}
    vendor = {"Authorization": f"Bearer {ids['vendor_key']}"}
    lists = {
        "projects": (f"projects/?lab={ids['lab']}", "/api/v1/projects/?page_size=50", lab),
        "bids": (f"bids/?vendor={ids['vendor']}", "/api/v1/bids/?page_size=50", vendor),
        "contracts": (f"contracts/?lab={ids['lab']}", "/api/v1/contracts/?page_size=50", lab),
        "batches": (
            f"batches/?contract={ids['contract']}",
            f"/api/v1/contracts/{ids['contract']}/batches/?page_size=50",
            lab,
        ),
        "scores": (f"scores/?lab={ids['lab']}", "/api/v1/quality/scores/?page_size=50", lab),
    }
    return {name: lists[name] for name in only.split(",")} if only else lists


def _in_process(lists: dict, requests: int) -> None:
    """CPU ms per request of each endpoint through the test client (no HTTP server, no network)."""
    from django.test import Client
    from django.test.utils import override_settings

    with override_settings(ALLOWED_HOSTS=["*"]):
        client = Client()
        print("| list | plain CPU ms/req | API CPU ms/req | CPU ratio (plain/API) |")
        print("|---|---|---|---|")
        for name, (plain, api, headers) in lists.items():
            cpu = {}
            for kind, path, extra in (("plain", f"/bench/plain/{plain}", {}), ("api", api, headers)):
                for _ in range(10):  # warm-up, and it answers 200
                    assert client.get(path, headers=extra).status_code == 200, path
                start = time.process_time()
                for _ in range(requests):
                    client.get(path, headers=extra)
                cpu[kind] = (time.process_time() - start) * 1000 / requests
            print(f"| {name} | {cpu['plain']:.2f} | {cpu['api']:.2f} | {cpu['plain'] / cpu['api']:.2f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--only", default="", help="comma-separated lists, e.g. projects,bids")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--in-process",
        type=int,
        default=0,
        metavar="N",
        help="instead of gunicorn: N requests per endpoint through the Django test client in this process, "
        "reporting CPU ms per request (time.process_time), steadier than req/s on a loaded machine",
    )
    args = parser.parse_args()

    server = os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER)
    env = {
        **os.environ,
        "DATABASE_URL": _db_url(server, DB_NAME),
        "DJANGO_SETTINGS_MODULE": "bench.api_settings",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("CELERY_BROKER_URL", None)
    try:
        _recreate(server, DB_NAME)
    except Exception as exc:  # no server: a benchmark, not a test; say so and stop
        print(f"skipped: PostgreSQL at {server} is not usable ({exc})")
        return
    gunicorn = None
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
        os.environ.update({k: env[k] for k in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")})
        ids = _seed(args.rows)
        if args.in_process:
            _in_process(_lists(ids, args.only), args.in_process)
            return
        port = _free_port()
        gunicorn = subprocess.Popen(  # noqa: S603 - our own venv gunicorn, fixed arguments
            [str(Path(sys.executable).parent / "gunicorn"), "marketplace.wsgi:application", "--bind",
             f"127.0.0.1:{port}", "--workers", "2", "--access-logfile", "/dev/null"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(1.0)
        pids = _worker_pids(gunicorn.pid)
        lists = _lists(ids, args.only)
        endpoints = {}
        for name, (plain, api, headers) in lists.items():
            endpoints[f"{name}/plain"] = (f"/bench/plain/{plain}", {})
            endpoints[f"{name}/api"] = (api, headers)
        for path, headers in endpoints.values():  # warm-up, and every endpoint answers 200
            _load(port, path, headers, args.warmup, args.threads)
        results: dict[str, list[dict]] = {name: [] for name in endpoints}
        for run in range(args.runs):
            for name, (path, headers) in endpoints.items():  # interleaved: plain, api, plain, api, ...
                result = _measure(port, pids, path, headers, args.seconds, args.threads)
                results[name].append(result)
                print(f"run {run + 1} {name:16} {result['rps']:8.1f} req/s  p99 {result['p99_ms']:6.2f} ms  "
                      f"cpu {result['cpu_ms']:5.2f} ms/req", flush=True)  # fmt: skip
        medians = {
            name: {metric: statistics.median(r[metric] for r in runs) for metric in ("rps", "p99_ms", "cpu_ms")}
            for name, runs in results.items()
        }
        load = Path("/proc/loadavg").read_text().split()[:3]
        print(f"\n{args.rows} rows per list, pages of 50, median of {args.runs} interleaved runs of "
              f"{args.seconds:g} s, {args.threads} connections, 2 gunicorn workers; load average {' '.join(load)}")  # fmt: skip
        print("| list | plain req/s | API req/s | ratio | plain p99 ms | API p99 ms | plain CPU ms/req | "
              "API CPU ms/req | CPU ratio (plain/API) |")  # fmt: skip
        print("|---|---|---|---|---|---|---|---|---|")
        for name in lists:
            plain, api = medians[f"{name}/plain"], medians[f"{name}/api"]
            ratio = api["rps"] / plain["rps"]
            cpu_ratio = plain["cpu_ms"] / api["cpu_ms"]
            mark = "" if ratio >= TARGET_RATIO else " (below target)"
            print(f"| {name} | {plain['rps']:.0f} | {api['rps']:.0f} | {ratio:.2f}{mark} | {plain['p99_ms']:.1f} | "
                  f"{api['p99_ms']:.1f} | {plain['cpu_ms']:.2f} | {api['cpu_ms']:.2f} | {cpu_ratio:.2f} |")  # fmt: skip
        print(f"target: API/plain >= {TARGET_RATIO}")
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            gunicorn.wait(timeout=30)
        if not args.keep:
            _recreate(server, DB_NAME, drop_only=True)


if __name__ == "__main__":
    main()
