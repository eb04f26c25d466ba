"""Bias audits per annotator (or per vendor, batch...): position bias, label skew, speeding and drift.

Every audit tests each group with at least ``min_n`` usable judgments, corrects the p-values across those
groups with Benjamini-Hochberg (``scipy.stats.false_discovery_control``) and flags q < ``fdr``. The
``*_test`` functions take the aggregated counts, so the incremental path can re-run position bias and
label skew from merged tallies without the judgments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from .judgments import Judgments
from .scores import _check_gold, loo_scores, resolve_group


@dataclass(frozen=True)
class AuditResult:
    """Per tested group: ``n`` usable judgments, the test ``statistic``, the ``effect`` size, ``p``, the BH
    ``q`` and ``flagged``; ``test`` names the test and the correction."""

    group: np.ndarray
    n: np.ndarray
    statistic: np.ndarray
    effect: np.ndarray
    p: np.ndarray
    q: np.ndarray
    flagged: np.ndarray
    test: str


def _bh(p: np.ndarray) -> np.ndarray:
    if p.size == 0:
        return p.astype(np.float64)
    return stats.false_discovery_control(np.clip(p, 0.0, 1.0), method="bh")


def _result(groups, n, statistic, effect, p, fdr, test, extra_flag=None) -> AuditResult:
    p = np.asarray(p, dtype=np.float64)
    q = _bh(p)
    flagged = q < fdr
    if extra_flag is not None:
        flagged &= extra_flag
    return AuditResult(
        group=np.asarray(groups, dtype=np.int32),
        n=np.asarray(n, dtype=np.int64),
        statistic=np.asarray(statistic, dtype=np.float64),
        effect=np.asarray(effect, dtype=np.float64),
        p=p,
        q=q,
        flagged=flagged,
        test=test,
    )


# --- Position bias ------------------------------------------------------------------------------------------


def position_counts(j: Judgments, first_label: int, second_label: int, group=None, n_groups=None):
    """(chose the option shown first, usable judgments) per group: known order, label in {first, second}."""
    if j.order is None:
        raise ValueError("Judgments.order: position bias needs the display order of each judgment.")
    g, n_groups = resolve_group(j, group, n_groups)
    usable = (j.order >= 0) & ((j.label == first_label) | (j.label == second_label))
    # label first_label means "option A chosen"; order 0 means A was shown first
    chose_first = np.where(j.order == 0, j.label == first_label, j.label == second_label) & usable
    return (
        np.bincount(g, weights=chose_first, minlength=n_groups).astype(np.int64),
        np.bincount(g[usable], minlength=n_groups).astype(np.int64),
    )


def position_bias_test(chose_first, n, min_n: int = 20, fdr: float = 0.05) -> AuditResult:
    """Two-sided exact binomial test of each group's first-shown share against 0.5, BH-corrected.

    statistic = count of first-shown choices; effect = share of first-shown choices. With p0 = 0.5 the
    binomial is symmetric, so doubling the smaller tail equals scipy's ``binomtest`` two-sided p-value.
    """
    chose_first, n = np.asarray(chose_first, dtype=np.int64), np.asarray(n, dtype=np.int64)
    groups = np.flatnonzero(n >= max(min_n, 1))
    k, m = chose_first[groups], n[groups]
    p = np.minimum(1.0, 2 * np.minimum(stats.binom.cdf(k, m, 0.5), stats.binom.sf(k - 1, m, 0.5)))
    return _result(
        groups, m, k, k / np.maximum(m, 1), p, fdr, "exact binomial test vs 0.5 (two-sided), Benjamini-Hochberg FDR"
    )


def position_bias(
    j: Judgments, first_label: int, second_label: int, group=None, n_groups=None, min_n: int = 20, fdr: float = 0.05
) -> AuditResult:
    """Share of judgments choosing the option shown first, among judgments with a known display order and a
    label in {``first_label`` (A chosen), ``second_label`` (B chosen)}; ties and other labels excluded."""
    return position_bias_test(*position_counts(j, first_label, second_label, group, n_groups), min_n, fdr)


# --- Label skew ---------------------------------------------------------------------------------------------


def label_histogram(j: Judgments, group=None, n_groups=None) -> np.ndarray:
    """(n_groups, n_classes) int64 label counts per group (additive)."""
    g, n_groups = resolve_group(j, group, n_groups)
    k = j.n_classes
    return np.bincount(g.astype(np.int64) * k + j.label, minlength=n_groups * k).reshape(n_groups, k)


def _js_distance(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Row-wise Jensen-Shannon distance (base 2, in [0, 1]) between probability rows."""
    m = (p + q) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        kl_p = np.where(p > 0, p * np.log2(p / m), 0.0).sum(axis=1)
        kl_q = np.where(q > 0, q * np.log2(q / m), 0.0).sum(axis=1)
    return np.sqrt(np.maximum((kl_p + kl_q) / 2, 0.0))


