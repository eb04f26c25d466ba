"""The numeric core's inputs and simplest figures: Judgments validation, factorize, vote counts, tie-aware
majority vote, Wilson intervals, gold accuracy, leave-one-out agreement and genuine disagreement."""

import uuid

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from apps.quality.numeric import (
    ALGORITHM_VERSION,
    Judgments,
    factorize,
    genuine_disagreement,
    gold_accuracy,
    loo_agreement,
    majority_vote,
    merge_counts,
    vote_counts,
    wilson,
)


def make(item, annotator, label, n_items=None, n_annotators=None, n_classes=3, **extra):
    return Judgments(
        item=np.array(item),
        annotator=np.array(annotator),
        label=np.array(label),
        n_items=n_items if n_items is not None else max(item) + 1,
        n_annotators=n_annotators if n_annotators is not None else max(annotator) + 1,
        n_classes=n_classes,
        **extra,
    )


def test_algorithm_version_is_a_string():
    assert isinstance(ALGORITHM_VERSION, str) and ALGORITHM_VERSION


# --- Judgments --------------------------------------------------------------------------------------------


def test_judgments_coerce_dtypes():
    j = make([0, 1], [0, 0], [2, 1], order=[0, -1], seconds=[1.5, np.nan], time=[10, 20])
    assert j.item.dtype == np.int32 and j.label.dtype == np.int32 and j.annotator.dtype == np.int32
    assert j.order.dtype == np.int8 and j.seconds.dtype == np.float32 and j.time.dtype == np.int64
    assert j.n == 2


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"label": [0, 3]}, "Judgments.label"),
        ({"label": [0, -1]}, "Judgments.label"),
        ({"item": [0, 5]}, "Judgments.item"),
        ({"annotator": [0, 1, 2]}, "Judgments.annotator"),
        ({"label": [0.5, 1.0]}, "Judgments.label"),
        ({"order": [0, 2]}, "Judgments.order"),
        ({"seconds": [1.0]}, "Judgments.seconds"),
        ({"seconds": [1.0, -2.0]}, "Judgments.seconds"),
        ({"time": [1.5, 2.0]}, "Judgments.time"),
        ({"n_classes": -1}, "Judgments.n_classes"),
    ],
)
def test_judgments_validation_errors_name_the_array(kwargs, name):
    base = {"item": [0, 1], "annotator": [0, 1], "label": [0, 1], "n_items": 2, "n_annotators": 2, "n_classes": 3}
    base.update(kwargs)
    base = {k: (np.array(v) if isinstance(v, list) else v) for k, v in base.items()}
    with pytest.raises(ValueError, match=name.replace(".", r"\.")):
        Judgments(**base)


def test_judgments_take_keeps_code_spaces():
    j = make([0, 1, 2], [0, 1, 0], [0, 1, 2], n_items=5, time=[1, 2, 3])
    sub = j.take(j.annotator == 0)
    assert sub.n == 2 and sub.n_items == 5 and list(sub.time) == [1, 3]


# --- factorize --------------------------------------------------------------------------------------------


def test_factorize_small_range_integers():
    codes, uniques = factorize(np.array([105, 100, 105, 230]))
    assert list(uniques) == [100, 105, 230]
    assert list(codes) == [1, 0, 1, 2] and codes.dtype == np.int32


def test_factorize_strings_and_wide_integers():
    codes, uniques = factorize(["b", "a", "b"])
    assert list(uniques) == ["a", "b"] and list(codes) == [1, 0, 1]
    codes, uniques = factorize(np.array([10**12, 5, 10**12]))
    assert list(uniques) == [5, 10**12] and list(codes) == [1, 0, 1]


def test_factorize_objects_round_trip():
    ids = [uuid.UUID(int=i) for i in (3, 1, 3, 2)]
    codes, uniques = factorize(ids)
    assert list(uniques[codes]) == ids
    assert list(uniques) == sorted(set(ids))


def test_factorize_empty():
    codes, uniques = factorize([])
    assert codes.size == 0 and uniques.size == 0


# --- vote counts and majority vote ------------------------------------------------------------------------


def test_vote_counts_and_majority_vote_report_ties_as_ties():
    # item 0: labels 0,0,1 -> 0 (share 2/3); item 1: 1,2 -> tie; item 2: no votes; item 3: 2 -> 2
    j = make([0, 0, 0, 1, 1, 3], [0, 1, 2, 0, 1, 2], [0, 0, 1, 1, 2, 2], n_items=4)
    counts = vote_counts(j)
    assert counts.tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 0], [0, 0, 1]]
    vote = majority_vote(counts)
    assert vote.label.tolist() == [0, -1, -1, 2]
    assert vote.tied.tolist() == [False, True, False, False]
    assert vote.n.tolist() == [3, 2, 0, 1]
    assert vote.share[0] == pytest.approx(2 / 3) and vote.share[1] == 0.5 and np.isnan(vote.share[2])


def test_ab_ties_are_not_given_to_one_side():
    # overlap 2 on A/B: every split item stays a tie whichever way the labels are named
    counts = np.array([[1, 1], [2, 0], [1, 1], [0, 2]])
    assert majority_vote(counts).label.tolist() == [-1, 0, -1, 1]
    assert majority_vote(counts[:, ::-1]).label.tolist() == [-1, 1, -1, 0]


