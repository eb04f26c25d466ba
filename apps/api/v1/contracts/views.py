"""v1 Contracts endpoints: the contracts an award made, their versioned terms and signatures,
amendments, the lifecycle (pause, resume, complete, terminate), the NDA and the experts assigned.

Scope: the acting organisation (``apps/api/v1/experts/scope.py``: an API key's organisation, or a
session's ``?org=`` / active organisation) reaches the contracts it is a party to, as lab or
supplier; any other contract is a 404 ``contract_not_found`` on every endpoint. Reading needs
``contracts.view`` (lab members; vendor owners and managers; the independent expert), so a vendor's
experts get 403 (they reach a contract only to accept its NDA). Signing, amending and terminating
need ``contracts.sign`` (lab owners and admins; vendor owners and managers; the independent expert);
pausing, resuming and completing are the lab's; assigning experts is the supplier's.

Signing: ``/sign/`` signs the version awaiting signatures, whichever it is (v1 from the award or an
amendment), for the acting organisation's side, and only if the ``terms_hash`` sent is that
version's (409 ``terms_hash_mismatch`` otherwise: the terms changed since they were read). Signing,
amending and assigning accept an ``Idempotency-Key``.
"""

from __future__ import annotations

import ipaddress

from django.db.models import Exists, OuterRef, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from apps.accounts.models import Membership, User
from apps.accounts.policies import require
from apps.accounts.roles import Perm
from apps.api.v1.experts.scope import ORG_PARAMETER
from apps.api.v1.experts.views import OldestFirstCursorPagination, WorkforceListView, WorkforceView
from apps.contracts import selectors, services
from apps.contracts.models import Assignment, Contract, ContractVersion
from apps.core.errors import NotFound, ValidationFailed

from . import filters
from .serializers import (
    AmendmentCreateSerializer,
    AssignmentCreateSerializer,
    AssignmentSerializer,
    ContractDetailSerializer,
    ContractMilestonesSerializer,
    ContractRows,
    ContractSerializer,
    GateCheckSerializer,
    GateQuerySerializer,
    NdaAcceptanceSerializer,
    SignSerializer,
    TerminateSerializer,
    VersionSerializer,
)

TAGS = ["contracts"]


def client_ip(request) -> str | None:
    """The caller's address for signature and NDA records: ``REMOTE_ADDR``, or behind ``NUM_PROXIES``
    trusted proxies the address they forwarded (the rule DRF's throttling identifies clients by).
    None if that is not an IP address."""
    ident = BaseThrottle().get_ident(request)
    try:
        return str(ipaddress.ip_address((ident or "").strip()))
    except ValueError:
        return None


def versions_of(contract: Contract) -> QuerySet[ContractVersion]:
    """A contract's versions, oldest first, with what ``VersionSerializer`` reads loaded in a fixed
    number of queries (milestones, signatures and signers; whether the proposer is of the lab)."""
    proposer_in_lab = Membership.objects.filter(user=OuterRef("proposed_by"), organization=OuterRef("contract__lab"))
    return (
        ContractVersion.objects.filter(contract=contract)
        .select_related("contract__lab", "contract__supplier")
        .annotate(proposed_by_lab=Exists(proposer_in_lab))
        .prefetch_related("milestones", "signatures__signed_by")
        .order_by("number")
    )


class _ContractMixin:
    """For ``WorkforceView`` subclasses: the contract in the URL, if the acting organisation is a party."""

    def get_contract(self) -> Contract:
        if not hasattr(self, "_contract"):
            self._contract = selectors.contract_get(
                actor=self.actor, organization=self.get_acting_organization(), public_id=self.kwargs["contract_id"]
            )
        return self._contract

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "swagger_fake_view", False):
            return context
        return {**context, "organization": self.get_acting_organization()}

    def contract_response(self, contract: Contract | None = None, *, status_code=status.HTTP_200_OK) -> Response:
        """The contract with every version; after a write, as it is now (read again through the selector)."""
        if contract is None:
            contract = selectors.contract_get(
                actor=self.actor, organization=self.get_acting_organization(), public_id=self.kwargs["contract_id"]
            )
        versions = list(versions_of(contract))
        contract.proposed_version = next(
            (v.number for v in versions if v.status == ContractVersion.Status.PROPOSED), None
        )
        context = {"organization": self.get_acting_organization(), "versions": versions}
        return Response(ContractDetailSerializer(contract, context=context).data, status=status_code)

    def version_response(self, version: ContractVersion, *, status_code=status.HTTP_200_OK) -> Response:
        version = versions_of(version.contract).get(pk=version.pk)
        context = {"organization": self.get_acting_organization()}
        return Response(VersionSerializer(version, context=context).data, status=status_code)


