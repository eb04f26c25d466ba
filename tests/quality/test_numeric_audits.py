"""Bias audits (position bias, label skew, speeding, drift) and the incremental tallies."""

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from apps.quality.numeric import (
    Judgments,
    alpha_from_coincidence,
    concat,
    drift,
    gold_accuracy,
    krippendorff_alpha,
    label_skew,
    loo_agreement,
    merge_counts,
    merge_tallies,
    position_bias,
    position_bias_test,
    speeding,
    tally,
    touched_items,
    vote_counts,
)
from apps.quality.numeric.synthetic import generate


def ab_judgments(n_annotators, per_annotator, p_first, seed):
    """A/B judgments (label 0 = A chosen, 1 = B chosen, 2 = tie) with a random display order; annotator a
    chooses the option shown first with probability p_first[a] (ties 10%, excluded from the test)."""
    rng = np.random.default_rng(seed)
    n = n_annotators * per_annotator
    annotator = np.repeat(np.arange(n_annotators), per_annotator)
    order = rng.integers(0, 2, n)
    first = rng.random(n) < p_first[annotator]
    label = np.where(first, order, 1 - order)  # order 0: A first, so choosing first means label 0
    label = np.where(rng.random(n) < 0.1, 2, label)
    return Judgments(np.arange(n), annotator, label, n, n_annotators, 3, order=order)


# --- position bias ------------------------------------------------------------------------------------------


def test_position_bias_by_hand_and_matches_binomtest():
    # 30 judgments: 22 chose the first-shown option -> two-sided exact binomial p = binomtest(22, 30).pvalue
    order = np.array([0] * 15 + [1] * 15)
    label = np.array([0] * 12 + [1] * 3 + [1] * 10 + [0] * 5)  # A-first: 12 chose A; B-first: 10 chose B
    j = Judgments(np.arange(30), np.zeros(30), label, 30, 1, 3, order=order)
    result = position_bias(j, first_label=0, second_label=1, min_n=20)
    assert result.statistic.tolist() == [22] and result.n.tolist() == [30]
    assert result.effect[0] == pytest.approx(22 / 30)
    assert result.p[0] == pytest.approx(stats.binomtest(22, 30, 0.5).pvalue, rel=1e-9)
    assert "binomial" in result.test and "Benjamini-Hochberg" in result.test


def test_position_bias_excludes_ties_unknown_order_and_small_groups():
    j = Judgments(np.arange(4), np.array([0, 0, 0, 1]), np.array([0, 2, 0, 0]), 4, 2, 3, order=np.array([0, 0, -1, 0]))
    chose = position_bias(j, 0, 1, min_n=1)
    assert chose.group.tolist() == [0, 1] and chose.n.tolist() == [1, 1]
    assert position_bias(j, 0, 1, min_n=2).group.size == 0
    with pytest.raises(ValueError, match="Judgments.order"):
        position_bias(Judgments(np.arange(1), [0], [0], 1, 1, 2), 0, 1)


def test_position_bias_finds_planted_and_controls_false_positives():
    # 400 annotators x 300 judgments; 20 choose the first-shown option 75% of the time, the rest 50%.
    # Seeded: all 20 planted are flagged and the share of unbiased flagged stays below the FDR level.
    p_first = np.full(400, 0.5)
    p_first[:20] = 0.75
    result = position_bias(ab_judgments(400, 300, p_first, seed=5), 0, 1, fdr=0.05)
    planted = result.group < 20
    assert result.flagged[planted].all()
    assert result.flagged[~planted].mean() < 0.05
    assert result.flagged.sum() > 0 and (result.flagged & ~planted).sum() / result.flagged.sum() < 0.1


def test_position_bias_test_from_counts_matches():
    result = position_bias_test(np.array([22, 5]), np.array([30, 10]), min_n=20)
    assert result.group.tolist() == [0]


# --- label skew ---------------------------------------------------------------------------------------------


def test_label_skew_matches_chi2_contingency_and_flags_a_skewed_annotator():
    rng = np.random.default_rng(2)
    annotator = np.repeat(np.arange(20), 200)
    label = rng.choice(4, size=annotator.size, p=[0.4, 0.3, 0.2, 0.1])
    label[annotator == 7] = rng.choice(4, size=200, p=[0.8, 0.1, 0.05, 0.05])
    j = Judgments(np.arange(annotator.size), annotator, label, annotator.size, 20, 4)
    result = label_skew(j)
    assert result.flagged.tolist() == [g == 7 for g in range(20)]
    hist = np.stack([np.bincount(label[annotator == g], minlength=4) for g in range(20)])
    for g in (0, 7):
        table = np.stack([hist[g], hist.sum(axis=0) - hist[g]])
        chi2, p, _, _ = stats.chi2_contingency(table, correction=False)
        assert result.statistic[g] == pytest.approx(chi2) and result.p[g] == pytest.approx(p)
    others = (hist.sum(axis=0) - hist[7]) / (hist.sum() - 200)
    assert result.effect[7] == pytest.approx(jensenshannon(hist[7] / 200, others, base=2))


# --- speeding -----------------------------------------------------------------------------------------------