def label_skew_test(hist, min_n: int = 30, fdr: float = 0.01) -> AuditResult:
    """Pearson chi-square of the 2 x K table (this group's label counts vs everyone else's), BH-corrected.

    Classes nobody used are dropped (df = used classes - 1). effect = Jensen-Shannon distance between the
    group's label distribution and the others'.
    """
    hist = np.asarray(hist, dtype=np.float64)
    total = hist.sum(axis=0)
    big_n = total.sum()
    n_g = hist.sum(axis=1)
    groups = np.flatnonzero((n_g >= max(min_n, 1)) & (big_n - n_g > 0))
    used = total > 0
    h, t = hist[groups][:, used], total[used]
    others = t[None, :] - h
    ng = n_g[groups][:, None]
    e_g = ng * t[None, :] / big_n
    e_o = (big_n - ng) * t[None, :] / big_n
    chi2 = ((h - e_g) ** 2 / e_g + (others - e_o) ** 2 / e_o).sum(axis=1)
    df = max(int(used.sum()) - 1, 1)
    p = stats.chi2.sf(chi2, df) if int(used.sum()) > 1 else np.ones(groups.size)
    effect = _js_distance(h / ng, others / np.maximum(others.sum(axis=1, keepdims=True), 1))
    return _result(
        groups,
        n_g[groups],
        chi2,
        effect,
        p,
        fdr,
        "chi-square test of the label histogram against everyone else's, Benjamini-Hochberg FDR",
    )


def label_skew(j: Judgments, group=None, n_groups=None, min_n: int = 30, fdr: float = 0.01) -> AuditResult:
    """Does a group's label histogram differ from the pooled histogram of everyone else? A screening flag:
    spammers and genuinely different work mixes also differ."""
    return label_skew_test(label_histogram(j, group, n_groups), min_n, fdr)


# --- Speeding -----------------------------------------------------------------------------------------------


