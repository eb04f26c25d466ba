"""v1 Bidding endpoints: sealed bids (submit, revise, withdraw; the lab shortlists and rejects),
clarifying questions and answers, the lab's bid comparison and the award.

Sealing: a bidder reaches only its own organisation's bids (anyone else's is a 404, in every list
and detail); the lab reaches the bids on its project only once bidding has closed; before that
every bid endpoint answers the lab 409 ``bids_sealed`` (it sees only ``bid_count`` on the project).
Submitting a bid and awarding a project accept an ``Idempotency-Key``.
"""

from __future__ import annotations

from django.db.models import F, Prefetch, prefetch_related_objects
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from apps.accounts.policies import require
from apps.accounts.roles import OrgKind, Perm
from apps.api.v1.experts.scope import ORG_PARAMETER
from apps.api.v1.experts.views import OldestFirstCursorPagination
from apps.api.v1.projects.scope import ProjectScopedListView, ProjectScopedView
from apps.bidding import selectors, services
from apps.bidding.models import Award, Bid, BidRevision, Question
from apps.core.errors import DomainError, NotFound
from apps.projects.models import Project

from . import filters
from .serializers import (
    TEAM_PREFETCH,
    AwardCreateSerializer,
    AwardSerializer,
    BidComparisonQuerySerializer,
    BidComparisonSerializer,
    BidCreateSerializer,
    BidDetailSerializer,
    BidRows,
    BidSerializer,
    BidTermsSerializer,
    QuestionAnswerSerializer,
    QuestionAskSerializer,
    QuestionSerializer,
    RejectSerializer,
)

_SEALED = (Project.Status.DRAFT, Project.Status.OPEN)


def _current_revisions() -> Prefetch:
    """Each bid's current revision with its team (in user order, as ``BidRows`` lists it) and their
    profiles (for ``team``)."""
    return Prefetch(
        "revisions",
        queryset=BidRevision.objects.filter(number=F("bid__revision_number")).prefetch_related(*TEAM_PREFETCH),
        to_attr="current_revisions",
    )


class _BidMixin:
    def get_bid(self, public_id=None) -> Bid:
        """The bid in the URL if the caller may see it. The lab asking for a bid on its project before
        bidding closed gets 409 ``bids_sealed``; anyone else outside the scope 404."""
        organization = self.get_acting_organization()
        public_id = public_id or self.kwargs["bid_id"]
        try:
            bid = selectors.bid_get(actor=self.actor, organization=organization, public_id=public_id)
        except NotFound:
            if (
                organization is not None
                and organization.kind == OrgKind.LAB
                and Bid.objects.filter(public_id=public_id, project__lab=organization, project__status__in=_SEALED)
                .exclude(status=Bid.Status.WITHDRAWN)
                .exists()
            ):
                raise DomainError("Bids are sealed until bidding closes.", code="bids_sealed")
            raise
        prefetch_related_objects([bid], _current_revisions())
        return bid

    def bid_response(self, bid: Bid, *, status_code=status.HTTP_200_OK) -> Response:
        """The bid as it is now (read again through the selector), with every revision."""
        bid = self.get_bid(public_id=bid.public_id)
        revisions = list(selectors.bid_revisions(bid))
        return Response(BidDetailSerializer(bid, context={"revisions": revisions}).data, status=status_code)


# --- the bidder's bids ------------------------------------------------------------------------------------


