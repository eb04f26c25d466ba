"""Scoring runs: load judgments as arrays, compute with the numeric core, write append-only
snapshots in bulk, and evaluate the contract's SLA (alerts to both sides, domain events).

- ``score_batch`` (incremental, when a batch lands): the batch's own figures and the contract's
  running totals of the additive figures (judgments, gold answers, gold correct: the sum over the
  latest snapshot of each batch, so re-scoring a batch never double counts).
- ``score_contract`` (full): every figure of the contract, its experts, batches and supplier rows,
  consensus and audits.
- ``recompute_all`` (nightly): every active or paused contract, progress on the run.
- ``request_recompute``: the lab's or supplier's button; schedules a full run on commit.
"""

from __future__ import annotations

import logging
import time
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Max, Min, Sum
from django.utils import timezone

from apps.accounts.models import Organization, User
from apps.accounts.policies import has_permission, is_staff_role
from apps.accounts.roles import GRANTS, Perm, StaffRole
from apps.contracts.models import Contract
from apps.core.errors import NotFound
from apps.core.events import emit
from apps.core.transitions import audit, transition
from apps.notifications.services import notify_many
from apps.work.models import WorkBatch

from . import compute
from .loader import load_contract
from .models import AuditFlag, ConsensusSnapshot, ScoreSnapshot, ScoringRun, SlaAlert, SubjectKind
from .numeric import ALGORITHM_VERSION
from .writer import insert_blob_row, insert_rows

log = logging.getLogger(__name__)

ADDITIVE = ("n_judgments", "n_gold", "gold_correct")
CARRIED = (
    "n_items",
    "n_annotators",
    "loo_agreement",
    "loo_n",
    "alpha",
    "alpha_level",
    "alpha_lower",
    "alpha_upper",
    "fleiss_kappa",
    "mean_pair_kappa",
    "n_pairs",
    "ds_expected_accuracy",
    "seconds_median",
)
SCORED_CONTRACT_STATES = (Contract.Status.ACTIVE, Contract.Status.PAUSED)


def _ms(seconds: float) -> int:
    return int(round(seconds * 1000))


def _new_run(*, kind: str, scope: str, contract: Contract | None, trigger: str, batch=None, user=None) -> ScoringRun:
    return ScoringRun.objects.create(
        kind=kind,
        scope=scope,
        contract=contract,
        trigger=trigger,
        triggered_by_batch=batch,
        triggered_by_user=user if getattr(user, "pk", None) else None,
        algorithm_version=ALGORITHM_VERSION,
        started_at=timezone.now(),
    )


def _trigger_of(triggered_by: Any) -> dict:
    if isinstance(triggered_by, WorkBatch):
        return {"trigger": ScoringRun.Trigger.BATCH, "batch": triggered_by}
    if isinstance(triggered_by, User):
        return {"trigger": ScoringRun.Trigger.USER, "user": triggered_by}
    return {"trigger": ScoringRun.Trigger.SCHEDULE}


def _finish(run: ScoringRun, **updates) -> None:
    transition(
        run,
        ScoringRun.Status.SUCCEEDED,
        extra_updates={"progress": 100, "finished_at": timezone.now(), **updates},
    )


def _fail(run: ScoringRun, error: BaseException) -> None:
    log.exception("Scoring run %s failed", run.public_id)
    transition(
        run,
        ScoringRun.Status.FAILED,
        reason=str(error)[:500],
        extra_updates={"finished_at": timezone.now(), "error": f"{type(error).__name__}: {error}"[:4000]},
    )


def progress(run: ScoringRun, percent: int, message: str = "") -> None:
    """Record a running run's progress (outside any transaction, so that readers see it live)."""
    ScoringRun.objects.filter(pk=run.pk, status=ScoringRun.Status.RUNNING).update(
        progress=max(0, min(100, int(percent))), message=message[:300], updated_at=timezone.now()
    )


