"""Expertise as evidence: the domain taxonomy, expert profiles, credentials and vendor rosters."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_countries.fields import CountryField

from apps.core.models import BaseModel


class DomainManager(models.Manager):
    def get_by_natural_key(self, slug: str):
        return self.get(slug=slug)


class Domain(BaseModel):
    """A node of the expertise taxonomy (medicine > radiology). ``path`` makes sub-tree queries cheap:
    a domain matches itself and every domain whose path starts with its path plus '/'."""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    path = models.CharField(max_length=400, unique=True, help_text="Slash-separated slugs from the root.")

    objects = DomainManager()

    class Meta:
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str]:
        return (self.slug,)

    @property
    def depth(self) -> int:
        return self.path.count("/")

    @property
    def label(self) -> str:
        """'Medicine > Radiology'."""
        return f"{self.parent.name} > {self.name}" if self.parent_id else self.name


def _new_handle() -> str:
    return f"ex-{secrets.token_hex(4)}"


class ExpertProfile(BaseModel):
    """What an expert offers. Labs see only ``handle`` and verified credentials, never the person."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="expert_profile")
    handle = models.CharField(max_length=20, unique=True, default=_new_handle, help_text="Pseudonymous name.")
    headline = models.CharField(max_length=160, blank=True)
    bio = models.TextField(blank=True)
    domains = models.ManyToManyField(Domain, blank=True, related_name="experts")
    languages = models.JSONField(default=list, blank=True, help_text="ISO 639-1 codes, e.g. ['en', 'de'].")
    country = CountryField(blank=True)
    timezone = models.CharField(max_length=64, blank=True, help_text="IANA name, e.g. Europe/Berlin.")
    weekly_hours = models.PositiveSmallIntegerField(default=0, help_text="Hours per week available for work.")
    hourly_rate_minor = models.BigIntegerField(null=True, blank=True, help_text="Expected rate, minor units/hour.")
    rate_currency = models.CharField(max_length=3, default="USD")
    is_discoverable = models.BooleanField(default=True, help_text="Appears in expert search.")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(weekly_hours__lte=168), name="profile_weekly_hours_max"),
            models.CheckConstraint(
                condition=Q(hourly_rate_minor__isnull=True) | Q(hourly_rate_minor__gte=0), name="profile_rate_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.handle


class CredentialType(models.TextChoices):
    DEGREE = "degree", "Degree"
    PROFESSIONAL_LICENCE = "professional_licence", "Professional licence"
    BOARD_CERTIFICATION = "board_certification", "Board certification"
    EMPLOYMENT = "employment", "Employment"
    PUBLICATION = "publication", "Publication"
    OTHER = "other", "Other"


def evidence_path(instance: Credential, filename: str) -> str:
    # The stored name never comes from the uploader: a random name with the sniffed extension.
    return f"evidence/{instance.profile.public_id}/{secrets.token_hex(16)}.{instance.evidence_extension}"


class Credential(BaseModel):
    """A claim of expertise with evidence, verified by platform operations before it counts."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending review"
        VERIFIED = "verified", "Verified"
        REJECTED = "rejected", "Rejected"
        REVOKED = "revoked", "Revoked"
        EXPIRED = "expired", "Expired"

    TRANSITIONS = {
        Status.PENDING: {Status.VERIFIED, Status.REJECTED, Status.EXPIRED},
        Status.VERIFIED: {Status.REVOKED, Status.EXPIRED},
    }

    profile = models.ForeignKey(ExpertProfile, on_delete=models.CASCADE, related_name="credentials")
    type = models.CharField(max_length=30, choices=CredentialType.choices)
    title = models.CharField(max_length=200, help_text="e.g. 'Board certified, diagnostic radiology'.")
    issuer = models.CharField(max_length=200)
    identifier = models.CharField(max_length=120, blank=True, help_text="Licence or certificate number.")
    # Normalised copies, for spotting the same credential on two accounts.
    issuer_key = models.CharField(max_length=200, db_index=True, editable=False)
    identifier_key = models.CharField(max_length=120, db_index=True, editable=False)
    jurisdiction = models.CharField(max_length=120, blank=True)
    issued_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    evidence = models.FileField(upload_to=evidence_path, max_length=300)
    evidence_name = models.CharField(max_length=255, help_text="The uploader's file name, for display only.")
    evidence_content_type = models.CharField(max_length=50)
    evidence_extension = models.CharField(max_length=8)
    evidence_size = models.PositiveIntegerField(help_text="Bytes.")
    evidence_sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    status_reason = models.TextField(blank=True, help_text="Why it was rejected or revoked.")
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    reverify_on = models.DateField(null=True, blank=True, help_text="When operations should check it again.")
    expiry_reminder_sent_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True)
                | Q(issued_on__isnull=True)
                | Q(expires_on__gt=models.F("issued_on")),
                name="credential_expiry_after_issue",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "verified", "rejected", "revoked", "expired"]),
                name="credential_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="verified") | Q(verified_at__isnull=False), name="credential_verified_has_time"
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="credential_queue_idx")]

    def __str__(self) -> str:
        return f"{self.get_type_display()}: {self.title} ({self.status})"


class CredentialFlag(BaseModel):
    """Something operations must look at, e.g. one licence number on two accounts (account sharing)."""

    class Kind(models.TextChoices):
        DUPLICATE_IDENTIFIER = "duplicate_identifier", "Same identifier on another account"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    TRANSITIONS = {Status.OPEN: {Status.RESOLVED}}

    kind = models.CharField(max_length=40, choices=Kind.choices)
    credential = models.ForeignKey(Credential, on_delete=models.CASCADE, related_name="flags")
    other_credential = models.ForeignKey(Credential, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    resolution = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "credential", "other_credential"], name="credential_flag_unique")
        ]


class RosterEntry(BaseModel):
    """An expert on a vendor's roster: invited, active, suspended or offboarded (with a reason).

    An active or suspended entry goes with a vendor membership of role ``expert``; offboarding
    removes that membership. Entries are never deleted, so the history stays.
    """

    class Status(models.TextChoices):
        INVITED = "invited", "Invited"
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        OFFBOARDED = "offboarded", "Offboarded"
        DECLINED = "declined", "Declined"

    TRANSITIONS = {
        Status.INVITED: {Status.ACTIVE, Status.DECLINED, Status.OFFBOARDED},
        Status.ACTIVE: {Status.SUSPENDED, Status.OFFBOARDED},
        Status.SUSPENDED: {Status.ACTIVE, Status.OFFBOARDED},
    }

    vendor = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="roster")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="roster_entries")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.INVITED)
    status_reason = models.TextField(blank=True, help_text="Why the expert was suspended or offboarded.")
    conflict_of_interest = models.TextField(blank=True, help_text="Declared by the expert when joining.")
    coi_declared_at = models.DateTimeField(null=True, blank=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, help_text="SHA-256 of the link.")
    invite_expires_at = models.DateTimeField(null=True, blank=True)
    joined_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["vendor", "user"],
                condition=Q(status__in=["invited", "active", "suspended"]),
                name="roster_one_open_entry",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["invited", "active", "suspended", "offboarded", "declined"]),
                name="roster_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.vendor_id} ({self.status})"
