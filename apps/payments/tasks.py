"""Celery jobs of payments: each calls one idempotent service."""

from __future__ import annotations

import random

from celery import shared_task

from .services import payouts


@shared_task(name="payments.process_payout_run", time_limit=3600, soft_time_limit=3500, acks_late=True)
def process_payout_run(run_id: int, attempt: int = 0) -> dict:
    """Send a processing run's transfers. Lines left waiting on a retryable Stripe error are retried
    by rescheduling this job with backoff and jitter (same idempotency keys), a few times."""
    result = payouts.pay_run(run_id=run_id)
    if result.waiting and attempt < payouts.MAX_JOB_RETRIES:
        countdown = min(600, 15 * 2**attempt) + random.randint(0, 10)
        process_payout_run.apply_async((run_id, attempt + 1), countdown=countdown)
    return {"paid": result.paid, "failed": result.failed, "waiting": result.waiting, "finished": result.finished}


# The webhook inbox, back-fill and reconciliation jobs live in their own module; import it so the worker
# (``autodiscover_tasks`` reads ``tasks`` modules only) registers them.
from . import tasks_webhooks  # noqa: E402, F401
