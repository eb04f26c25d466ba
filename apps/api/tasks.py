from celery import shared_task

from .idempotency import idempotency_records_purge


@shared_task(name="api.purge_idempotency_records", time_limit=300, soft_time_limit=240)
def purge_idempotency_records() -> int:
    """Periodic: delete Idempotency-Key records older than IDEMPOTENCY_KEY_TTL_HOURS."""
    return idempotency_records_purge()
