"""Krippendorff's alpha, Fleiss' kappa and all-pairs Cohen's kappa: hand-computed cases and oracles
(krippendorff reliability_data, statsmodels, scikit-learn) on generated data."""

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from apps.quality.numeric import (
    Judgments,
    alpha_bootstrap,
    alpha_from_coincidence,
    cohen_kappa_pairs,
    coincidence,
    fleiss_kappa,
    item_pairs,
    krippendorff_alpha,
    vote_counts,
)
from apps.quality.numeric.synthetic import generate

# Krippendorff's worked example (15 units, 4 values), nominal alpha 0.691358
KRIPPENDORFF_EXAMPLE = np.array(
    [[1, 0, 0, 0], [0, 0, 0, 0], [0, 2, 0, 0], [2, 0, 0, 0], [0, 0, 2, 0], [0, 0, 2, 1], [0, 0, 0, 3], [1, 0, 1, 0]]
    + [[0, 2, 0, 0], [2, 0, 0, 0], [2, 0, 0, 0], [0, 0, 2, 0], [0, 0, 2, 0], [0, 0, 0, 0], [0, 0, 1, 1]]
)


@pytest.fixture(scope="module")
def small():
    # 3 pods of 10 annotators, 3,000 items, overlap 4: about 130 shared items per pair within a pod
    return generate(n_items=3000, n_annotators=30, overlap=4, seed=11)


def test_alpha_by_hand():
    # unit 1: (0, 0); unit 2: (0, 1); unit 3: one value only (dropped)
    # coincidences o00 = 2, o01 = o10 = 1, o11 = 0; n0 = 3, n1 = 1, n = 4
    # alpha = 1 - (n - 1) * (o01 + o10) / (2 * n0 * n1) = 1 - 3 * 2 / 6 = 0
    counts = np.array([[2, 0], [1, 1], [0, 1]])
    assert krippendorff_alpha(counts) == pytest.approx(0.0)
    assert krippendorff_alpha(counts, method="package") == pytest.approx(0.0)
    assert krippendorff_alpha(KRIPPENDORFF_EXAMPLE) == pytest.approx(0.691358, abs=1e-6)


def test_alpha_undefined_cases():
    assert krippendorff_alpha(np.array([[1, 0], [0, 1]])) is None  # no unit with two values
    assert krippendorff_alpha(np.array([[2, 0], [3, 0]])) is None  # a single value throughout
    assert krippendorff_alpha(np.array([[2, 0], [3, 0]]), method="package") is None
    with pytest.raises(ValueError, match="level"):
        krippendorff_alpha(KRIPPENDORFF_EXAMPLE, level="ratio")
    with pytest.raises(ValueError, match="value_domain"):
        krippendorff_alpha(KRIPPENDORFF_EXAMPLE, level="interval", value_domain=[1, 2])


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_alpha_matches_krippendorff_reliability_data(small, level):
    # oracle: the package's dense coders x units path (fine at this size); tolerance 1e-9
    j = small.judgments
    dense = np.full((j.n_annotators, j.n_items), np.nan)
    dense[j.annotator, j.item] = j.label
    expected = krippendorff.alpha(reliability_data=dense, level_of_measurement=level, value_domain=np.arange(5))
    counts = vote_counts(j)
    assert krippendorff_alpha(counts, level=level) == pytest.approx(expected, abs=1e-9)
    assert krippendorff_alpha(counts, level=level, method="package") == pytest.approx(expected, abs=1e-9)


def test_alpha_interval_uses_the_value_domain():
    counts = np.array([[1, 1, 0], [0, 1, 1], [2, 0, 0], [0, 0, 2]])
    domain = np.array([1.0, 2.0, 10.0])
    expected = krippendorff.alpha(value_counts=counts, value_domain=domain, level_of_measurement="interval")
    assert krippendorff_alpha(counts, level="interval", value_domain=domain) == pytest.approx(expected)


def test_coincidence_is_additive_over_items(small):
    counts = vote_counts(small.judgments)
    whole = coincidence(counts)
    assert np.allclose(coincidence(counts[:1000]) + coincidence(counts[1000:]), whole)
    assert alpha_from_coincidence(whole) == pytest.approx(krippendorff_alpha(counts))


def test_fleiss_by_hand_and_undefined():
    # P_i = (4-2)/2 = 1, 1, (1+1-2)/2 = 0 -> mean 2/3; p = (.5, .5) -> Pe = .5; kappa = (2/3 - .5)/.5 = 1/3
    table = np.array([[2, 0], [0, 2], [1, 1]])
    assert fleiss_kappa(table) == pytest.approx(1 / 3)
    assert fleiss_kappa(np.array([[2, 0], [0, 3]])) is None  # unequal ratings per item
    assert fleiss_kappa(np.array([[1, 0], [0, 1]])) is None  # one rating each
    assert fleiss_kappa(np.array([[2, 0], [2, 0]])) is None  # one category throughout
    assert fleiss_kappa(np.array([[2, 0], [0, 0], [0, 2]])) == pytest.approx(1.0)  # unrated item ignored


def test_fleiss_matches_statsmodels(small):
    counts = vote_counts(small.judgments)  # overlap exactly 4 everywhere
    assert fleiss_kappa(counts) == pytest.approx(sm_fleiss_kappa(counts, method="fleiss"), abs=1e-12)


