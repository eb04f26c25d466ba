from django.db.models import QuerySet

from apps.accounts.models import User

from .kinds import KINDS
from .models import Notification, NotificationPreference


def notification_list(*, actor: User, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(recipient=actor)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def notification_unread_count(*, actor: User) -> int:
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).count()


def notification_preferences(*, actor: User) -> list[dict]:
    """Every kind with the actor's e-mail choice (on unless turned off)."""
    off = set(NotificationPreference.objects.filter(user=actor, email_enabled=False).values_list("kind", flat=True))
    return [{"kind": kind, "label": label, "email_enabled": kind not in off} for kind, label in KINDS.items()]
