"""The bid comparison reads a bidder's measured gold accuracy through the bidding provider hook."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.bidding.hooks import quality_history_provider
from apps.quality import services
from apps.quality.history import supplier_history

from .conftest import gold_rows, make_batch, set_gold

pytestmark = pytest.mark.django_db


def test_no_history_without_gold(vendor):
    assert supplier_history(supplier=vendor) is None


def test_history_sums_the_latest_snapshot_of_each_contract(contract, annotators, vendor):
    rows, gold = gold_rows(annotators[0], 45, 5)
    set_gold(contract.project, gold)
    make_batch(contract, rows)
    services.score_contract(contract=contract)
    services.score_contract(contract=contract)  # a second run replaces, it does not add

    history = quality_history_provider(supplier=vendor)

    assert history["n_gold"] == 50 and history["gold_correct"] == 45
    assert history["gold_accuracy"] == Decimal("0.9000")
    assert history["lower"] < Decimal("0.9") < history["upper"]
    assert history["n_contracts"] == 1
