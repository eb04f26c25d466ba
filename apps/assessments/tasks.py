from celery import shared_task

from . import services


@shared_task(name="assessments.close_overdue_attempts", time_limit=300, soft_time_limit=270)
def close_overdue_attempts() -> int:
    """Every minute (celery beat): submit attempts past their time limit plus grace."""
    return services.attempts_close_overdue()
