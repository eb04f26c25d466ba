"""Pure grading of objective items: an answer (in original terms) against its key. No database."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

ONE = Decimal(1)
ZERO = Decimal(0)
OBJECTIVE_TYPES = frozenset({"single_choice", "multiple_choice", "ab_preference", "likert", "numeric"})


def _decimal(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return number if number.is_finite() else None


def grade_item(item_type: str, key_value: Any, answer: Any, *, tolerance: Any = None) -> Decimal:
    """1 when ``answer`` (original indices / "A"-"B"-"tie", as stored) matches the key, else 0.
    An unanswered item (None) earns 0. Free text is not graded here (rubric graders score it)."""
    if item_type not in OBJECTIVE_TYPES:
        raise ValueError(f"{item_type!r} is not an objective item type.")
    if answer is None or key_value is None:
        return ZERO
    if item_type == "single_choice":
        return ONE if answer.get("option") == key_value else ZERO
    if item_type == "multiple_choice":
        return ONE if sorted(answer.get("options") or []) == sorted(key_value) else ZERO
    if item_type == "ab_preference":
        return ONE if answer.get("choice") == key_value else ZERO
    if item_type == "likert":
        return ONE if answer.get("value") == key_value else ZERO
    if item_type == "numeric":
        given, expected = _decimal(answer.get("value")), _decimal(key_value)
        if given is None or expected is None:
            return ZERO
        allowed = _decimal(tolerance) if tolerance is not None else ZERO
        return ONE if abs(given - expected) <= (allowed or ZERO) else ZERO
    return ZERO
