"""Reads of quality results, scoped to what the actor may see.

- A lab (CONTRACTS_VIEW) sees its contracts' snapshots; experts appear to it only by handle.
- A supplier (vendor or independent expert, CONTRACTS_VIEW) sees its own contracts and its own team.
- A vendor's expert (role ``expert``, no CONTRACTS_VIEW) sees only their own rows (``my_quality``).
- Platform operations see everything.

Outside the scope a selector raises ``NotFound``. Every figure comes from an append-only snapshot
(``ScoreSnapshot``); "latest per subject" means the newest snapshot of that subject.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from apps.accounts.models import Organization, User

# Bodies import lazily where models are needed so that this module's interface can be imported early.


@dataclass(frozen=True)
class QualityMultiplier:
    """The quality-pay multiplier for a batch or a contract (issue 8 multiplies earnings by it).

    ``basis`` is one of "batch" (the batch's own gold), "contract" (the contract's cumulative gold),
    "no gold measured" (multiplier 1.00). ``band`` is the quality-pay band reached
    (``[min_accuracy, multiplier]``) or None below every band / without gold."""

    multiplier: Decimal
    gold_accuracy: Decimal | None
    n_gold: int
    band: list | None
    snapshot_public_id: Any  # UUID of the ScoreSnapshot the figure came from, or None
    basis: str


@dataclass(frozen=True)
class SlaStatus:
    """The contract's SLA on gold accuracy (``threshold`` ... ``n``) and on Krippendorff's alpha
    (``alpha_*``). ``state``: "ok" (every set metric's lower bound at or above its threshold),
    "breached" (an open alert on either metric: its upper bound fell below), "insufficient_evidence"
    (an interval straddles its threshold, or no data yet), "no_sla" (the terms set no minimum)."""

    state: str
    metric: str
    threshold: Decimal | None
    measured: float | None
    lower: float | None
    upper: float | None
    n: int
    open_alerts: list = field(default_factory=list)  # SlaAlert rows, open, newest first
    alpha_threshold: Decimal | None = None
    alpha_measured: float | None = None
    alpha_lower: float | None = None  # the bootstrap interval, when the terms set a minimum alpha
    alpha_upper: float | None = None


@dataclass(frozen=True)
class ExpertRow:
    """The latest snapshot of one expert on a contract; ``handle`` is what a lab sees."""

    snapshot: Any  # ScoreSnapshot (subject_kind "expert")
    handle: str
    user_id: int
    name: str | None  # the expert's name for their own supplier and operations; None for a lab


@dataclass(frozen=True)
class ContractQuality:
    contract: Any  # apps.contracts.models.Contract
    summary: Any | None  # latest contract ScoreSnapshot, or None before the first scoring
    sla: SlaStatus
    multiplier: QualityMultiplier
    history: list  # contract ScoreSnapshots, oldest first
    experts: list[ExpertRow]
    batches: list  # latest ScoreSnapshot per batch (subject_kind "batch"), newest batch first
    audits: list  # AuditFlag rows of the latest run that has audits (flagged first)
    running: Any | None  # ScoringRun running on this contract, or None
    viewer_side: str  # "lab", "supplier" or "operations"


@dataclass(frozen=True)
class BenchmarkExpert:
    label: str  # handle (labs) or name (own vendor / operations)
    n_gold: int
    gold_correct: int
    accuracy: float | None
    lower: float | None
    upper: float | None


@dataclass(frozen=True)
class BenchmarkRow:
    """One supplier on one task type and guideline version of a project, from the lab's gold."""

    supplier_public_id: Any
    supplier_label: str
    task_type: str
    guideline_version: int | None  # the guideline version number, None when the batches carried none
    n_gold: int
    gold_correct: int
    accuracy: float | None
    lower: float | None
    upper: float | None
    rank: int  # 1 = best; suppliers whose intervals are not separable share a rank (ties as ties)
    experts: list[BenchmarkExpert] = field(default_factory=list)  # empty when the viewer may not see them


def multiplier_for_batch(batch) -> QualityMultiplier:
    """The quality multiplier for ``batch`` (a WorkBatch): its own gold accuracy when it holds at
    least ``MIN_BATCH_GOLD`` gold answers, else the contract's cumulative gold accuracy, else 1.00
    with basis "no gold measured". The band comes from the batch's contract version's quality_pay."""
    from .multiplier import multiplier_for_batch as impl

    return impl(batch)


def contract_multiplier(contract) -> QualityMultiplier:
    """The multiplier from the contract's cumulative gold accuracy (latest contract snapshot), under
    the terms in force; 1.00 with basis "no gold measured" without gold answers."""
    from .multiplier import contract_multiplier as impl

    return impl(contract)


def contract_quality(*, actor: User, contract_public_id, organization: Organization | None = None) -> ContractQuality:
    """Everything the contract's quality page shows, for a party to the contract (lab or supplier
    members with CONTRACTS_VIEW; ``organization`` is the active one, else any of the actor's) or
    platform operations. Anyone else: NotFound."""
    from .reads import contract_quality as impl

    return impl(actor=actor, contract_public_id=contract_public_id, organization=organization)


def vendor_benchmark(*, actor: User, project_public_id, organization: Organization | None = None) -> list[BenchmarkRow]:
    """The league table of the project's suppliers on the lab's gold, per task type and guideline
    version, best first. The lab that owns the project and operations see every supplier (experts by
    handle); a supplier sees only its own rows, with its experts by name. Anyone else: NotFound."""
    from .reads import vendor_benchmark as impl

    return impl(actor=actor, project_public_id=project_public_id, organization=organization)


def team_quality(*, actor: User, organization: Organization) -> list[ExpertRow]:
    """A supplier's experts across its contracts: the latest snapshot per (expert, contract), for the
    supplier's members with CONTRACTS_VIEW. ``ExpertRow.snapshot.contract`` says which contract."""
    from .reads import team_quality as impl

    return impl(actor=actor, organization=organization)


def my_quality(*, actor: User) -> list:
    """The actor's own expert snapshots (every contract), newest first: an expert sees only these."""
    from .reads import my_quality as impl

    return impl(actor=actor)


def audit_flags(
    *, actor: User, organization: Organization | None, contract_public_id=None, kind: str | None = None
) -> list:
    """AuditFlag rows of the latest run per contract the organisation is party to (all contracts for
    operations), optionally of one contract and one kind. Each row has a ``subject_label`` attribute
    (handle for labs; name for the supplier itself) and ``contract``."""
    from .reads import audit_flags as impl

    return impl(actor=actor, organization=organization, contract_public_id=contract_public_id, kind=kind)


def scores(
    *,
    actor: User,
    organization: Organization | None,
    contract=None,
    vendor=None,
    expert=None,
    subject_kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
):
    """A queryset of ScoreSnapshots visible to the actor (operations: all; otherwise the contracts the
    organisation is party to), filtered by contract / vendor (Organization) / expert (User) public ids
    or instances, subject kind and the data window (``window_end >= since``, ``window_start <= until``),
    newest first. Each row is annotated with ``expert_handle``."""
    from .reads import scores as impl

    return impl(
        actor=actor,
        organization=organization,
        contract=contract,
        vendor=vendor,
        expert=expert,
        subject_kind=subject_kind,
        since=since,
        until=until,
    )


def consensus_rows(*, actor: User, organization: Organization | None, contract_public_id) -> Iterator[dict]:
    """The consensus of the contract's latest full run, one dict per item: item_id, label (string, or
    None with ``tie: True``), probabilities {label: p}, confidence, disagreement. For the contract's
    parties and operations; NotFound otherwise (and an empty iterator before the first full run). The lab
    and operations also get ``gold`` per row; the supplier side never gets gold items at all (their
    consensus is clamped to the gold answer), so a supplier's rows reveal no gold answer and no gold item."""
    from .reads import consensus_rows as impl

    return impl(actor=actor, organization=organization, contract_public_id=contract_public_id)


def consensus_for_items(contract, item_ids) -> dict[str, dict]:
    """Unscoped helper for the datasheet (its caller already checked access): item_id -> the consensus
    dict of ``consensus_rows`` for those items that have one."""
    from .reads import consensus_for_items as impl

    return impl(contract, item_ids)


def scoring_run_get(*, actor: User, organization: Organization | None, public_id):
    """A scoring run (progress) visible to the actor: runs of its contracts, or any for operations."""
    from .reads import scoring_run_get as impl

    return impl(actor=actor, organization=organization, public_id=public_id)


def scoring_runs(*, actor: User, organization: Organization | None, contract_public_id=None):
    """Scoring runs visible to the actor, newest first."""
    from .reads import scoring_runs as impl

    return impl(actor=actor, organization=organization, contract_public_id=contract_public_id)
