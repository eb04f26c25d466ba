"""From loaded arrays to the figures of each subject, with the numeric core. No ORM here.

``contract_figures`` is the full path (everything, Dawid-Skene and audits included);
``batch_figures`` is the incremental path (additive figures plus agreement within the batch).
Each subject's figures are a plain dict whose keys are ``ScoreSnapshot`` fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import numeric as nm
from .loader import Loaded

MIN_SHARED_FOR_KAPPA = 20


@dataclass
class Figures:
    contract: dict
    experts: dict[int, dict] = field(default_factory=dict)  # annotator user pk -> figures
    batches: dict[int, dict] = field(default_factory=dict)  # WorkBatch pk -> figures
    groups: dict[int, dict] = field(default_factory=dict)  # batch-group code -> figures (guideline versions)
    consensus: dict | None = None  # arrays for ConsensusSnapshot.pack
    audits: list[dict] = field(default_factory=list)


def judgments(loaded: Loaded) -> nm.Judgments:
    return nm.Judgments(
        item=loaded.item,
        annotator=loaded.annotator,
        label=loaded.label,
        n_items=len(loaded.item_ids),
        n_annotators=int(loaded.annotator_ids.shape[0]),
        n_classes=max(len(loaded.label_set), 1),
        order=loaded.order,
        seconds=np.where(loaded.seconds >= 0, loaded.seconds, np.nan).astype(np.float32),
        time=loaded.time.astype(np.int64),
    )


def _f(x) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if np.isnan(x) else x


BITSET_LIMIT = 1 << 31  # (group, value) pairs a presence bitset may cover: 256 MB at most
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)
SECONDS_CAP = 3600  # medians of seconds spent are taken over values capped at an hour


def _distinct_per_group(group: np.ndarray, values: np.ndarray, n_values: int, n_groups: int) -> np.ndarray:
    """How many distinct ``values`` each group has: a presence bitset over (group, value), each group's
    row padded to whole bytes, counted with a popcount table. No sort, no loop over groups."""
    if n_groups == 1:  # one group holds every judgment, so every code in use
        return np.array([n_values if values.size else 0])
    keys = values.astype(np.int64) * n_groups + group
    if keys.size > 1 and bool((keys[1:] >= keys[:-1]).all()):
        # Judgments already in (value, group) order (a loader reading a table written item by item):
        # each distinct pair starts where the key changes. One pass, no bitset, no sort.
        new = np.empty(keys.size, dtype=bool)
        new[0] = True
        np.not_equal(keys[1:], keys[:-1], out=new[1:])
        return np.bincount(group[new], minlength=n_groups)
    row = -(-max(n_values, 1) // 8) * 8
    if n_groups * row > BITSET_LIMIT:
        keys = np.sort(group.astype(np.int64) * row + values)  # np.sort + boundaries: 10x np.unique here
        new = np.empty(keys.size, dtype=bool)
        new[:1] = True
        np.not_equal(keys[1:], keys[:-1], out=new[1:])
        return np.bincount(keys[new] // row, minlength=n_groups)
    keys = group.astype(np.int64) * row + values
    bits = np.zeros(n_groups * row // 8, dtype=np.uint8)
    np.bitwise_or.at(bits, keys >> 3, np.left_shift(1, keys & 7).astype(np.uint8))
    return _POPCOUNT[bits].reshape(n_groups, row // 8).sum(axis=1, dtype=np.int64)


def _median_per_group(group: np.ndarray, seconds: np.ndarray, n_groups: int) -> list[float | None]:
    """Median of each group's known (>= 0) seconds, capped at ``SECONDS_CAP``: one histogram per group
    (a bincount over (group, second)), the median read off the cumulative counts. No sort."""
    known = seconds >= 0
    g = group[known].astype(np.int64)
    s = np.minimum(seconds[known], SECONDS_CAP).astype(np.int64)
    out: list[float | None] = [None] * n_groups
    if not g.size:
        return out
    width = SECONDS_CAP + 1
    hist = np.bincount(g * width + s, minlength=n_groups * width).reshape(n_groups, width)
    cum = hist.cumsum(axis=1)
    n = cum[:, -1]
    has = np.flatnonzero(n)
    cum, n = cum[has], n[has]
    lo = (cum > ((n - 1) // 2)[:, None]).argmax(axis=1)  # the value at sorted position (n-1)//2
    hi = (cum > (n // 2)[:, None]).argmax(axis=1)  # and at n//2
    for i, m in zip(has.tolist(), ((lo + hi) / 2).tolist(), strict=True):
        out[i] = m
    return out


def _grouped(j, loaded: Loaded, counts, group: np.ndarray, n_groups: int) -> list[dict]:
    gold = nm.gold_accuracy(j, loaded.gold, group=group, n_groups=n_groups)
    loo = nm.loo_agreement(j, counts=counts, group=group, n_groups=n_groups)
    n_judgments = np.bincount(group, minlength=n_groups)
    if group is loaded.annotator:  # one annotator per group by definition
        n_annotators = (n_judgments > 0).astype(np.int64)
    else:
        n_annotators = _distinct_per_group(group, loaded.annotator, int(loaded.annotator_ids.shape[0]), n_groups)
    n_items = _distinct_per_group(group, loaded.item, len(loaded.item_ids), n_groups)
    medians = _median_per_group(group, loaded.seconds, n_groups)

    def column(a) -> list:
        return np.broadcast_to(np.asarray(a, dtype=float).reshape(-1), (n_groups,)).tolist()

    g_n, g_ok, g_est, g_lo, g_hi = (column(x) for x in (gold.n, gold.successes, gold.estimate, gold.lower, gold.upper))
    l_n, l_est = column(loo.n), column(loo.estimate)
    out = []
    for g in range(n_groups):
        has_gold, has_loo = g_n[g] > 0, l_n[g] > 0
        out.append(
            {
                "n_judgments": int(n_judgments[g]),
                "n_items": int(n_items[g]),
                "n_annotators": int(n_annotators[g]),
                "n_gold": int(g_n[g]),
                "gold_correct": int(g_ok[g]),
                "gold_accuracy": _f(g_est[g]) if has_gold else None,
                "gold_lower": _f(g_lo[g]) if has_gold else None,
                "gold_upper": _f(g_hi[g]) if has_gold else None,
                "loo_n": int(l_n[g]),
                "loo_agreement": _f(l_est[g]) if has_loo else None,
                "seconds_median": medians[g],
            }
        )
    return out


def batch_figures(loaded: Loaded) -> dict:
    """The incremental figures of one batch's judgments: additive counts, gold, agreement within it."""
    j = judgments(loaded)
    if loaded.n == 0:
        return {"n_judgments": 0, "n_items": 0, "n_annotators": 0, "n_gold": 0, "gold_correct": 0}
    counts = nm.vote_counts(j)
    zeros = np.zeros(loaded.n, dtype=np.int32)
    return _grouped(j, loaded, counts, zeros, 1)[0]


