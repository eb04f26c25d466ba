"""Helpers over the latest snapshots that several readers share (bid comparison, multiplier, benchmark)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from django.db.models import Max

from .models import ScoreSnapshot, SubjectKind

FOUR = Decimal("0.0001")


def latest_ids(qs, key: str) -> list[int]:
    """The id of the newest snapshot per ``key`` among ``qs`` (ids grow with time: append-only)."""
    return list(qs.order_by().values(key).annotate(last=Max("id")).values_list("last", flat=True))


def wilson_interval(correct: int, n: int) -> tuple[float | None, float | None, float | None]:
    if not n:
        return None, None, None
    from .numeric import wilson

    p = wilson(np.array([correct]), np.array([n]))
    first = lambda a: float(np.asarray(a).reshape(-1)[0])  # noqa: E731
    return first(p.estimate), first(p.lower), first(p.upper)


def ratio(correct: int, n: int) -> Decimal | None:
    """An exact accuracy from integer counts, 4 places, half up (no float on the way to money)."""
    if not n:
        return None
    return (Decimal(correct) / Decimal(n)).quantize(FOUR, rounding=ROUND_HALF_UP)


def supplier_history(*, supplier) -> dict | None:
    """The supplier's measured gold accuracy over all its contracts (latest contract snapshot of each),
    with a 95% Wilson interval; None without any gold answer. Registered as the bidding provider."""
    ids = latest_ids(ScoreSnapshot.objects.filter(supplier=supplier, subject_kind=SubjectKind.CONTRACT), "contract_id")
    rows = list(ScoreSnapshot.objects.filter(pk__in=ids).values_list("n_gold", "gold_correct"))
    n = sum(r[0] for r in rows)
    correct = sum(r[1] for r in rows)
    if not n:
        return None
    _, lower, upper = wilson_interval(correct, n)
    return {
        "gold_accuracy": ratio(correct, n),
        "lower": Decimal(str(lower)).quantize(FOUR, rounding=ROUND_HALF_UP),
        "upper": Decimal(str(upper)).quantize(FOUR, rounding=ROUND_HALF_UP),
        "n_gold": n,
        "gold_correct": correct,
        "n_contracts": len(rows),
    }
