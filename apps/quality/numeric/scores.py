"""Proportions with 95% Wilson intervals: gold accuracy and leave-one-out agreement, per group.

A group is any per-judgment code: the annotator (default), the vendor of each judgment, the batch, or
all zeros for a whole contract. Both figures are sums over judgments, so they add up across batches
(see ``incremental``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .judgments import Judgments, _as_codes
from .votes import vote_counts

Z95 = 1.959964


@dataclass(frozen=True)
class Proportion:
    """float64 arrays per group: ``estimate`` = successes / n (NaN where n == 0) and the Wilson interval
    [``lower``, ``upper``] (0 and 1 where n == 0)."""

    successes: np.ndarray
    n: np.ndarray
    estimate: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def wilson(successes, n, z: float = Z95) -> Proportion:
    """Vectorised Wilson score interval (95% by default). Fractional successes are allowed (mean scores)."""
    s = np.asarray(successes, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    s, n = np.broadcast_arrays(s, n)
    if np.any(n < 0):
        raise ValueError("n: counts must be non-negative.")
    if np.any(s < -1e-9) or np.any(s > n + 1e-9):
        raise ValueError("successes: must lie between 0 and n.")
    has = n > 0
    safe_n = np.where(has, n, 1.0)
    p = np.clip(s / safe_n, 0.0, 1.0)
    z2 = z * z
    denominator = 1 + z2 / safe_n
    centre = (p + z2 / (2 * safe_n)) / denominator
    half = z * np.sqrt(p * (1 - p) / safe_n + z2 / (4 * safe_n * safe_n)) / denominator
    return Proportion(
        successes=s.copy(),
        n=n.copy(),
        estimate=np.where(has, p, np.nan),
        lower=np.where(has, np.clip(centre - half, 0.0, 1.0), 0.0),
        upper=np.where(has, np.clip(centre + half, 0.0, 1.0), 1.0),
    )


def resolve_group(j: Judgments, group, n_groups) -> tuple[np.ndarray, int]:
    """(per-judgment int32 group codes, number of groups); the annotator when ``group`` is None."""
    if group is None:
        return j.annotator, j.n_annotators if n_groups is None else int(n_groups)
    g = np.asarray(group)
    if n_groups is None:
        n_groups = int(g.max()) + 1 if g.size else 0
    return _as_codes("group", g, int(n_groups), n=j.n), int(n_groups)


def _check_gold(j: Judgments, gold) -> np.ndarray:
    gold = np.asarray(gold)
    if gold.ndim != 1 or gold.shape[0] != j.n_items:
        raise ValueError(f"gold: expected one code per item ({j.n_items}), got shape {gold.shape}.")
    if gold.size and (gold.dtype.kind not in "iu" or gold.min() < -1 or gold.max() >= j.n_classes):
        raise ValueError(f"gold: values must be -1 (not gold) or a label in 0..{j.n_classes - 1}.")
    return gold.astype(np.int32, copy=False)


def gold_sums(j: Judgments, gold, group=None, n_groups=None) -> tuple[np.ndarray, np.ndarray]:
    """(correct, answered) float64/int64 per group over judgments on gold items (additive)."""
    gold = _check_gold(j, gold)
    g, n_groups = resolve_group(j, group, n_groups)
    key = gold[j.item]
    on_gold = key >= 0
    gg = g[on_gold]
    correct = np.bincount(gg, weights=(j.label[on_gold] == key[on_gold]), minlength=n_groups)
    answered = np.bincount(gg, minlength=n_groups)
    return correct.astype(np.float64), answered.astype(np.int64)


def gold_accuracy(j: Judgments, gold, group=None, n_groups: int | None = None) -> Proportion:
    """Share of judgments on gold items (``gold[item] >= 0``) that match the gold answer, per group."""
    return wilson(*gold_sums(j, gold, group, n_groups))


def loo_scores(j: Judgments, counts=None) -> tuple[np.ndarray, np.ndarray]:
    """(score per judgment, mask of judgments with a score): ``(counts[item, label] - 1) / (n_item - 1)``,
    the share of the *other* judgments on the item that gave the same label; only items with >= 2."""
    counts = vote_counts(j) if counts is None else np.asarray(counts)
    if counts.shape != (j.n_items, j.n_classes):
        raise ValueError(f"counts: expected shape ({j.n_items}, {j.n_classes}), got {counts.shape}.")
    n_item = counts.sum(axis=1)[j.item]
    same = counts[j.item, j.label]
    if np.any(same < 1):
        raise ValueError("counts: do not include these judgments (a judgment's own label has no count).")
    scored = n_item >= 2
    score = np.zeros(j.n, dtype=np.float64)
    score[scored] = (same[scored] - 1) / (n_item[scored] - 1)
    return score, scored


def loo_sums(j: Judgments, counts=None, group=None, n_groups=None) -> tuple[np.ndarray, np.ndarray]:
    """(sum of leave-one-out scores, number of scored judgments) per group."""
    score, scored = loo_scores(j, counts)
    g, n_groups = resolve_group(j, group, n_groups)
    return (
        np.bincount(g[scored], weights=score[scored], minlength=n_groups).astype(np.float64),
        np.bincount(g[scored], minlength=n_groups).astype(np.int64),
    )


def loo_agreement(j: Judgments, counts=None, group=None, n_groups: int | None = None) -> Proportion:
    """Mean leave-one-out agreement per group (the judgment's own vote excluded), with a Wilson interval.

    ``successes`` is the sum of fractional scores, so the interval treats the mean score as a proportion
    (conservative: a fractional score varies less than a 0/1 outcome). ``counts`` must cover every
    judgment on the scored items (defaults to ``vote_counts(j)``).
    """
    return wilson(*loo_sums(j, counts, group, n_groups))
