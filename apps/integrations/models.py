"""Outbound webhooks: the event log (the outbox), endpoints, deliveries and their attempts.

An ``Event`` is one domain event as consumers see it (``public_id`` is the event id). It is stored
once and linked to every organisation it concerns; each of those organisations' active endpoints
subscribed to its type gets one ``Delivery``, retried until it succeeds or its 24-hour window
closes. Every HTTP attempt is a ``DeliveryAttempt`` row (the delivery log).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.accounts.models import Organization
from apps.core.models import BaseModel

ALL_EVENTS = "*"
TEST_EVENT = "webhook.test"


class WebhookEndpoint(BaseModel):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        DISABLED = "disabled", "Disabled"

    TRANSITIONS = {Status.ACTIVE: {Status.DISABLED}, Status.DISABLED: {Status.ACTIVE}}

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    # Event type names (apps.core.events.EVENT_TYPES), or ["*"] for every type.
    event_types = models.JSONField(default=list)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    disabled_reason = models.CharField(max_length=300, blank=True)
    # Secrets are needed to sign, so they are stored, encrypted at rest (apps.integrations.signing).
    secret_encrypted = models.TextField()
    previous_secret_encrypted = models.TextField(blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    # Start of the current run of failed attempts; cleared by a success. 24 hours of it disables.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return event_type == TEST_EVENT or ALL_EVENTS in self.event_types or event_type in self.event_types


class Event(BaseModel):
    """One domain event, once, with the organisations it concerns. Append-only."""

    type = models.CharField(max_length=100, db_index=True)
    organizations = models.ManyToManyField(Organization, related_name="+")
    # The JSON payload consumers receive as ``data``: public ids and plain values only.
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.type} {self.public_id}"


class Delivery(BaseModel):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    TRANSITIONS = {
        Status.PENDING: {Status.SUCCEEDED, Status.FAILED},
        # Redelivery on demand starts a new 24-hour retry window.
        Status.SUCCEEDED: {Status.PENDING},
        Status.FAILED: {Status.PENDING},
    }

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)  # every attempt, across redeliveries
    window_attempts = models.PositiveIntegerField(default=0)  # attempts in the current retry window
    window_started_at = models.DateTimeField(null=True, blank=True)  # first attempt of the current window
    # When the next attempt is due (None once succeeded or failed). A claimed delivery's lease is
    # written here too, so a worker that died mid-attempt is retried after the lease.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["event", "endpoint"], name="delivery_one_per_event_endpoint")]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event.type} -> {self.endpoint.url} ({self.status})"


class DeliveryAttempt(BaseModel):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()  # 1 for the delivery's first attempt
    status_code = models.PositiveIntegerField(null=True, blank=True)  # None: no HTTP answer
    latency_ms = models.PositiveIntegerField(default=0)  # milliseconds from connect to the answer
    succeeded = models.BooleanField(default=False)
    error = models.CharField(max_length=500, blank=True)
    response_snippet = models.CharField(max_length=500, blank=True)  # the answer's first characters

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="attempt_number_unique")]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}: {self.status_code or self.error}"
