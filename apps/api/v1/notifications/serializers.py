"""v1 representations of notifications and e-mail preferences."""

from rest_framework import serializers

from apps.api.serializers import InputSerializer
from apps.api.v1.experts.fields import NamedChoiceField
from apps.notifications.kinds import KINDS
from apps.notifications.models import Notification

_KIND_CHOICES = list(KINDS.items())


def _kind_field(**kwargs) -> NamedChoiceField:
    return NamedChoiceField(choices=_KIND_CHOICES, enum_name="NotificationKind", **kwargs)


class NotificationSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    url = serializers.CharField(read_only=True, help_text="Site path the notification points to (may be empty).")
    read_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="Null while unread.")

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "data", "read_at", "created_at"]
        read_only_fields = fields


class UnreadCountSerializer(serializers.Serializer):
    unread_count = serializers.IntegerField(read_only=True)


class MarkedReadSerializer(serializers.Serializer):
    marked_read = serializers.IntegerField(read_only=True, help_text="How many notifications this call marked read.")


class NotificationPreferenceSerializer(serializers.Serializer):
    kind = _kind_field(read_only=True)
    label = serializers.CharField(read_only=True)
    email_enabled = serializers.BooleanField(read_only=True)


class NotificationListQuerySerializer(serializers.Serializer):
    unread = serializers.BooleanField(required=False, default=False, help_text="`true`: unread ones only.")


class NotificationPreferenceUpdateSerializer(InputSerializer):
    kind = _kind_field()
    email_enabled = serializers.BooleanField()
