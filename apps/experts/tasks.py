from celery import shared_task

from . import services


@shared_task(name="experts.daily_credential_maintenance", time_limit=600, soft_time_limit=540)
def daily_credential_maintenance() -> dict:
    """Daily (celery beat): expire credentials past their expiry date, then send 30-day reminders."""
    return {
        "expired": services.credentials_expire_due(),
        "reminded": services.credential_expiry_reminders_send(),
    }
