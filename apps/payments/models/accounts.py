"""The supplier organisation's Stripe connected account, mirrored from Stripe."""

from __future__ import annotations

from django.db import models

from apps.core.models import BaseModel


class ConnectedAccount(BaseModel):
    """One per supplier organisation (vendor or independent expert). Created once through the gateway
    with the key ``acct:<org public_id>``; its flags are mirrored from ``account.updated`` (newest
    event wins: ``last_event_created`` is the Stripe ``created`` time, in Unix seconds, of the last
    update applied)."""

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.PROTECT, related_name="connected_account"
    )
    stripe_account_id = models.CharField(max_length=255, unique=True)
    country = models.CharField(max_length=2, default="US")
    charges_enabled = models.BooleanField(default=False)
    payouts_enabled = models.BooleanField(default=False)
    details_submitted = models.BooleanField(default=False)
    transfers_capability = models.CharField(max_length=20, default="inactive", help_text="active | pending | inactive")
    requirements_due = models.JSONField(default=list, blank=True, help_text="Stripe's currently_due / past_due.")
    disabled_reason = models.CharField(max_length=200, blank=True)
    last_event_created = models.BigIntegerField(default=0, help_text="Unix seconds of the last update applied.")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.stripe_account_id} ({self.organization_id})"
