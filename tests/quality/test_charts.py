"""The SVG charts: parsed with xml.etree, coordinates checked against hand-computed positions."""

import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils.safestring import SafeString

from apps.quality.charts import (
    IntervalRow,
    ScatterPoint,
    TimePoint,
    expert_scatter,
    quality_over_time,
    ranked,
    sparkline,
    vendor_comparison,
)

NS = {"svg": "http://www.w3.org/2000/svg"}


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def find_all(root: ET.Element, tag: str, cls: str | None = None) -> list[ET.Element]:
    found = root.findall(f".//svg:{tag}", NS)
    if cls is None:
        return found
    return [el for el in found if cls in (el.get("class") or "").split()]


def texts(root: ET.Element, cls: str) -> list[str]:
    return [el.text or "" for el in find_all(root, "text", cls)]


def no_inline_style(markup: str) -> bool:
    root = parse(markup)
    return root.find(".//svg:style", NS) is None and all("style" not in el.attrib for el in root.iter())


# --- Every chart ---------------------------------------------------------------------------------------------

CHARTS = [
    lambda: quality_over_time([TimePoint(date(2026, 1, 1), 0.9, 0.8, 0.95, 40)], threshold=0.85),
    lambda: vendor_comparison([IntervalRow("Northwind", 0.9, 0.8, 0.95, 1)]),
    lambda: expert_scatter([ScatterPoint("ada-7", 0.9, 0.8)]),
    lambda: sparkline([0.5, 0.6]),
    lambda: quality_over_time([]),
    lambda: vendor_comparison([]),
    lambda: expert_scatter([]),
    lambda: sparkline([]),
]


@pytest.mark.parametrize("draw", CHARTS)
def test_every_chart_is_safe_accessible_svg_without_inline_style(draw):
    markup = draw()
    assert isinstance(markup, SafeString)
    root = parse(markup)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("role") == "img"
    title, desc = root.find("svg:title", NS), root.find("svg:desc", NS)
    assert title is not None and title.text and desc is not None and desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert no_inline_style(markup)
    assert "<script" not in markup and "http://" not in markup.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_labels_are_escaped():
    markup = vendor_comparison([IntervalRow('<script>"x"</script>', 0.9, 0.8, 0.95, 1)], title="A & B")
    assert "<script>" not in markup
    root = parse(markup)  # still well-formed XML
    assert root.find("svg:title", NS).text == "A & B"
    assert texts(root, "qchart__label")[0] == '<script>"x"</script>'


def test_chart_ids_are_used_for_title_and_desc():
    root = parse(sparkline([0.4], chart_id="trend-7"))
    assert root.get("id") == "trend-7"
    assert root.find("svg:title", NS).get("id") == "trend-7-title"


# --- (a) Quality over time ------------------------------------------------------------------------------------


def test_quality_over_time_places_points_band_and_threshold():
    points = [
        TimePoint(date(2026, 1, 1), Decimal("0.9"), Decimal("0.85"), Decimal("0.95"), 100),
        TimePoint(date(2026, 1, 11), 0.8, 0.75, 0.85, 120),
    ]
    root = parse(quality_over_time(points, threshold=Decimal("0.85"), width=640, height=260))
    # Domain 0.7..1.0 (the lowest bound 0.75 rounds down to 0.7) over pixels 224 (bottom) .. 16 (top).
    # x: the first day at 48 + 8 = 56, the last at 640 - 16 - 8 = 616.
    circles = find_all(root, "circle", "qchart__point")
    assert [(c.get("cx"), c.get("cy")) for c in circles] == [("56", "85.33"), ("616", "154.67")]
    band = find_all(root, "polygon", "qchart__band")[0].get("points")
    assert band == "56,50.67 616,120 616,189.33 56,120"  # upper bounds forward, lower bounds back
    threshold = find_all(root, "line", "qchart__threshold")[0]
    assert (threshold.get("y1"), threshold.get("y2")) == ("120", "120")
    assert "SLA 85.0%" in texts(root, "qchart__label--threshold")
    assert find_all(root, "polyline", "qchart__line")[0].get("points") == "56,85.33 616,154.67"
    assert texts(root, "qchart__tick") == ["70%", "75%", "80%", "85%", "90%", "95%", "100%"]
    desc = root.find("svg:desc", NS).text
    assert "latest gold accuracy 80.0% (95% interval 75.0% to 85.0%)" in desc and "SLA threshold 85.0%" in desc