def speeding(
    j: Judgments, group=None, n_groups=None, min_n: int = 20, ratio: float = 0.35, fdr: float = 0.05
) -> AuditResult:
    """Groups working far faster than their peers.

    effect = the group's median seconds / the median seconds of everyone else. Rule: flagged when
    effect < ``ratio`` AND a one-sided Mann-Whitney U test (the group's times are stochastically smaller
    than everyone else's; normal approximation with tie and continuity correction) is significant after
    BH at ``fdr``. statistic = U. Judgments with unknown seconds (NaN) are left out.
    """
    if j.seconds is None:
        raise ValueError("Judgments.seconds: speeding needs the seconds spent on each judgment.")
    g_all, n_groups = resolve_group(j, group, n_groups)
    known = np.isfinite(j.seconds)
    sec32 = j.seconds[known]
    g = g_all[known]
    big_n = sec32.size
    n_g = np.bincount(g, minlength=n_groups)
    groups = np.flatnonzero((n_g >= max(min_n, 1)) & (big_n - n_g > 0))
    test = "one-sided Mann-Whitney U test vs everyone else, Benjamini-Hochberg FDR; flagged when also median ratio < "
    test += f"{ratio:g}"
    if groups.size == 0:
        return _result([], [], [], [], [], fdr, test)
    # one float sort: pooled average ranks (ties), tie correction, then a stable integer sort by group
    pooled_order = np.argsort(sec32)  # ties share a value, so stability is not needed
    pooled = sec32[pooled_order].astype(np.float64)
    new_block = np.empty(big_n, dtype=bool)
    new_block[0] = True
    np.not_equal(pooled[1:], pooled[:-1], out=new_block[1:])
    block_start = np.flatnonzero(new_block)
    block_size = np.diff(np.append(block_start, big_n))
    avg_rank = np.repeat(block_start + (block_size + 1) / 2, block_size)  # 1-based average ranks
    g_pooled = g[pooled_order]
    n1 = n_g[groups].astype(np.float64)
    n2 = big_n - n1
    u = np.bincount(g_pooled, weights=avg_rank, minlength=n_groups)[groups] - n1 * (n1 + 1) / 2
    bs = block_size.astype(np.float64)
    tie_term = (bs**3 - bs).sum() / (big_n * (big_n - 1)) if big_n > 1 else 0.0
    sigma = np.sqrt(n1 * n2 / 12 * ((big_n + 1) - tie_term))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (u - n1 * n2 / 2 + 0.5) / sigma
    p = np.where(sigma > 0, stats.norm.cdf(z), 1.0)

    # medians: the group's own from a stable sort by group (seconds stay sorted within each group);
    # everyone else's by bisection over pooled positions, counting the group's own positions out
    by_group = np.argsort(g_pooled.astype(np.int16 if n_groups < 2**15 else np.int32), kind="stable")
    sec_g = pooled[by_group]
    starts = np.concatenate(([0], np.cumsum(n_g)[:-1]))
    sg, ng = starts[groups], n_g[groups]
    own_median = (sec_g[sg + (ng - 1) // 2] + sec_g[sg + ng // 2]) / 2
    composite = g_pooled[by_group].astype(np.int64) * big_n + by_group  # sorted: group, then pooled position

    def others_order_stat(target: np.ndarray) -> np.ndarray:
        # smallest pooled position r with (#others at positions <= r) == target + 1
        lo = np.zeros(groups.size, dtype=np.int64)
        hi = np.full(groups.size, big_n - 1, dtype=np.int64)
        while np.any(lo < hi):
            mid = (lo + hi) // 2
            own = np.searchsorted(composite, groups * big_n + mid, side="right") - sg
            ok = (mid + 1 - own) >= target + 1
            hi = np.where(ok, mid, hi)
            lo = np.where(ok, lo, mid + 1)
        return pooled[lo]

    m_other = (big_n - ng).astype(np.int64)
    others_median = (others_order_stat((m_other - 1) // 2) + others_order_stat(m_other // 2)) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        effect = np.where(others_median > 0, own_median / others_median, np.nan)
    return _result(groups, ng, u, effect, p, fdr, test, extra_flag=effect < ratio)


# --- Drift --------------------------------------------------------------------------------------------------


def drift(j: Judgments, gold=None, group=None, n_groups=None, min_n: int = 20, fdr: float = 0.05) -> AuditResult:
    """First half vs second half (in time) of each group's judgments: did its quality change?

    Signal: leave-one-out agreement (judgments on items with >= 2 judgments), or gold accuracy when gold is
    given and it has more judgments overall than the agreement signal; ``test`` names the one used. Halves
    split the group's signal judgments by count in time order. Two-proportion z-test (pooled, two-sided)
    on the mean score; statistic = z, effect = second-half mean - first-half mean (negative: got worse).
    """
    if j.time is None:
        raise ValueError("Judgments.time: drift needs the time of each judgment.")
    g_all, n_groups = resolve_group(j, group, n_groups)
    score, usable = loo_scores(j)
    signal = "leave-one-out agreement"
    if gold is not None:
        gold = _check_gold(j, gold)
        key = gold[j.item]
        on_gold = key >= 0
        if on_gold.sum() > usable.sum():
            score, usable, signal = (j.label == key).astype(np.float64), on_gold, "gold accuracy"
    test = f"two-proportion z-test, first vs second half in time, on {signal}, Benjamini-Hochberg FDR"
    g = g_all[usable].astype(np.int64)
    s = score[usable]
    t = j.time[usable]
    n_g = np.bincount(g, minlength=n_groups)
    groups = np.flatnonzero(n_g >= max(min_n, 2))
    if groups.size == 0:
        return _result([], [], [], [], [], fdr, test)
    order = np.argsort(t)  # equal times: any fixed order
    order = order[np.argsort(g[order].astype(np.int16 if n_groups < 2**15 else np.int32), kind="stable")]
    g_sorted, s_sorted = g[order], s[order]
    starts = np.concatenate(([0], np.cumsum(n_g)[:-1]))
    pos = np.arange(g_sorted.size) - starts[g_sorted]
    second = pos >= n_g[g_sorted] // 2
    s1 = np.bincount(g_sorted[~second], weights=s_sorted[~second], minlength=n_groups)[groups]
    s2 = np.bincount(g_sorted[second], weights=s_sorted[second], minlength=n_groups)[groups]
    n1 = (n_g[groups] // 2).astype(np.float64)
    n2 = n_g[groups] - n1
    p1, p2 = s1 / n1, s2 / n2
    pooled = (s1 + s2) / (n1 + n2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(se > 0, (p2 - p1) / se, 0.0)
    p = 2 * stats.norm.sf(np.abs(z))
    return _result(groups, n_g[groups], z, p2 - p1, p, fdr, test)
