"""The pure numeric core of the quality engine: int32 arrays in, numpy results out (no Django).

Inputs are long-format :class:`Judgments` (one row per judgment, small-int codes from :func:`factorize`).
Nothing here builds an annotator x item matrix. See ``docs/quality-numeric.md`` for the statistics, the
decisions taken and which figures are incremental (``incremental``) and which are nightly-only.
"""

from .agreement import (
    PairKappa,
    alpha_bootstrap,
    alpha_from_coincidence,
    cohen_kappa_pairs,
    coincidence,
    fleiss_kappa,
    item_pairs,
    krippendorff_alpha,
)
from .audits import (
    AuditResult,
    drift,
    label_histogram,
    label_skew,
    label_skew_test,
    position_bias,
    position_bias_test,
    position_counts,
    speeding,
)
from .bradley_terry import LEFT_WINS, RIGHT_WINS, TIE, BradleyTerryResult, bradley_terry
from .dawid_skene import DawidSkeneResult, dawid_skene, top_label
from .incremental import Tally, concat, merge_tallies, tally, touched_items
from .judgments import Judgments, factorize
from .scores import Proportion, gold_accuracy, gold_sums, loo_agreement, loo_scores, loo_sums, wilson
from .votes import Vote, genuine_disagreement, majority_vote, merge_counts, vote_counts

# Bump when any result would change for the same input (stored with every snapshot).
ALGORITHM_VERSION = "q1.0"

__all__ = [
    "ALGORITHM_VERSION",
    "LEFT_WINS",
    "RIGHT_WINS",
    "TIE",
    "AuditResult",
    "BradleyTerryResult",
    "DawidSkeneResult",
    "Judgments",
    "PairKappa",
    "Proportion",
    "Tally",
    "Vote",
    "alpha_bootstrap",
    "alpha_from_coincidence",
    "bradley_terry",
    "cohen_kappa_pairs",
    "coincidence",
    "concat",
    "dawid_skene",
    "drift",
    "factorize",
    "fleiss_kappa",
    "genuine_disagreement",
    "gold_accuracy",
    "gold_sums",
    "item_pairs",
    "krippendorff_alpha",
    "label_histogram",
    "label_skew",
    "label_skew_test",
    "loo_agreement",
    "loo_scores",
    "loo_sums",
    "majority_vote",
    "merge_counts",
    "merge_tallies",
    "position_bias",
    "position_bias_test",
    "position_counts",
    "speeding",
    "tally",
    "top_label",
    "touched_items",
    "vote_counts",
    "wilson",
]
