"""Charts drawn by the site itself: small pure functions that return SVG markup.

No JavaScript, no CDN and nothing the strict CSP would refuse: no ``style`` attribute and no ``<style>``
element. Colours and strokes come from classes (``qchart__*``) styled in ``static/css/app.css``. Every text
is escaped, every number is written by this module, and each chart carries a ``<title>`` and a ``<desc>``
(the page puts a data table beside it as the accessible fallback).

Inputs are plain dataclasses of this module (views map selector results onto them), so the functions know
nothing of the ORM and are tested by parsing their output with ``xml.etree``.

Charts: :func:`quality_over_time` (gold accuracy per snapshot with its 95% interval as a band and the SLA
threshold as a line), :func:`vendor_comparison` (one row per supplier, point and whiskers, sorted, ties
shown as ties), :func:`expert_scatter` (gold accuracy against leave-one-out agreement, flagged experts
marked by shape as well as colour) and :func:`sparkline`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

Number = float | int | Decimal

SVG_NS = "http://www.w3.org/2000/svg"


@dataclass(frozen=True)
class TimePoint:
    """One snapshot: when, the estimate and its 95% interval (fractions 0..1), and how many items."""

    at: datetime | date
    value: Number | None
    lower: Number | None = None
    upper: Number | None = None
    n: int | None = None


@dataclass(frozen=True)
class IntervalRow:
    """One supplier (or expert) on a league table: estimate, 95% interval, rank (equal ranks are ties)."""

    label: str
    value: Number | None
    lower: Number | None = None
    upper: Number | None = None
    rank: int | None = None
    n: int | None = None


@dataclass(frozen=True)
class ScatterPoint:
    """One expert: gold accuracy (x) and leave-one-out agreement (y), both fractions 0..1."""

    label: str
    x: Number | None
    y: Number | None
    flagged: bool = False


# --- Small helpers ------------------------------------------------------------------------------------------


def _num(value: Number | None) -> float | None:
    if value is None:
        return None
    out = float(value)
    return out if math.isfinite(out) else None


def _f(value: float) -> str:
    """A coordinate: two decimals, no trailing zeros, never ``-0``."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _pct(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value * 100:.{digits}f}%"


def _attrs(attrs: dict[str, object]) -> str:
    parts = []
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        if isinstance(value, float):
            value = _f(value)
        parts.append(f'{key}="{escape(str(value))}"')
    return (" " + " ".join(parts)) if parts else ""


def _el(tag: str, attrs: dict[str, object] | None = None, children: Iterable[str] | str = "") -> str:
    """An element; ``children`` is markup already built by this module (text must be escaped first)."""
    body = children if isinstance(children, str) else "".join(children)
    if not body:
        return f"<{tag}{_attrs(attrs or {})}/>"
    return f"<{tag}{_attrs(attrs or {})}>{body}</{tag}>"


def _text(x: float, y: float, text: str, cls: str, anchor: str = "start") -> str:
    return _el("text", {"x": x, "y": y, "class": cls, "text-anchor": anchor}, escape(text))


def _svg(*, chart_id: str, kind: str, width: int, height: int, title: str, desc: str, body: list[str]) -> SafeString:
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    head = [_el("title", {"id": title_id}, escape(title)), _el("desc", {"id": desc_id}, escape(desc))]
    markup = _el(
        "svg",
        {
            "xmlns": SVG_NS,
            "id": chart_id,
            "class": f"chart qchart--{kind}",
            "viewBox": f"0 0 {width} {height}",
            "width": width,
            "height": height,
            "role": "img",
            "aria-labelledby": f"{title_id} {desc_id}",
            "preserveAspectRatio": "xMidYMid meet",
        },
        head + body,
    )
    return mark_safe(markup)  # noqa: S308 - every text and attribute above went through escape()


def _empty(*, chart_id: str, kind: str, width: int, height: int, title: str, message: str) -> SafeString:
    body = [_text(width / 2, height / 2, message, "qchart__empty", "middle")]
    return _svg(chart_id=chart_id, kind=kind, width=width, height=height, title=title, desc=message, body=body)


