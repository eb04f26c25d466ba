from celery import shared_task

from . import services


@shared_task(name="integrations.send_delivery", time_limit=60, soft_time_limit=50)
def send_delivery(delivery_id: int) -> bool:
    """Queued on commit for each new delivery (and redelivery): its first attempt."""
    return services.delivery_send(delivery_id=delivery_id)


@shared_task(name="integrations.send_due_deliveries", time_limit=600, soft_time_limit=540)
def send_due_deliveries() -> int:
    """Every minute (celery beat): retries that are due, and first attempts whose task was lost."""
    return services.deliveries_send_due()