ALPHA_RESAMPLES = 200
ALPHA_SEED = 20260101  # fixed: the same data give the same interval on every run


def contract_figures(
    loaded: Loaded,
    *,
    batch_groups: np.ndarray | None = None,
    n_batch_groups: int = 0,
    alpha_interval: bool = False,
) -> Figures:
    """Everything for one contract. ``batch_groups`` maps each batch code to a group code (the
    guideline-version rows of the supplier). ``alpha_interval``: also a seeded bootstrap interval of
    alpha (the contract's SLA has a minimum alpha)."""
    if loaded.n == 0:
        empty = {"n_judgments": 0, "n_items": 0, "n_annotators": 0, "n_gold": 0, "gold_correct": 0}
        return Figures(contract=empty)
    j = judgments(loaded)
    counts = nm.vote_counts(j)
    n_annotators = int(loaded.annotator_ids.shape[0])
    n_batches = int(loaded.batch_ids.shape[0])

    zeros = np.zeros(loaded.n, dtype=np.int32)
    contract = _grouped(j, loaded, counts, zeros, 1)[0]
    whole = dict(contract)  # the grouped figures of every judgment, before contract-only figures join
    level = loaded.level
    contract["alpha"] = _f(nm.krippendorff_alpha(counts, level))
    contract["alpha_level"] = level
    if alpha_interval:
        interval = nm.alpha_bootstrap(counts, level, n_resamples=ALPHA_RESAMPLES, seed=ALPHA_SEED)
        contract["alpha_lower"], contract["alpha_upper"] = interval if interval else (None, None)
    contract["fleiss_kappa"] = _f(nm.fleiss_kappa(counts))
    pairs = nm.cohen_kappa_pairs(
        j, min_shared=MIN_SHARED_FOR_KAPPA, weights="quadratic" if level == "ordinal" else None
    )
    kappas = np.asarray(pairs.kappa, dtype=float)
    kappas = kappas[~np.isnan(kappas)] if kappas.size else kappas
    contract["n_pairs"] = int(kappas.size)
    contract["mean_pair_kappa"] = float(kappas.mean()) if kappas.size else None

    ds = nm.dawid_skene(j, gold=loaded.gold, counts=counts)
    confidence = np.asarray(ds.confidence, dtype=float)
    contract["ds_expected_accuracy"] = _f(confidence.mean()) if confidence.size else None

    expert_rows = _grouped(j, loaded, counts, loaded.annotator, n_annotators)
    expert_ds = _annotator_expected_accuracy(ds, n_annotators)
    expert_kappa = _mean_kappa_per_annotator(pairs, n_annotators)
    experts = {}
    for a in range(n_annotators):
        row = expert_rows[a]
        row["ds_expected_accuracy"] = expert_ds[a]
        row["mean_pair_kappa"] = expert_kappa[a][0]
        row["n_pairs"] = expert_kappa[a][1]
        experts[int(loaded.annotator_ids[a])] = row

    batch_rows = _grouped(j, loaded, counts, loaded.batch, n_batches)
    batches = {int(loaded.batch_ids[b]): batch_rows[b] for b in range(n_batches)}

    groups = {}
    if batch_groups is not None and n_batch_groups == 1 and bool((batch_groups == 0).all()):
        groups[0] = dict(whole)  # one guideline version: its group is every judgment, already computed
    elif batch_groups is not None and n_batch_groups:
        per_judgment = batch_groups[loaded.batch].astype(np.int32)
        for g, row in enumerate(_grouped(j, loaded, counts, per_judgment, n_batch_groups)):
            groups[g] = row

    disagreement = np.asarray(nm.genuine_disagreement(counts), dtype=bool)
    consensus = {
        "item_ids": loaded.item_ids,
        "label": np.asarray(ds.label),
        "probas": np.asarray(ds.probas),
        "confidence": confidence,
        "disagreement": disagreement,
    }
    return Figures(
        contract=contract,
        experts=experts,
        batches=batches,
        groups=groups,
        consensus=consensus,
        audits=audits(j, loaded),
    )


