"""Read-only admin views for support: endpoints (never their secrets), events and deliveries with
their attempts. Changes go through the pages and the API, which audit them."""

from django.contrib import admin

from .models import Delivery, DeliveryAttempt, Event, WebhookEndpoint


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(_ReadOnly):
    list_display = ("url", "organization", "status", "failing_since", "created_at")
    list_filter = ("status",)
    search_fields = ("url", "organization__name")
    fields = (
        "public_id", "organization", "url", "description", "event_types", "status", "disabled_reason",
        "failing_since", "previous_secret_expires_at", "created_by", "created_at", "updated_at",
    )  # fmt: skip
    list_select_related = ("organization",)


@admin.register(Event)
class EventAdmin(_ReadOnly):
    list_display = ("public_id", "type", "created_at")
    list_filter = ("type",)
    fields = ("public_id", "type", "organizations", "data", "created_at")


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = ("number", "created_at", "status_code", "latency_ms", "succeeded", "error", "response_snippet")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(_ReadOnly):
    list_display = ("public_id", "event", "endpoint", "status", "attempt_count", "next_attempt_at")
    list_filter = ("status",)
    list_select_related = ("event", "endpoint")
    fields = (
        "public_id", "event", "endpoint", "status", "attempt_count", "window_attempts", "window_started_at",
        "next_attempt_at", "last_attempt_at", "last_status_code", "delivered_at", "created_at",
    )  # fmt: skip
    inlines = [DeliveryAttemptInline]