def _domain(values: Iterable[float | None], *, floor_step: float = 0.1) -> tuple[float, float]:
    """A 0..1 axis domain: from the lowest value (rounded down to ``floor_step``, at most 0.9) to 1."""
    present = [v for v in values if v is not None]
    low = min(present) if present else 0.0
    low = max(0.0, min(0.9, math.floor(round(low / floor_step, 6)) * floor_step))
    if present and 0 < low >= min(present) - 1e-9:  # a point on the bottom edge: give it room
        low = max(0.0, low - floor_step)
    return round(low, 6), 1.0


def _ticks(low: float, high: float) -> list[float]:
    span = high - low
    step = 0.1 if span > 0.45 else 0.05
    first = math.ceil(round(low / step, 6)) * step
    ticks = []
    value = first
    while value <= high + 1e-9:
        ticks.append(round(value, 6))
        value += step
    return ticks


class _Scale:
    def __init__(self, domain: tuple[float, float], pixels: tuple[float, float]):
        self.d0, self.d1 = domain
        self.p0, self.p1 = pixels

    def __call__(self, value: float) -> float:
        if self.d1 == self.d0:
            return (self.p0 + self.p1) / 2
        clamped = min(max(value, self.d0), self.d1)
        return self.p0 + (clamped - self.d0) / (self.d1 - self.d0) * (self.p1 - self.p0)


def _when(at: datetime | date) -> float:
    if isinstance(at, datetime):
        return at.timestamp()
    return datetime(at.year, at.month, at.day).timestamp()


def _label_date(at: datetime | date) -> str:
    return f"{at.day} {at.strftime('%b %Y')}"


# --- (a) Quality over time ------------------------------------------------------------------------------------


def quality_over_time(
    points: Sequence[TimePoint],
    *,
    threshold: Number | None = None,
    chart_id: str = "quality-over-time",
    title: str = "Gold accuracy over time",
    width: int = 640,
    height: int = 260,
) -> SafeString:
    """Gold accuracy per snapshot (a line of points), its 95% interval as a band and the SLA threshold as a
    dashed line. Snapshots without an estimate are left out; one snapshot is a point with a whisker."""
    data = sorted((p for p in points if _num(p.value) is not None), key=lambda p: _when(p.at))
    if not data:
        return _empty(
            chart_id=chart_id, kind="timeline", width=width, height=height, title=title,
            message="No gold accuracy measured yet.",
        )  # fmt: skip
    limit = _num(threshold)
    margin_left, margin_right, margin_top, margin_bottom = 48, 16, 16, 36
    low, high = _domain([_num(p.lower) if p.lower is not None else _num(p.value) for p in data] + [limit])
    y = _Scale((low, high), (height - margin_bottom, margin_top))
    times = [_when(p.at) for p in data]
    x = _Scale((min(times), max(times)), (margin_left + 8, width - margin_right - 8))
    body = [_axes_y(y, low, high, margin_left, width - margin_right)]

    band_points = [(x(t), y(_num(p.upper))) for t, p in zip(times, data, strict=True) if p.upper is not None]
    band_back = [(x(t), y(_num(p.lower))) for t, p in zip(times, data, strict=True) if p.lower is not None]
    if len(data) > 1 and len(band_points) == len(data) and len(band_back) == len(data):
        outline = band_points + list(reversed(band_back))
        body.append(
            _el("polygon", {"class": "qchart__band", "points": " ".join(f"{_f(a)},{_f(b)}" for a, b in outline)})
        )
    if limit is not None:
        ty = y(limit)
        body.append(
            _el(
                "line",
                {"class": "qchart__threshold", "x1": margin_left, "x2": width - margin_right, "y1": ty, "y2": ty},
            )
        )
        body.append(
            _text(width - margin_right, ty - 4, f"SLA {_pct(limit)}", "qchart__label qchart__label--threshold", "end")
        )
    if len(data) > 1:
        line = " ".join(f"{_f(x(t))},{_f(y(_num(p.value)))}" for t, p in zip(times, data, strict=True))
        body.append(_el("polyline", {"class": "qchart__line", "points": line, "fill": "none"}))
    for t, p in zip(times, data, strict=True):
        cx, cy = x(t), y(_num(p.value))
        lower, upper = _num(p.lower), _num(p.upper)
        if len(data) == 1 and lower is not None and upper is not None:
            body.append(_el("line", {"class": "qchart__whisker", "x1": cx, "x2": cx, "y1": y(lower), "y2": y(upper)}))
        tip = f"{_label_date(p.at)}: {_pct(_num(p.value))}"
        if lower is not None and upper is not None:
            tip += f" (95% interval {_pct(lower)} to {_pct(upper)})"
        if p.n is not None:
            tip += f", n = {p.n}"
        body.append(
            _el("circle", {"class": "qchart__point", "cx": cx, "cy": cy, "r": 3.5}, _el("title", {}, escape(tip)))
        )
    body.append(
        _text(
            x(times[0]), height - 12, _label_date(data[0].at), "qchart__label", "start" if len(data) > 1 else "middle"
        )
    )
    if len(data) > 1:
        body.append(_text(x(times[-1]), height - 12, _label_date(data[-1].at), "qchart__label", "end"))
    last = data[-1]
    desc = f"{len(data)} snapshot{'s' if len(data) != 1 else ''} from {_label_date(data[0].at)} to {_label_date(last.at)}; "
    desc += f"latest gold accuracy {_pct(_num(last.value))}"
    if last.lower is not None and last.upper is not None:
        desc += f" (95% interval {_pct(_num(last.lower))} to {_pct(_num(last.upper))})"
    desc += f"; SLA threshold {_pct(limit)}." if limit is not None else "; no SLA threshold."
    return _svg(chart_id=chart_id, kind="timeline", width=width, height=height, title=title, desc=desc, body=body)


