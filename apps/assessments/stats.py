"""Pure statistics for tests and calibration rounds (numpy; no Django).

* ``wilson_interval``: the 95% Wilson score interval of an accuracy (fractional successes allowed).
* ``krippendorff_alpha``: alpha over any overlap, through ``krippendorff.alpha(value_counts=...)`` with an
  explicit level (the package defaults to "interval"; the dense ``reliability_data`` path is memory-hungry).
* ``fleiss_kappa``: statsmodels' Fleiss' kappa, only when every item has the same number of raters
  (statsmodels asserts it); otherwise ``None`` with the reason.
* ``cohen_kappa_pairs``: Cohen's kappa for every rater pair with enough common items (own formula,
  checked against sklearn in the tests).
* ``items_most_disagreed``: per item, the share of the modal label; ties are reported as ties, never
  resolved to one side.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from itertools import combinations
from typing import Literal

import krippendorff
import numpy as np
from statsmodels.stats.inter_rater import fleiss_kappa as _sm_fleiss_kappa

Z95 = 1.959964
FOUR = Decimal("0.0001")
Level = Literal["nominal", "ordinal", "interval"]


def _d4(value: float) -> Decimal:
    return Decimal(repr(float(value))).quantize(FOUR, rounding=ROUND_HALF_UP)


def wilson_interval(successes: float, n: int, z: float = Z95) -> tuple[Decimal, Decimal]:
    """The Wilson score interval of ``successes`` out of ``n`` (4 decimals, within [0, 1]).

    ``successes`` may be fractional (partial credit summed). ``n == 0`` gives the uninformative (0, 1).
    """
    if n <= 0:
        return Decimal("0.0000"), Decimal("1.0000")
    p = min(max(float(successes) / n, 0.0), 1.0)
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    return _d4(max(0.0, centre - half)), _d4(min(1.0, centre + half))


def value_counts_matrix(units: Sequence[Sequence[float]]) -> tuple[np.ndarray, np.ndarray]:
    """(units x values count matrix, sorted value domain) from per-unit lists of values."""
    flat = [v for unit in units for v in unit]
    domain = np.unique(np.asarray(flat, dtype=float)) if flat else np.zeros(0)
    counts = np.zeros((len(units), len(domain)), dtype=np.int64)
    for row, unit in enumerate(units):
        if unit:
            idx = np.searchsorted(domain, np.asarray(unit, dtype=float))
            counts[row] = np.bincount(idx, minlength=len(domain))
    return counts, domain


@dataclass(frozen=True)
class Agreement:
    """A coefficient, or ``None`` with the reason it is undefined."""

    value: float | None
    reason: str = ""
    n_units: int = 0


def krippendorff_alpha(units: Sequence[Sequence[float]], level: Level = "nominal") -> Agreement:
    """Krippendorff's alpha of per-unit value lists (each list: the values the raters gave that unit).

    Units with fewer than two values carry no pairs and are ignored. Undefined (``None``) when no unit
    has two values or when only one distinct value occurs (no disagreement is possible).
    """
    if level not in ("nominal", "ordinal", "interval"):
        raise ValueError(f"Unknown level of measurement {level!r}.")
    pairable = [list(unit) for unit in units if len(unit) >= 2]
    if not pairable:
        return Agreement(None, "no item has answers from two raters")
    counts, domain = value_counts_matrix(pairable)
    if len(domain) < 2:
        return Agreement(None, "every answer is the same value", len(pairable))
    value = krippendorff.alpha(value_counts=counts, value_domain=domain, level_of_measurement=level)
    return Agreement(float(value), n_units=len(pairable))


def fleiss_kappa(table: Sequence[Sequence[int]] | np.ndarray) -> Agreement:
    """Fleiss' kappa of a subjects x categories count table, via statsmodels.

    Only defined when every subject has the same number (>= 2) of ratings; otherwise ``None`` with the
    reason (use Krippendorff's alpha, which allows varying overlap).
    """
    table = np.asarray(table, dtype=float)
    if table.ndim != 2 or table.shape[0] == 0:
        return Agreement(None, "no items")
    per_item = table.sum(axis=1)
    if not np.all(per_item == per_item[0]):
        return Agreement(
            None,
            f"items have different numbers of raters ({int(per_item.min())}-{int(per_item.max())})",
            table.shape[0],
        )
    if per_item[0] < 2:
        return Agreement(None, "each item needs at least two raters", table.shape[0])
    category_share = table.sum(axis=0) / table.sum()
    if np.isclose((category_share**2).sum(), 1.0):
        return Agreement(None, "every answer is the same category", table.shape[0])
    return Agreement(float(_sm_fleiss_kappa(table, method="fleiss")), n_units=table.shape[0])


def category_table(units: Sequence[Sequence[Hashable]]) -> tuple[np.ndarray, list]:
    """(subjects x categories count table, categories) from per-item label lists."""
    categories = sorted({label for unit in units for label in unit}, key=repr)
    index = {label: i for i, label in enumerate(categories)}
    table = np.zeros((len(units), len(categories)), dtype=np.int64)
    for row, unit in enumerate(units):
        for label in unit:
            table[row, index[label]] += 1
    return table, categories


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Unweighted Cohen's kappa of two aligned label vectors; ``None`` when chance agreement is 1."""
    if len(a) != len(b) or not a:
        raise ValueError("Two non-empty aligned label vectors are needed.")
    labels = sorted(set(a) | set(b), key=repr)
    index = {label: i for i, label in enumerate(labels)}
    k = len(labels)
    ia = np.fromiter((index[x] for x in a), dtype=np.int64, count=len(a))
    ib = np.fromiter((index[x] for x in b), dtype=np.int64, count=len(b))
    confusion = np.bincount(ia * k + ib, minlength=k * k).reshape(k, k) / len(a)
    observed = np.trace(confusion)
    expected = float(confusion.sum(axis=1) @ confusion.sum(axis=0))
    if math.isclose(expected, 1.0):
        return None
    return float((observed - expected) / (1 - expected))


def cohen_kappa_pairs(
    ratings: Mapping[Hashable, Mapping[Hashable, Hashable]], min_common: int = 2
) -> list[tuple[Hashable, Hashable, float | None, int]]:
    """(rater_a, rater_b, kappa, n_common) for every rater pair sharing at least ``min_common`` items.

    Raters are paired in sorted order; kappa is ``None`` where it is undefined (both raters used a
    single, identical label throughout).
    """
    raters = sorted(ratings, key=str)
    out = []
    for a, b in combinations(raters, 2):
        common = sorted(set(ratings[a]) & set(ratings[b]), key=str)
        if len(common) < max(min_common, 1):
            continue
        kappa = cohen_kappa([ratings[a][i] for i in common], [ratings[b][i] for i in common])
        out.append((a, b, kappa, len(common)))
    return out


@dataclass(frozen=True)
class ItemDisagreement:
    item: Hashable
    n: int  # answers on the item
    modal_labels: tuple  # every label with the top count: more than one means a tie
    modal_share: float  # top count / n
    tie: bool


def items_most_disagreed(
    answers: Mapping[Hashable, Iterable[Hashable]], limit: int | None = None, min_answers: int = 2
) -> list[ItemDisagreement]:
    """Items ordered from most to least disagreement (lowest modal share first).

    A tie for the top label is reported with every tied label (``tie=True``); it is never broken to one
    side. Items with fewer than ``min_answers`` answers are left out.
    """
    rows = []
    for item, labels in answers.items():
        counts = Counter(labels)
        n = sum(counts.values())
        if n < min_answers:
            continue
        top = max(counts.values())
        modal = tuple(sorted((label for label, c in counts.items() if c == top), key=repr))
        rows.append(ItemDisagreement(item=item, n=n, modal_labels=modal, modal_share=top / n, tie=len(modal) > 1))
    rows.sort(key=lambda r: (r.modal_share, -r.n, str(r.item)))
    return rows if limit is None else rows[:limit]
