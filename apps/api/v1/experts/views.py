"""v1 Workforce endpoints: expert search, the caller's profile, credentials and their review, credential
flags, vendor rosters and the expert's side of rosters.

One class per operation; route classes compose two operations sharing a URL. Reads go through the
experts selectors (which scope and privacy-filter them), writes through one service each; anything
outside the caller's scope answers 404. How a caller's organisation and personal scope are chosen
(``?org``, API keys, staff powers) is described in ``scope.py``.
"""

from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from apps.accounts.policies import is_staff_role, require_staff
from apps.accounts.roles import StaffRole
from apps.api.base import ApiListView, ApiView
from apps.api.pagination import CursorPagination
from apps.assessments import selectors as assessment_selectors
from apps.core.errors import NotFound, ValidationFailed
from apps.experts import selectors, services
from apps.experts.models import Credential, CredentialFlag, ExpertProfile, RosterEntry

from . import filters
from .scope import ORG_PARAMETER, WorkforceScopeMixin
from .serializers import (
    CredentialFlagQuerySerializer,
    CredentialFlagSerializer,
    CredentialQueueQuerySerializer,
    CredentialSerializer,
    CredentialSubmitSerializer,
    CredentialVerifySerializer,
    ExpertSearchQuerySerializer,
    ExpertSerializer,
    FlagResolveSerializer,
    ProfileSerializer,
    ProfileUpdateSerializer,
    ReasonSerializer,
    RosterAcceptSerializer,
    RosterEntrySerializer,
    RosterInviteSerializer,
    RosterMembershipSerializer,
    RosterQuerySerializer,
    profile_of,
)


class OldestFirstCursorPagination(CursorPagination):
    """Review queues: the longest-waiting item first."""

    ordering = ("created_at", "id")


class _QueryParamsMixin:
    def query(self, serializer_class) -> dict:
        """Validated query parameters (400 naming the parameter otherwise)."""
        serializer = serializer_class(data=self.request.query_params)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class WorkforceView(WorkforceScopeMixin, _QueryParamsMixin, ApiView):
    """An ``ApiView`` that knows its caller's acting organisation and personal scope."""


class WorkforceListView(WorkforceScopeMixin, _QueryParamsMixin, ApiListView):
    """An ``ApiListView`` that knows its caller's acting organisation and personal scope."""


# --- expert search -----------------------------------------------------------------------------------


