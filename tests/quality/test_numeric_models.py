"""Dawid-Skene and Bradley-Terry: hand cases, tie handling, and crowd-kit as the oracle on generated data."""

import warnings

import numpy as np
import pandas as pd
import pytest
from crowdkit import aggregation as crowdkit  # dev dependency, installed --no-deps by make venv
from scipy.stats import spearmanr

from apps.quality.numeric import Judgments, bradley_terry, dawid_skene, top_label
from apps.quality.numeric.synthetic import generate


@pytest.fixture(scope="module")
def small():
    # 50 annotators with 160 judgments each, 2,000 items, overlap 4, 5 classes, 5% gold
    return generate(n_items=2000, n_annotators=50, overlap=4, seed=3)


def _crowdkit(fit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # crowd-kit 1.4.2 emits pandas deprecation warnings
        return fit()


# --- Dawid-Skene --------------------------------------------------------------------------------------------


def test_dawid_skene_matches_crowdkit_with_gold(small):
    # oracle: crowd-kit DawidSkene(n_iter=100, tol=1e-5) with the same gold clamped. Tolerance: labels agree
    # on >= 99% of items, mean |probability difference| < 0.005 (the stopping rules differ slightly).
    j, gold = small.judgments, small.gold
    df = pd.DataFrame({"task": j.item, "worker": j.annotator, "label": j.label})
    true_labels = pd.Series(gold[gold >= 0], index=np.flatnonzero(gold >= 0))
    ck = _crowdkit(lambda: crowdkit.DawidSkene(n_iter=100, tol=1e-5).fit(df, true_labels=true_labels))
    theirs = ck.probas_.reindex(index=range(j.n_items), columns=range(5)).to_numpy()
    ours = dawid_skene(j, gold=gold)
    assert ours.converged
    assert (ours.label == ck.labels_.reindex(range(j.n_items)).to_numpy()).mean() >= 0.99
    assert np.abs(ours.probas - theirs).mean() < 0.005
    assert (ours.label == small.truth).mean() >= (ck.labels_.to_numpy() == small.truth).mean() - 0.005
    # gold items are clamped one-hot on their answer
    g = np.flatnonzero(gold >= 0)
    assert np.all(ours.probas[g, gold[g]] == 1.0) and np.all(ours.label[g] == gold[g])
    assert np.allclose(ours.probas.sum(axis=1), 1.0)
    assert ours.confusion.shape == (50, 5, 5) and np.allclose(ours.confusion.sum(axis=2), 1.0)


def test_dawid_skene_recovers_good_and_bad_annotators(small):
    result = dawid_skene(small.judgments, gold=small.gold)
    acc = result.annotator_accuracy
    assert np.corrcoef(acc, small.accuracy)[0, 1] > 0.8


def test_dawid_skene_tie_is_reported_and_unlabelled_items_get_the_prior():
    # two identical annotators disagree on item 0 (0 vs 1) and agree elsewhere; by symmetry item 0 is a tie
    j = Judgments(
        item=np.array([0, 0, 1, 1, 2, 2]),
        annotator=np.array([0, 1, 0, 1, 0, 1]),
        label=np.array([0, 1, 0, 0, 1, 1]),
        n_items=4,
        n_annotators=2,
        n_classes=2,
    )
    result = dawid_skene(j)
    assert result.label[0] == -1 and result.probas[0, 0] == pytest.approx(0.5)
    assert result.label[1] == 0 and result.label[2] == 1
    assert np.allclose(result.probas[3], result.priors)  # item 3 has no judgments
    assert not np.isnan(result.confusion).any()


def test_dawid_skene_validation():
    j = Judgments(np.array([0]), np.array([0]), np.array([0]), 1, 1, 2)
    with pytest.raises(ValueError, match="gold"):
        dawid_skene(j, gold=np.array([2]))
    with pytest.raises(ValueError, match="counts"):
        dawid_skene(j, counts=np.zeros((2, 2)))


def test_top_label_ties_within_tolerance():
    label, conf = top_label(np.array([[0.5, 0.5, 0.0], [0.6, 0.3, 0.1], [0.4 + 1e-12, 0.4, 0.2]]))
    assert label.tolist() == [-1, 0, -1] and conf[1] == pytest.approx(0.6)


# --- Bradley-Terry ------------------------------------------------------------------------------------------


def _comparisons(n=40, m=4000, seed=0):
    rng = np.random.default_rng(seed)
    strength = rng.normal(0, 1, n)
    left = rng.integers(0, n, m)
    right = (left + rng.integers(1, n, m)) % n
    p_left = 1 / (1 + np.exp(strength[right] - strength[left]))
    outcome = (rng.random(m) > p_left).astype(int)  # 0 left wins, 1 right wins
    return strength, left, right, outcome


def test_bradley_terry_matches_crowdkit_ranking():
    # oracle: crowd-kit BradleyTerry on the same comparisons (no ties); ranking Spearman >= 0.99
    strength, left, right, outcome = _comparisons()
    df = pd.DataFrame({"worker": 0, "left": left, "right": right, "label": np.where(outcome == 0, left, right)})
    theirs = _crowdkit(lambda: crowdkit.BradleyTerry(n_iter=200).fit(df)).scores_.reindex(range(40)).to_numpy()
    for prior in (1.0, 0.0):
        ours = bradley_terry(left, right, outcome, 40, prior=prior)
        assert ours.converged
        assert spearmanr(ours.scores, theirs)[0] >= 0.99
        assert abs(ours.scores.mean()) < 1e-9


def test_bradley_terry_equals_the_mle_crowdkit_reaches_when_made_to_iterate():
    # crowd-kit's stopping check compares p_new with an alias of itself (always 0), so it stops after two
    # iterations; with tol=-1 it runs all n_iter and its normalised strengths equal our prior=0 fit (1e-9)
    _, left, right, outcome = _comparisons(n=15, m=1500, seed=4)
    df = pd.DataFrame({"worker": 0, "left": left, "right": right, "label": np.where(outcome == 0, left, right)})
    theirs = _crowdkit(lambda: crowdkit.BradleyTerry(n_iter=1000, tol=-1).fit(df)).scores_.reindex(range(15))
    ours = bradley_terry(left, right, outcome, 15, prior=0.0, tol=1e-13, max_iter=5000)
    p = np.exp(ours.scores) / np.exp(ours.scores).sum()
    assert np.allclose(p, theirs.to_numpy(), atol=1e-9)


def test_bradley_terry_by_hand_and_ties_split_evenly():
    # a beats b twice, b beats a once: MLE p_a / p_b = 2, so scores are +-ln(2)/2 (prior 0)
    r = bradley_terry([0, 0, 1], [1, 1, 0], [0, 0, 0], 2, prior=0.0, tol=1e-12)
    assert r.scores[0] == pytest.approx(np.log(2) / 2) and r.scores[1] == pytest.approx(-np.log(2) / 2)
    assert r.wins.tolist() == [2, 1] and r.comparisons.tolist() == [3, 3]
    # only ties between a and b: equal scores, never one side; the never-compared candidate is NaN
    r = bradley_terry([0, 1], [1, 0], [2, 2], 3)
    assert r.scores[0] == pytest.approx(0.0) and r.scores[1] == pytest.approx(0.0) and np.isnan(r.scores[2])
    assert r.ties.tolist() == [2, 2, 0] and r.wins.tolist() == [0, 0, 0]
    # a tie counts as half a win each: one a-win plus one tie = 1.5 : 0.5
    r = bradley_terry([0, 0], [1, 1], [0, 2], 2, prior=0.0, tol=1e-12)
    assert r.scores[0] - r.scores[1] == pytest.approx(np.log(3))


def test_bradley_terry_prior_keeps_scores_finite():
    # candidate 0 always wins, 2 always loses: the MLE diverges, the default prior keeps the order finite
    r = bradley_terry([0, 0, 1], [1, 2, 2], [0, 0, 0], 3)
    assert np.all(np.isfinite(r.scores)) and r.scores[0] > r.scores[1] > r.scores[2]


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (([0], [0], [0], 2), "left/right"),
        (([0], [1], [3], 2), "outcome"),
        (([0], [2], [0], 2), "right"),
        (([0, 1], [1], [0, 0], 2), "right"),
    ],
)
def test_bradley_terry_validation_names_the_array(args, name):
    with pytest.raises(ValueError, match=name):
        bradley_terry(*args)
