"""The statistics module against the reference implementations, on small constructed datasets."""

from decimal import Decimal

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa
from statsmodels.stats.proportion import proportion_confint

from apps.assessments import stats

# 4 raters x 8 items, NaN = not rated (varying overlap); values 1-5
DENSE = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1],
        [1, 2, 3, 3, 2, 2, 4, 1],
        [np.nan, 3, 3, 3, 2, 3, 4, 2],
        [1, 2, 3, 3, 2, 4, 5, np.nan],
    ]
)


def units_of(dense: np.ndarray) -> list[list[float]]:
    return [[v for v in column if not np.isnan(v)] for column in dense.T]


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_krippendorff_alpha_matches_the_dense_reference(level):
    expected = krippendorff.alpha(reliability_data=DENSE, level_of_measurement=level)

    result = stats.krippendorff_alpha(units_of(DENSE), level=level)

    assert result.value == pytest.approx(expected, abs=1e-12)
    assert result.n_units == 8


def test_krippendorff_alpha_is_undefined_without_pairs_or_variation():
    assert stats.krippendorff_alpha([[1], [2]]).value is None
    undefined = stats.krippendorff_alpha([[1, 1], [1, 1, 1]])
    assert (undefined.value, undefined.reason) == (None, "every answer is the same value")
    with pytest.raises(ValueError):
        stats.krippendorff_alpha([[1, 2]], level="ratio-ish")


def test_fleiss_kappa_matches_statsmodels_on_a_fixed_panel():
    units = [[0, 0, 1], [1, 1, 1], [0, 2, 2], [2, 2, 2], [0, 1, 2]]
    table, categories = stats.category_table(units)

    result = stats.fleiss_kappa(table)

    assert categories == [0, 1, 2]
    assert result.value == pytest.approx(sm_fleiss_kappa(table), abs=1e-12)


def test_fleiss_kappa_refuses_varying_overlap_with_a_reason():
    table, _ = stats.category_table([[0, 0, 1], [1, 1]])

    result = stats.fleiss_kappa(table)

    assert result.value is None
    assert "different numbers of raters" in result.reason


def test_cohen_kappa_pairs_match_sklearn_on_common_items():
    ratings = {
        "ann": {1: "A", 2: "B", 3: "A", 4: "tie", 5: "B", 6: "A"},
        "bo": {1: "A", 2: "B", 3: "B", 4: "tie", 5: "B"},
        "cy": {1: "B", 2: "B", 3: "A", 6: "A"},
        "di": {6: "B"},  # one common item at most: never paired
    }

    pairs = stats.cohen_kappa_pairs(ratings)

    assert [(a, b, n) for a, b, _, n in pairs] == [("ann", "bo", 5), ("ann", "cy", 4), ("bo", "cy", 3)]
    for a, b, kappa, _ in pairs:
        common = sorted(set(ratings[a]) & set(ratings[b]))
        expected = cohen_kappa_score([ratings[a][i] for i in common], [ratings[b][i] for i in common])
        assert kappa == pytest.approx(expected, abs=1e-12)


def test_cohen_kappa_is_none_when_both_raters_use_one_label():
    assert stats.cohen_kappa_pairs({"a": {1: 0, 2: 0}, "b": {1: 0, 2: 0}}) == [("a", "b", None, 2)]


@pytest.mark.parametrize("successes,n", [(0, 10), (7, 10), (10, 10), (41.5, 50), (1, 1), (170, 200)])
def test_wilson_interval_matches_statsmodels(successes, n):
    low, high = proportion_confint(successes, n, alpha=0.05, method="wilson")

    lower, upper = stats.wilson_interval(successes, n)

    assert isinstance(lower, Decimal) and lower.as_tuple().exponent == -4
    assert float(lower) == pytest.approx(low, abs=5.1e-5)
    assert float(upper) == pytest.approx(high, abs=5.1e-5)


def test_wilson_interval_of_nothing_is_the_whole_range():
    assert stats.wilson_interval(0, 0) == (Decimal("0"), Decimal("1"))


def test_items_most_disagreed_reports_ties_as_ties():
    answers = {"q1": ["A", "A", "A"], "q2": ["A", "B"], "q3": ["B", "B", "A"], "q4": ["A"]}

    rows = stats.items_most_disagreed(answers)

    assert [r.item for r in rows] == ["q2", "q3", "q1"]  # q4 has one answer only
    tied = rows[0]
    assert (tied.modal_labels, tied.modal_share, tied.tie) == (("A", "B"), 0.5, True)
    assert (rows[1].modal_labels, rows[1].tie) == (("B",), False)
    # swapping the label names does not move a tie to one side
    swapped = stats.items_most_disagreed({"q2": ["B", "A"]})[0]
    assert swapped.modal_labels == ("A", "B") and swapped.tie
