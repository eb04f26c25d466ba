from decimal import Decimal

import pytest

from apps.assessments.grading import grade_item
from apps.assessments.models import AttemptItem, Item, Test
from apps.assessments.selectors import to_shown
from apps.assessments.services import pass_decision, to_original


@pytest.mark.parametrize(
    "item_type,key,answer,tolerance,expected",
    [
        ("single_choice", 1, {"option": 1}, None, 1),
        ("single_choice", 1, {"option": 0}, None, 0),
        ("multiple_choice", [0, 2], {"options": [2, 0]}, None, 1),
        ("multiple_choice", [0, 2], {"options": [0]}, None, 0),
        ("ab_preference", "A", {"choice": "A", "strength": 3}, None, 1),
        ("ab_preference", "tie", {"choice": "B"}, None, 0),
        ("likert", 4, {"value": 4}, None, 1),
        ("likert", 4, {"value": 5}, None, 0),
        ("numeric", "3.14", {"value": "3.15"}, Decimal("0.01"), 1),
        ("numeric", "3.14", {"value": "3.16"}, Decimal("0.01"), 0),
        ("numeric", "10", {"value": "10.0"}, None, 1),
        ("single_choice", 1, None, None, 0),
    ],
)
def test_grade_item_scores_known_answers(item_type, key, answer, tolerance, expected):
    assert grade_item(item_type, key, answer, tolerance=tolerance) == Decimal(expected)


def test_grade_item_refuses_free_text():
    with pytest.raises(ValueError):
        grade_item("free_text", None, {"text": "x"})


def test_shown_indices_map_to_original_indices_and_back():
    item = Item(type="single_choice", options=["a", "b", "c"])
    served = AttemptItem(item=item, option_order=[2, 0, 1])
    assert to_original(served, {"option": 0}) == {"option": 2}
    assert to_shown(served, {"option": 2}) == {"option": 0}
    multi = AttemptItem(item=Item(type="multiple_choice", options=["a", "b", "c"]), option_order=[2, 0, 1])
    assert to_original(multi, {"options": [0, 2]}) == {"options": [1, 2]}


@pytest.mark.parametrize("a_first,shown,stored", [(True, "first", "A"), (False, "first", "B"), (False, "second", "A")])
def test_ab_first_second_maps_to_a_b_by_the_recorded_side(a_first, shown, stored):
    served = AttemptItem(item=Item(type="ab_preference", options=["x", "y"]), a_shown_first=a_first)
    assert to_original(served, {"choice": shown})["choice"] == stored
    assert to_shown(served, {"choice": stored})["choice"] == shown


def _test(rule, threshold):
    return Test(pass_rule=rule, pass_threshold=Decimal(threshold))


def test_wilson_rule_passes_at_the_lower_bound_and_fails_just_below():
    # 18/20: Wilson lower bound (z=1.96) is 0.6990...
    _, lower, _ = pass_decision(_test("wilson_lower", "0"), earned_total=Decimal(18), n=20)
    assert Decimal("0.6989") < lower < Decimal("0.6991")
    at = lower.quantize(Decimal("0.0001"), rounding="ROUND_FLOOR")
    assert pass_decision(_test("wilson_lower", at), earned_total=Decimal(18), n=20)[2] is True
    assert pass_decision(_test("wilson_lower", at + Decimal("0.0002")), earned_total=Decimal(18), n=20)[2] is False


def test_wilson_is_the_stricter_default_and_raw_ratio_is_opt_in():
    assert Test().pass_rule == Test.PassRule.WILSON_LOWER
    score, _, raw_pass = pass_decision(_test("raw_ratio", "0.9"), earned_total=Decimal(9), n=10)
    assert score == Decimal("0.9") and raw_pass is True
    assert pass_decision(_test("wilson_lower", "0.9"), earned_total=Decimal(9), n=10)[2] is False
