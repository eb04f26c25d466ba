"""v1 endpoints for the caller's notifications (the bell) and their e-mail preferences.

Notifications are personal: a browser session reaches them, and so does an API key of the caller's
own individual organisation; a lab or vendor key answers 403 ``api_key_out_of_scope`` (see
``apps/api/v1/experts/scope.py``).
"""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from apps.api.v1.experts.views import WorkforceListView, WorkforceView
from apps.notifications import selectors, services
from apps.notifications.kinds import label
from apps.notifications.models import Notification, NotificationPreference

from .serializers import (
    MarkedReadSerializer,
    NotificationListQuerySerializer,
    NotificationPreferenceSerializer,
    NotificationPreferenceUpdateSerializer,
    NotificationSerializer,
    UnreadCountSerializer,
)


class NotificationListView(WorkforceListView):
    personal = True
    serializer_class = NotificationSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        unread_only = self.query(NotificationListQuerySerializer)["unread"]
        return selectors.notification_list(actor=self.actor, unread_only=unread_only)

    @extend_schema(
        summary="The caller's notifications, newest first",
        parameters=[NotificationListQuerySerializer],
        tags=["notifications"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class NotificationReadView(WorkforceView):
    personal = True

    @extend_schema(
        summary="Mark one notification read",
        operation_id="notifications_read",
        description="Repeating it changes nothing.",
        request=None,
        responses=NotificationSerializer,
        tags=["notifications"],
    )
    def post(self, request, *args, **kwargs):
        notification = services.notification_mark_read(
            actor=self.actor, notification_public_id=self.kwargs["notification_id"]
        )
        return Response(NotificationSerializer(notification).data)


class NotificationReadAllView(WorkforceView):
    personal = True

    @extend_schema(
        summary="Mark every notification read",
        operation_id="notifications_read_all",
        request=None,
        responses=MarkedReadSerializer,
        tags=["notifications"],
    )
    def post(self, request, *args, **kwargs):
        return Response({"marked_read": services.notification_mark_all_read(actor=self.actor)})


class NotificationUnreadCountView(WorkforceView):
    personal = True

    @extend_schema(summary="How many notifications are unread", responses=UnreadCountSerializer, tags=["notifications"])
    def get(self, request, *args, **kwargs):
        return Response({"unread_count": selectors.notification_unread_count(actor=self.actor)})


class NotificationPreferenceListView(WorkforceView):
    personal = True
    queryset = NotificationPreference.objects.none()  # for the schema generator only; reads use selectors
    pagination_class = None  # one entry per notification kind: a short, fixed list

    @extend_schema(
        summary="E-mail preferences: every notification kind with the caller's choice",
        description="Not paginated: one entry per kind. E-mail is on unless turned off; in-app notifications stay.",
        responses=NotificationPreferenceSerializer(many=True),
        tags=["notifications"],
    )
    def get(self, request, *args, **kwargs):
        preferences = selectors.notification_preferences(actor=self.actor)
        return Response(NotificationPreferenceSerializer(preferences, many=True).data)


class NotificationPreferenceUpdateView(WorkforceView):
    personal = True
    queryset = NotificationPreference.objects.none()  # for the schema generator only

    @extend_schema(
        summary="Turn e-mail on or off for one notification kind",
        request=NotificationPreferenceUpdateSerializer,
        responses=NotificationPreferenceSerializer,
        tags=["notifications"],
    )
    def put(self, request, *args, **kwargs):
        serializer = NotificationPreferenceUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pref = services.notification_preference_set(actor=self.actor, **serializer.validated_data)
        data = {"kind": pref.kind, "label": label(pref.kind), "email_enabled": pref.email_enabled}
        return Response(NotificationPreferenceSerializer(data).data)


class NotificationPreferenceRoute(NotificationPreferenceListView, NotificationPreferenceUpdateView):
    """``/notification-preferences/``: GET lists every kind, PUT sets one."""
