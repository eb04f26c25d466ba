"""Sufficient statistics for incremental scoring when a batch lands (target: 10,000 judgments < 100 ms).

Incremental (exact, from additive tallies): vote counts and majority vote of the touched items, gold
accuracy, leave-one-out agreement, label histograms (label skew), position-bias counts and Krippendorff's
alpha (through the coincidence matrix). Nightly only (need every judgment, medians or a global fit):
Dawid-Skene, all-pairs Cohen's kappa, Fleiss' kappa, speeding, drift and Bradley-Terry.

Leave-one-out scores of *earlier* judgments change when a batch adds votes to their items, so the update
replaces the tally of the touched items::

    touched = touched_items(batch)
    before = judgments already stored on the touched items        # one indexed query
    old = tally(before, counts_before, gold, groups...)
    counts_after = merge_counts(counts_before, batch)
    new = tally(concat(before, batch), counts_after, gold, groups...)
    running = merge_tallies(merge_tallies(running, old, sign=-1), new)
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .agreement import coincidence
from .audits import label_histogram, position_counts
from .judgments import Judgments
from .scores import gold_sums, loo_sums, resolve_group


@dataclass(frozen=True)
class Tally:
    """Additive per-group sums (float64 or int64 arrays of length n_groups; ``labels`` is groups x K;
    ``coincidence`` is K x K over the tallied items, for alpha)."""

    judgments: np.ndarray
    gold_correct: np.ndarray
    gold_n: np.ndarray
    loo_sum: np.ndarray
    loo_n: np.ndarray
    labels: np.ndarray
    first_chosen: np.ndarray
    order_n: np.ndarray
    coincidence: np.ndarray


def touched_items(batch: Judgments) -> np.ndarray:
    """Sorted unique item codes of a batch."""
    return np.unique(batch.item)


def concat(a: Judgments, b: Judgments) -> Judgments:
    """The judgments of ``a`` followed by ``b`` (same code spaces; optional arrays kept when both have them)."""

    def join(x, y):
        return None if x is None or y is None else np.concatenate((x, y))

    return Judgments(
        item=np.concatenate((a.item, b.item)),
        annotator=np.concatenate((a.annotator, b.annotator)),
        label=np.concatenate((a.label, b.label)),
        n_items=max(a.n_items, b.n_items),
        n_annotators=max(a.n_annotators, b.n_annotators),
        n_classes=a.n_classes,
        order=join(a.order, b.order),
        seconds=join(a.seconds, b.seconds),
        time=join(a.time, b.time),
    )


def tally(
    j: Judgments,
    counts,
    gold=None,
    group=None,
    n_groups=None,
    first_label: int | None = None,
    second_label: int | None = None,
) -> Tally:
    """The additive sums of ``j`` scored against ``counts`` (vote counts of all judgments on j's items).

    ``j`` must hold every judgment on the items it touches (leave-one-out and coincidence are per item).
    Position counts need ``first_label``/``second_label`` and ``j.order``; otherwise they are zero.
    """
    g, n_groups = resolve_group(j, group, n_groups)
    zeros_f, zeros_i = np.zeros(n_groups), np.zeros(n_groups, dtype=np.int64)
    gold_correct, gold_n = (zeros_f, zeros_i) if gold is None else gold_sums(j, gold, g, n_groups)
    loo_sum, loo_n = loo_sums(j, counts, g, n_groups)
    if first_label is not None and second_label is not None and j.order is not None:
        first_chosen, order_n = position_counts(j, first_label, second_label, g, n_groups)
    else:
        first_chosen, order_n = zeros_i, zeros_i
    items = np.unique(j.item)
    return Tally(
        judgments=np.bincount(g, minlength=n_groups).astype(np.int64),
        gold_correct=gold_correct,
        gold_n=gold_n,
        loo_sum=loo_sum,
        loo_n=loo_n,
        labels=label_histogram(j, g, n_groups).astype(np.int64),
        first_chosen=first_chosen,
        order_n=order_n,
        coincidence=coincidence(np.asarray(counts)[items]),
    )


def _pad(a: np.ndarray, rows: int) -> np.ndarray:
    if a.shape[0] == rows:
        return a
    out = np.zeros((rows, *a.shape[1:]), dtype=a.dtype)
    out[: a.shape[0]] = a
    return out


def merge_tallies(a: Tally, b: Tally, sign: int = 1) -> Tally:
    """``a + sign * b`` field by field (the group axis grows to the longer of the two)."""
    if sign not in (1, -1):
        raise ValueError("sign: expected 1 or -1.")
    out = {}
    for f in fields(Tally):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if f.name == "coincidence":
            out[f.name] = x + sign * y
            continue
        rows = max(x.shape[0], y.shape[0])
        out[f.name] = _pad(x, rows) + sign * _pad(y, rows)
    return Tally(**out)
