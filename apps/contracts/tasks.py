from celery import shared_task

from . import services


@shared_task(name="contracts.apply_due_amendments", time_limit=300, soft_time_limit=240)
def apply_due_amendments() -> int:
    """Hourly: lab-signed rate cuts whose notice period has passed take effect."""
    return services.amendments_apply_due()


@shared_task(name="contracts.recheck_assignments", time_limit=600, soft_time_limit=540)
def recheck_assignments() -> int:
    """Every 15 minutes: suspend assignments whose gates no longer hold (a backstop for the hooks)."""
    return services.assignments_recheck()