def _annotator_expected_accuracy(ds, n_annotators: int) -> list[float | None]:
    """Each annotator's Dawid-Skene accuracy: the mean posterior probability that their judgments are right."""
    accuracy = np.asarray(ds.annotator_accuracy, dtype=float).reshape(-1)
    if accuracy.shape[0] != n_annotators:
        return [None] * n_annotators
    return [_f(v) for v in accuracy]


def _mean_kappa_per_annotator(pairs, n_annotators: int) -> list[tuple[float | None, int]]:
    a = np.asarray(pairs.a, dtype=np.int64)
    b = np.asarray(pairs.b, dtype=np.int64)
    k = np.asarray(pairs.kappa, dtype=float)
    ok = ~np.isnan(k)
    a, b, k = a[ok], b[ok], k[ok]
    total = np.bincount(a, weights=k, minlength=n_annotators) + np.bincount(b, weights=k, minlength=n_annotators)
    n = np.bincount(a, minlength=n_annotators) + np.bincount(b, minlength=n_annotators)
    return [(float(total[i] / n[i]) if n[i] else None, int(n[i])) for i in range(n_annotators)]


# --- Audits -----------------------------------------------------------------------------------------------------

_SENTENCE = {
    "position_bias": "chose the option shown first in {pct:.0%} of {n} A/B judgments (50% expected)",
    "label_skew": "label distribution differs from peers' (effect {effect:.2f}) over {n} judgments",
    "speeding": "median time per item {effect:.0%} of peers' over {n} judgments",
    "drift": "agreement changed by {effect:+.0%} over time across {n} judgments",
}


