"""v1 representations of experts, profiles, credentials, credential flags and roster entries.

Privacy is decided by the selectors and carried here by explicit field lists:

- ``Expert`` (search and detail) shows the pseudonymous handle and verified-credential summaries;
  ``name`` and ``email`` are present only when the selector annotated ``identity_visible`` (the
  caller's vendor has the expert on its roster, or platform operations). Otherwise the keys are
  absent, not null, so that no client can mistake a missing name for an empty one.
- A verified-credential summary never carries the identifier or the evidence.
- ``Credential`` is the owner's view (with identifier and status reason); the ``expert`` and
  ``open_flags`` keys are added for platform operations only.
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.urls import reverse
from django_countries import countries
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.api.fields import MoneyField, StatusField
from apps.api.serializers import InputSerializer
from apps.api.v1.accounts.serializers import OrganizationSummarySerializer
from apps.api.v1.experts.fields import NamedChoiceField
from apps.core.money import Money, exponent
from apps.experts.models import Credential, CredentialFlag, CredentialType, Domain, ExpertProfile, RosterEntry
from apps.experts.services import LANGUAGE_CODES


def _hourly_rate(profile: ExpertProfile | None) -> dict | None:
    if profile is None or profile.hourly_rate_minor is None:
        return None
    return MoneyField().to_representation(Money(profile.hourly_rate_minor, profile.rate_currency))


def profile_of(user) -> ExpertProfile | None:
    """The user's expert profile, or None for someone who never created one."""
    try:
        return user.expert_profile
    except ObjectDoesNotExist:
        return None


# --- output: shared pieces -------------------------------------------------------------------------


class DomainSerializer(serializers.ModelSerializer):
    class Meta:
        model = Domain
        fields = ["slug", "name"]
        read_only_fields = fields


class VerifiedCredentialSerializer(serializers.ModelSerializer):
    """A verified, unexpired credential as others see it: no identifier, no evidence."""

    type = StatusField(choices=CredentialType.choices, enum_name="CredentialType")

    class Meta:
        model = Credential
        fields = ["type", "title", "issuer", "jurisdiction", "expires_on", "verified_at"]
        read_only_fields = fields


# --- output: experts ---------------------------------------------------------------------------------