def test_quality_over_time_sorts_by_time_and_skips_missing_estimates():
    t0 = datetime(2026, 3, 1, 12, 0)
    points = [
        TimePoint(t0 + timedelta(days=2), 0.6, 0.5, 0.7),
        TimePoint(t0 + timedelta(days=1), None),
        TimePoint(t0, 0.8, 0.7, 0.9),
    ]
    root = parse(quality_over_time(points))
    circles = find_all(root, "circle", "qchart__point")
    assert len(circles) == 2
    assert float(circles[0].get("cx")) < float(circles[1].get("cx"))
    assert float(circles[0].get("cy")) < float(circles[1].get("cy"))  # 0.8 is drawn above 0.6
    assert not find_all(root, "line", "qchart__threshold")
    assert "no SLA threshold" in root.find("svg:desc", NS).text


def test_a_single_snapshot_is_a_centred_point_with_a_whisker_and_no_band():
    root = parse(quality_over_time([TimePoint(date(2026, 1, 1), 0.9, 0.8, 0.95, 12)], width=640))
    (circle,) = find_all(root, "circle", "qchart__point")
    assert circle.get("cx") == "336"  # the middle of 56..616
    (whisker,) = find_all(root, "line", "qchart__whisker")
    assert whisker.get("x1") == whisker.get("x2") == "336"
    assert float(whisker.get("y1")) > float(circle.get("cy")) > float(whisker.get("y2"))
    assert not find_all(root, "polygon", "qchart__band")
    assert not find_all(root, "polyline")
    assert circle.find("svg:title", NS).text == "1 Jan 2026: 90.0% (95% interval 80.0% to 95.0%), n = 12"


def test_quality_over_time_without_data_says_so():
    root = parse(quality_over_time([TimePoint(date(2026, 1, 1), None)]))
    assert texts(root, "qchart__empty") == ["No gold accuracy measured yet."]
    assert not find_all(root, "circle")


# --- (b) Vendor comparison ------------------------------------------------------------------------------------


def test_vendor_comparison_rows_are_sorted_and_whiskers_span_the_interval():
    rows = [
        IntervalRow("Beta", 0.8, 0.7, 0.9, rank=2, n=50),
        IntervalRow("Alpha", 0.95, 0.9, 1.0, rank=1, n=80),
    ]
    root = parse(vendor_comparison(rows, width=640))
    groups = find_all(root, "g", "qchart__row")
    assert [g.find("svg:text[@class='qchart__label']", NS).text for g in groups] == ["Alpha", "Beta"]
    # Domain 0.6..1.0 (lowest bound 0.7 sits on a step, so one more step of room) over 200..616.
    beta = groups[1]
    whisker = find_all(beta, "line", "qchart__whisker")[0]
    assert (whisker.get("x1"), whisker.get("x2")) == ("304", "512")
    assert find_all(beta, "circle", "qchart__point")[0].get("cx") == "408"
    assert find_all(groups[0], "circle")[0].get("cy") == "26" and find_all(beta, "circle")[0].get("cy") == "54"
    assert beta.find("svg:title", NS).text == "Rank 2: Beta: 80.0% (95% interval 70.0% to 90.0%), n = 50"


def test_tied_suppliers_are_shown_as_tied():
    rows = [
        IntervalRow("Gamma", 0.85, 0.8, 0.9, rank=2),
        IntervalRow("Alpha", 0.9, 0.85, 0.95, rank=1),
        IntervalRow("Beta", 0.85, 0.8, 0.9, rank=2),
    ]
    root = parse(vendor_comparison(rows))
    groups = find_all(root, "g", "qchart__row")
    assert [g.get("data-rank") for g in groups] == ["1", "2=", "2="]
    assert ["qchart__row--tied" in g.get("class") for g in groups] == [False, True, True]
    assert [g.find("svg:text[@class='qchart__label']", NS).text for g in groups] == ["Alpha", "Beta", "Gamma"]
    assert "tied ranks: 2" in root.find("svg:desc", NS).text


