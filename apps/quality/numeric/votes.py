"""Vote counts (items x classes from one bincount), tie-aware majority vote and genuine disagreement.

Ties are reported as ties (label -1, ``tied`` True) and never broken: on A/B data with even overlap a
deterministic tie-break moves the aggregate share (research §3.3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .judgments import Judgments


def vote_counts(j: Judgments) -> np.ndarray:
    """(n_items, n_classes) int32: how many judgments gave each item each label."""
    k = j.n_classes
    flat = j.item.astype(np.int64) * k + j.label
    return np.bincount(flat, minlength=j.n_items * k).astype(np.int32).reshape(j.n_items, k)


def merge_counts(counts: np.ndarray, batch: Judgments) -> np.ndarray:
    """``counts`` plus the votes of ``batch`` (a new array; grows to ``batch.n_items`` rows if needed)."""
    counts = np.asarray(counts)
    if counts.ndim != 2 or counts.shape[1] != batch.n_classes:
        raise ValueError(f"counts: expected (n_items, {batch.n_classes}), got shape {counts.shape}.")
    rows = max(counts.shape[0], batch.n_items)
    out = np.zeros((rows, batch.n_classes), dtype=np.int32)
    out[: counts.shape[0]] = counts
    np.add.at(out, (batch.item, batch.label), 1)
    return out


@dataclass(frozen=True)
class Vote:
    """Per item: ``label`` (int32, -1 where tied or without votes), ``tied``, ``share`` (top count / n,
    NaN without votes) and ``n`` (int32 votes)."""

    label: np.ndarray
    tied: np.ndarray
    share: np.ndarray
    n: np.ndarray


def majority_vote(counts: np.ndarray) -> Vote:
    """Plurality label per item; a tie for the top count is reported as a tie, never broken."""
    counts = np.asarray(counts)
    if counts.ndim != 2:
        raise ValueError(f"counts: expected a 2-D (n_items, n_classes) array, got shape {counts.shape}.")
    n = counts.sum(axis=1).astype(np.int32)
    if counts.shape[1] == 0:
        empty = np.full(counts.shape[0], -1, dtype=np.int32)
        return Vote(empty, np.zeros(counts.shape[0], bool), np.full(counts.shape[0], np.nan), n)
    top = counts.max(axis=1)
    n_top = (counts == top[:, None]).sum(axis=1)
    tied = (n_top > 1) & (n > 0)
    label = counts.argmax(axis=1).astype(np.int32)
    label[tied | (n == 0)] = -1
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n > 0, top / np.maximum(n, 1), np.nan)
    return Vote(label=label, tied=tied, share=share.astype(np.float64), n=n)


def genuine_disagreement(counts: np.ndarray, min_n: int = 3, max_share: float = 0.6) -> np.ndarray:
    """Bool per item: at least ``min_n`` judgments and a modal share of at most ``max_share``.

    These items are kept apart from consensus (reported as disagreement) rather than voted away.
    """
    counts = np.asarray(counts)
    n = counts.sum(axis=1)
    top = counts.max(axis=1) if counts.shape[1] else np.zeros(counts.shape[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        share = top / np.maximum(n, 1)
    return (n >= min_n) & (share <= max_share)
