"""The quality multiplier of a contract's quality-pay formula, from the same snapshots as the SLA.

The rule: a batch with at least ``MIN_BATCH_GOLD`` gold answers is paid on its own gold accuracy
(basis "batch"); a batch with fewer is paid on the contract's cumulative gold accuracy (basis
"contract"), because 5 gold answers give an interval too wide to pay on; with no gold answer at all
the multiplier is 1.00 (basis "no gold measured"). The accuracy is the exact ratio of integer counts
rounded to 4 places, and the band comes from the quality_pay of the terms the batch was delivered
under (``apps.contracts.services.quality_multiplier``).
"""

from __future__ import annotations

from decimal import Decimal

from apps.contracts.services import quality_multiplier

from .history import ratio
from .models import ScoreSnapshot, SubjectKind
from .selectors import QualityMultiplier

MIN_BATCH_GOLD = 30
ONE = Decimal("1.00")


def _band(bands: list, accuracy: Decimal) -> list | None:
    for band in bands:
        if accuracy >= Decimal(band[0]):
            return list(band)
    return None


def _from(snapshot: ScoreSnapshot | None, bands: list, basis: str) -> QualityMultiplier:
    accuracy = ratio(snapshot.gold_correct, snapshot.n_gold)
    return QualityMultiplier(
        multiplier=quality_multiplier(bands, accuracy),
        gold_accuracy=accuracy,
        n_gold=snapshot.n_gold,
        band=_band(bands, accuracy),
        snapshot_public_id=snapshot.public_id,
        basis=basis,
    )


def _none() -> QualityMultiplier:
    return QualityMultiplier(
        multiplier=ONE, gold_accuracy=None, n_gold=0, band=None, snapshot_public_id=None, basis="no gold measured"
    )


def _latest(**filters) -> ScoreSnapshot | None:
    return ScoreSnapshot.objects.filter(**filters).order_by("-id").first()


def multiplier_for_batch(batch) -> QualityMultiplier:
    bands = batch.contract_version.quality_pay or []
    own = _latest(subject_kind=SubjectKind.BATCH, batch=batch)
    if own is not None and own.n_gold >= MIN_BATCH_GOLD:
        return _from(own, bands, "batch")
    cumulative = _latest(subject_kind=SubjectKind.CONTRACT, contract_id=batch.contract_id)
    if cumulative is not None and cumulative.n_gold:
        return _from(cumulative, bands, "contract")
    return _none()


def contract_multiplier(contract) -> QualityMultiplier:
    terms = contract.current_version
    bands = (terms.quality_pay if terms is not None else None) or []
    cumulative = _latest(subject_kind=SubjectKind.CONTRACT, contract=contract)
    if cumulative is not None and cumulative.n_gold:
        return _from(cumulative, bands, "contract")
    return _none()