# --- Full path ---------------------------------------------------------------------------------------------------


def score_contract(
    *, contract: Contract, kind: str = ScoringRun.Kind.FULL, triggered_by: Any = None, run: ScoringRun | None = None
) -> ScoringRun:
    """Score ``contract`` in full: read every judgment, compute, write the snapshots and evaluate the
    SLA. ``run`` continues a run created by ``request_recompute``. Returns the finished run (failed
    runs record the error and re-raise). Idempotent in effect: a repeat writes a newer snapshot."""
    if kind == ScoringRun.Kind.INCREMENTAL and isinstance(triggered_by, WorkBatch):
        return score_batch(triggered_by)
    if run is None:
        run = _new_run(
            kind=ScoringRun.Kind.FULL, scope=ScoringRun.Scope.CONTRACT, contract=contract, **_trigger_of(triggered_by)
        )
    try:
        stats = _score_contract_into(run, contract)
        _finish(run, **stats)
    except Exception as error:
        _fail(run, error)
        raise
    return run


def _score_contract_into(run: ScoringRun, contract: Contract, *, report: bool = True) -> dict:
    contract = Contract.objects.select_related("project", "supplier", "lab", "current_version").get(pk=contract.pk)
    t0 = time.perf_counter()
    if report:
        progress(run, 5, "Reading judgments")
    loaded = load_contract(contract)
    t1 = time.perf_counter()
    if report:
        progress(run, 35, f"Computing on {loaded.n} judgments")
    batch_guidelines = dict(
        WorkBatch.objects.filter(pk__in=loaded.batch_ids.tolist()).values_list("id", "guideline_version_id")
    )
    versions = sorted({v for v in batch_guidelines.values()}, key=lambda v: (v is None, v or 0))
    version_code = {v: i for i, v in enumerate(versions)}
    batch_groups = np.array([version_code[batch_guidelines[int(b)]] for b in loaded.batch_ids], dtype=np.int32)
    terms = contract.current_version
    figures = compute.contract_figures(
        loaded,
        batch_groups=batch_groups,
        n_batch_groups=len(versions),
        alpha_interval=terms is not None and terms.sla_min_alpha is not None,
    )
    t2 = time.perf_counter()
    if report:
        progress(run, 75, "Writing snapshots")

    common = {
        "run_id": run.pk,
        "contract_id": contract.pk,
        "project_id": contract.project_id,
        "supplier_id": contract.supplier_id,
        "lab_id": contract.lab_id,
        "task_type": loaded.task_type,
        "algorithm_version": run.algorithm_version,
        "window_start": loaded.window_start,
        "window_end": loaded.window_end,
    }
    rows = []
    for version, code in version_code.items():
        if code in figures.groups:
            rows.append(
                {
                    "subject_kind": SubjectKind.SUPPLIER,
                    "guideline_version_id": version,
                    **common,
                    **_fields(figures.groups[code]),
                }
            )
    for user_id, values in figures.experts.items():
        rows.append({"subject_kind": SubjectKind.EXPERT, "expert_id": user_id, **common, **_fields(values)})
    for batch_id, values in figures.batches.items():
        rows.append(
            {
                "subject_kind": SubjectKind.BATCH,
                "batch_id": batch_id,
                "guideline_version_id": batch_guidelines.get(batch_id),
                **common,
                **_fields(values),
            }
        )
    annotator_ids = loaded.annotator_ids
    flags = [
        {
            "run_id": run.pk,
            "contract_id": contract.pk,
            "supplier_id": contract.supplier_id,
            "subject_kind": row["subject_kind"],
            "expert_id": int(annotator_ids[row["group"]]) if row["subject_kind"] == "expert" else None,
            "algorithm_version": run.algorithm_version,
            **{k: row[k] for k in ("kind", "n", "statistic", "effect", "p", "q", "flagged", "test", "explanation")},
        }
        for row in figures.audits
    ]
    with transaction.atomic():
        summary = ScoreSnapshot.objects.create(subject_kind=SubjectKind.CONTRACT, **common, **_fields(figures.contract))
        insert_rows(ScoreSnapshot, rows)
        insert_rows(AuditFlag, flags)
        if figures.consensus is not None:
            c = figures.consensus
            label = np.asarray(c["label"])
            insert_blob_row(
                ConsensusSnapshot,
                {
                    "run_id": run.pk,
                    "contract_id": contract.pk,
                    "algorithm_version": run.algorithm_version,
                    "label_set": loaded.label_set,
                    "n_items": len(c["item_ids"]),
                    "n_ties": int((label < 0).sum()),
                    "n_disagreement": int(np.asarray(c["disagreement"]).sum()),
                    "data": ConsensusSnapshot.pack(**c),
                },
            )
        evaluate_sla(contract=contract, run=run, snapshot=summary)
    t3 = time.perf_counter()
    return {
        "n_contracts": 1,
        "n_judgments": loaded.n,
        "n_items": len(loaded.item_ids),
        "n_snapshots": len(rows) + 1,
        "window_start": loaded.window_start,
        "window_end": loaded.window_end,
        "load_ms": _ms(t1 - t0),
        "compute_ms": _ms(t2 - t1),
        "write_ms": _ms(t3 - t2),
    }


