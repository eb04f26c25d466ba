"""Quality engine numeric core benchmark: the full in-memory scoring pass, Dawid-Skene against crowd-kit, and
an incremental 10,000-judgment batch, on generated data (no database; Q2's benchmark adds reading and
writing snapshots).

    .venv/bin/python bench/quality_core.py [--quick] [--runs 3]

Data as issue 7 says: 1,000 annotators, 250,000 items, overlap 4, 5 classes, 5% gold = 1,000,000 judgments
(annotators with varied accuracy, spammers, class-0-biased, drifting and position-biased ones; see
``apps/quality/numeric/synthetic.py``). ``--quick``: 25,000 items (100,000 judgments).

Each measurement is its own child process forked from a fork server started before this process grows
(Linux carries a process's peak RSS across fork), so its peak RSS (getrusage ru_maxrss) is its own and
includes the generated arrays. Each child runs its measurement ``--runs`` times; the median wall time is
reported. crowd-kit gets a pandas DataFrame built from the same arrays (construction not timed).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import resource
import statistics
import sys
import time
import traceback
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BATCH = 10_000
TARGET_FULL_S = 3.0
TARGET_BATCH_S = 0.100
TARGET_DS_RATIO = 3.0
TARGET_ACC_POINTS = 0.5


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _timed(fn, runs: int):
    walls, cpus, result = [], [], None
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


# --- Measurements (each runs in a child) ----------------------------------------------------------------------


def _data(options: dict):
    from apps.quality.numeric.synthetic import generate

    return generate(n_items=options["items"], n_annotators=1000, overlap=4, n_classes=5, gold_share=0.05, seed=7)


def measure_full(options: dict) -> dict:
    """Every figure of a nightly recompute, from the arrays: counts, MV, gold accuracy, LOO agreement, alpha,
    all-pairs kappa, Dawid-Skene with gold, the four audits and genuine disagreement."""
    import numpy as np

    import apps.quality.numeric as q

    data = _data(options)
    j, gold = data.judgments, data.gold
    base = _peak_mb()
    steps: dict[str, list[tuple[float, float]]] = {}

    def step(name, fn):
        started, cpu = time.perf_counter(), time.process_time()
        out = fn()
        steps.setdefault(name, []).append((time.perf_counter() - started, time.process_time() - cpu))
        return out

    def full_pass():
        counts = step("vote counts", lambda: q.vote_counts(j))
        step("majority vote", lambda: q.majority_vote(counts))
        step("gold accuracy + Wilson", lambda: q.gold_accuracy(j, gold))
        step("LOO agreement + Wilson", lambda: q.loo_agreement(j, counts))
        step("Krippendorff alpha", lambda: q.krippendorff_alpha(counts))
        pairs = step("all-pairs Cohen kappa", lambda: q.cohen_kappa_pairs(j, min_shared=20))
        ds = step("Dawid-Skene (gold clamped)", lambda: q.dawid_skene(j, gold=gold, counts=counts))
        step("position bias", lambda: q.position_bias(j, 0, 1))
        step("label skew", lambda: q.label_skew(j))
        step("speeding", lambda: q.speeding(j))
        step("drift", lambda: q.drift(j, gold=gold))
        step("genuine disagreement", lambda: q.genuine_disagreement(counts))
        return pairs, ds

    wall, cpu, (pairs, ds) = _timed(full_pass, options["runs"])
    return {
        "wall": wall,
        "cpu": cpu,
        "peak_mb": _peak_mb(),
        "base_mb": base,
        "steps": {
            name: (statistics.median(t[0] for t in times), statistics.median(t[1] for t in times))
            for name, times in steps.items()
        },
        "pairs": int(pairs.a.size),
        "ds_accuracy": float((ds.label == data.truth).mean()),
        "ds_iter": ds.n_iter,
        "n": j.n,
        "gold_items": int(np.count_nonzero(gold >= 0)),
    }


def measure_ds(options: dict) -> dict:
    """Our Dawid-Skene alone (no gold), as crowd-kit is run below."""
    import apps.quality.numeric as q

    data = _data(options)
    wall, cpu, ds = _timed(lambda: q.dawid_skene(data.judgments), options["runs"])
    return {
        "wall": wall,
        "cpu": cpu,
        "peak_mb": _peak_mb(),
        "accuracy": float((ds.label == data.truth).mean()),
        "ties": int((ds.label < 0).sum()),
        "iterations": ds.n_iter,
    }


def measure_crowdkit(options: dict) -> dict:
    """crowd-kit ``DawidSkene(n_iter=100)`` on the same arrays (its own stopping rule, tol=1e-5)."""
    import pandas as pd
    from crowdkit.aggregation import DawidSkene

    data = _data(options)
    j = data.judgments
    df = pd.DataFrame({"task": j.item, "worker": j.annotator, "label": j.label})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # crowd-kit 1.4.2 emits pandas deprecation warnings
        wall, cpu, model = _timed(lambda: DawidSkene(n_iter=100).fit(df), options["runs"])
    labels = model.labels_.reindex(range(j.n_items)).to_numpy()
    return {
        "wall": wall,
        "cpu": cpu,
        "peak_mb": _peak_mb(),
        "accuracy": float((labels == data.truth).mean()),
        "iterations": len(model.loss_history_),
    }


def measure_batch(options: dict) -> dict:
    """An incremental batch: the latest 10,000 judgments land on top of the stored state (counts and tallies
    of everything before them). Timed: pick the stored judgments on the touched items (the loader's one
    indexed query, here a mask), merge counts, re-tally the touched items, then every incremental figure."""
    import numpy as np

    import apps.quality.numeric as q

    data = _data(options)
    j, gold = data.judgments, data.gold
    late = np.zeros(j.n, dtype=bool)
    late[np.argsort(j.time, kind="stable")[-BATCH:]] = True  # the latest 10,000 judgments
    stored_all, batch = j.take(~late), j.take(late)
    counts_before = q.vote_counts(stored_all)
    running = q.tally(stored_all, counts_before, gold, first_label=0, second_label=1)
    base = _peak_mb()

    def incremental():
        touched = np.zeros(j.n_items, dtype=bool)
        touched_ids = q.touched_items(batch)
        touched[touched_ids] = True
        stored = stored_all.take(touched[stored_all.item])
        counts_after = q.merge_counts(counts_before, batch)
        old = q.tally(stored, counts_before, gold, first_label=0, second_label=1)
        new = q.tally(q.concat(stored, batch), counts_after, gold, first_label=0, second_label=1)
        merged = q.merge_tallies(q.merge_tallies(running, old, sign=-1), new)
        vote = q.majority_vote(counts_after[touched_ids])
        disagreement = q.genuine_disagreement(counts_after[touched_ids])
        gold_acc = q.wilson(merged.gold_correct, merged.gold_n)
        loo = q.wilson(merged.loo_sum, merged.loo_n)
        position = q.position_bias_test(merged.first_chosen, merged.order_n)
        skew = q.label_skew_test(merged.labels)
        alpha = q.alpha_from_coincidence(merged.coincidence)
        return merged, vote, disagreement, gold_acc, loo, position, skew, alpha, stored.n

    wall, cpu, result = _timed(incremental, max(options["runs"], 5))
    merged, *_rest, alpha, stored_n = result
    full = q.tally(j, q.vote_counts(j), gold, first_label=0, second_label=1)
    exact = bool(np.allclose(merged.loo_sum, full.loo_sum) and np.array_equal(merged.gold_n, full.gold_n))
    return {
        "wall": wall,
        "cpu": cpu,
        "peak_mb": _peak_mb(),
        "base_mb": base,
        "batch": batch.n,
        "stored_on_touched": int(stored_n),
        "exact": exact,
        "alpha": alpha,
    }


MEASUREMENTS = {"full": measure_full, "ds": measure_ds, "crowdkit": measure_crowdkit, "batch": measure_batch}


def child_run(kind: str, options: dict, conn) -> None:
    sys.path.insert(0, str(ROOT))
    try:
        conn.send(MEASUREMENTS[kind](options))
    except BaseException:
        conn.send({"error": traceback.format_exc()})
    finally:
        conn.close()


def run_child(ctx, kind: str, options: dict) -> dict:
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=child_run, args=(kind, options, child))
    proc.start()
    child.close()
    result = parent.recv()
    proc.join()
    if "error" in result:
        raise SystemExit(f"{kind} failed:\n{result['error']}")
    return result


# --- Report ---------------------------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="25,000 items (100,000 judgments) instead of 250,000")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median reported)")
    parser.add_argument("--skip-crowdkit", action="store_true", help="leave out crowd-kit (slow)")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # progress shows when the output goes to a file
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([])
    options = {"items": 25_000 if args.quick else 250_000, "runs": args.runs}

    import numpy
    import scipy

    load = os.getloadavg()
    print(
        f"Quality numeric core benchmark: {options['items'] * 4:,} judgments ({options['items']:,} items x overlap 4,"
    )
    print("1,000 annotators, 5 classes, 5% gold), no database.")
    print(f"Machine: nproc {os.cpu_count()}, CPU {_cpu_model()}, load average {load[0]:.2f} {load[1]:.2f}")
    print(
        f"Python {platform.python_version()}, numpy {numpy.__version__}, scipy {scipy.__version__}; runs {args.runs}\n"
    )

    full = run_child(ctx, "full", options)
    ds = run_child(ctx, "ds", options)
    ck = None if args.skip_crowdkit else run_child(ctx, "crowdkit", options)
    batch = run_child(ctx, "batch", options)

    print("| Measurement | median wall s | CPU s | peak RSS MiB | result |")
    print("|---|---:|---:|---:|---|")
    print(
        f"| full numeric pass | {full['wall']:.3f} | {full['cpu']:.3f} | {full['peak_mb']:.0f} "
        f"(data {full['base_mb']:.0f}) | {full['pairs']:,} kappa pairs; DS {full['ds_iter']} iterations, "
        f"accuracy {full['ds_accuracy']:.4f} |"
    )
    for name, (seconds, cpu) in full["steps"].items():
        print(f"| &nbsp;&nbsp;{name} | {seconds:.3f} | {cpu:.3f} | | |")
    print(
        f"| our Dawid-Skene (no gold) | {ds['wall']:.3f} | {ds['cpu']:.3f} | {ds['peak_mb']:.0f} | "
        f"{ds['iterations']} iterations, accuracy {ds['accuracy']:.4f}, {ds['ties']} ties |"
    )
    if ck:
        print(
            f"| crowd-kit DawidSkene(n_iter=100) | {ck['wall']:.3f} | {ck['cpu']:.3f} | {ck['peak_mb']:.0f} | "
            f"{ck['iterations']} iterations, accuracy {ck['accuracy']:.4f} |"
        )
    print(
        f"| incremental batch ({batch['batch']:,} new + {batch['stored_on_touched']:,} stored on touched items) | "
        f"{batch['wall']:.4f} | {batch['cpu']:.4f} | {batch['peak_mb']:.0f} | equals full recompute: "
        f"{batch['exact']} |"
    )
    print()
    load = os.getloadavg()
    print(f"Load average at the end: {load[0]:.2f} {load[1]:.2f} (wall exceeds CPU when other jobs share the cores)")
    print(f"Targets (issue 7, {os.cpu_count()} cores):")
    print(
        f"- full numeric pass < {TARGET_FULL_S} s (whole recompute incl. DB): {full['wall']:.2f} s wall / "
        f"{full['cpu']:.2f} s CPU, {_verdict(full['wall'] < TARGET_FULL_S)} (wall) for the numeric part"
    )
    print(f"- peak memory < 1 GB: {full['peak_mb']:.0f} MiB, {_verdict(full['peak_mb'] < 1024)}")
    if ck:
        ratio = ck["wall"] / ds["wall"]
        points = abs(ds["accuracy"] - ck["accuracy"]) * 100
        print(
            f"- Dawid-Skene >= {TARGET_DS_RATIO:g}x faster than crowd-kit: {ratio:.1f}x wall "
            f"({ck['cpu'] / ds['cpu']:.1f}x CPU), {_verdict(ratio >= TARGET_DS_RATIO)}"
        )
        print(
            f"- label accuracy within {TARGET_ACC_POINTS} points: ours {ds['accuracy']:.4f}, crowd-kit "
            f"{ck['accuracy']:.4f} ({points:.2f} points), {_verdict(points <= TARGET_ACC_POINTS)}"
        )
    print(
        f"- incremental {BATCH:,}-judgment batch < {TARGET_BATCH_S * 1000:.0f} ms: {batch['wall'] * 1000:.1f} ms wall"
        f" / {batch['cpu'] * 1000:.1f} ms CPU, {_verdict(batch['wall'] < TARGET_BATCH_S)} (wall)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
