from celery import shared_task

from . import services


@shared_task(name="work.auto_accept_due_batches", time_limit=600, soft_time_limit=540)
def auto_accept_due_batches() -> int:
    """Every five minutes (celery beat): accept batches whose review window passed unreviewed."""
    return services.batches_auto_accept_due()
