"""Scoring runs end to end: the loader on real rows, the full and the incremental paths."""

from __future__ import annotations

import pytest

from apps.quality import services
from apps.quality.loader import load_contract
from apps.quality.models import ConsensusSnapshot, ScoreSnapshot, ScoringRun

from .conftest import gold_rows, make_batch, set_gold

pytestmark = pytest.mark.django_db


def _panel_rows(annotators, items, prefix="it"):
    rows = []
    for i in range(items):
        for k, a in enumerate(annotators):
            label = "A" if (i + (k == 3)) % 2 == 0 else "B"
            rows.append((f"{prefix}-{i}", a, label, i % 2, 20 + k))
    return rows


def test_loader_reads_a_real_batch_as_arrays(contract, annotators):
    rows = [("x-1", annotators[0], "A", 0, 12), ("x-1", annotators[1], "tie", None, None), ("x-2", annotators[0], "B")]
    make_batch(contract, rows)
    set_gold(contract.project, {"x-2": "B", "unrelated": "A"})

    loaded = load_contract(contract)

    assert loaded.n == 3
    assert loaded.item_ids == ["x-1", "x-2"]
    assert loaded.item.tolist() == [0, 0, 1]
    assert loaded.label.tolist() == [0, 2, 1]
    assert loaded.order.tolist() == [0, -1, -1]
    assert loaded.seconds.tolist() == [12, -1, -1]
    assert [int(loaded.annotator_ids[c]) for c in loaded.annotator] == [
        annotators[0].pk,
        annotators[1].pk,
        annotators[0].pk,
    ]
    assert loaded.gold.tolist() == [-1, 1]
    assert loaded.label_set == ["A", "B", "tie"]


def test_full_run_writes_snapshots_for_every_subject(contract, annotators):
    rows = _panel_rows(annotators, 30)
    g, gold = gold_rows(annotators[0], 18, 2)
    make_batch(contract, rows + g)
    set_gold(contract.project, gold)

    run = services.score_contract(contract=contract)

    assert run.status == ScoringRun.Status.SUCCEEDED
    assert run.progress == 100
    assert run.n_judgments == len(rows) + 20
    kinds = sorted(ScoreSnapshot.objects.filter(run=run).values_list("subject_kind", flat=True))
    assert kinds.count("contract") == 1 and kinds.count("batch") == 1 and kinds.count("expert") == 4
    assert kinds.count("supplier") == 1
    summary = ScoreSnapshot.objects.get(run=run, subject_kind="contract")
    assert (summary.n_gold, summary.gold_correct) == (20, 18)
    assert summary.gold_lower < 0.9 < summary.gold_upper
    assert summary.alpha is not None and summary.alpha_level == "nominal"
    assert summary.algorithm_version == run.algorithm_version
    assert ConsensusSnapshot.objects.filter(run=run).count() == 1


def test_incremental_path_equals_full_path_on_additive_figures(contract, annotators):
    g1, gold1 = gold_rows(annotators[0], 8, 2, prefix="g1")
    g2, gold2 = gold_rows(annotators[1], 5, 5, prefix="g2")
    set_gold(contract.project, {**gold1, **gold2})
    first = make_batch(contract, _panel_rows(annotators, 5, "p") + g1)
    services.score_batch(first)
    second = make_batch(contract, _panel_rows(annotators, 6, "q") + g2)
    incremental_run = services.score_batch(second)
    services.score_batch(second)  # a repeat does not double count

    incremental = ScoreSnapshot.objects.filter(subject_kind="contract").order_by("-id").first()
    full_run = services.score_contract(contract=contract)
    full = ScoreSnapshot.objects.get(run=full_run, subject_kind="contract")

    assert incremental_run.kind == "incremental"
    assert incremental.incremental is True
    for name in ("n_judgments", "n_gold", "gold_correct", "gold_accuracy", "gold_lower", "gold_upper"):
        assert getattr(incremental, name) == pytest.approx(getattr(full, name)), name
    assert (full.n_gold, full.gold_correct) == (20, 13)
