from celery import shared_task

from . import services


@shared_task(name="quality.score_batch", time_limit=300, soft_time_limit=240)
def score_batch_task(*, batch_id: int) -> str:
    """When a batch lands (scheduled on commit of its submission): incremental scoring."""
    from apps.work.models import WorkBatch

    batch = WorkBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        return "missing"
    return str(services.score_batch(batch).public_id)


@shared_task(name="quality.score_contract", time_limit=1800, soft_time_limit=1740)
def score_contract_task(*, run_id: int) -> str:
    """A requested full recompute of one contract, continuing the run the request created."""
    from .models import ScoringRun

    run = ScoringRun.objects.select_related("contract").filter(pk=run_id, status=ScoringRun.Status.RUNNING).first()
    if run is None:  # already finished (a retried message)
        return "done"
    return str(services.score_contract(contract=run.contract, run=run).public_id)


@shared_task(name="quality.recompute_all", time_limit=3600, soft_time_limit=3540)
def recompute_all_task() -> str:
    """Nightly (celery beat): full recompute of every active contract."""
    return str(services.recompute_all().public_id)