class BidListView(ProjectScopedListView):
    serializer_class = BidSerializer
    row_source = BidRows()
    filterset_class = filters.BidFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Bid.objects.none()
        return selectors.bid_list_for_bidder(actor=self.actor, organization=self.require_organization())

    @extend_schema(
        summary="The acting supplier's own bids, newest first",
        description=(
            "Vendor owners and managers, and independent experts (a lab gets 403 and lists a project's bids at "
            "`/projects/{id}/bids/` once bidding has closed). Every status, withdrawn included."
        ),
        parameters=[ORG_PARAMETER],
        tags=["bids"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class BidCreateView(_BidMixin, ProjectScopedView):
    @extend_schema(
        summary="Submit a sealed bid",
        operation_id="bids_create",
        description=(
            "Vendor owners and managers, and independent experts, on an open project they may see. A project the "
            "caller cannot see (a draft, or invited-only without an invitation) is a 404 naming `project`; after "
            "the deadline, 409 `bidding_closed`; one live bid per supplier and project (409 `bid_already_live`: "
            "revise it). Bad terms (a non-positive price, more volume than wanted, a team member not active on the "
            "roster) are a 400 naming each field, and nothing is saved. Accepts an `Idempotency-Key`."
        ),
        parameters=[ORG_PARAMETER],
        request=BidCreateSerializer,
        responses={201: BidDetailSerializer},
        tags=["bids"],
    )
    def post(self, request, *args, **kwargs):
        organization = self.require_organization()
        require(self.actor, organization, Perm.BIDS_MANAGE)
        serializer = BidCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            project = self.get_project(public_id=serializer.validated_data["project"])
        except NotFound as exc:
            raise NotFound(exc.message, code=exc.code, details={"project": ["No such project open to you."]})
        bid = services.bid_submit(
            actor=self.actor, organization=organization, project=project, **serializer.service_terms()
        )
        return self.bid_response(bid, status_code=status.HTTP_201_CREATED)


class BidCollectionRoute(BidListView, BidCreateView):
    """``/bids/``: GET lists the acting supplier's bids, POST submits one."""


class BidDetailView(_BidMixin, ProjectScopedView):
    @extend_schema(
        summary="One bid, with every revision",
        description=(
            "The bidder's own; or, once bidding has closed, a bid on the acting lab's project (before that: 409 "
            "`bids_sealed`). Anyone else: 404."
        ),
        parameters=[ORG_PARAMETER],
        responses=BidDetailSerializer,
        tags=["bids"],
    )
    def get(self, request, *args, **kwargs):
        bid = self.get_bid()
        revisions = list(selectors.bid_revisions(bid))
        return Response(BidDetailSerializer(bid, context={"revisions": revisions}).data)


class BidReviseView(_BidMixin, ProjectScopedView):
    @extend_schema(
        summary="Revise a live bid (a new revision replaces all its terms)",
        operation_id="bids_revise",
        description=(
            "The bidder, until the deadline (then 409 `bidding_closed`). Earlier revisions are kept. A withdrawn or "
            "decided bid answers 409 `bid_not_live`. Bad terms: 400 naming each field, nothing changed."
        ),
        parameters=[ORG_PARAMETER],
        request=BidTermsSerializer,
        responses=BidDetailSerializer,
        tags=["bids"],
    )
    def post(self, request, *args, **kwargs):
        bid = self.get_bid()
        serializer = BidTermsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.bid_revise(actor=self.actor, bid=bid, **serializer.service_terms())
        return self.bid_response(bid)


class BidWithdrawView(_BidMixin, ProjectScopedView):
    @extend_schema(
        summary="Withdraw a live bid",
        operation_id="bids_withdraw",
        description="The bidder, until the deadline (then 409 `bidding_closed`). Withdrawing again changes nothing.",
        parameters=[ORG_PARAMETER],
        request=None,
        responses=BidDetailSerializer,
        tags=["bids"],
    )
    def post(self, request, *args, **kwargs):
        bid = self.get_bid()
        services.bid_withdraw(actor=self.actor, bid=bid)
        return self.bid_response(bid)


class BidShortlistView(_BidMixin, ProjectScopedView):
    @extend_schema(
        summary="Shortlist a bid",
        operation_id="bids_shortlist",
        description=(
            "Lab owners and admins, once bidding has closed (before: 409 `bids_sealed`). Repeating it changes nothing."
        ),
        parameters=[ORG_PARAMETER],
        request=None,
        responses=BidDetailSerializer,
        tags=["bids"],
    )
    def post(self, request, *args, **kwargs):
        bid = self.get_bid()
        services.bid_shortlist(actor=self.actor, bid=bid)
        return self.bid_response(bid)


class BidRejectView(_BidMixin, ProjectScopedView):
    @extend_schema(
        summary="Reject a bid, with a reason the bidder sees",
        operation_id="bids_reject",
        description=(
            "Lab owners and admins, once bidding has closed (before: 409 `bids_sealed`). Repeating it changes nothing."
        ),
        parameters=[ORG_PARAMETER],
        request=RejectSerializer,
        responses=BidDetailSerializer,
        tags=["bids"],
    )
    def post(self, request, *args, **kwargs):
        bid = self.get_bid()
        require(self.actor, bid.project.lab, Perm.PROJECTS_MANAGE)
        serializer = RejectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.bid_reject(actor=self.actor, bid=bid, **serializer.validated_data)
        return self.bid_response(bid)


# --- the lab's side of a project's bids -----------------------------------------------------------------------


class ProjectBidListView(ProjectScopedListView):
    serializer_class = BidSerializer
    row_source = BidRows()
    filterset_class = filters.ProjectBidFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Bid.objects.none()
        return selectors.bid_list_for_project(actor=self.actor, project=self.get_lab_project())

    @extend_schema(
        summary="The bids on the acting lab's project, once bidding has closed",
        description=(
            "Lab members. Before bidding closes: 409 `bids_sealed` (the project's `bid_count` says how many "
            "arrived). Withdrawn bids are not shown."
        ),
        parameters=[ORG_PARAMETER],
        tags=["bids"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class BidComparisonView(ProjectScopedView):
    @extend_schema(
        summary="Compare the bids side by side, ranked",
        description=(
            "Lab members, once bidding has closed (before: 409 `bids_sealed`). The default ranking is the expected "
            "cost per quality-adjusted unit: unit price / expected accuracy. Until a bidder has a measured quality "
            "history the expected accuracy is the project's SLA minimum, flagged by `accuracy_is_assumption`."
        ),
        parameters=[BidComparisonQuerySerializer, ORG_PARAMETER],
        responses=BidComparisonSerializer,
        tags=["bids"],
    )
    def get(self, request, *args, **kwargs):
        project = self.get_lab_project()
        sort = self.query(BidComparisonQuerySerializer)["sort"]
        rows = selectors.bid_comparison(actor=self.actor, project=project, sort=sort)
        for rank, row in enumerate(rows, 1):
            row.rank = rank
        data = {"project": project.public_id, "sort": sort, "currency": project.currency, "results": rows}
        return Response(BidComparisonSerializer(data).data)


class AwardCreateView(ProjectScopedView):
    @extend_schema(
        summary="Award the project to one or more bids",
        operation_id="projects_award",
        description=(
            "Lab owners and admins, once bidding has closed (before: 409 `bids_sealed`). Allocate volume to live "
            "bids; the volumes add up to at most the project's volume and their cost to at most its budget cap. "
            "Every other live bid loses; every bidder is told. Over volume or budget, or a withdrawn, rejected or "
            "unknown bid: 400 naming the allocation, nothing changed. One award per project: a second answers 409 "
            "`project_already_awarded`. Accepts an `Idempotency-Key`."
        ),
        parameters=[ORG_PARAMETER],
        request=AwardCreateSerializer,
        responses={201: AwardSerializer},
        tags=["bids"],
    )
    def post(self, request, *args, **kwargs):
        project = self.get_managed_project()
        serializer = AwardCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        award = services.award_create(actor=self.actor, project=project, **serializer.service_fields())
        award = Award.objects.select_related("project").prefetch_related("allocations__bid__bidder").get(pk=award.pk)
        return Response(AwardSerializer(award).data, status=status.HTTP_201_CREATED)


# --- questions ----------------------------------------------------------------------------------------------


def _question_context(view, project: Project) -> dict:
    return {"lab_view": view.is_lab_of(project), "organization": view.get_acting_organization()}


class QuestionListView(ProjectScopedListView):
    serializer_class = QuestionSerializer
    pagination_class = OldestFirstCursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Question.objects.none()
        return selectors.question_list(
            actor=self.actor, organization=self.get_acting_organization(), project=self.get_project()
        )

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "swagger_fake_view", False):
            return context
        return {**context, **_question_context(self, self.get_project())}

    @extend_schema(
        summary="A project's clarifying questions, oldest first",
        description=(
            "The lab sees every question with the asker organisation. A bidder sees its own questions and the "
            "publicly answered ones, never who asked them. Whoever may not see the project: 404."
        ),
        parameters=[ORG_PARAMETER],
        tags=["questions"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class QuestionAskView(ProjectScopedView):
    @extend_schema(
        summary="Ask the lab a clarifying question",
        operation_id="questions_ask",
        description=(
            "Vendor owners and managers, and independent experts, while the project is open (then 409 "
            "`project_not_open`). The lab's answer is public to every bidder, without the asker, or private."
        ),
        parameters=[ORG_PARAMETER],
        request=QuestionAskSerializer,
        responses={201: QuestionSerializer},
        tags=["questions"],
    )
    def post(self, request, *args, **kwargs):
        project = self.get_project()
        organization = self.require_organization()
        serializer = QuestionAskSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        question = services.question_ask(
            actor=self.actor, organization=organization, project=project, **serializer.validated_data
        )
        data = QuestionSerializer(question, context=_question_context(self, project)).data
        return Response(data, status=status.HTTP_201_CREATED)


class QuestionRoute(QuestionListView, QuestionAskView):
    """``/projects/{id}/questions/``: GET lists, POST asks."""


class QuestionAnswerView(ProjectScopedView):
    @extend_schema(
        summary="Answer a question, publicly or privately",
        operation_id="questions_answer",
        description=(
            "Lab owners and admins. `public`: every bidder sees question and answer, never who asked; `private`: "
            "only the asker's organisation. Repeating the same answer changes nothing; a different second answer is 409 `question_already_answered`."
        ),
        parameters=[ORG_PARAMETER],
        request=QuestionAnswerSerializer,
        responses=QuestionSerializer,
        tags=["questions"],
    )
    def post(self, request, *args, **kwargs):
        lab = self.require_organization()
        question = selectors.question_get_for_lab(actor=self.actor, lab=lab, public_id=self.kwargs["question_id"])
        require(self.actor, lab, Perm.PROJECTS_MANAGE)
        serializer = QuestionAnswerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.question_answer(actor=self.actor, question=question, **serializer.validated_data)
        return Response(QuestionSerializer(question, context={"lab_view": True}).data)