def _axes_y(y: _Scale, low: float, high: float, left: float, right: float) -> str:
    parts = []
    for tick in _ticks(low, high):
        ty = y(tick)
        parts.append(_el("line", {"class": "qchart__grid", "x1": left, "x2": right, "y1": ty, "y2": ty}))
        parts.append(_text(left - 6, ty + 4, f"{round(tick * 100)}%", "qchart__tick", "end"))
    return _el("g", {"class": "qchart__axis qchart__axis--y"}, parts)


def _axes_x(x: _Scale, low: float, high: float, top: float, bottom: float) -> str:
    parts = []
    for tick in _ticks(low, high):
        tx = x(tick)
        parts.append(_el("line", {"class": "qchart__grid", "x1": tx, "x2": tx, "y1": top, "y2": bottom}))
        parts.append(_text(tx, bottom + 14, f"{round(tick * 100)}%", "qchart__tick", "middle"))
    return _el("g", {"class": "qchart__axis qchart__axis--x"}, parts)


# --- (b) Vendor comparison --------------------------------------------------------------------------------------


def ranked(rows: Sequence[IntervalRow]) -> list[tuple[IntervalRow, int | None, bool]]:
    """Rows in league order with their rank and whether the rank is shared (a tie). Rows without an
    estimate come last, unranked. A given rank is kept; otherwise equal estimates share a rank."""
    scored = [r for r in rows if _num(r.value) is not None]
    unscored = sorted((r for r in rows if _num(r.value) is None), key=lambda r: r.label)
    if all(r.rank is not None for r in scored):
        order = sorted(scored, key=lambda r: (r.rank, -_num(r.value), r.label))
        ranks = [r.rank for r in order]
    else:
        order = sorted(scored, key=lambda r: (-_num(r.value), r.label))
        ranks, previous = [], None
        for position, row in enumerate(order, start=1):
            value = round(_num(row.value), 9)
            ranks.append(ranks[-1] if previous is not None and value == previous else position)
            previous = value
    out = [(row, rank, ranks.count(rank) > 1) for row, rank in zip(order, ranks, strict=True)]
    return out + [(row, None, False) for row in unscored]