def test_equal_estimates_share_a_rank_when_none_is_given():
    order = ranked([IntervalRow("B", 0.8), IntervalRow("A", 0.8), IntervalRow("C", 0.9), IntervalRow("D", None)])
    assert [(row.label, rank, tied) for row, rank, tied in order] == [
        ("C", 1, False),
        ("A", 2, True),
        ("B", 2, True),
        ("D", None, False),
    ]
    root = parse(vendor_comparison([IntervalRow("B", 0.8), IntervalRow("A", 0.8)]))
    assert "best: A and B (tied) at 80.0%" in root.find("svg:desc", NS).text


def test_a_supplier_without_gold_is_listed_without_a_point():
    root = parse(vendor_comparison([IntervalRow("Alpha", 0.9, 0.8, 0.95, 1), IntervalRow("Zeta", None)]))
    empty = find_all(root, "g", "qchart__row--empty")
    assert len(empty) == 1 and not find_all(empty[0], "circle")
    assert "no data" in texts(empty[0], "qchart__label--muted")


def test_vendor_comparison_threshold_is_a_vertical_line():
    root = parse(vendor_comparison([IntervalRow("Alpha", 0.9, 0.8, 0.95, 1)], threshold=0.85, width=640))
    line = find_all(root, "line", "qchart__threshold")[0]
    assert line.get("x1") == line.get("x2") == "408"  # 0.85 on 0.7..1.0 over 200..616


# --- (c) Expert scatter --------------------------------------------------------------------------------------


def test_scatter_places_experts_and_marks_flagged_ones_by_shape():
    points = [
        ScatterPoint("ada-7", 0.9, 0.8),
        ScatterPoint("bo-2", 0.5, 0.6, flagged=True),
        ScatterPoint("cy", None, 0.7),
    ]
    root = parse(expert_scatter(points, width=420, height=340))
    # x: 0.4..1.0 over 48..404; y: 0.5..1.0 over 296..16.
    (circle,) = find_all(root, "circle", "qchart__point")
    assert (circle.get("cx"), circle.get("cy")) == ("344.67", "128")
    (diamond,) = find_all(root, "polygon", "qchart__point--flagged")
    assert (diamond.get("data-x"), diamond.get("data-y")) == ("107.33", "240")
    assert diamond.get("points") == "107.33,234 113.33,240 107.33,246 101.33,240"
    assert diamond.find("svg:title", NS).text == "bo-2: gold accuracy 50.0%, agreement 60.0%, flagged"
    assert (
        root.find("svg:desc", NS).text == "2 experts plotted, 1 flagged (diamonds); 1 without both figures not shown."
    )


def test_scatter_with_a_single_expert_and_with_none():
    root = parse(expert_scatter([ScatterPoint("solo", 1.0, 1.0)]))
    (circle,) = find_all(root, "circle")
    assert circle.get("cx") == "404" and circle.get("cy") == "16"  # top right corner of the plot
    empty = parse(expert_scatter([ScatterPoint("half", 0.9, None)]))
    assert texts(empty, "qchart__empty")


# --- (d) Sparkline ------------------------------------------------------------------------------------------


def test_sparkline_draws_a_line_and_marks_the_last_value():
    root = parse(sparkline([0.5, None, 1.0], width=120, height=28))
    assert find_all(root, "polyline")[0].get("points") == "3,25 117,3"
    (dot,) = find_all(root, "circle")
    assert (dot.get("cx"), dot.get("cy")) == ("117", "3")


def test_a_single_value_sparkline_is_one_dot():
    root = parse(sparkline([0.7]))
    assert not find_all(root, "polyline")
    assert len(find_all(root, "circle")) == 1