_SNAPSHOT_FIELDS = {f.name for f in ScoreSnapshot._meta.concrete_fields}


def _fields(values: dict) -> dict:
    return {k: v for k, v in values.items() if k in _SNAPSHOT_FIELDS}


# --- Incremental path --------------------------------------------------------------------------------------------


def score_batch(batch: WorkBatch) -> ScoringRun:
    """Score one newly delivered batch: its own snapshot (additive figures, gold, agreement among its
    own annotators) and an incremental contract snapshot whose additive figures are the sum over the
    latest snapshot of each of the contract's batches; the other figures are carried from the latest
    full contract snapshot. Evaluates the SLA on the new totals."""
    batch = WorkBatch.objects.select_related(
        "contract__project", "contract__current_version", "contract__lab", "contract__supplier"
    ).get(pk=batch.pk)
    contract = batch.contract
    run = _new_run(
        kind=ScoringRun.Kind.INCREMENTAL,
        scope=ScoringRun.Scope.CONTRACT,
        contract=contract,
        trigger=ScoringRun.Trigger.BATCH,
        batch=batch,
    )
    try:
        t0 = time.perf_counter()
        loaded = load_contract(contract, batch_ids=[batch.pk])
        t1 = time.perf_counter()
        values = compute.batch_figures(loaded)
        t2 = time.perf_counter()
        common = {
            "run": run,
            "contract": contract,
            "project_id": contract.project_id,
            "supplier_id": contract.supplier_id,
            "lab_id": contract.lab_id,
            "task_type": loaded.task_type,
            "algorithm_version": run.algorithm_version,
            "incremental": True,
        }
        with transaction.atomic():
            ScoreSnapshot.objects.create(
                subject_kind=SubjectKind.BATCH,
                batch=batch,
                guideline_version_id=batch.guideline_version_id,
                window_start=loaded.window_start,
                window_end=loaded.window_end,
                **common,
                **_fields(values),
            )
            totals, window = _batch_totals(contract)
            carried = _latest_full_contract_snapshot(contract)
            carried_values = {k: getattr(carried, k) for k in CARRIED} if carried else {}
            contract_row = ScoreSnapshot.objects.create(
                subject_kind=SubjectKind.CONTRACT,
                window_start=window[0],
                window_end=window[1],
                **common,
                **carried_values,
                **totals,
            )
            evaluate_sla(contract=contract, run=run, snapshot=contract_row)
        t3 = time.perf_counter()
        _finish(
            run,
            n_contracts=1,
            n_judgments=loaded.n,
            n_items=len(loaded.item_ids),
            n_snapshots=2,
            window_start=loaded.window_start,
            window_end=loaded.window_end,
            load_ms=_ms(t1 - t0),
            compute_ms=_ms(t2 - t1),
            write_ms=_ms(t3 - t2),
        )
    except Exception as error:
        _fail(run, error)
        raise
    return run