def test_merge_counts_adds_a_batch_and_grows():
    j = make([0, 1], [0, 0], [0, 1], n_items=2)
    batch = make([1, 2], [1, 1], [1, 2], n_items=3)
    merged = merge_counts(vote_counts(j), batch)
    assert merged.tolist() == [[1, 0, 0], [0, 2, 0], [0, 0, 1]]
    with pytest.raises(ValueError, match="counts"):
        merge_counts(np.zeros((2, 4)), batch)


def test_genuine_disagreement():
    # shares: 3/5=0.6 (n 5) yes; 4/5 no; 1/2 but n 2 < 3 no; 2/4 = 0.5 yes
    counts = np.array([[3, 2, 0], [4, 1, 0], [1, 1, 0], [2, 1, 1]])
    assert genuine_disagreement(counts).tolist() == [True, False, False, True]


# --- Wilson, gold accuracy, leave-one-out -----------------------------------------------------------------


def test_wilson_by_hand():
    # 9 of 10, z = 1.959964: z2 = 3.841459; centre = (0.9 + 0.192073) / 1.384146 = 0.788987;
    # half = 1.959964 * sqrt(0.009 + 0.009604) / 1.384146 = 0.193147 -> [0.5958, 0.9821]
    p = wilson(9, 10)
    assert p.estimate == pytest.approx(0.9)
    assert p.lower == pytest.approx(0.5958, abs=1e-4) and p.upper == pytest.approx(0.9821, abs=1e-4)


def test_wilson_matches_statsmodels():
    rng = np.random.default_rng(1)
    n = rng.integers(1, 500, 200)
    k = rng.binomial(n, rng.random(200))
    ours = wilson(k, n)
    lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert np.allclose(ours.lower, lo, atol=1e-7) and np.allclose(ours.upper, hi, atol=1e-7)


def test_wilson_empty_and_invalid():
    p = wilson([0, 3], [0, 3])
    assert np.isnan(p.estimate[0]) and p.lower[0] == 0 and p.upper[0] == 1
    assert p.upper[1] == 1.0
    with pytest.raises(ValueError, match="successes"):
        wilson(4, 3)
    with pytest.raises(ValueError, match="n:"):
        wilson(0, -1)


def test_gold_accuracy_per_annotator_and_per_group():
    # gold: item 0 -> 1, item 1 -> 2, item 2 not gold
    gold = np.array([1, 2, -1])
    # annotator 0: item0 right, item1 wrong, item2 (no gold) -> 1/2; annotator 1: item0 right -> 1/1
    j = make([0, 1, 2, 0], [0, 0, 0, 1], [1, 0, 0, 1])
    acc = gold_accuracy(j, gold)
    assert acc.successes.tolist() == [1, 1] and acc.n.tolist() == [2, 1]
    assert acc.estimate.tolist() == [0.5, 1.0]
    contract = gold_accuracy(j, gold, group=np.zeros(4, dtype=np.int32), n_groups=1)
    assert contract.successes.tolist() == [2] and contract.n.tolist() == [3]
    with pytest.raises(ValueError, match="gold"):
        gold_accuracy(j, np.array([1, 2]))
    with pytest.raises(ValueError, match="group"):
        gold_accuracy(j, gold, group=np.array([0, 1]))


def test_loo_agreement_excludes_own_vote():
    # item 0 labels (a0:0, a1:0, a2:1): a0 scores (2-1)/2 = .5, a1 .5, a2 (1-1)/2 = 0
    # item 1 labels (a0:2, a1:2): a0 1, a1 1; item 2 only a2 -> not scored
    j = make([0, 0, 0, 1, 1, 2], [0, 1, 2, 0, 1, 2], [0, 0, 1, 2, 2, 1])
    loo = loo_agreement(j)
    assert loo.successes.tolist() == [1.5, 1.5, 0.0]
    assert loo.n.tolist() == [2, 2, 1]
    assert loo.estimate.tolist() == [0.75, 0.75, 0.0]
    with pytest.raises(ValueError, match="counts"):
        loo_agreement(j, counts=np.zeros((3, 3), dtype=np.int32))


def test_every_figure_accepts_no_judgments():
    import apps.quality.numeric as q

    e = np.zeros(0, dtype=int)
    j = Judgments(e, e, e, 3, 2, 3, order=e, seconds=np.zeros(0), time=e)
    counts = q.vote_counts(j)
    assert q.majority_vote(counts).label.tolist() == [-1, -1, -1]
    assert np.isnan(q.gold_accuracy(j, np.array([-1, 0, 1])).estimate).all()
    assert q.loo_agreement(j).n.tolist() == [0, 0]
    assert q.krippendorff_alpha(counts) is None and q.fleiss_kappa(counts) is None
    assert q.cohen_kappa_pairs(j).a.size == 0
    assert np.allclose(q.dawid_skene(j).probas, 1 / 3)
    for audit in (q.position_bias(j, 0, 1), q.label_skew(j), q.speeding(j), q.drift(j)):
        assert audit.group.size == 0 and audit.q.size == 0
    assert np.isnan(q.bradley_terry([], [], [], 3).scores).all()