class ExpertSerializer(serializers.Serializer):
    """An expert as a lab or vendor sees them. Needs rows from ``expert_search`` (annotated, prefetched)."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    handle = serializers.CharField(read_only=True, help_text="Pseudonymous, stable name.")
    headline = serializers.CharField(read_only=True)
    bio = serializers.CharField(read_only=True)
    domains = DomainSerializer(many=True, read_only=True)
    languages = serializers.ListField(child=serializers.CharField(), read_only=True, help_text="ISO 639-1 codes.")
    country = serializers.SerializerMethodField(help_text="ISO 3166 alpha-2 code, or empty.")
    timezone = serializers.CharField(read_only=True, help_text="IANA name, or empty.")
    weekly_hours = serializers.IntegerField(read_only=True, help_text="Hours per week available.")
    hourly_rate = serializers.SerializerMethodField(help_text="Expected rate per hour; null if not given.")
    verified_credentials = VerifiedCredentialSerializer(many=True, read_only=True)
    identity_visible = serializers.BooleanField(
        read_only=True, help_text="Whether the caller may see who this is (`name` and `email` are present)."
    )
    # Output only; not read-only so that the schema marks them optional (absent unless identity_visible).
    name = serializers.CharField(
        source="user.full_name", required=False, help_text="Present only when `identity_visible` is true."
    )
    email = serializers.EmailField(
        source="user.email", required=False, help_text="Present only when `identity_visible` is true."
    )

    def get_country(self, obj) -> str:
        return obj.country.code or ""

    @extend_schema_field(MoneyField(allow_null=True))
    def get_hourly_rate(self, obj):
        return _hourly_rate(obj)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not getattr(instance, "identity_visible", False):
            data.pop("name", None)
            data.pop("email", None)
        return data


# --- output: the caller's own profile ------------------------------------------------------------------


class ProfileSerializer(serializers.ModelSerializer):
    """The caller's own expert profile."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    domains = DomainSerializer(many=True, read_only=True)
    country = serializers.SerializerMethodField(help_text="ISO 3166 alpha-2 code, or empty.")
    hourly_rate = serializers.SerializerMethodField(help_text="Expected rate per hour; null if not given.")

    class Meta:
        model = ExpertProfile
        fields = [
            "id",
            "handle",
            "headline",
            "bio",
            "domains",
            "languages",
            "country",
            "timezone",
            "weekly_hours",
            "hourly_rate",
            "rate_currency",
            "is_discoverable",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_country(self, obj) -> str:
        return obj.country.code or ""

    @extend_schema_field(MoneyField(allow_null=True))
    def get_hourly_rate(self, obj):
        return _hourly_rate(obj)


# --- output: credentials ---------------------------------------------------------------------------


class ExpertIdentitySerializer(serializers.Serializer):
    """Who an expert is: for platform operations and the expert's own vendors only."""

    id = serializers.SerializerMethodField(help_text="The expert profile's id.")
    handle = serializers.SerializerMethodField()
    name = serializers.CharField(source="full_name", read_only=True)
    email = serializers.EmailField(read_only=True)

    @extend_schema_field(OpenApiTypes.UUID)
    def get_id(self, user) -> str | None:
        profile = profile_of(user)
        return str(profile.public_id) if profile else None

    def get_handle(self, user) -> str | None:
        profile = profile_of(user)
        return profile.handle if profile else None


class CredentialFlagSummarySerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    kind = StatusField(choices=CredentialFlag.Kind.choices, enum_name="CredentialFlagKind")
    other_credential = serializers.UUIDField(source="other_credential.public_id", read_only=True)

    class Meta:
        model = CredentialFlag
        fields = ["id", "kind", "other_credential", "created_at"]
        read_only_fields = fields


_OPERATIONS_ONLY = ("expert", "open_flags")


class CredentialSerializer(serializers.ModelSerializer):
    """A credential with its review state. ``expert`` and ``open_flags`` appear for operations only
    (context ``operations=True``); the owner sees everything else, including the identifier."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    type = StatusField(choices=CredentialType.choices, enum_name="CredentialType")
    status = StatusField(choices=Credential.Status.choices, enum_name="CredentialStatus")
    evidence = serializers.SerializerMethodField()
    # Operations only; not read-only so that the schema marks them optional.
    expert = ExpertIdentitySerializer(source="profile.user", required=False, help_text="Operations only.")
    open_flags = CredentialFlagSummarySerializer(many=True, required=False, help_text="Operations only.")

    class Meta:
        model = Credential
        fields = [
            "id",
            "type",
            "title",
            "issuer",
            "identifier",
            "jurisdiction",
            "issued_on",
            "expires_on",
            "status",
            "status_reason",
            "verified_at",
            "reverify_on",
            "evidence",
            "created_at",
            "updated_at",
            "expert",
            "open_flags",
        ]
        read_only_fields = [f for f in fields if f not in ("expert", "open_flags")]

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "name": {"type": "string", "description": "The uploader's file name (display only)."},
                "content_type": {"type": "string", "enum": ["application/pdf", "image/png", "image/jpeg"]},
                "size": {"type": "integer", "description": "Bytes."},
                "url": {"type": "string", "description": "Path of the download endpoint."},
            },
            "required": ["name", "content_type", "size", "url"],
        }
    )
    def get_evidence(self, obj) -> dict:
        return {
            "name": obj.evidence_name,
            "content_type": obj.evidence_content_type,
            "size": obj.evidence_size,
            "url": reverse("api-v1:credential-evidence", kwargs={"credential_id": obj.public_id}),
        }

    @property
    def _readable_fields(self):
        # The owner never receives the operations-only keys (not even as null).
        hidden = () if self.context.get("operations") else _OPERATIONS_ONLY
        for field in super()._readable_fields:
            if field.field_name not in hidden:
                yield field


class FlaggedCredentialSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    type = StatusField(choices=CredentialType.choices, enum_name="CredentialType")
    status = StatusField(choices=Credential.Status.choices, enum_name="CredentialStatus")
    expert = ExpertIdentitySerializer(source="profile.user", read_only=True)

    class Meta:
        model = Credential
        fields = ["id", "type", "title", "issuer", "identifier", "status", "expert"]
        read_only_fields = fields


class CredentialFlagSerializer(serializers.ModelSerializer):
    """A possible problem for operations, e.g. one licence number on two accounts."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    kind = StatusField(choices=CredentialFlag.Kind.choices, enum_name="CredentialFlagKind")
    status = StatusField(choices=CredentialFlag.Status.choices, enum_name="CredentialFlagStatus")
    credential = FlaggedCredentialSerializer(read_only=True)
    other_credential = FlaggedCredentialSerializer(read_only=True)

    class Meta:
        model = CredentialFlag
        fields = ["id", "kind", "status", "resolution", "credential", "other_credential", "created_at", "updated_at"]
        read_only_fields = fields


# --- output: rosters -------------------------------------------------------------------------------


class RosterExpertSerializer(serializers.Serializer):
    """The person on a roster entry, as their vendor sees them."""

    handle = serializers.SerializerMethodField(help_text="Null until the person creates an expert profile.")
    name = serializers.CharField(source="full_name", read_only=True)
    email = serializers.EmailField(read_only=True)
    weekly_hours = serializers.SerializerMethodField()
    verified_credentials = serializers.SerializerMethodField()

    def get_handle(self, user) -> str | None:
        profile = profile_of(user)
        return profile.handle if profile else None

    def get_weekly_hours(self, user) -> int | None:
        profile = profile_of(user)
        return profile.weekly_hours if profile else None

    @extend_schema_field(VerifiedCredentialSerializer(many=True))
    def get_verified_credentials(self, user):
        profile = profile_of(user)
        # ``roster_list`` prefetches them into ``verified_credentials``.
        credentials = getattr(profile, "verified_credentials", []) if profile else []
        return VerifiedCredentialSerializer(credentials, many=True).data


class RosterEntrySerializer(serializers.ModelSerializer):
    """An entry of the caller's vendor roster. The invitation link is never shown."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    status = StatusField(choices=RosterEntry.Status.choices, enum_name="RosterEntryStatus")
    expert = RosterExpertSerializer(source="user", read_only=True)

    class Meta:
        model = RosterEntry
        fields = [
            "id",
            "status",
            "status_reason",
            "conflict_of_interest",
            "coi_declared_at",
            "invite_expires_at",
            "joined_at",
            "created_at",
            "expert",
        ]
        read_only_fields = fields


class RosterMembershipSerializer(serializers.ModelSerializer):
    """One of the caller's own roster entries (an invitation, or a place on a vendor's roster)."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    vendor = OrganizationSummarySerializer(read_only=True)
    status = StatusField(choices=RosterEntry.Status.choices, enum_name="RosterEntryStatus")

    class Meta:
        model = RosterEntry
        fields = [
            "id",
            "vendor",
            "status",
            "status_reason",
            "conflict_of_interest",
            "coi_declared_at",
            "invite_expires_at",
            "joined_at",
            "created_at",
        ]
        read_only_fields = fields


