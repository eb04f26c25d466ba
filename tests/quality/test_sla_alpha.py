"""The SLA on Krippendorff's alpha: a seeded bootstrap interval over items, raised only when its upper
bound is below the minimum and cleared only when its lower bound is back at or above it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.notifications.models import Notification
from apps.quality import services
from apps.quality.models import ScoreSnapshot, SlaAlert
from apps.quality.selectors import contract_quality
from tests.factories import ContractFactory

from .conftest import make_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract(project, lab, vendor, vendor_manager):
    """Labels A, B, tie; an SLA on alpha only (minimum 0.60)."""
    return ContractFactory(
        project=project,
        lab=lab,
        supplier=vendor,
        terms={"sla_min_gold_accuracy": None, "sla_min_alpha": Decimal("0.6")},
    )


def _rows(annotators, n_items, prefix, *, agree: bool):
    """Four judgments per item: all the same label (``agree``), else two A and two B."""
    rows = []
    for i in range(n_items):
        for k, annotator in enumerate(annotators):
            label = ("A" if i % 2 else "B") if agree else ("A" if (k + i) % 2 else "B")
            rows.append((f"{prefix}-{i}", annotator, label))
    return rows


def _summary(contract):
    return ScoreSnapshot.objects.filter(contract=contract, subject_kind="contract").order_by("-id").first()


def test_thin_evidence_raises_nothing(contract, annotators):
    # 5 items of 4 judgments: 2 split 2-2, 3 unanimous; alpha 0.47, but the interval reaches 1.
    make_batch(contract, _rows(annotators, 2, "d", agree=False) + _rows(annotators, 3, "a", agree=True))
    services.score_contract(contract=contract)

    summary = _summary(contract)
    assert summary.alpha < 0.6 and summary.alpha_upper >= 0.6
    assert not SlaAlert.objects.exists()


def test_alpha_interval_below_raises_then_clears(contract, annotators, lab_admin, vendor_manager):
    make_batch(contract, _rows(annotators, 60, "d", agree=False) + _rows(annotators, 20, "a", agree=True))
    services.score_contract(contract=contract)

    summary = _summary(contract)
    assert summary.alpha_lower <= summary.alpha <= summary.alpha_upper < 0.6
    alert = SlaAlert.objects.get()
    assert (alert.metric, alert.status, alert.n) == ("alpha", "open", 80)
    assert alert.upper == pytest.approx(summary.alpha_upper)
    notes = Notification.objects.filter(kind="quality.sla_breached")
    assert {lab_admin.pk, vendor_manager.pk} <= set(notes.values_list("recipient", flat=True))
    assert "Krippendorff's alpha" in notes.first().body
    sla = contract_quality(actor=lab_admin, contract_public_id=contract.public_id).sla
    assert sla.state == "breached" and sla.alpha_upper == pytest.approx(summary.alpha_upper)

    services.score_contract(contract=contract)  # the same data: same interval (seeded), no second alert
    assert SlaAlert.objects.count() == 1
    assert _summary(contract).alpha_upper == summary.alpha_upper

    # Much agreeing work: the lower bound climbs to or above 0.60 -> cleared.
    make_batch(contract, _rows(annotators, 600, "a2", agree=True))
    services.score_contract(contract=contract)
    alert.refresh_from_db()
    assert _summary(contract).alpha_lower >= 0.6
    assert alert.status == "cleared" and alert.cleared_lower >= 0.6


def test_no_interval_without_an_alpha_sla(project, lab, vendor, annotators):
    other = ContractFactory(project=project, lab=lab, supplier=vendor, terms={"sla_min_alpha": None})
    make_batch(other, _rows(annotators, 10, "d", agree=False))
    services.score_contract(contract=other)
    summary = _summary(other)
    assert summary.alpha is not None and summary.alpha_lower is None and summary.alpha_upper is None
