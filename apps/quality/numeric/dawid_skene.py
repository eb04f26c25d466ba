"""Dawid-Skene consensus: vectorised EM over a sparse item x (annotator, label) incidence matrix.

Follows crowd-kit's ``DawidSkene`` (soft majority-vote initialisation, full K x K confusion per annotator,
class priors, gold items clamped to their answer, confusion entries clipped at 1e-10 so a class an
annotator never met gives a uniform column instead of NaN) but each E- and M-step is one sparse
matrix product. Stopping rule: the mean log-likelihood per judgment improves by less than ``tol``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from .judgments import Judgments
from .scores import _check_gold
from .votes import vote_counts

EPS = 1e-10
TIE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class DawidSkeneResult:
    """``probas`` (n_items, K); ``label`` (-1 where the top two probabilities tie within 1e-9);
    ``confidence`` (max probability); ``confusion`` (n_annotators, true K, observed K): P(observed | true);
    ``priors`` (K,); ``annotator_accuracy``: mean posterior probability that the annotator's judgments
    are right (NaN without judgments); ``log_likelihood`` per judgment at the end."""

    probas: np.ndarray
    label: np.ndarray
    confidence: np.ndarray
    confusion: np.ndarray
    priors: np.ndarray
    n_iter: int
    converged: bool
    annotator_accuracy: np.ndarray
    log_likelihood: float


def top_label(probas: np.ndarray, tolerance: float = TIE_TOLERANCE) -> tuple[np.ndarray, np.ndarray]:
    """(label with -1 where the two best probabilities are within ``tolerance``, max probability)."""
    if probas.shape[1] == 0:
        return np.full(probas.shape[0], -1, np.int32), np.zeros(probas.shape[0])
    label = probas.argmax(axis=1).astype(np.int32)
    best = probas.max(axis=1)
    if probas.shape[1] > 1:
        second = np.partition(probas, -2, axis=1)[:, -2]
        label[best - second <= tolerance] = -1
    return label, best


def dawid_skene(j: Judgments, gold=None, max_iter: int = 100, tol: float = 1e-5, counts=None) -> DawidSkeneResult:
    """Consensus labels with per-item probabilities; items with no judgments get the class priors.

    ``gold``: int per item, -1 = not gold; gold items are clamped one-hot on their answer throughout.
    """
    k, n_items, n_ann = j.n_classes, j.n_items, j.n_annotators
    counts = vote_counts(j) if counts is None else np.asarray(counts)
    if counts.shape != (n_items, k):
        raise ValueError(f"counts: expected shape ({n_items}, {k}), got {counts.shape}.")
    gold_idx = gold_lab = None
    if gold is not None:
        gold = _check_gold(j, gold)
        gold_idx = np.flatnonzero(gold >= 0)
        gold_lab = gold[gold_idx]

    cols = j.annotator.astype(np.int64) * k + j.label
    incidence = sparse.csr_matrix(
        (np.ones(j.n, dtype=np.float64), (j.item, cols)), shape=(n_items, n_ann * k)
    )  # duplicates are summed
    incidence_t = incidence.T  # a CSC view: its product with a dense matrix was 3x faster than a CSR copy
    n_per_item = counts.sum(axis=1)
    active = n_per_item > 0

    # probabilities are kept as (K, n_items): reductions over K then run along contiguous rows
    active_f = active.astype(np.float64)
    n_active = max(int(active.sum()), 1)

    def clamp(p_t: np.ndarray) -> None:
        if gold_idx is not None and gold_idx.size:
            p_t[:, gold_idx] = 0.0
            p_t[gold_lab, gold_idx] = 1.0

    def m_step(p_t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        priors = p_t @ active_f / n_active if active.any() else np.full(k, 1.0 / max(k, 1))
        errors = np.asarray(incidence_t @ np.ascontiguousarray(p_t.T)).reshape(n_ann, k, k)  # [ann, observed, true]
        np.maximum(errors, EPS, out=errors)
        errors /= errors.sum(axis=1, keepdims=True)
        return priors, errors

    probas_t = np.ascontiguousarray((counts / np.maximum(n_per_item, 1)[:, None]).T, dtype=np.float64)
    clamp(probas_t)
    priors, errors = m_step(probas_t)
    prev_ll = -np.inf
    ll = -np.inf
    converged = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 (n_iter is reported)
        log_e = np.log(errors).reshape(n_ann * k, k)
        probas_t = np.ascontiguousarray(np.asarray(incidence @ log_e).T)
        probas_t += np.log(np.maximum(priors, EPS))[:, None]
        row_max = probas_t.max(axis=0)
        probas_t -= row_max
        np.exp(probas_t, out=probas_t)
        norm = probas_t.sum(axis=0)
        probas_t /= norm
        ll = float((np.log(norm) + row_max) @ active_f / max(j.n, 1))
        clamp(probas_t)
        priors, errors = m_step(probas_t)
        if ll - prev_ll < tol:
            converged = True
            break
        prev_ll = ll
    probas = np.ascontiguousarray(probas_t.T)
    label, confidence = top_label(probas)
    right = probas[j.item, j.label]
    per_ann = np.bincount(j.annotator, minlength=n_ann)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = np.bincount(j.annotator, weights=right, minlength=n_ann) / per_ann
    return DawidSkeneResult(
        probas=probas,
        label=label,
        confidence=confidence,
        confusion=errors.transpose(0, 2, 1).copy(),
        priors=priors,
        n_iter=n_iter,
        converged=converged,
        annotator_accuracy=np.where(per_ann > 0, accuracy, np.nan),
        log_likelihood=ll,
    )
