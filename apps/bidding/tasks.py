from celery import shared_task

from . import services


@shared_task(name="bidding.close_due_projects", time_limit=300, soft_time_limit=240)
def close_due_projects() -> int:
    """Every minute (celery beat): close bidding on projects whose deadline has passed."""
    return services.projects_close_due()
