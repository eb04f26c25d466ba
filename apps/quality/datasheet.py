"""What the quality engine adds to the provenance datasheet (``apps.work.datasheet``).

Per item (every row of the item): the consensus label of the contract's latest full scoring run and its
confidence, whether the consensus is a tie between labels, and whether the annotators genuinely disagree
there. Only for the lab that bought the work, and never on a gold item: Dawid-Skene clamps gold items to
their gold answer, and no datasheet carries a gold answer (a supplier would learn the lab's gold, and a
datasheet travels). Those cells are empty, as they are for items no full run has covered yet.

Per annotator (both parties): the qualifications they held when the batch was submitted (the platform's
tests and the contract lab's own, never another lab's) and their latest scores on this contract: measured
accuracy (on the lab's hidden reference items) with its 95% interval and the number of such answers behind
it, and leave-one-out agreement. The words "gold" and the items themselves stay out of the datasheet.

Registered by :func:`register` from ``QualityConfig.ready()``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from apps.work.datasheet import Contribution, register_provider

ITEM_COLUMNS = ("consensus_label", "consensus_confidence", "consensus_tie", "consensus_disagreement")


def _round(value: float | None, places: int = 4) -> float | None:
    return None if value is None else round(float(value), places)


def _qualifications(batch, annotator_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    from apps.assessments.models import Qualification, Test

    submitted = batch.created_at
    lab_id = batch.contract.lab_id
    held: dict[int, list[dict[str, Any]]] = {}
    rows = (
        Qualification.objects.filter(
            expert_id__in=annotator_ids,
            status=Qualification.Status.ACTIVE,
            granted_at__lte=submitted,
            expires_at__gt=submitted,
            test__kind=Test.Kind.QUALIFICATION,
        )
        .filter(Q(test__owner__isnull=True) | Q(test__owner_id=lab_id))
        .order_by("expert_id", "test__title", "-test__version")
        .values_list("expert_id", "test__title", "test__version", "score", "granted_at", "expires_at")
    )
    for expert_id, title, version, score, granted_at, expires_at in rows:
        held.setdefault(expert_id, []).append(
            {
                "test": title,
                "version": version,
                "score": str(score),
                "granted_at": granted_at.date().isoformat(),
                "expires_at": expires_at.date().isoformat(),
            }
        )
    return held


def _scores(batch, annotator_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The latest expert snapshot of each annotator on the batch's contract."""
    from .models import ScoreSnapshot, SubjectKind

    latest: dict[int, dict[str, Any]] = {}
    snapshots = (
        ScoreSnapshot.objects.filter(
            contract_id=batch.contract_id, subject_kind=SubjectKind.EXPERT, expert_id__in=annotator_ids
        )
        .order_by("expert_id", "-created_at", "-id")
        .values_list("expert_id", "gold_accuracy", "gold_lower", "gold_upper", "n_gold", "loo_agreement", "created_at")
    )
    for expert_id, accuracy, lower, upper, n_gold, agreement, created_at in snapshots:
        if expert_id in latest:
            continue
        latest[expert_id] = {
            "measured_accuracy": _round(accuracy),
            "measured_accuracy_lower": _round(lower),
            "measured_accuracy_upper": _round(upper),
            "measured_answers": n_gold,
            "agreement_loo": _round(agreement),
            "scored_at": created_at.isoformat(),
        }
    return latest


SCORE_FACTS = (
    "measured_accuracy",
    "measured_accuracy_lower",
    "measured_accuracy_upper",
    "measured_answers",
    "agreement_loo",
    "scored_at",
)


def _consensus_lookup(contract):
    from apps.work.models import GoldItem

    from .selectors import consensus_for_items

    def lookup(item_ids: list[str]) -> dict[str, dict[str, Any]]:
        reference = set(
            GoldItem.objects.filter(project_id=contract.project_id, item_id__in=item_ids).values_list(
                "item_id", flat=True
            )
        )
        found = consensus_for_items(contract, [item for item in item_ids if item not in reference])
        return {
            item_id: {
                "consensus_label": entry.get("label"),
                "consensus_confidence": _round(entry.get("confidence")),
                "consensus_tie": bool(entry.get("tie")),
                "consensus_disagreement": bool(entry.get("disagreement")),
            }
            for item_id, entry in found.items()
            if item_id not in reference
        }

    return lookup


def provide(batch, annotator_ids: list[int], for_lab: bool) -> Contribution | None:
    """The quality columns of ``batch``'s datasheet (see the module docstring)."""
    from .models import ConsensusSnapshot

    qualifications = _qualifications(batch, annotator_ids)
    scores = _scores(batch, annotator_ids)
    facts = {
        pk: {"qualifications": qualifications.get(pk, []), **(scores.get(pk) or dict.fromkeys(SCORE_FACTS))}
        for pk in annotator_ids
    }
    with_consensus = for_lab and ConsensusSnapshot.objects.filter(contract_id=batch.contract_id).exists()
    return Contribution(
        item_columns=ITEM_COLUMNS if with_consensus else (),
        item_values=_consensus_lookup(batch.contract) if with_consensus else None,
        annotator_facts=facts,
        summary={"quality_scored": bool(scores), "consensus_included": with_consensus},
    )


def register() -> None:
    register_provider(provide)