def test_speeding_matches_mannwhitney_and_flags_only_the_fast():
    rng = np.random.default_rng(3)
    annotator = np.repeat(np.arange(30), 50)
    seconds = rng.lognormal(np.log(40), 0.4, annotator.size).round(0)  # rounded: ties exercise the correction
    seconds[annotator == 4] = rng.lognormal(np.log(8), 0.4, 50).round(0)  # median ratio ~0.2: speeding
    seconds[annotator == 9] = rng.lognormal(np.log(30), 0.4, 50).round(0)  # faster, not far below: no flag
    seconds[:3] = np.nan  # unknown durations are left out
    j = Judgments(
        np.arange(annotator.size), annotator, np.zeros(annotator.size), annotator.size, 30, 1, seconds=seconds
    )
    result = speeding(j)
    assert result.flagged.tolist() == [g == 4 for g in range(30)]
    known = ~np.isnan(seconds)
    for g in (0, 4, 9):
        own, others = seconds[known & (annotator == g)], seconds[known & (annotator != g)]
        mw = stats.mannwhitneyu(own, others, alternative="less", method="asymptotic", use_continuity=True)
        assert result.statistic[g] == pytest.approx(mw.statistic)
        assert result.p[g] == pytest.approx(mw.pvalue, rel=1e-6)
        assert result.effect[g] == pytest.approx(np.median(own) / np.median(others))
    assert result.n[0] == 47
    with pytest.raises(ValueError, match="Judgments.seconds"):
        speeding(Judgments(np.arange(1), [0], [0], 1, 1, 1))


# --- drift --------------------------------------------------------------------------------------------------


def test_drift_by_hand_on_gold():
    # one annotator, 40 gold judgments in time order: first 20 all right, last 20 half right
    # p1 = 1, p2 = .5, pooled .75: z = -.5 / sqrt(.75 * .25 * (1/20 + 1/20)) = -3.6515
    gold = np.zeros(40, dtype=int)
    label = np.array([0] * 20 + [0, 1] * 10)
    j = Judgments(np.arange(40), np.zeros(40), label, 40, 1, 2, time=np.arange(40)[::-1].copy())
    result = drift(j, gold=gold)  # times run backwards: the "last 20" rows are the earliest
    assert "gold accuracy" in result.test
    assert result.effect[0] == pytest.approx(0.5) and result.statistic[0] == pytest.approx(3.6515, abs=1e-4)
    assert result.p[0] == pytest.approx(2 * stats.norm.sf(3.6515), rel=1e-3)
    with pytest.raises(ValueError, match="Judgments.time"):
        drift(Judgments(np.arange(1), [0], [0], 1, 1, 1))


def test_drift_on_agreement_finds_drifting_annotators():
    # 50 annotators x ~1,600 judgments; 5 good annotators answer at random in the second half of the period
    data = generate(n_items=20_000, n_annotators=50, overlap=4, seed=9)
    j = data.judgments
    rng = np.random.default_rng(9)
    chosen = np.flatnonzero((data.kind == "good") & ~data.drifting)[:5]
    planted = np.isin(j.annotator, chosen) & (j.time > np.median(j.time))
    label = np.where(planted, rng.integers(0, 5, j.n), j.label)
    j = Judgments(j.item, j.annotator, label, j.n_items, j.n_annotators, 5, time=j.time)
    result = drift(j, gold=data.gold)
    assert "leave-one-out agreement" in result.test  # far more data than the 5% gold
    is_planted = np.isin(result.group, chosen)
    assert result.flagged[is_planted].all() and (result.effect[is_planted] < -0.2).all()
    unplanted = ~is_planted & ~data.drifting[result.group]
    assert result.flagged[unplanted].mean() < 0.05


# --- incremental --------------------------------------------------------------------------------------------


def test_incremental_tallies_equal_a_full_recompute():
    data = generate(n_items=4000, n_annotators=40, overlap=4, seed=12)
    j, gold = data.judgments, data.gold
    late = j.time >= np.quantile(j.time, 0.95)
    before, batch = j.take(~late), j.take(late)
    counts_before = vote_counts(before)
    running = tally(before, counts_before, gold, first_label=0, second_label=1)

    touched = np.zeros(j.n_items, dtype=bool)
    touched[touched_items(batch)] = True
    stored = before.take(touched[before.item])
    counts_after = merge_counts(counts_before, batch)
    old = tally(stored, counts_before, gold, first_label=0, second_label=1)
    new = tally(concat(stored, batch), counts_after, gold, first_label=0, second_label=1)
    running = merge_tallies(merge_tallies(running, old, sign=-1), new)

    full = tally(j, vote_counts(j), gold, first_label=0, second_label=1)
    assert np.array_equal(counts_after, vote_counts(j))
    for name in ("judgments", "gold_n", "labels", "first_chosen", "order_n", "loo_n"):
        assert np.array_equal(getattr(running, name), getattr(full, name)), name
    for name in ("gold_correct", "loo_sum", "coincidence"):
        assert np.allclose(getattr(running, name), getattr(full, name)), name
    assert np.allclose(running.gold_correct, gold_accuracy(j, gold).successes)
    assert np.allclose(running.loo_sum, loo_agreement(j).successes)
    assert alpha_from_coincidence(running.coincidence) == pytest.approx(krippendorff_alpha(vote_counts(j)))
    with pytest.raises(ValueError, match="sign"):
        merge_tallies(running, old, sign=2)
