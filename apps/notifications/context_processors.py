"""The unread count for the bell in the header: one COUNT query per page for a signed-in person."""

from . import selectors


def unread_notifications(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notification_count": selectors.notification_unread_count(actor=user)}