def vendor_comparison(
    rows: Sequence[IntervalRow],
    *,
    threshold: Number | None = None,
    chart_id: str = "vendor-comparison",
    title: str = "Gold accuracy by supplier",
    width: int = 640,
    row_height: int = 28,
) -> SafeString:
    """One row per supplier: the point estimate with whiskers to its 95% interval, best first. Tied ranks
    read "2=" and carry ``qchart__row--tied``; suppliers without gold answers are listed as "no data"."""
    ordered = ranked(rows)
    if not ordered:
        return _empty(
            chart_id=chart_id, kind="comparison", width=width, height=80, title=title,
            message="No supplier has answered gold items yet.",
        )  # fmt: skip
    margin_left, margin_right, margin_top, margin_bottom = 200, 24, 12, 30
    height = margin_top + row_height * len(ordered) + margin_bottom
    limit = _num(threshold)
    values = []
    for row, _, _ in ordered:
        values += [_num(row.lower), _num(row.value)]
    low, high = _domain(values + [limit])
    x = _Scale((low, high), (margin_left, width - margin_right))
    plot_bottom = height - margin_bottom
    body = [_axes_x(x, low, high, margin_top, plot_bottom)]
    if limit is not None:
        tx = x(limit)
        body.append(
            _el("line", {"class": "qchart__threshold", "x1": tx, "x2": tx, "y1": margin_top, "y2": plot_bottom})
        )
    for index, (row, rank, tied) in enumerate(ordered):
        cy = margin_top + row_height * index + row_height / 2
        rank_text = "" if rank is None else f"{rank}{'=' if tied else ''}"
        label = row.label if len(row.label) <= 26 else row.label[:25] + "…"
        parts = [
            _text(8, cy + 4, rank_text, "qchart__rank"),
            _text(36, cy + 4, label, "qchart__label"),
        ]
        value, lower, upper = _num(row.value), _num(row.lower), _num(row.upper)
        if value is None:
            parts.append(_text(margin_left + 4, cy + 4, "no data", "qchart__label qchart__label--muted"))
            tip = f"{row.label}: no gold answers"
        else:
            if lower is not None and upper is not None:
                x1, x2 = x(lower), x(upper)
                parts.append(_el("line", {"class": "qchart__whisker", "x1": x1, "x2": x2, "y1": cy, "y2": cy}))
                for cap in (x1, x2):
                    parts.append(
                        _el("line", {"class": "qchart__whisker", "x1": cap, "x2": cap, "y1": cy - 5, "y2": cy + 5})
                    )
            tip = f"{'Rank ' + rank_text + ': ' if rank_text else ''}{row.label}: {_pct(value)}"
            if lower is not None and upper is not None:
                tip += f" (95% interval {_pct(lower)} to {_pct(upper)})"
            if row.n is not None:
                tip += f", n = {row.n}"
            parts.append(_el("circle", {"class": "qchart__point", "cx": x(value), "cy": cy, "r": 4.5}))
        classes = (
            "qchart__row" + (" qchart__row--tied" if tied else "") + (" qchart__row--empty" if value is None else "")
        )
        body.append(
            _el("g", {"class": classes, "data-rank": rank_text or None}, [_el("title", {}, escape(tip)), *parts])
        )
    scored = [(row, rank, tied) for row, rank, tied in ordered if rank is not None]
    desc = f"{len(ordered)} supplier{'s' if len(ordered) != 1 else ''}"
    if scored:
        best = [row.label for row, rank, _ in scored if rank == scored[0][1]]
        desc += f"; best: {' and '.join(best)}{' (tied)' if len(best) > 1 else ''} at {_pct(_num(scored[0][0].value))}"
    ties = sorted({rank for _, rank, tied in scored if tied})
    if ties:
        desc += f"; tied ranks: {', '.join(str(r) for r in ties)}"
    desc += f"; SLA threshold {_pct(limit)}." if limit is not None else "."
    return _svg(chart_id=chart_id, kind="comparison", width=width, height=height, title=title, desc=desc, body=body)


# --- (c) Expert scatter -----------------------------------------------------------------------------------------