def _batch_totals(contract: Contract) -> tuple[dict, tuple]:
    """The contract's additive figures: sums over the latest snapshot of each batch, and their window."""
    from apps.quality.numeric import wilson

    latest = (
        ScoreSnapshot.objects.filter(
            contract=contract,
            subject_kind=SubjectKind.BATCH,
            batch_id__in=WorkBatch.objects.filter(contract=contract).values("id"),  # batches that still exist
        )
        .order_by()
        .values("batch_id")
        .annotate(last=Max("id"))
        .values("last")
    )
    sums = ScoreSnapshot.objects.filter(pk__in=latest).aggregate(
        n_judgments=Sum("n_judgments"),
        n_gold=Sum("n_gold"),
        gold_correct=Sum("gold_correct"),
        start=Min("window_start"),
        end=Max("window_end"),
    )
    totals = {k: int(sums[k] or 0) for k in ADDITIVE}
    totals.update(_wilson_fields(wilson, totals["gold_correct"], totals["n_gold"]))
    return totals, (sums["start"], sums["end"])


def _wilson_fields(wilson, correct: int, n: int) -> dict:
    if not n:
        return {"gold_accuracy": None, "gold_lower": None, "gold_upper": None}
    p = wilson(np.array([correct]), np.array([n]))
    return {
        "gold_accuracy": float(np.asarray(p.estimate).reshape(-1)[0]),
        "gold_lower": float(np.asarray(p.lower).reshape(-1)[0]),
        "gold_upper": float(np.asarray(p.upper).reshape(-1)[0]),
    }


def _latest_full_contract_snapshot(contract: Contract) -> ScoreSnapshot | None:
    return (
        ScoreSnapshot.objects.filter(contract=contract, subject_kind=SubjectKind.CONTRACT, incremental=False)
        .order_by("-created_at", "-id")
        .first()
    )


# --- Nightly ---------------------------------------------------------------------------------------------------


def recompute_all(*, run: ScoringRun | None = None) -> ScoringRun:
    """Full recompute of every active or paused contract that has batches, progress on one run.
    A contract that fails is logged and skipped (the run fails at the end, naming it)."""
    if run is None:
        run = _new_run(
            kind=ScoringRun.Kind.FULL, scope=ScoringRun.Scope.ALL, contract=None, trigger=ScoringRun.Trigger.SCHEDULE
        )
    contracts = list(
        Contract.objects.filter(status__in=SCORED_CONTRACT_STATES, batches__isnull=False).distinct().order_by("id")
    )
    totals = {"n_contracts": 0, "n_judgments": 0, "n_items": 0, "n_snapshots": 0, "load_ms": 0, "compute_ms": 0}
    totals["write_ms"] = 0
    failures = []
    starts, ends = [], []
    for index, contract in enumerate(contracts):
        progress(run, int(100 * index / max(len(contracts), 1)), f"Contract {index + 1} of {len(contracts)}")
        try:
            stats = _score_contract_into(run, contract, report=False)
        except Exception as error:  # one bad contract must not stop the night's run
            log.exception("Scoring contract %s failed", contract.public_id)
            failures.append(f"{contract.public_id}: {type(error).__name__}: {error}")
            continue
        for key in totals:
            totals[key] += stats[key]
        if stats["window_start"]:
            starts.append(stats["window_start"])
            ends.append(stats["window_end"])
    window = {"window_start": min(starts) if starts else None, "window_end": max(ends) if ends else None}
    if failures:
        ScoringRun.objects.filter(pk=run.pk).update(**totals, **window)
        _fail(run, RuntimeError("; ".join(failures)))
    else:
        _finish(run, **totals, **window)
    return run


