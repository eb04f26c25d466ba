"""Celery jobs of the Stripe webhook inbox, refunds and reconciliation: each calls one idempotent service."""

from __future__ import annotations

from celery import shared_task

from .services import reconciliation, webhooks


@shared_task(name="payments.process_stripe_event", acks_late=True, max_retries=6)
def process_stripe_event(event_pk: int, attempt: int = 0) -> bool:
    """Process one stored Stripe event; a handler error is retried with backoff (then by the sweeper)."""
    done = webhooks.process_event(event_id=event_pk)
    if not done and attempt < webhooks.MAX_ATTEMPTS - 1:
        process_stripe_event.apply_async((event_pk, attempt + 1), countdown=min(600, 10 * 2**attempt))
    return done


@shared_task(name="payments.sweep_stripe_events")
def sweep_stripe_events() -> dict:
    """Back-fill events that never arrived, then process every event left unprocessed."""
    stored = webhooks.backfill_events()
    processed = webhooks.process_pending()
    return {"stored": stored, "processed": processed}


@shared_task(name="payments.daily_reconciliation", time_limit=3600, soft_time_limit=3500)
def daily_reconciliation() -> dict:
    run = reconciliation.run_reconciliation(actor=None, trigger="scheduled")
    return {"run": str(run.public_id), "status": run.status, "exceptions": run.exception_count}


@shared_task(name="payments.run_reconciliation", time_limit=3600, soft_time_limit=3500)
def run_reconciliation_job(run_pk: int) -> dict:
    run = reconciliation.execute_run(run_pk=run_pk)
    return {"run": str(run.public_id), "status": run.status, "exceptions": run.exception_count}