def _strength(q: float | None, flagged: bool) -> str:
    if q is None:
        return "not enough data to test"
    if not flagged:
        return f"no evidence of a problem (q = {q:.2g})"
    if q < 0.001:
        return f"very strong evidence (q = {q:.2g})"
    if q < 0.01:
        return f"strong evidence (q = {q:.2g})"
    return f"moderate evidence (q = {q:.2g})"


def explain(kind: str, n: int, effect: float | None, q: float | None, flagged: bool) -> str:
    """A plain sentence: what was found and how strong the evidence is."""
    if effect is None or n == 0:
        return f"Not tested: {_strength(None, False)}."
    values = {"n": n, "effect": effect, "pct": effect}
    if kind == "position_bias":
        values["pct"] = effect
    head = _SENTENCE[kind].format(**values)
    verdict = "Flagged" if flagged else "Not flagged"
    return f"{verdict}: {head}; {_strength(q, flagged)}."[:400]


def _audit_rows(kind: str, result, subject: str) -> list[dict]:
    groups = np.asarray(result.group).reshape(-1)
    arrays = {name: np.asarray(getattr(result, name)).reshape(-1) for name in ("n", "statistic", "effect", "p", "q")}
    flags = np.asarray(result.flagged).reshape(-1)
    rows = []
    for i in range(groups.shape[0]):
        n = int(arrays["n"][i])
        flagged = bool(flags[i])
        effect, q = _f(arrays["effect"][i]), _f(arrays["q"][i])
        test = result.test if isinstance(result.test, str) else str(np.asarray(result.test).reshape(-1)[i])
        rows.append(
            {
                "subject_kind": subject,
                "group": int(groups[i]),
                "kind": kind,
                "n": n,
                "statistic": _f(arrays["statistic"][i]),
                "effect": effect,
                "p": _f(arrays["p"][i]),
                "q": q,
                "flagged": flagged,
                "test": test[:80],
                "explanation": explain(kind, n, effect, q, flagged),
            }
        )
    return rows


def audits(j, loaded: Loaded) -> list[dict]:
    """Per expert (``group`` = annotator code): label skew, speeding, drift, and position bias on A/B
    items where the displayed order was recorded."""
    rows: list[dict] = []
    rows += _audit_rows("label_skew", nm.label_skew(j), "expert")
    if (loaded.seconds >= 0).any():
        rows += _audit_rows("speeding", nm.speeding(j), "expert")
    rows += _audit_rows("drift", nm.drift(j, gold=loaded.gold), "expert")
    labels = loaded.label_set
    if "A" in labels and "B" in labels and (loaded.order >= 0).any():
        first, second = labels.index("A"), labels.index("B")
        rows += _audit_rows("position_bias", nm.position_bias(j, first, second), "expert")
        zeros = np.zeros(loaded.n, dtype=np.int32)
        rows += _audit_rows("position_bias", nm.position_bias(j, first, second, group=zeros, n_groups=1), "supplier")
    return rows