class ExpertListView(WorkforceListView):
    serializer_class = ExpertSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ExpertProfile.objects.none()
        params = self.query(ExpertSearchQuerySerializer)
        test_id = params.pop("qualification", None)
        if test_id is not None:
            # Qualifications live above experts in the layers; the interface joins the two.
            user_ids = assessment_selectors.qualified_user_ids_for_test(test_id)
            if user_ids is None:
                raise ValidationFailed("Unknown qualification test.", details={"qualification": ["Unknown test."]})
            params["user_ids"] = user_ids
        search = selectors.ExpertSearch(**params)
        return selectors.expert_search(actor=self.actor, organization=self.get_acting_organization(), search=search)

    @extend_schema(
        summary="Search discoverable experts",
        description=(
            "For lab members and vendor owners/managers (and platform operations). Experts appear by pseudonymous "
            "`handle` with verified, unexpired credentials. `name` and `email` are present only where "
            "`identity_visible` is true: for experts on the acting vendor's roster, and for operations. Labs never "
            "receive them. An unknown `domain` is a 400 naming `domain`."
        ),
        parameters=[ExpertSearchQuerySerializer, ORG_PARAMETER],
        tags=["experts"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ExpertDetailView(WorkforceView):
    @extend_schema(
        summary="One discoverable expert",
        description="Same visibility rules as the search.",
        parameters=[ORG_PARAMETER],
        responses=ExpertSerializer,
        tags=["experts"],
    )
    def get(self, request, *args, **kwargs):
        expert = selectors.expert_get(
            actor=self.actor, organization=self.get_acting_organization(), public_id=self.kwargs["expert_id"]
        )
        return Response(ExpertSerializer(expert).data)


# --- the caller's profile ----------------------------------------------------------------------------


class ProfileDetailView(WorkforceView):
    personal = True

    @extend_schema(
        summary="The caller's expert profile",
        description="Created empty on first use.",
        responses=ProfileSerializer,
        tags=["profile"],
    )
    def get(self, request, *args, **kwargs):
        return Response(ProfileSerializer(services.profile_get_or_create(user=self.actor)).data)


class ProfileUpdateView(WorkforceView):
    personal = True

    @extend_schema(
        summary="Update the caller's expert profile",
        description=(
            "Send only the fields to change. Every field is checked before anything is saved; a 400 names each "
            "offending field (e.g. an unknown domain slug, language, country or time zone)."
        ),
        request=ProfileUpdateSerializer,
        responses=ProfileSerializer,
        tags=["profile"],
    )
    def patch(self, request, *args, **kwargs):
        current = profile_of(self.actor)  # validate before anything is created
        currency = (
            current.rate_currency if current is not None else ExpertProfile._meta.get_field("rate_currency").default
        )
        serializer = ProfileUpdateSerializer(data=request.data, partial=True, current_currency=currency)
        serializer.is_valid(raise_exception=True)
        profile = services.profile_update(actor=self.actor, **serializer.validated_data)
        return Response(ProfileSerializer(profile).data)


class ProfileRoute(ProfileDetailView, ProfileUpdateView):
    """``/profile/``: GET reads, PATCH updates."""


# --- credentials ---------------------------------------------------------------------------------------


# Each open flag names the other credential by its public id; load those with the flags, not one by one.
_FLAGGED_OTHER = "open_flags__other_credential"


def _is_operations(view) -> bool:
    return is_staff_role(view.actor, StaffRole.OPERATIONS)


def _review_credential(view, public_id) -> Credential:
    """A credential for operations, with the expert and open flags loaded."""
    credential = (
        selectors.credential_review_queue(actor=view.actor, status=None)
        .prefetch_related(_FLAGGED_OTHER)
        .filter(public_id=public_id)
        .first()
    )
    if credential is None:
        raise NotFound("Credential not found.", code="credential_not_found")
    return credential


def _credential_response(view, credential: Credential, *, status_code=status.HTTP_200_OK) -> Response:
    if _is_operations(view):
        data = CredentialSerializer(_review_credential(view, credential.public_id), context={"operations": True}).data
    else:
        data = CredentialSerializer(credential).data
    return Response(data, status=status_code)


class CredentialListView(WorkforceListView):
    personal = True
    serializer_class = CredentialSerializer
    filterset_class = filters.CredentialFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Credential.objects.none()
        return selectors.credential_list_for_expert(actor=self.actor)

    @extend_schema(summary="The caller's own credentials", tags=["credentials"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class CredentialSubmitView(WorkforceView):
    personal = True
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="Submit a credential with its evidence file",
        description=(
            "`multipart/form-data`. The evidence must be PDF, PNG or JPEG by its content (a renamed executable is "
            "refused whatever its name), at most 10 MB. The credential waits for operations' review (`pending`). "
            "Refusals name the field (`evidence`, `expires_on`, ...) and save nothing."
        ),
        request={"multipart/form-data": CredentialSubmitSerializer},
        responses={201: CredentialSerializer},
        tags=["credentials"],
    )
    def post(self, request, *args, **kwargs):
        serializer = CredentialSubmitSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = {k: v for k, v in serializer.validated_data.items() if v is not None}
        credential = services.credential_submit(actor=self.actor, **fields)
        return Response(CredentialSerializer(credential).data, status=status.HTTP_201_CREATED)


class CredentialCollectionRoute(CredentialListView, CredentialSubmitView):
    """``/credentials/``: GET lists the caller's own, POST submits one."""


class CredentialQueueView(WorkforceListView):
    serializer_class = CredentialSerializer
    pagination_class = OldestFirstCursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Credential.objects.none()
        queue = selectors.credential_review_queue(actor=self.actor, **self.query(CredentialQueueQuerySerializer))
        return queue.prefetch_related(_FLAGGED_OTHER)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "operations": True}

    @extend_schema(
        summary="Operations: the credential review queue, oldest first",
        description=(
            "Platform operations only (others: 404). Each credential carries the expert (`expert`, with e-mail) and "
            "its open flags. `status` defaults to `pending`."
        ),
        parameters=[CredentialQueueQuerySerializer],
        tags=["credentials"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class CredentialDetailView(WorkforceView):
    @extend_schema(
        summary="One credential: the caller's own, or any for operations",
        description="Operations also receive `expert` and `open_flags`.",
        responses=CredentialSerializer,
        tags=["credentials"],
    )
    def get(self, request, *args, **kwargs):
        credential = selectors.credential_get(actor=self.actor, public_id=self.kwargs["credential_id"])
        return _credential_response(self, credential)


class _JsonForErrors(BaseContentNegotiation):
    """The download ignores ``Accept``: the file is sent as stored, errors as the JSON envelope."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class CredentialEvidenceView(WorkforceView):
    content_negotiation_class = _JsonForErrors

    @extend_schema(
        summary="Download a credential's evidence file",
        description=(
            "The owner or platform operations only (others: 404). Sent as an attachment with the content type "
            "found when it was uploaded."
        ),
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The evidence file."),
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="The evidence file."),
            (200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY, description="The evidence file."),
        },
        tags=["credentials"],
    )
    def get(self, request, *args, **kwargs):
        credential = selectors.credential_get(actor=self.actor, public_id=self.kwargs["credential_id"])
        response = FileResponse(
            credential.evidence.open("rb"),
            as_attachment=True,
            filename=f"credential-{credential.public_id}.{credential.evidence_extension}",
            content_type=credential.evidence_content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response


class _CredentialDecisionView(WorkforceView):
    """Operations act on one credential: the staff check comes first, so others get 404 before any
    validation. Subclasses name the input serializer and the service call."""

    input_serializer: type[serializers.Serializer]

    def post(self, request, *args, **kwargs):
        require_staff(self.actor, StaffRole.OPERATIONS)
        credential = selectors.credential_get(actor=self.actor, public_id=self.kwargs["credential_id"])
        serializer = self.input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.decide(credential, serializer.validated_data)
        return _credential_response(self, credential)

    def decide(self, credential, data) -> None:
        raise NotImplementedError


@extend_schema_view(
    post=extend_schema(
        summary="Operations: verify a pending credential",
        operation_id="credentials_verify",
        description=(
            "Platform operations only (others: 404). Repeating it changes nothing. A credential that is not pending "
            "answers 409 `credential_not_pending`; one past its expiry date 409 `credential_expired`."
        ),
        request=CredentialVerifySerializer,
        responses=CredentialSerializer,
        tags=["credentials"],
    )
)
class CredentialVerifyView(_CredentialDecisionView):
    input_serializer = CredentialVerifySerializer

    def decide(self, credential, data) -> None:
        services.credential_verify(actor=self.actor, credential=credential, reverify_on=data.get("reverify_on"))


@extend_schema_view(
    post=extend_schema(
        summary="Operations: reject a pending credential",
        operation_id="credentials_reject",
        description=(
            "Platform operations only (others: 404). The reason is shown to the expert. A credential that is not "
            "pending answers 409 `credential_not_pending`."
        ),
        request=ReasonSerializer,
        responses=CredentialSerializer,
        tags=["credentials"],
    )
)
class CredentialRejectView(_CredentialDecisionView):
    input_serializer = ReasonSerializer

    def decide(self, credential, data) -> None:
        services.credential_reject(actor=self.actor, credential=credential, **data)


@extend_schema_view(
    post=extend_schema(
        summary="Operations: revoke a verified credential",
        operation_id="credentials_revoke",
        description=(
            "Platform operations only (others: 404). The reason is shown to the expert. A credential that is not "
            "verified answers 409 `credential_not_verified`."
        ),
        request=ReasonSerializer,
        responses=CredentialSerializer,
        tags=["credentials"],
    )
)
class CredentialRevokeView(_CredentialDecisionView):
    input_serializer = ReasonSerializer

    def decide(self, credential, data) -> None:
        services.credential_revoke(actor=self.actor, credential=credential, **data)


# --- credential flags ------------------------------------------------------------------------------------


class CredentialFlagListView(WorkforceListView):
    serializer_class = CredentialFlagSerializer
    pagination_class = OldestFirstCursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CredentialFlag.objects.none()
        return selectors.credential_flag_list(actor=self.actor, **self.query(CredentialFlagQuerySerializer))

    @extend_schema(
        summary="Operations: credential flags, oldest first",
        description="Platform operations only (others: 404). `status` defaults to `open`.",
        parameters=[CredentialFlagQuerySerializer],
        tags=["credential-flags"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class CredentialFlagResolveView(WorkforceView):
    @extend_schema(
        summary="Operations: resolve a credential flag",
        operation_id="credential_flags_resolve",
        description="Platform operations only (others: 404). Repeating it changes nothing.",
        request=FlagResolveSerializer,
        responses=CredentialFlagSerializer,
        tags=["credential-flags"],
    )
    def post(self, request, *args, **kwargs):
        flag = selectors.credential_flag_get(actor=self.actor, public_id=self.kwargs["flag_id"])
        serializer = FlagResolveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.credential_flag_resolve(actor=self.actor, flag=flag, **serializer.validated_data)
        return Response(CredentialFlagSerializer(flag).data)


# --- vendor rosters ------------------------------------------------------------------------------------------


class RosterListView(WorkforceListView):
    serializer_class = RosterEntrySerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RosterEntry.objects.none()
        return selectors.roster_list(
            actor=self.actor, vendor=self.require_organization(), **self.query(RosterQuerySerializer)
        )

    @extend_schema(
        summary="The acting vendor's roster",
        description="Vendor owners and managers. Each entry names the expert (name, e-mail) with their credentials.",
        parameters=[RosterQuerySerializer, ORG_PARAMETER],
        tags=["roster"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class RosterInviteView(WorkforceView):
    @extend_schema(
        summary="Invite an expert to the roster by e-mail",
        operation_id="roster_invitations_create",
        description=(
            "The link is e-mailed to the invitee (an unknown address gets an account); the response never contains "
            "it. Someone already invited to or on the roster: 400 naming `email`."
        ),
        parameters=[ORG_PARAMETER],
        request=RosterInviteSerializer,
        responses={201: RosterEntrySerializer},
        tags=["roster"],
    )
    def post(self, request, *args, **kwargs):
        vendor = self.require_organization()
        serializer = RosterInviteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry, _token = services.roster_invite(actor=self.actor, vendor=vendor, **serializer.validated_data)
        return Response(RosterEntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class _RosterEntryMixin:
    def get_entry(self) -> RosterEntry:
        return selectors.roster_entry_get(
            actor=self.actor, vendor=self.require_organization(), public_id=self.kwargs["entry_id"]
        )


class RosterSuspendView(_RosterEntryMixin, WorkforceView):
    @extend_schema(
        summary="Suspend an active expert",
        operation_id="roster_suspend",
        description="They stay on the roster but cannot be assigned. Not active: 409 `rosterentry_not_active`.",
        parameters=[ORG_PARAMETER],
        request=ReasonSerializer,
        responses=RosterEntrySerializer,
        tags=["roster"],
    )
    def post(self, request, *args, **kwargs):
        entry = self.get_entry()
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.roster_suspend(actor=self.actor, entry=entry, **serializer.validated_data)
        return Response(RosterEntrySerializer(self.get_entry()).data)


class RosterReinstateView(_RosterEntryMixin, WorkforceView):
    @extend_schema(
        summary="Reinstate a suspended expert",
        operation_id="roster_reinstate",
        parameters=[ORG_PARAMETER],
        request=None,
        responses=RosterEntrySerializer,
        tags=["roster"],
    )
    def post(self, request, *args, **kwargs):
        services.roster_reinstate(actor=self.actor, entry=self.get_entry())
        return Response(RosterEntrySerializer(self.get_entry()).data)


class RosterOffboardView(_RosterEntryMixin, WorkforceView):
    @extend_schema(
        summary="Offboard an expert, or withdraw an invitation",
        operation_id="roster_offboard",
        description="The entry keeps the reason; the expert loses their membership of the vendor.",
        parameters=[ORG_PARAMETER],
        request=ReasonSerializer,
        responses=RosterEntrySerializer,
        tags=["roster"],
    )
    def post(self, request, *args, **kwargs):
        entry = self.get_entry()
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.roster_offboard(actor=self.actor, entry=entry, **serializer.validated_data)
        return Response(RosterEntrySerializer(self.get_entry()).data)


# --- the expert's side of rosters ---------------------------------------------------------------------------


class RosterMembershipListView(WorkforceListView):
    personal = True
    serializer_class = RosterMembershipSerializer
    filterset_class = filters.RosterMembershipFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RosterEntry.objects.none()
        return selectors.roster_entries_for_expert(actor=self.actor)

    @extend_schema(
        summary="The caller's roster invitations and memberships across vendors", tags=["roster-memberships"]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class RosterMembershipAcceptView(WorkforceView):
    personal = True

    @extend_schema(
        summary="Accept a roster invitation, declaring any conflict of interest",
        operation_id="roster_memberships_accept",
        description=(
            "Makes the caller an active roster member and an `expert` member of the vendor. Accepting again changes "
            "nothing; a declined or withdrawn invitation answers 409 `roster_entry_not_invited`."
        ),
        request=RosterAcceptSerializer,
        responses=RosterMembershipSerializer,
        tags=["roster-memberships"],
    )
    def post(self, request, *args, **kwargs):
        entry = selectors.roster_entry_get_for_expert(actor=self.actor, public_id=self.kwargs["entry_id"])
        serializer = RosterAcceptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = services.roster_accept(actor=self.actor, entry=entry, **serializer.validated_data)
        return Response(RosterMembershipSerializer(entry).data)


class RosterMembershipDeclineView(WorkforceView):
    personal = True

    @extend_schema(
        summary="Decline a roster invitation",
        operation_id="roster_memberships_decline",
        description="Declining again changes nothing; an accepted entry answers 409 `rosterentry_not_invited`.",
        request=None,
        responses=RosterMembershipSerializer,
        tags=["roster-memberships"],
    )
    def post(self, request, *args, **kwargs):
        entry = selectors.roster_entry_get_for_expert(actor=self.actor, public_id=self.kwargs["entry_id"])
        services.roster_decline(actor=self.actor, entry=entry)
        return Response(RosterMembershipSerializer(entry).data)