# --- Requests -------------------------------------------------------------------------------------------------


def _may_view_contract(actor: User, contract: Contract) -> bool:
    if is_staff_role(actor, StaffRole.OPERATIONS):
        return True
    return any(has_permission(actor, org, Perm.CONTRACTS_VIEW) for org in (contract.lab, contract.supplier))


def request_recompute(*, actor: User, contract: Contract) -> ScoringRun:
    """A party to the contract (or operations) asks for a full recompute now. Returns the running run
    (an already running one for the contract is returned as is, so a double click queues one job);
    the Celery task starts after commit. Outside the actor's scope: NotFound."""
    if not _may_view_contract(actor, contract):
        raise NotFound("Contract not found.", code="contract_not_found")
    with transaction.atomic():
        running = (
            ScoringRun.objects.select_for_update()
            .filter(contract=contract, kind=ScoringRun.Kind.FULL, status=ScoringRun.Status.RUNNING)
            .first()
        )
        if running is not None:
            return running
        run = _new_run(
            kind=ScoringRun.Kind.FULL,
            scope=ScoringRun.Scope.CONTRACT,
            contract=contract,
            trigger=ScoringRun.Trigger.USER,
            user=actor,
        )
        progress(run, 0, "Queued")
        audit(run, "quality.recompute_requested", actor=actor, data={"contract": str(contract.public_id)})
        from .tasks import score_contract_task

        transaction.on_commit(lambda: score_contract_task.delay(run_id=run.pk))
    return run


def on_domain_event(*, event_type: str, obj: Any = None, **_: Any) -> None:
    """Subscribed to ``apps.core.events.domain_event``: a submitted batch is scored once the
    submission commits (a rolled-back submission schedules nothing)."""
    if event_type != "batch.submitted" or not isinstance(obj, WorkBatch):
        return
    from .tasks import score_batch_task

    batch_id = obj.pk
    transaction.on_commit(lambda: score_batch_task.delay(batch_id=batch_id))


# --- SLA --------------------------------------------------------------------------------------------------------


def _holders(organization: Organization, perm: str) -> list[User]:
    roles = GRANTS.get(perm, {}).get(organization.kind, set())
    return list(
        User.objects.filter(is_active=True, memberships__organization=organization, memberships__role__in=roles)
        .distinct()
        .order_by("id")
    )


def _sla_payload(contract: Contract, alert: SlaAlert, measured, lower, upper) -> dict:
    return {
        "contract": str(contract.public_id),
        "metric": alert.metric,
        "threshold": str(alert.threshold),
        "measured": round(measured, 4),
        "lower": round(lower, 4),
        "upper": round(upper, 4),
    }


def evaluate_sla(*, contract: Contract, run: ScoringRun, snapshot: ScoreSnapshot) -> SlaAlert | None:
    """For each SLA metric the terms set (gold accuracy, Krippendorff's alpha): raise an alert when the
    metric's interval lies wholly below the minimum (upper bound < threshold); clear an open one when the
    lower bound is back at or above it. Anything in between is "insufficient evidence" and changes
    nothing. Gold accuracy uses the Wilson interval, alpha the seeded bootstrap interval. Returns the
    alert raised or cleared (gold accuracy first), else None."""
    terms = contract.current_version
    if terms is None:
        return None
    changed = []
    if terms.sla_min_gold_accuracy is not None and snapshot.n_gold and snapshot.gold_lower is not None:
        changed.append(
            _evaluate_metric(
                contract=contract,
                run=run,
                metric=SlaAlert.Metric.GOLD_ACCURACY,
                threshold=terms.sla_min_gold_accuracy,
                figures=(snapshot.gold_accuracy, snapshot.gold_lower, snapshot.gold_upper, snapshot.n_gold),
            )
        )
    if terms.sla_min_alpha is not None and snapshot.alpha is not None and snapshot.alpha_lower is not None:
        changed.append(
            _evaluate_metric(
                contract=contract,
                run=run,
                metric=SlaAlert.Metric.ALPHA,
                threshold=terms.sla_min_alpha,
                figures=(snapshot.alpha, snapshot.alpha_lower, snapshot.alpha_upper, snapshot.n_items),
            )
        )
    return next((alert for alert in changed if alert is not None), None)