def test_cohen_kappa_by_hand():
    # a = 0,0,1,1; b = 0,1,1,1 on items 0-3: po = 3/4; marginals a (.5,.5), b (.25,.75) -> pe = .5;
    # kappa = (.75 - .5) / .5 = .5. Annotator 2 shares only item 0 with each: below min_shared.
    j = Judgments(
        item=np.array([0, 1, 2, 3, 0, 1, 2, 3, 0]),
        annotator=np.array([0, 0, 0, 0, 1, 1, 1, 1, 2]),
        label=np.array([0, 0, 1, 1, 0, 1, 1, 1, 1]),
        n_items=4,
        n_annotators=3,
        n_classes=2,
    )
    pk = cohen_kappa_pairs(j, min_shared=2)
    assert pk.a.tolist() == [0] and pk.b.tolist() == [1] and pk.n_shared.tolist() == [4]
    assert pk.kappa[0] == pytest.approx(0.5) and pk.observed[0] == pytest.approx(0.75)
    assert len(cohen_kappa_pairs(j, min_shared=1).a) == 3
    with pytest.raises(ValueError, match="weights"):
        cohen_kappa_pairs(j, weights="cubic")


@pytest.mark.parametrize(
    "item, annotator",
    [
        ([0, 1, 2], [0, 1, 0]),  # every item judged once
        ([0, 0, 1], [1, 1, 0]),  # one item judged twice, by the same annotator: not a pair
        ([], []),
    ],
)
def test_no_item_with_two_annotators_gives_no_pairs(item, annotator):
    j = Judgments(
        np.array(item, dtype=np.int32), np.array(annotator, dtype=np.int32), np.zeros(len(item), np.int32), 3, 2, 2
    )
    a, b, la, lb = item_pairs(j)
    assert a.size == b.size == la.size == lb.size == 0 and a.dtype == np.int32
    pk = cohen_kappa_pairs(j, min_shared=1)
    assert pk.a.size == 0 and pk.kappa.size == 0


def test_cohen_kappa_undefined_is_nan():
    j = Judgments(np.array([0, 1, 0, 1]), np.array([0, 0, 1, 1]), np.array([1, 1, 1, 1]), 2, 2, 2)
    assert np.isnan(cohen_kappa_pairs(j, min_shared=1).kappa[0])


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_cohen_kappa_pairs_match_sklearn(small, weights):
    # oracle: sklearn cohen_kappa_score on each pair's shared items, labels 0..4; tolerance 1e-10
    j = small.judgments
    pk = cohen_kappa_pairs(j, min_shared=20, weights=weights)
    assert len(pk.a) == 3 * 45  # every within-pod pair shares > 20 items; no cross-pod pair shares any
    by_annotator = [dict() for _ in range(j.n_annotators)]
    for it, an, lb in zip(j.item.tolist(), j.annotator.tolist(), j.label.tolist(), strict=True):
        by_annotator[an][it] = lb
    for a, b, n_shared, kappa in zip(pk.a[::7], pk.b[::7], pk.n_shared[::7], pk.kappa[::7], strict=True):
        shared = sorted(set(by_annotator[a]) & set(by_annotator[b]))
        assert len(shared) == n_shared
        ya = [by_annotator[a][i] for i in shared]
        yb = [by_annotator[b][i] for i in shared]
        assert kappa == pytest.approx(cohen_kappa_score(ya, yb, labels=list(range(5)), weights=weights), abs=1e-10)


# --- Bootstrap interval of alpha ------------------------------------------------------------------------------


def test_alpha_bootstrap_pattern_matrices_sum_to_the_coincidence_matrix(small):
    from apps.quality.numeric.agreement import _item_patterns

    counts = vote_counts(small.judgments)
    pairable = counts[counts.sum(axis=1) >= 2]
    rows, n = _item_patterns(pairable)
    assert n.sum() == pairable.shape[0] and rows.shape[0] < 200
    np.testing.assert_allclose(coincidence(np.repeat(rows, n, axis=0)), coincidence(counts))


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_alpha_bootstrap_is_seeded_brackets_alpha_and_matches_a_naive_item_bootstrap(small, level):
    counts = vote_counts(small.judgments)
    point = krippendorff_alpha(counts, level)
    lower, upper = alpha_bootstrap(counts, level, seed=7)
    assert lower < point < upper and upper - lower < 0.1
    assert alpha_bootstrap(counts, level, seed=7) == (lower, upper)  # seeded: reproducible
    # A plain bootstrap over items (a loop of resamples) gives the same interval up to Monte Carlo error.
    pairable = counts[counts.sum(axis=1) >= 2]
    rng = np.random.default_rng(1)
    naive = [
        krippendorff_alpha(pairable[rng.integers(0, pairable.shape[0], pairable.shape[0])], level) for _ in range(200)
    ]
    lo, hi = np.percentile(naive, [2.5, 97.5])
    assert lower == pytest.approx(lo, abs=0.01) and upper == pytest.approx(hi, abs=0.01)


def test_alpha_bootstrap_undefined_and_bad_input():
    assert alpha_bootstrap(np.array([[1, 0], [0, 1]])) is None  # no item with two values
    assert alpha_bootstrap(np.array([[2, 0], [3, 0]])) is None  # one value throughout
    assert alpha_bootstrap(np.zeros((0, 3))) is None
    with pytest.raises(ValueError, match="confidence"):
        alpha_bootstrap(np.array([[1, 1]]), confidence=1.5)
    with pytest.raises(ValueError, match="n_resamples"):
        alpha_bootstrap(np.array([[1, 1]]), n_resamples=1)
    # Perfect agreement: every resample has alpha 1.
    assert alpha_bootstrap(np.array([[2, 0], [0, 2], [3, 0], [0, 3]])) == (1.0, 1.0)
