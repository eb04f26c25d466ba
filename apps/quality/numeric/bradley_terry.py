"""Sparse Bradley-Terry scores for pairwise comparisons (Hunter's MM algorithm on an edge list).

Memory is O(comparisons + candidates): no dense N x N matrix (crowd-kit's ``BradleyTerry`` needs 2.6 GB at
10k candidates). Ties count as half a win for each side, never as a win for one side. A weak prior
(``prior`` virtual comparisons, half won and half lost, against a fixed opponent of strength 1) keeps
every score finite when a candidate never wins or never loses, or when the comparison graph is not
connected; ``prior=0`` gives the plain maximum-likelihood fit (like crowd-kit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .judgments import _as_codes

LEFT_WINS, RIGHT_WINS, TIE = 0, 1, 2


@dataclass(frozen=True)
class BradleyTerryResult:
    """``scores``: log-strength, mean 0 over compared candidates, NaN for never-compared ones (and -inf
    for a candidate without any win when ``prior=0``). ``wins``/``ties``/``comparisons``: int64 counts
    per candidate (a tie is not a win)."""

    scores: np.ndarray
    wins: np.ndarray
    comparisons: np.ndarray
    ties: np.ndarray
    n_iter: int
    converged: bool


def bradley_terry(
    left, right, outcome, n_candidates: int, max_iter: int = 200, tol: float = 1e-6, prior: float = 1.0
) -> BradleyTerryResult:
    """Fit BT strengths. ``outcome`` per comparison: 0 left wins, 1 right wins, 2 tie.

    Convergence: the L1 change of the sum-normalised strengths is below ``tol`` (crowd-kit's rule).
    """
    left = _as_codes("left", left, n_candidates)
    right = _as_codes("right", right, n_candidates, n=left.shape[0])
    outcome = _as_codes("outcome", outcome, 3, n=left.shape[0])
    if np.any(left == right):
        raise ValueError(f"left/right: a candidate compared with itself at row {int(np.argmax(left == right))}.")
    if prior < 0:
        raise ValueError("prior: must be >= 0.")
    n = n_candidates
    tie = outcome == TIE
    winner = np.where(outcome == LEFT_WINS, left, right)
    wins = np.bincount(winner[~tie], minlength=n).astype(np.int64)
    ties = (np.bincount(left[tie], minlength=n) + np.bincount(right[tie], minlength=n)).astype(np.int64)
    comparisons = (np.bincount(left, minlength=n) + np.bincount(right, minlength=n)).astype(np.int64)
    compared = comparisons > 0

    lo, hi = np.minimum(left, right).astype(np.int64), np.maximum(left, right).astype(np.int64)
    edge_key, n_edge = np.unique(lo * n + hi, return_counts=True)
    u, v = edge_key // n, edge_key % n
    n_edge = n_edge.astype(np.float64)
    score_wins = wins + 0.5 * ties + 0.5 * prior

    p = np.ones(n, dtype=np.float64)
    normalised = p / max(compared.sum(), 1)
    converged = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 (n_iter is reported)
        s = n_edge / (p[u] + p[v])
        denom = np.bincount(u, weights=s, minlength=n) + np.bincount(v, weights=s, minlength=n)
        denom = denom.astype(np.float64, copy=False)
        if prior > 0:
            denom += prior / (p + 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            p = np.where(compared, score_wins / denom, 1.0)
        if prior == 0:
            p = p / p[compared].sum() * compared.sum()
        new_norm = np.where(compared, p, 0.0)
        new_norm /= max(new_norm.sum(), 1e-300)
        change = np.abs(new_norm - normalised).sum()
        normalised = new_norm
        if change < tol:
            converged = True
            break
    with np.errstate(divide="ignore"):
        log_p = np.log(p)
    scores = np.full(n, np.nan)
    finite = compared & np.isfinite(log_p)
    if finite.any():
        scores[compared] = log_p[compared] - log_p[finite].mean()
    return BradleyTerryResult(scores, wins, comparisons, ties, n_iter, converged)
