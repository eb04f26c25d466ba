"""Filters for quality figures: fractions shown as percentages, statistics to a fixed precision."""

from __future__ import annotations

import math

from django import template

register = template.Library()

MISSING = "—"


def _number(value) -> float | None:
    if value is None or value == "":
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


@register.filter
def pct(value, digits: int = 1) -> str:
    """A fraction 0..1 as a percentage (``0.9123|pct`` -> ``91.2%``); a dash when not measured."""
    number = _number(value)
    return MISSING if number is None else f"{number * 100:.{int(digits)}f}%"


@register.filter
def stat(value, digits: int = 3) -> str:
    """A statistic (kappa, alpha, an effect) to ``digits`` decimals; a dash when not measurable."""
    number = _number(value)
    return MISSING if number is None else f"{number:.{int(digits)}f}"


@register.filter
def pvalue(value) -> str:
    """A p- or q-value: three significant figures, ``< 0.0001`` below that."""
    number = _number(value)
    if number is None:
        return MISSING
    if number < 0.0001:
        return "< 0.0001"
    return f"{number:.4f}" if number < 0.01 else f"{number:.3f}"


@register.simple_tag
def interval(lower, upper) -> str:
    """A 95% interval as ``88.0–93.6%``; empty when either bound is missing."""
    lo, hi = _number(lower), _number(upper)
    if lo is None or hi is None:
        return ""
    return f"{lo * 100:.1f}–{hi * 100:.1f}%"
