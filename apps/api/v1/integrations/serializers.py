"""v1 representations of webhook endpoints, deliveries with their attempts, and the event log.

An endpoint's secret appears only in the answers that create or rotate it (``WebhookEndpointSecret``).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.api.fields import StatusField
from apps.api.serializers import InputSerializer
from apps.core.events import EVENT_TYPES
from apps.integrations.models import ALL_EVENTS, Delivery, DeliveryAttempt, Event, WebhookEndpoint

_EVENT_TYPES_HELP = 'Event types to receive (see `/api/v1/events/` and docs/webhooks.md), or `["*"]` for all.'


@extend_schema_field({"type": "array", "items": {"type": "string", "enum": [ALL_EVENTS, *sorted(EVENT_TYPES)]}})
class EventTypesField(serializers.ListField):
    child = serializers.CharField()


class WebhookEndpointSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    status = StatusField(choices=WebhookEndpoint.Status.choices, enum_name="WebhookEndpointStatus", read_only=True)
    event_types = EventTypesField(read_only=True, help_text=_EVENT_TYPES_HELP)
    secret_rotation_ends_at = serializers.DateTimeField(
        source="previous_secret_expires_at",
        read_only=True,
        allow_null=True,
        help_text="Until when the previous secret also signs deliveries (after a rotation).",
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "event_types",
            "status",
            "disabled_reason",
            "failing_since",
            "secret_rotation_ends_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class WebhookEndpointSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.SerializerMethodField(help_text="The signing secret: shown in this answer only.")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields

    def get_secret(self, obj) -> str:
        return self.context["secret"]


class WebhookEndpointCreateSerializer(InputSerializer):
    url = serializers.CharField(max_length=2000, help_text="https URL resolving to public addresses only.")
    event_types = EventTypesField(help_text=_EVENT_TYPES_HELP)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class WebhookEndpointUpdateSerializer(InputSerializer):
    url = serializers.CharField(max_length=2000, required=False)
    event_types = EventTypesField(required=False, help_text=_EVENT_TYPES_HELP)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False, help_text="false disables the endpoint; true enables it.")


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["number", "created_at", "status_code", "latency_ms", "succeeded", "error", "response_snippet"]
        read_only_fields = fields


class _EventRefSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    type = serializers.CharField(read_only=True)
    created = serializers.DateTimeField(source="created_at", read_only=True)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    endpoint = serializers.UUIDField(source="endpoint.public_id", read_only=True)
    event = _EventRefSerializer(read_only=True)
    status = StatusField(choices=Delivery.Status.choices, enum_name="WebhookDeliveryStatus", read_only=True)
    attempts = serializers.SerializerMethodField(help_text="The latest attempts, newest first (at most 10).")

    class Meta:
        model = Delivery
        fields = [
            "id",
            "endpoint",
            "event",
            "status",
            "attempt_count",
            "last_attempt_at",
            "last_status_code",
            "next_attempt_at",
            "delivered_at",
            "created_at",
            "attempts",
        ]
        read_only_fields = fields

    @extend_schema_field(DeliveryAttemptSerializer(many=True))
    def get_attempts(self, obj):
        attempts = getattr(obj, "recent_attempts", None)
        if attempts is None:
            attempts = list(obj.attempts.order_by("-number")[:10])
        return DeliveryAttemptSerializer(attempts[:10], many=True).data


class EventSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True, help_text="The event id (`Webhook-Id`).")
    type = serializers.CharField(read_only=True)
    created = serializers.DateTimeField(source="created_at", read_only=True)
    data = serializers.JSONField(read_only=True, help_text="The payload delivered as `data`.")

    class Meta:
        model = Event
        fields = ["id", "type", "created", "data"]
        read_only_fields = fields
