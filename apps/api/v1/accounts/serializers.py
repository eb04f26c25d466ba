"""v1 representations of people, organisations, memberships, invitations and API keys.

Output serializers: one per resource, explicit fields, public UUIDs as ``id``. Input serializers:
one per endpoint, refusing unknown fields. Secrets never appear here except the raw API key in the
one response that creates it.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.accounts import api_scopes
from apps.accounts.models import ApiKey, Invitation, Membership, Organization, User
from apps.accounts.roles import Role
from apps.api.fields import StatusField
from apps.api.serializers import InputSerializer

# --- output ----------------------------------------------------------------------------------------


class PersonSerializer(serializers.ModelSerializer):
    """Another person, as shown to members of a shared organisation."""

    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "full_name"]
        read_only_fields = fields


class CurrentUserSerializer(serializers.ModelSerializer):
    """The caller themself."""

    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "staff_role"]
        read_only_fields = fields


class OrganizationSummarySerializer(serializers.ModelSerializer):
    """An organisation referenced from another resource."""

    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "kind"]
        read_only_fields = fields


class OrganizationSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "kind", "created_at"]
        read_only_fields = fields


class MembershipSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    user = PersonSerializer(read_only=True)
    organization = OrganizationSummarySerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "organization", "role", "created_at"]
        read_only_fields = fields


class InvitationSerializer(serializers.ModelSerializer):
    """An invitation. Its link token is never shown: only the invitee receives it, by e-mail."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    organization = OrganizationSummarySerializer(read_only=True)
    invited_by = PersonSerializer(read_only=True, allow_null=True)
    status = StatusField(choices=Invitation.Status.choices, enum_name="InvitationStatus")

    class Meta:
        model = Invitation
        fields = [
            "id",
            "organization",
            "email",
            "role",
            "status",
            "invited_by",
            "expires_at",
            "accepted_at",
            "created_at",
        ]
        read_only_fields = fields


class ApiKeySerializer(serializers.ModelSerializer):
    """An API key. Only its prefix is ever shown again after creation."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    organization = OrganizationSummarySerializer(read_only=True)
    created_by = PersonSerializer(read_only=True)
    status = StatusField(choices=ApiKey.Status.choices, enum_name="ApiKeyStatus")
    scopes = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="What the key may do: `<resource>:read|write|*`, or `*` for everything (docs/api.md).",
    )

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "organization",
            "name",
            "prefix",
            "status",
            "created_by",
            "created_at",
            "last_used_at",
            "expires_at",
            "revoked_at",
            "scopes",
        ]
        read_only_fields = fields


class ApiKeyCreatedSerializer(ApiKeySerializer):
    """A key just created: the only response that ever contains the raw ``key``."""

    key = serializers.SerializerMethodField(help_text="The secret key. Store it now: it is never shown again.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_key(self, obj) -> str:
        return self.context["raw_key"]


class MeSerializer(serializers.Serializer):
    user = CurrentUserSerializer(read_only=True)
    memberships = MembershipSerializer(many=True, read_only=True)
    api_key = ApiKeySerializer(
        read_only=True, allow_null=True, help_text="The API key authenticating this request; null for a session."
    )


# --- input -----------------------------------------------------------------------------------------


class MemberRoleUpdateSerializer(InputSerializer):
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationCreateSerializer(InputSerializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationAcceptSerializer(InputSerializer):
    token = serializers.CharField(max_length=200, trim_whitespace=True)


class ApiKeyCreateSerializer(InputSerializer):
    name = serializers.CharField(max_length=100)
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When the key stops working; omit for no expiry."
    )
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=api_scopes.ALL_SCOPES),
        required=False,
        allow_empty=False,
        max_length=len(api_scopes.ALL_SCOPES),
        help_text='What the key may do, e.g. `["projects:*", "bids:read"]`; omit for full access (`*`).',
    )
