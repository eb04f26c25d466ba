from celery import shared_task

from . import services


@shared_task(name="accounts.expire_invitations", time_limit=120, soft_time_limit=100)
def expire_invitations() -> int:
    """Periodic: expire pending invitations whose link has run out."""
    return services.invitations_expire_due()
