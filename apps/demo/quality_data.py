"""Demo quality: every contract with delivered batches gets a full scoring run (snapshots, consensus,
audits, SLA evaluation), so the quality pages have figures. Batches are scored incrementally when they
land; this adds the full run. Idempotent: a contract whose latest full run already covers its newest
batch is skipped."""

from __future__ import annotations

from django.db.models import Max

from apps.contracts.models import Contract
from apps.quality import services
from apps.quality.models import ScoreSnapshot, SubjectKind


def seed_quality(changes: list[str]) -> None:
    """Score every contract with batches not yet covered by a full run; note each run in ``changes``."""
    contracts = (
        Contract.objects.filter(batches__isnull=False)
        .annotate(newest=Max("batches__created_at"))
        .select_related("project")
        .order_by("id")
    )
    for contract in contracts:
        covered = (
            ScoreSnapshot.objects.filter(contract=contract, subject_kind=SubjectKind.CONTRACT, incremental=False)
            .order_by("-id")
            .values_list("window_end", flat=True)
            .first()
        )
        if covered is not None and covered >= contract.newest:
            continue
        run = services.score_contract(contract=contract)
        changes.append(
            f"quality scored for contract on '{contract.project.title}': {run.n_judgments} judgments, "
            f"{run.n_snapshots} snapshots"
        )