class ContractView(_ContractMixin, WorkforceView):
    pass


class ContractListBase(_ContractMixin, WorkforceListView):
    pass


# --- contracts ----------------------------------------------------------------------------------------------


class ContractListView(ContractListBase):
    serializer_class = ContractSerializer
    row_source = ContractRows()
    filterset_class = filters.ContractFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Contract.objects.none()
        return selectors.contract_list(actor=self.actor, organization=self.require_organization())

    @extend_schema(
        summary="The acting organisation's contracts, as lab or supplier, newest first",
        description=(
            "Lab members; vendor owners and managers; independent experts (a vendor's experts get 403). `side` says "
            "which party the acting organisation is. A contract is made for each bid of an award, awaiting both "
            "signatures (`pending_signature`)."
        ),
        parameters=[ORG_PARAMETER],
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ContractDetailView(ContractView):
    @extend_schema(
        summary="One contract: parties, status, the terms in force and the proposal awaiting signatures",
        description=(
            "Either party. `terms` are the terms in force (null until both sides signed v1) and `proposed` the "
            "version awaiting signatures, with its `terms_hash` (send it to `/sign/`) and the signatures so far. "
            "`versions` lists every version's number, status and `effective_from`. Anyone else: 404."
        ),
        parameters=[ORG_PARAMETER],
        responses=ContractDetailSerializer,
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return self.contract_response(self.get_contract())


class ContractSignView(ContractView):
    @extend_schema(
        summary="Sign the terms awaiting signatures, for the acting organisation's side",
        operation_id="contracts_sign",
        description=(
            "Lab owners and admins; vendor owners and managers; the independent expert (a lab member gets 403). Signs "
            "the version awaiting signatures, v1 or an amendment, only if `terms_hash` is that version's: otherwise "
            "409 `terms_hash_mismatch` (the terms changed since they were read; `details.terms_hash` is the current "
            "hash) and nothing is stored. The signer's IP address is recorded. When both sides have signed, the "
            "version takes effect and a pending contract becomes `active`. Signing again for the same side changes "
            "nothing (also once the terms are in force); with nothing awaiting signatures, any other hash: 409 "
            "`nothing_to_sign`; a completed or terminated contract: 409 "
            "`contract_closed`. Accepts an `Idempotency-Key`."
        ),
        parameters=[ORG_PARAMETER],
        request=SignSerializer,
        responses=ContractDetailSerializer,
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        contract = self.get_contract()
        serializer = SignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.contract_sign(
            actor=self.actor,
            organization=self.require_organization(),
            contract=contract,
            shown_terms_hash=serializer.validated_data["terms_hash"],
            ip_address=client_ip(request),
        )
        return self.contract_response()


class _ContractTransitionView(ContractView):
    """A bodiless lab transition: look the contract up, call one service, answer the contract."""

    def perform(self, contract: Contract) -> None:
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        self.perform(self.get_contract())
        return self.contract_response()


class ContractPauseView(_ContractTransitionView):
    @extend_schema(
        summary="Pause an active contract",
        operation_id="contracts_pause",
        description=(
            "Lab owners and admins (the supplier gets 403 `lab_only`). Both sides are told. Pausing again changes "
            "nothing; a contract not active answers 409."
        ),
        parameters=[ORG_PARAMETER],
        request=None,
        responses=ContractDetailSerializer,
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def perform(self, contract):
        services.contract_pause(actor=self.actor, organization=self.require_organization(), contract=contract)


class ContractResumeView(_ContractTransitionView):
    @extend_schema(
        summary="Resume a paused contract",
        operation_id="contracts_resume",
        description=(
            "Lab owners and admins (the supplier gets 403 `lab_only`). Resuming an active contract changes nothing; "
            "a contract awaiting signatures answers 409 `contract_not_paused` (it becomes active only by both "
            "signatures), a completed or terminated one 409."
        ),
        parameters=[ORG_PARAMETER],
        request=None,
        responses=ContractDetailSerializer,
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def perform(self, contract):
        services.contract_resume(actor=self.actor, organization=self.require_organization(), contract=contract)


class ContractCompleteView(_ContractTransitionView):
    @extend_schema(
        summary="Complete an active or paused contract",
        operation_id="contracts_complete",
        description=(
            "Lab owners and admins (the supplier gets 403 `lab_only`). Completing again changes nothing; a contract "
            "awaiting signatures or terminated answers 409."
        ),
        parameters=[ORG_PARAMETER],
        request=None,
        responses=ContractDetailSerializer,
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def perform(self, contract):
        services.contract_complete(actor=self.actor, organization=self.require_organization(), contract=contract)


class ContractTerminateView(ContractView):
    @extend_schema(
        summary="Terminate a contract, with a reason both sides see",
        operation_id="contracts_terminate",
        description=(
            "Either side: lab owners and admins, vendor owners and managers, the independent expert. Terminating "
            "again changes nothing; a completed contract answers 409."
        ),
        parameters=[ORG_PARAMETER],
        request=TerminateSerializer,
        responses=ContractDetailSerializer,
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        contract = self.get_contract()
        serializer = TerminateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.contract_terminate(
            actor=self.actor,
            organization=self.require_organization(),
            contract=contract,
            reason=serializer.validated_data["reason"],
        )
        return self.contract_response()


# --- versions and amendments -----------------------------------------------------------------------------------


class VersionListView(ContractListBase):
    serializer_class = VersionSerializer
    pagination_class = OldestFirstCursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ContractVersion.objects.none()
        return versions_of(self.get_contract())

    @extend_schema(
        summary="Every version of a contract's terms, oldest first, with its signatures",
        description=(
            "Either party. Versions are never changed once proposed and stay readable after they are superseded or "
            'withdrawn. Signatures name the signer (an independent expert appears to the lab as `"The expert"`); '
            "the signer's IP address is shown to the signer's own side only."
        ),
        parameters=[ORG_PARAMETER],
        tags=["amendments"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class VersionDetailView(ContractView):
    @extend_schema(
        summary="One version of a contract's terms, with its signatures",
        description="Either party; a version of another contract: 404 `version_not_found`.",
        parameters=[ORG_PARAMETER],
        responses=VersionSerializer,
        tags=["amendments"],
    )
    def get(self, request, *args, **kwargs):
        version = versions_of(self.get_contract()).filter(public_id=self.kwargs["version_id"]).first()
        if version is None:
            raise NotFound("Version not found.", code="version_not_found")
        return Response(VersionSerializer(version, context=self.get_serializer_context()).data)


class AmendmentListView(ContractListBase):
    serializer_class = VersionSerializer
    pagination_class = OldestFirstCursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ContractVersion.objects.none()
        return versions_of(self.get_contract()).filter(number__gt=1)

    @extend_schema(
        summary="A contract's amendments (every version after v1), oldest first",
        description="Either party. Each with its terms, hash, signatures and status (`withdrawn` when replaced).",
        parameters=[ORG_PARAMETER],
        tags=["amendments"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def _currency(contract: Contract) -> str:
    terms = contract.current_version or selectors.latest_version(contract)
    return terms.currency


class AmendmentCreateView(ContractView):
    @extend_schema(
        summary="Propose new terms: the next version, which both sides sign again",
        operation_id="contracts_amend",
        description=(
            "Lab owners and admins; vendor owners and managers; the independent expert. `changes` holds only the "
            "terms that change (currency cannot); the rest carry over from the terms in force. A proposal still "
            "awaiting signatures is withdrawn and replaced. Both sides then sign the new version at `/sign/` with its "
            "`terms_hash`. A rate cut takes effect after the notice period even without the supplier's signature "
            "(its `effective_from` says when), or at once when the supplier signs. Bad terms: 400 naming each "
            "(`unit_rate`, `quality_pay[1]`, `milestones[0].amount`, ...), nothing saved; a completed or terminated "
            "contract: 409 `contract_closed`. Accepts an `Idempotency-Key`."
        ),
        parameters=[ORG_PARAMETER],
        request=AmendmentCreateSerializer,
        responses={201: VersionSerializer},
        tags=["amendments"],
    )
    def post(self, request, *args, **kwargs):
        contract = self.get_contract()
        serializer = AmendmentCreateSerializer(data=request.data, currency=_currency(contract))
        serializer.is_valid(raise_exception=True)
        version = services.contract_amend(
            actor=self.actor, organization=self.require_organization(), contract=contract, **serializer.service_fields()
        )
        return self.version_response(version, status_code=status.HTTP_201_CREATED)


class AmendmentRoute(AmendmentListView, AmendmentCreateView):
    """``/contracts/{id}/amendments/``: GET lists the amendments, POST proposes one."""


class MilestonesView(ContractView):
    @extend_schema(
        summary="The milestones of the terms in force and of the proposal awaiting signatures",
        description="Either party. Each set names its version; null where there is no such version.",
        parameters=[ORG_PARAMETER],
        responses=ContractMilestonesSerializer,
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        contract = self.get_contract()
        versions = list(versions_of(contract).exclude(status=ContractVersion.Status.WITHDRAWN))
        data = {
            "in_force": next((v for v in versions if v.pk == contract.current_version_id), None),
            "proposed": next((v for v in versions if v.status == ContractVersion.Status.PROPOSED), None),
        }
        return Response(ContractMilestonesSerializer(data).data)


# --- the NDA ------------------------------------------------------------------------------------------------------


class NdaAcceptView(ContractView):
    personal = True

    @extend_schema(
        summary="Accept the contract's NDA, as an expert of the supplier",
        operation_id="contracts_nda_accept",
        description=(
            "The caller accepts the NDA version of the terms in force, for themself: an active expert on the "
            "supplier vendor's roster, or the independent expert who is the supplier. A browser session, or the "
            "expert's own individual organisation's API key (an organisation's key: 403 `api_key_out_of_scope`). "
            "Anyone else: 404. Before both sides signed: 409 `contract_not_active`. Accepting again changes nothing. "
            "The caller's IP address is recorded."
        ),
        request=None,
        responses=NdaAcceptanceSerializer,
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        contract = Contract.objects.select_related("supplier", "current_version").filter(
            public_id=self.kwargs["contract_id"]
        )
        contract = contract.first()
        if contract is None:
            raise NotFound("Contract not found.", code="contract_not_found")
        acceptance = services.nda_accept(actor=self.actor, contract=contract, ip_address=client_ip(request))
        return Response(NdaAcceptanceSerializer(acceptance).data)


# --- assignments ---------------------------------------------------------------------------------------------------


def _expert(public_id) -> User:
    expert = User.objects.filter(public_id=public_id).first()
    if expert is None:
        raise ValidationFailed("Unknown expert.", details={"expert": ["No such expert."]})
    return expert


class GateCheckView(ContractView):
    @extend_schema(
        summary="Which assignment gates an expert still misses on this contract",
        description=(
            "The supplier's owners and managers, or the independent expert (a lab gets 403): a preview of "
            "`POST /assignments/`. The gates: an active expert on the supplier's roster (if not, no other gate is "
            "reported), a verified and unexpired credential of each type the project requires, the contract's NDA "
            "accepted, the project's latest guideline version acknowledged. An unknown `expert`: 400."
        ),
        parameters=[GateQuerySerializer, ORG_PARAMETER],
        responses=GateCheckSerializer,
        tags=["assignments"],
    )
    def get(self, request, *args, **kwargs):
        contract = self.get_contract()
        organization = self.require_organization()
        require(self.actor, organization, Perm.ASSIGNMENTS_MANAGE)
        if organization.pk != contract.supplier_id:
            raise NotFound("Contract not found.", code="contract_not_found")
        expert = _expert(self.query(GateQuerySerializer)["expert"])
        gates = selectors.assignment_gates(contract, expert)
        return Response(GateCheckSerializer({"expert": expert.public_id, "assignable": not gates, "gates": gates}).data)


class AssignmentListView(ContractListBase):
    serializer_class = AssignmentSerializer
    pagination_class = OldestFirstCursorPagination
    filterset_class = filters.AssignmentFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Assignment.objects.none()
        return Assignment.objects.filter(contract=self.get_contract()).select_related(
            "contract", "expert__expert_profile"
        )

    @extend_schema(
        summary="The experts assigned to a contract, oldest first",
        description=(
            "Either party. The lab knows each expert by id and pseudonymous `handle` only; the supplier also sees "
            "`name`. A suspended assignment's `status_reason` names the gates that no longer hold."
        ),
        parameters=[ORG_PARAMETER],
        tags=["assignments"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class _AssignmentMixin:
    def assignment_response(self, assignment: Assignment, *, status_code=status.HTTP_200_OK) -> Response:
        assignment = Assignment.objects.select_related("contract", "expert__expert_profile").get(pk=assignment.pk)
        return Response(
            AssignmentSerializer(assignment, context=self.get_serializer_context()).data, status=status_code
        )


class AssignmentCreateView(_AssignmentMixin, ContractView):
    @extend_schema(
        summary="Assign an expert to an active contract",
        operation_id="contracts_assign",
        description=(
            "The supplier's owners and managers, or the independent expert (a lab gets 403). Every gate must hold "
            "(see `/gates/`); otherwise 409 `assignment_gates_unmet` with `details.gates` naming each unmet gate "
            "(`roster`, `credential` with its `credential_type`, `nda`, `guidelines`). A contract not active: 409 "
            "`contract_not_active`; an expert already assigned: 409 `already_assigned`; an unknown expert: 400. "
            "Accepts an `Idempotency-Key`."
        ),
        parameters=[ORG_PARAMETER],
        request=AssignmentCreateSerializer,
        responses={201: AssignmentSerializer},
        tags=["assignments"],
    )
    def post(self, request, *args, **kwargs):
        contract = self.get_contract()
        serializer = AssignmentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        assignment = services.assignment_create(
            actor=self.actor,
            organization=self.require_organization(),
            contract=contract,
            expert_public_id=serializer.validated_data["expert"],
        )
        return self.assignment_response(assignment, status_code=status.HTTP_201_CREATED)


class AssignmentRoute(AssignmentListView, AssignmentCreateView):
    """``/contracts/{id}/assignments/``: GET lists the assigned experts, POST assigns one."""


class _AssignmentTransitionView(_AssignmentMixin, ContractView):
    def get_assignment(self) -> Assignment:
        assignment = (
            Assignment.objects.filter(contract=self.get_contract(), public_id=self.kwargs["assignment_id"])
            .select_related("contract__supplier", "expert")
            .first()
        )
        if assignment is None:
            raise NotFound("Assignment not found.", code="assignment_not_found")
        return assignment


class AssignmentEndView(_AssignmentTransitionView):
    @extend_schema(
        summary="End an assignment",
        operation_id="assignments_end",
        description="The supplier (a lab gets 403). Ending again changes nothing.",
        parameters=[ORG_PARAMETER],
        request=None,
        responses=AssignmentSerializer,
        tags=["assignments"],
    )
    def post(self, request, *args, **kwargs):
        assignment = self.get_assignment()
        services.assignment_end(actor=self.actor, organization=self.require_organization(), assignment=assignment)
        return self.assignment_response(assignment)


class AssignmentResumeView(_AssignmentTransitionView):
    @extend_schema(
        summary="Resume a suspended assignment once every gate holds again",
        operation_id="assignments_resume",
        description=(
            "The supplier (a lab gets 403). Still-unmet gates: 409 `assignment_gates_unmet` naming each in "
            "`details.gates`; an ended assignment: 409. Resuming an active one changes nothing."
        ),
        parameters=[ORG_PARAMETER],
        request=None,
        responses=AssignmentSerializer,
        tags=["assignments"],
    )
    def post(self, request, *args, **kwargs):
        assignment = self.get_assignment()
        services.assignment_resume(actor=self.actor, organization=self.require_organization(), assignment=assignment)
        return self.assignment_response(assignment)
