"""Long-format judgment arrays (one row per judgment) with validation, and fast id factorisation.

Everything in ``apps.quality.numeric`` takes a :class:`Judgments`: int32 code arrays plus the sizes of the
code spaces, never model instances and never an annotator x item matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_INT_KINDS = "iub"


def _as_codes(name: str, values, size: int, *, n: int | None = None) -> np.ndarray:
    """``values`` as a 1-D int32 array of codes in ``0..size-1`` (ValueError naming ``name`` otherwise)."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array, got shape {arr.shape}.")
    if arr.size and arr.dtype.kind not in _INT_KINDS:
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            pass
        else:
            raise ValueError(f"{name}: expected integer codes, got dtype {arr.dtype}.")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name}: length {arr.shape[0]} differs from the {n} judgments.")
    if arr.size:
        lo, hi = arr.min(), arr.max()
        if lo < 0 or hi >= size:
            bad = int(np.flatnonzero((arr < 0) | (arr >= size))[0])
            raise ValueError(f"{name}: values must be in 0..{size - 1} (found {arr[bad]} at row {bad}).")
    return arr.astype(np.int32, copy=False)


def _as_size(name: str, value) -> int:
    if isinstance(value, bool) or int(value) != value or value < 0:
        raise ValueError(f"{name}: expected a non-negative integer, got {value!r}.")
    return int(value)


@dataclass(frozen=True)
class Judgments:
    """One row per judgment; ``item``/``annotator``/``label`` are int32 codes (see :func:`factorize`).

    ``order`` (int8): -1 unknown, 0 option A shown first, 1 option B shown first. ``seconds`` (float32):
    time spent, NaN unknown. ``time`` (int64): epoch seconds (or any monotone clock) of the judgment.
    Construction coerces dtypes and checks lengths and ranges; a ValueError names the offending array.
    """

    item: np.ndarray
    annotator: np.ndarray
    label: np.ndarray
    n_items: int
    n_annotators: int
    n_classes: int
    order: np.ndarray | None = None
    seconds: np.ndarray | None = None
    time: np.ndarray | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        for name in ("n_items", "n_annotators", "n_classes"):
            set_(self, name, _as_size(f"Judgments.{name}", getattr(self, name)))
        item = np.asarray(self.item)
        n = item.shape[0] if item.ndim == 1 else -1
        set_(self, "item", _as_codes("Judgments.item", self.item, self.n_items))
        set_(self, "annotator", _as_codes("Judgments.annotator", self.annotator, self.n_annotators, n=n))
        set_(self, "label", _as_codes("Judgments.label", self.label, self.n_classes, n=n))
        if self.order is not None:
            order = np.asarray(self.order)
            if order.ndim != 1 or order.shape[0] != n:
                raise ValueError(f"Judgments.order: expected {n} values, got shape {order.shape}.")
            if order.size and (order.dtype.kind not in _INT_KINDS or order.min() < -1 or order.max() > 1):
                raise ValueError("Judgments.order: values must be -1 (unknown), 0 (A first) or 1 (B first).")
            set_(self, "order", order.astype(np.int8, copy=False))
        if self.seconds is not None:
            seconds = np.asarray(self.seconds, dtype=np.float32)
            if seconds.ndim != 1 or seconds.shape[0] != n:
                raise ValueError(f"Judgments.seconds: expected {n} values, got shape {seconds.shape}.")
            if np.any(seconds < 0):
                raise ValueError("Judgments.seconds: negative durations (use NaN for unknown).")
            set_(self, "seconds", seconds)
        if self.time is not None:
            time = np.asarray(self.time)
            if time.ndim != 1 or time.shape[0] != n:
                raise ValueError(f"Judgments.time: expected {n} values, got shape {time.shape}.")
            if time.size and time.dtype.kind not in _INT_KINDS:
                raise ValueError(f"Judgments.time: expected integer timestamps, got dtype {time.dtype}.")
            set_(self, "time", time.astype(np.int64, copy=False))

    @property
    def n(self) -> int:
        """Number of judgments."""
        return int(self.item.shape[0])

    def take(self, rows) -> Judgments:
        """The judgments at ``rows`` (a boolean mask or an index array), with the same code spaces."""

        def pick(a):
            return None if a is None else a[rows]

        return Judgments(
            item=self.item[rows],
            annotator=self.annotator[rows],
            label=self.label[rows],
            n_items=self.n_items,
            n_annotators=self.n_annotators,
            n_classes=self.n_classes,
            order=pick(self.order),
            seconds=pick(self.seconds),
            time=pick(self.time),
        )


def factorize(values) -> tuple[np.ndarray, np.ndarray]:
    """(int32 codes, sorted uniques) so that ``uniques[codes] == values``.

    Small-range integers go through a presence table (O(n)); other numbers and strings through
    ``np.unique``; Python objects (UUIDs, mixed) through a dict, then sorted when they are orderable.
    """
    arr = np.asarray(values)
    if arr.ndim != 1:
        arr = arr.reshape(-1)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int32), arr
    if arr.dtype.kind in "iu":
        lo, hi = int(arr.min()), int(arr.max())
        span = hi - lo + 1
        if span <= 4 * arr.size + 1024:
            shifted = (arr - lo).astype(np.int64, copy=False)
            present = np.zeros(span, dtype=bool)
            present[shifted] = True
            lookup = np.cumsum(present, dtype=np.int64) - 1
            uniques = (np.flatnonzero(present) + lo).astype(arr.dtype)
            return lookup[shifted].astype(np.int32), uniques
    if arr.dtype.kind != "O":
        uniques, codes = np.unique(arr, return_inverse=True)
        return codes.astype(np.int32, copy=False), uniques
    index: dict = {}
    codes = np.fromiter((index.setdefault(v, len(index)) for v in arr), dtype=np.int64, count=arr.size)
    uniques = np.empty(len(index), dtype=object)
    uniques[:] = list(index)
    try:
        order = np.argsort(uniques, kind="stable")
    except TypeError:  # not orderable (mixed types): first-appearance order
        return codes.astype(np.int32), uniques
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rank[codes].astype(np.int32), uniques[order]