def _describe(metric: str, measured, lower, upper, n: int) -> str:
    if metric == SlaAlert.Metric.ALPHA:
        return f"Krippendorff's alpha {measured:.3f} (95% bootstrap interval {lower:.3f} to {upper:.3f}, {n} items)"
    return f"Gold accuracy {measured:.1%} (95% interval {lower:.1%}-{upper:.1%}, {n} gold answers)"


def _threshold_text(metric: str, threshold) -> str:
    return f"{threshold:.3f}" if metric == SlaAlert.Metric.ALPHA else f"{threshold:.0%}"


_INTERVAL_NAME = {SlaAlert.Metric.GOLD_ACCURACY: "gold-accuracy", SlaAlert.Metric.ALPHA: "alpha bootstrap"}


def _evaluate_metric(*, contract: Contract, run: ScoringRun, metric: str, threshold, figures) -> SlaAlert | None:
    measured, lower, upper, n = figures
    open_alert = SlaAlert.objects.filter(contract=contract, metric=metric, status=SlaAlert.Status.OPEN).first()
    raise_it = open_alert is None and Decimal(str(upper)) < threshold
    clear_it = open_alert is not None and Decimal(str(lower)) >= threshold
    if not (raise_it or clear_it):
        return None
    recipients = [*_holders(contract.lab, Perm.CONTRACTS_VIEW), *_holders(contract.supplier, Perm.CONTRACTS_VIEW)]
    url = f"/contracts/{contract.public_id}/quality/"
    if raise_it:
        alert = SlaAlert.objects.create(
            contract=contract,
            metric=metric,
            threshold=threshold,
            measured=measured,
            lower=lower,
            upper=upper,
            n=n,
            opened_by_run=run,
        )
        payload = _sla_payload(contract, alert, measured, lower, upper)
        audit(alert, "quality.sla_breached", data=payload, organization_public_id=contract.lab.public_id)
        emit(
            "quality.sla_breached",
            obj=alert,
            organization_ids=[contract.lab_id, contract.supplier_id],
            data=payload,
        )
        notify_many(
            recipients=recipients,
            kind="quality.sla_breached",
            title=f"Quality below the SLA on {contract.project.title}",
            body=f"{_describe(metric, measured, lower, upper, n)} is below the minimum of "
            f"{_threshold_text(metric, threshold)}.",
            url=url,
            data=payload,
        )
        return alert
    payload = _sla_payload(contract, open_alert, measured, lower, upper)
    transition(
        open_alert,
        SlaAlert.Status.CLEARED,
        reason=f"The lower bound of the {_INTERVAL_NAME[metric]} interval is back at or above the SLA minimum.",
        data=payload,
        organization_public_id=contract.lab.public_id,
        extra_updates={
            "cleared_by_run": run,
            "cleared_at": timezone.now(),
            "cleared_measured": measured,
            "cleared_lower": lower,
            "cleared_upper": upper,
        },
    )
    emit(
        "quality.sla_recovered",
        obj=open_alert,
        organization_ids=[contract.lab_id, contract.supplier_id],
        data=payload,
    )
    notify_many(
        recipients=recipients,
        kind="quality.sla_recovered",
        title=f"Quality back within the SLA on {contract.project.title}",
        body=f"{_describe(metric, measured, lower, upper, n)} meets the minimum of "
        f"{_threshold_text(metric, threshold)} again.",
        url=url,
        data=payload,
    )
    return open_alert
