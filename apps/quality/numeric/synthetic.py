"""Seeded synthetic judgments with known truth, for the benchmark, the oracle tests and demo data.

Annotators sit in pods of ``pod_size``; each item goes to ``overlap`` distinct members of one pod (so
annotator pairs share enough items for kappa). Mix: 70% good (accuracy 0.75-0.95), 15% mediocre
(0.5-0.75), 10% uniform spammers who also rush, 5% biased towards class 0; 5% of annotators drift down
25 accuracy points over the period; a few choose the option shown first 80% of the time on A/B labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .judgments import Judgments

PRIOR = np.array([0.35, 0.25, 0.20, 0.12, 0.08])
DAY = 86_400


@dataclass(frozen=True)
class Synthetic:
    judgments: Judgments
    gold: np.ndarray  # per item, -1 = not gold
    truth: np.ndarray  # true label per item
    accuracy: np.ndarray  # nominal accuracy per annotator
    kind: np.ndarray  # per annotator: "good", "mediocre", "spammer", "biased"
    drifting: np.ndarray  # bool per annotator
    position_biased: np.ndarray  # bool per annotator


def generate(
    n_items: int = 250_000,
    n_annotators: int = 1_000,
    overlap: int = 4,
    n_classes: int = 5,
    gold_share: float = 0.05,
    pod_size: int = 10,
    position_biased_share: float = 0.02,
    days: int = 30,
    seed: int = 7,
) -> Synthetic:
    """``n_items * overlap`` judgments (1,000,000 with the defaults)."""
    rng = np.random.default_rng(seed)
    prior = PRIOR[:n_classes] if n_classes <= PRIOR.size else np.ones(n_classes)
    prior = prior / prior.sum()
    truth = rng.choice(n_classes, size=n_items, p=prior).astype(np.int32)

    kind_draw = rng.random(n_annotators)
    kind = np.where(
        kind_draw < 0.70,
        "good",
        np.where(kind_draw < 0.85, "mediocre", np.where(kind_draw < 0.95, "spammer", "biased")),
    )
    accuracy = np.where(kind == "good", rng.uniform(0.75, 0.95, n_annotators), rng.uniform(0.5, 0.75, n_annotators))
    accuracy = np.where(kind == "spammer", 1.0 / n_classes, accuracy)
    accuracy = np.where(kind == "biased", rng.uniform(0.6, 0.8, n_annotators), accuracy)
    drifting = (rng.random(n_annotators) < 0.05) & (kind != "spammer")
    position_biased = rng.random(n_annotators) < position_biased_share

    n_pods = max(n_annotators // pod_size, 1)
    pod_size = n_annotators // n_pods
    overlap = min(overlap, pod_size)
    pod = rng.integers(0, n_pods, n_items)
    members = np.argsort(rng.random((n_items, pod_size)), axis=1)[:, :overlap]
    annotator = (pod[:, None] * pod_size + members).reshape(-1).astype(np.int32)
    item = np.repeat(np.arange(n_items, dtype=np.int32), overlap)
    n = item.size

    t = rng.integers(0, days * DAY, n).astype(np.int64)
    frac = t / (days * DAY)
    acc = accuracy[annotator] - np.where(drifting[annotator], 0.25 * frac, 0.0)
    true = truth[item]
    correct = rng.random(n) < acc
    wrong = (true + rng.integers(1, n_classes, n)) % n_classes if n_classes > 1 else true
    label = np.where(correct, true, wrong)
    spam = kind[annotator] == "spammer"
    label = np.where(spam, rng.integers(0, n_classes, n), label)
    biased = (kind[annotator] == "biased") & (rng.random(n) < 0.5)
    label = np.where(biased, 0, label).astype(np.int32)

    # A/B display order: class 0 = "A chosen", class 1 = "B chosen"; position-biased annotators pick
    # whichever of A/B was shown first 80% of the time when their answer is A or B
    order = rng.integers(0, 2, n).astype(np.int8)
    ab = (label <= 1) & position_biased[annotator]
    push = ab & (rng.random(n) < 0.6)  # 0.6 pushed + 0.4 * 0.5 by chance = 0.8 first
    label = np.where(push, np.where(order == 0, 0, 1), label).astype(np.int32)

    median = np.where(kind[annotator] == "spammer", 6.0, 40.0)
    seconds = (median * rng.lognormal(0.0, 0.5, n)).astype(np.float32)

    gold = np.full(n_items, -1, dtype=np.int32)
    gold_items = rng.random(n_items) < gold_share
    gold[gold_items] = truth[gold_items]
    j = Judgments(
        item=item,
        annotator=annotator,
        label=label,
        n_items=n_items,
        n_annotators=n_annotators,
        n_classes=n_classes,
        order=order,
        seconds=seconds,
        time=t,
    )
    return Synthetic(j, gold, truth, accuracy, kind, drifting, position_biased)
