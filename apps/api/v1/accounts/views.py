"""v1 endpoints for the caller, organisations, members, invitations and API keys.

One class per operation; where two operations share a URL (list and create, update and remove),
a route class composes the two operation classes. Every read goes through a selector that
scopes it to the caller (an API key only ever reaches its own organisation), every write through
one service; anything outside the scope answers 404.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from apps.accounts import selectors, services
from apps.accounts.models import ApiKey, Invitation, Membership, Organization
from apps.api.base import ApiListView, ApiView
from apps.core.errors import NotFound

from . import filters
from .serializers import (
    ApiKeyCreatedSerializer,
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    InvitationAcceptSerializer,
    InvitationCreateSerializer,
    InvitationSerializer,
    MemberRoleUpdateSerializer,
    MembershipSerializer,
    MeSerializer,
    OrganizationSerializer,
)

# --- me ------------------------------------------------------------------------------------------


class MeView(ApiView):
    required_scope = ""  # any key may ask who it is and what it may do

    @extend_schema(
        summary="The caller, their memberships and the API key in use",
        description="With an API key, memberships are limited to the key's organisation.",
        responses=MeSerializer,
        tags=["me"],
    )
    def get(self, request, *args, **kwargs):
        memberships = selectors.membership_list_for_user(request.user).select_related("user")
        if self.scope_organization is not None:
            memberships = memberships.filter(organization=self.scope_organization)
        data = {"user": request.user, "memberships": memberships, "api_key": self.api_key}
        return Response(MeSerializer(data).data)


# --- organisations ---------------------------------------------------------------------------------


class OrganizationListView(ApiListView):
    serializer_class = OrganizationSerializer
    filterset_class = filters.OrganizationFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Organization.objects.none()
        return selectors.organization_list_for_user(self.request.user, only=self.scope_organization)

    @extend_schema(summary="The caller's organisations (with an API key, only the key's)", tags=["organizations"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class OrganizationDetailView(ApiView):
    serializer_class = OrganizationSerializer

    @extend_schema(summary="One of the caller's organisations", tags=["organizations"])
    def get(self, request, *args, **kwargs):
        return Response(OrganizationSerializer(self.get_organization()).data)


# --- members -------------------------------------------------------------------------------------


class MemberListView(ApiListView):
    serializer_class = MembershipSerializer
    filterset_class = filters.MemberFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Membership.objects.none()
        return selectors.member_list(actor=self.request.user, organization=self.get_organization())

    @extend_schema(summary="Members of an organisation", tags=["members"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class _MemberMixin:
    def get_member(self) -> Membership:
        return selectors.member_get(
            actor=self.request.user, organization=self.get_organization(), public_id=self.kwargs["member_id"]
        )


class MemberRoleUpdateView(_MemberMixin, ApiView):
    @extend_schema(
        summary="Change a member's role (owners only)",
        description="The last owner cannot be demoted (409 `last_owner`). Without `role` nothing changes.",
        request=MemberRoleUpdateSerializer,
        responses=MembershipSerializer,
        tags=["members"],
    )
    def patch(self, request, *args, **kwargs):
        member = self.get_member()
        serializer = MemberRoleUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        member = services.membership_change_role(
            actor=request.user, membership=member, role=serializer.validated_data.get("role", member.role)
        )
        return Response(MembershipSerializer(member).data)


class MemberRemoveView(_MemberMixin, ApiView):
    @extend_schema(
        summary="Remove a member (owners), or leave (yourself)",
        description="Revokes the member's API keys in the organisation. The last owner cannot be removed.",
        responses={204: None},
        tags=["members"],
    )
    def delete(self, request, *args, **kwargs):
        services.membership_remove(actor=request.user, membership=self.get_member())
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberDetailRoute(MemberRoleUpdateView, MemberRemoveView):
    """``/members/{member_id}/``: PATCH changes the role, DELETE removes."""


# --- invitations -----------------------------------------------------------------------------------


class InvitationListView(ApiListView):
    serializer_class = InvitationSerializer
    filterset_class = filters.InvitationFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Invitation.objects.none()
        return selectors.invitation_list(actor=self.request.user, organization=self.get_organization())

    @extend_schema(summary="Invitations of an organisation", tags=["invitations"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class InvitationCreateView(ApiView):
    @extend_schema(
        summary="Invite someone by e-mail",
        description="The link is e-mailed to the invitee; the response never contains it.",
        request=InvitationCreateSerializer,
        responses={201: InvitationSerializer},
        tags=["invitations"],
    )
    def post(self, request, *args, **kwargs):
        organization = self.get_organization()
        serializer = InvitationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invitation, _token = services.invitation_create(
            actor=request.user, organization=organization, **serializer.validated_data
        )
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class InvitationCollectionRoute(InvitationListView, InvitationCreateView):
    """``/invitations/``: GET lists, POST invites."""


class InvitationRevokeView(ApiView):
    @extend_schema(
        summary="Revoke a pending invitation",
        operation_id="organizations_invitations_revoke",
        request=None,
        responses={200: InvitationSerializer},
        tags=["invitations"],
    )
    def post(self, request, *args, **kwargs):
        invitation = selectors.invitation_get(
            actor=request.user, organization=self.get_organization(), public_id=self.kwargs["invitation_id"]
        )
        services.invitation_revoke(actor=request.user, invitation=invitation)
        return Response(InvitationSerializer(invitation).data)


class InvitationAcceptView(ApiView):
    @extend_schema(
        summary="Accept an invitation with the token from its link",
        operation_id="invitations_accept",
        description=(
            "The caller's e-mail must be the invited one. With an API key, only invitations to the key's "
            "organisation can be reached."
        ),
        request=InvitationAcceptSerializer,
        responses={200: MembershipSerializer},
        tags=["invitations"],
    )
    def post(self, request, *args, **kwargs):
        serializer = InvitationAcceptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token = serializer.validated_data["token"]
        scope = self.scope_organization
        if scope is not None and services.invitation_get_by_token(token).organization_id != scope.pk:
            raise NotFound("This invitation link is not valid.", code="invitation_not_found")
        membership = services.invitation_accept(actor=request.user, token=token)
        return Response(MembershipSerializer(membership).data)


# --- API keys ------------------------------------------------------------------------------------


class ApiKeyListView(ApiListView):
    serializer_class = ApiKeySerializer
    filterset_class = filters.ApiKeyFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApiKey.objects.none()
        return selectors.api_key_list(actor=self.request.user, organization=self.get_organization())

    @extend_schema(summary="API keys of an organisation", tags=["api-keys"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ApiKeyCreateView(ApiView):
    @extend_schema(
        summary="Create an API key",
        description=(
            "The response is the only time the raw `key` is shown. `scopes` defaults to full access (`*`); a key "
            "can only create keys with scopes it holds itself (403 `scope_escalation`)."
        ),
        request=ApiKeyCreateSerializer,
        responses={201: ApiKeyCreatedSerializer},
        tags=["api-keys"],
    )
    def post(self, request, *args, **kwargs):
        organization = self.get_organization()
        serializer = ApiKeyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = self.api_key
        api_key, raw = services.api_key_create(
            actor=request.user,
            organization=organization,
            within_scopes=list(key.scopes) if key is not None else None,
            **serializer.validated_data,
        )
        data = ApiKeyCreatedSerializer(api_key, context={"raw_key": raw}).data
        return Response(data, status=status.HTTP_201_CREATED)


class ApiKeyCollectionRoute(ApiKeyListView, ApiKeyCreateView):
    """``/api-keys/``: GET lists, POST creates."""


class ApiKeyRevokeView(ApiView):
    @extend_schema(
        summary="Revoke an API key",
        operation_id="organizations_api_keys_revoke",
        request=None,
        responses={200: ApiKeySerializer},
        tags=["api-keys"],
    )
    def post(self, request, *args, **kwargs):
        api_key = selectors.api_key_get(
            actor=request.user, organization=self.get_organization(), public_id=self.kwargs["key_id"]
        )
        services.api_key_revoke(actor=request.user, api_key=api_key)
        return Response(ApiKeySerializer(api_key).data)