# --- input: query parameters -------------------------------------------------------------------------


class ExpertSearchQuerySerializer(serializers.Serializer):
    """Query parameters of the expert search (other parameters such as ``cursor`` are ignored here)."""

    domain = serializers.SlugField(required=False, help_text="Domain slug; also matches its sub-domains.")
    credential_type = NamedChoiceField(
        choices=CredentialType.choices,
        enum_name="CredentialType",
        required=False,
        help_text="Holds a verified, unexpired credential of this type.",
    )
    country = serializers.CharField(required=False, min_length=2, max_length=2, help_text="ISO 3166 alpha-2 code.")
    language = serializers.CharField(required=False, max_length=8, help_text="ISO 639-1 code, e.g. `en`.")
    min_weekly_hours = serializers.IntegerField(required=False, min_value=0, max_value=168)
    qualification = serializers.UUIDField(
        required=False,
        help_text="A qualification test's id: only experts holding a current qualification in that test (any version).",
    )

    def validate_country(self, value: str) -> str:
        value = value.upper()
        if value not in countries:
            raise serializers.ValidationError(f"Unknown country code '{value}'.")
        return value

    def validate_language(self, value: str) -> str:
        value = value.lower()
        if value not in LANGUAGE_CODES:
            raise serializers.ValidationError(f"Unknown language code '{value}'.")
        return value


class CredentialQueueQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=Credential.Status.choices, default=Credential.Status.PENDING, help_text="Default: `pending`."
    )


class CredentialFlagQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=CredentialFlag.Status.choices, default=CredentialFlag.Status.OPEN, help_text="Default: `open`."
    )


class RosterQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=RosterEntry.Status.choices, required=False)


# --- input: bodies -------------------------------------------------------------------------------------


class DecimalStringField(serializers.CharField):
    """A non-negative decimal amount sent as a string (``"85.00"``), never a JSON number."""

    default_error_messages = {"not_a_string": 'Send the amount as a string, e.g. "85.00".'}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class ProfileUpdateSerializer(InputSerializer):
    """Fields of the caller's profile; send only those to change."""

    headline = serializers.CharField(max_length=160, allow_blank=True, required=False)
    bio = serializers.CharField(max_length=5000, allow_blank=True, required=False)
    domains = serializers.ListField(
        child=serializers.SlugField(), required=False, max_length=50, help_text="Domain slugs; replaces the set."
    )
    languages = serializers.ListField(
        child=serializers.CharField(max_length=8), required=False, max_length=50, help_text="ISO 639-1 codes."
    )
    country = serializers.CharField(max_length=2, allow_blank=True, required=False, help_text="ISO 3166 alpha-2.")
    timezone = serializers.CharField(max_length=64, allow_blank=True, required=False, help_text="IANA name.")
    weekly_hours = serializers.IntegerField(min_value=0, max_value=168, required=False)
    hourly_rate = DecimalStringField(
        allow_null=True,
        allow_blank=True,
        required=False,
        max_length=20,
        help_text="Major units per hour as a decimal string (e.g. `85.00`), in `rate_currency`; null clears it.",
    )
    rate_currency = serializers.CharField(max_length=3, required=False, help_text="ISO 4217 code, e.g. `USD`.")
    is_discoverable = serializers.BooleanField(required=False, help_text="Appear in expert search.")

    def __init__(self, *args, current_currency: str = "USD", **kwargs):
        self.current_currency = current_currency
        super().__init__(*args, **kwargs)

    def validate(self, attrs):
        rate = attrs.get("hourly_rate")
        if rate:
            currency = (attrs.get("rate_currency") or self.current_currency).strip().upper()
            whole, _, fraction = rate.strip().partition(".")
            if fraction and len(fraction) > exponent(currency):
                raise serializers.ValidationError(
                    {"hourly_rate": [f"{currency} amounts have at most {exponent(currency)} decimal places."]}
                )
        return attrs


class CredentialSubmitSerializer(InputSerializer):
    """A new credential, sent as ``multipart/form-data`` with the evidence file."""

    type = NamedChoiceField(choices=CredentialType.choices, enum_name="CredentialType")
    title = serializers.CharField(max_length=200)
    issuer = serializers.CharField(max_length=200)
    identifier = serializers.CharField(
        max_length=120, required=False, allow_blank=True, help_text="Licence or certificate number."
    )
    jurisdiction = serializers.CharField(max_length=120, required=False, allow_blank=True)
    issued_on = serializers.DateField(required=False, allow_null=True)
    expires_on = serializers.DateField(required=False, allow_null=True, help_text="Must be after `issued_on`.")
    evidence = serializers.FileField(
        help_text="PDF, PNG or JPEG (judged by content, not name), at most 10 MB.", use_url=False
    )


class CredentialVerifySerializer(InputSerializer):
    reverify_on = serializers.DateField(
        required=False, allow_null=True, help_text="When to check it again; default a year ahead (or the expiry)."
    )


class ReasonSerializer(InputSerializer):
    reason = serializers.CharField(max_length=2000, help_text="Shown to the expert.")


class FlagResolveSerializer(InputSerializer):
    resolution = serializers.CharField(max_length=2000)


class RosterInviteSerializer(InputSerializer):
    email = serializers.EmailField(max_length=254)


class RosterAcceptSerializer(InputSerializer):
    conflict_of_interest = serializers.CharField(
        max_length=5000,
        allow_blank=True,
        trim_whitespace=True,
        help_text="Declare any conflict of interest with this vendor's work; an empty string declares none.",
    )
