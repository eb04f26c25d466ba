"""The Stripe webhook inbox: every event stored once by id, processed later in Celery."""

from __future__ import annotations

from django.db import models

from apps.core.models import BaseModel


class StripeEvent(BaseModel):
    """One Stripe event, stored once (``event_id`` unique) whichever endpoint, retry or back-fill
    brought it. ``created`` is Stripe's Unix seconds; ``processed_at`` is set when a handler finished
    (a handler that raised leaves it null with ``last_error`` and is retried)."""

    class Source(models.TextChoices):
        PLATFORM = "platform", "Platform endpoint"
        CONNECT = "connect", "Connect endpoint"
        BACKFILL = "backfill", "Back-filled from the events list"

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    account = models.CharField(max_length=255, blank=True, help_text="The connected account, for Connect events.")
    livemode = models.BooleanField(default=False)
    api_version = models.CharField(max_length=40, blank=True)
    created = models.BigIntegerField(help_text="Stripe's created time, Unix seconds.")
    payload = models.JSONField()
    source = models.CharField(max_length=10, choices=Source.choices)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["processed_at", "received_at"], name="stripe_event_pending_idx")]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"
