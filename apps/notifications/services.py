"""``notify()``: the one way the product tells a person something. Later capabilities reuse it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core.errors import NotFound, ValidationFailed

from .kinds import KINDS
from .models import Notification, NotificationPreference


def email_enabled(user: User, kind: str) -> bool:
    pref = NotificationPreference.objects.filter(user=user, kind=kind).values_list("email_enabled", flat=True).first()
    return True if pref is None else pref


def notify(
    *,
    recipient: User,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    data: dict[str, Any] | None = None,
    email: bool = True,
) -> Notification:
    """Create an in-app notification and, unless the recipient turned e-mail off for ``kind`` (or the
    caller sends its own e-mail: ``email=False``), e-mail it after the transaction commits (Celery)."""
    if kind not in KINDS:
        raise ValueError(f"Unknown notification kind {kind!r}; add it to apps/notifications/kinds.py")
    notification = Notification.objects.create(
        recipient=recipient, kind=kind, title=title[:200], body=body, url=url[:500], data=data or {}
    )
    if email and recipient.is_active and email_enabled(recipient, kind):
        from .tasks import send_notification_email

        send_notification_email.delay_on_commit(notification.pk)
    return notification


def notify_many(*, recipients, kind: str, title: str, body: str = "", url: str = "", data=None) -> int:
    count = 0
    for recipient in recipients:
        notify(recipient=recipient, kind=kind, title=title, body=body, url=url, data=data)
        count += 1
    return count


def notification_email_send(*, notification_id: int) -> bool:
    """Send one notification's e-mail. Idempotent: a notification is e-mailed at most once."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update().select_related("recipient").filter(pk=notification_id).first()
        )
        if notification is None or notification.emailed_at is not None:
            return False
        link = f"{settings.SITE_URL}{notification.url}" if notification.url else settings.SITE_URL
        body = f"{notification.body}\n\n{link}\n\nYou can turn these e-mails off under Notifications > Settings."
        send_mail(
            subject=notification.title,
            message=body.strip(),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[notification.recipient.email],
        )
        Notification.objects.filter(pk=notification.pk).update(emailed_at=timezone.now())
    return True


def notification_mark_read(*, actor: User, notification_public_id) -> Notification:
    """Mark one of the actor's notifications read. Idempotent."""
    notification = Notification.objects.filter(recipient=actor, public_id=notification_public_id).first()
    if notification is None:
        raise NotFound("Notification not found.", code="notification_not_found")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at", "updated_at"])
    return notification


def notification_mark_all_read(*, actor: User) -> int:
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).update(read_at=timezone.now())


def notification_preference_set(*, actor: User, kind: str, email_enabled: bool) -> NotificationPreference:
    if kind not in KINDS:
        raise ValidationFailed(f"Unknown notification kind '{kind}'.", details={"kind": ["Unknown notification kind."]})
    pref, _ = NotificationPreference.objects.update_or_create(
        user=actor, kind=kind, defaults={"email_enabled": bool(email_enabled)}
    )
    return pref