def expert_scatter(
    points: Sequence[ScatterPoint],
    *,
    chart_id: str = "expert-scatter",
    title: str = "Gold accuracy against agreement, per expert",
    width: int = 420,
    height: int = 340,
) -> SafeString:
    """Each expert a point: gold accuracy across, leave-one-out agreement up. Flagged experts are drawn
    as a diamond (``qchart__point--flagged``), so the mark does not rest on colour alone. Experts missing
    either figure are counted in the description, not drawn."""
    shown = [p for p in points if _num(p.x) is not None and _num(p.y) is not None]
    missing = len(points) - len(shown)
    if not shown:
        message = "No expert has both a gold accuracy and an agreement figure yet."
        return _empty(chart_id=chart_id, kind="scatter", width=width, height=height, title=title, message=message)
    margin_left, margin_right, margin_top, margin_bottom = 48, 16, 16, 44
    x_low, x_high = _domain([_num(p.x) for p in shown])
    y_low, y_high = _domain([_num(p.y) for p in shown])
    x = _Scale((x_low, x_high), (margin_left, width - margin_right))
    y = _Scale((y_low, y_high), (height - margin_bottom, margin_top))
    body = [
        _axes_x(x, x_low, x_high, margin_top, height - margin_bottom),
        _axes_y(y, y_low, y_high, margin_left, width - margin_right),
        _text((margin_left + width - margin_right) / 2, height - 6, "Gold accuracy", "qchart__axis-title", "middle"),
        _el(
            "text",
            {
                "class": "qchart__axis-title",
                "x": 12,
                "y": (margin_top + height - margin_bottom) / 2,
                "text-anchor": "middle",
                "transform": f"rotate(-90 12 {_f((margin_top + height - margin_bottom) / 2)})",
            },
            escape("Agreement (leave-one-out)"),
        ),  # fmt: skip
    ]
    # Flagged points last, so they are drawn on top.
    for p in sorted(shown, key=lambda p: (p.flagged, p.label)):
        cx, cy = x(_num(p.x)), y(_num(p.y))
        tip = escape(
            f"{p.label}: gold accuracy {_pct(_num(p.x))}, agreement {_pct(_num(p.y))}{', flagged' if p.flagged else ''}"
        )
        if p.flagged:
            r = 6
            diamond = f"{_f(cx)},{_f(cy - r)} {_f(cx + r)},{_f(cy)} {_f(cx)},{_f(cy + r)} {_f(cx - r)},{_f(cy)}"
            body.append(
                _el("polygon", {"class": "qchart__point qchart__point--flagged", "points": diamond, "data-x": _f(cx),
                                "data-y": _f(cy)}, _el("title", {}, tip))
            )  # fmt: skip
        else:
            body.append(_el("circle", {"class": "qchart__point", "cx": cx, "cy": cy, "r": 4}, _el("title", {}, tip)))
    flagged = sum(1 for p in shown if p.flagged)
    desc = f"{len(shown)} expert{'s' if len(shown) != 1 else ''} plotted, {flagged} flagged (diamonds)"
    if missing:
        desc += f"; {missing} without both figures not shown"
    return _svg(chart_id=chart_id, kind="scatter", width=width, height=height, title=title, desc=desc + ".", body=body)


# --- (d) Sparkline ----------------------------------------------------------------------------------------------


def sparkline(
    values: Sequence[Number | None],
    *,
    chart_id: str = "sparkline",
    title: str = "Trend",
    width: int = 120,
    height: int = 28,
) -> SafeString:
    """A tiny trend line of fractions 0..1 (missing values skipped); one value is a single dot."""
    data = [v for v in (_num(v) for v in values) if v is not None]
    if not data:
        return _empty(chart_id=chart_id, kind="sparkline", width=width, height=height, title=title, message="No data")
    low, high = min(data), max(data)
    if high - low < 0.02:
        low, high = low - 0.01, high + 0.01
    y = _Scale((low, high), (height - 3, 3))
    x = _Scale((0, max(len(data) - 1, 0)), (3, width - 3))
    coords = [(x(i), y(v)) for i, v in enumerate(data)]
    body = []
    if len(coords) > 1:
        body.append(
            _el(
                "polyline",
                {"class": "qchart__line", "fill": "none", "points": " ".join(f"{_f(a)},{_f(b)}" for a, b in coords)},
            )
        )
    body.append(_el("circle", {"class": "qchart__point", "cx": coords[-1][0], "cy": coords[-1][1], "r": 2.5}))
    desc = f"{len(data)} value{'s' if len(data) != 1 else ''} from {_pct(data[0])} to {_pct(data[-1])}."
    return _svg(chart_id=chart_id, kind="sparkline", width=width, height=height, title=title, desc=desc, body=body)
