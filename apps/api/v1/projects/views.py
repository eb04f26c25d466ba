"""v1 Projects endpoints: the lab's projects (draft, edit, publish, close bidding, start, complete,
cancel), the suppliers' marketplace, guideline versions and their acknowledgements.

Two lists, by audience: ``GET /projects/`` is the acting lab's own projects (a supplier gets 403 and
uses ``GET /marketplace/``, the open projects it may see, with filters). ``GET /projects/{id}/``
serves both: the lab sees its project (with ``invited_organizations``), a supplier a project visible
to it; anything else is a 404. Scope rules: ``scope.py``.
"""

from __future__ import annotations

from django.db.models import OuterRef, Subquery
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from apps.accounts.policies import require
from apps.accounts.roles import Perm
from apps.api.pagination import CursorPagination
from apps.api.v1.experts.scope import ORG_PARAMETER
from apps.bidding import services as bidding_services
from apps.projects import selectors, services
from apps.projects.models import GuidelineAcknowledgement, GuidelineVersion, Project

from . import filters
from .scope import ProjectScopedListView, ProjectScopedView
from .serializers import (
    AcknowledgementListSerializer,
    AcknowledgementSerializer,
    CancelSerializer,
    GuidelinePublishSerializer,
    GuidelineVersionSerializer,
    MarketplaceQuerySerializer,
    ProjectRows,
    ProjectSerializer,
    ProjectWriteSerializer,
)

TAGS = ["projects"]


class DeadlineFirstCursorPagination(CursorPagination):
    """The marketplace: the soonest bid deadline first."""

    ordering = ("bid_deadline", "id")


def _project_response(view, project: Project, *, status_code=status.HTTP_200_OK) -> Response:
    data = ProjectSerializer(project, context={"lab_view": view.is_lab_of(project)}).data
    return Response(data, status=status_code)


# --- projects ----------------------------------------------------------------------------------------------


class ProjectListView(ProjectScopedListView):
    serializer_class = ProjectSerializer
    row_source = ProjectRows()
    filterset_class = filters.LabProjectFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Project.objects.none()
        return selectors.project_list_for_lab(actor=self.actor, lab=self.require_organization())

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "lab_view": True}

    @extend_schema(
        summary="The acting lab's projects, newest first",
        description=(
            "Lab members only; a vendor or independent expert gets 403 `role_not_allowed` and browses "
            "`GET /marketplace/` instead. Drafts included."
        ),
        parameters=[ORG_PARAMETER],
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ProjectCreateView(ProjectScopedView):
    @extend_schema(
        summary="Draft a project",
        operation_id="projects_create",
        description=(
            "Lab owners and admins. A draft may be incomplete; only `title` is required. Each bad field is named "
            "in a 400, and nothing is saved. The budget cap's currency is the project's (`currency`, default USD)."
        ),
        parameters=[ORG_PARAMETER],
        request=ProjectWriteSerializer,
        responses={201: ProjectSerializer},
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        lab = self.require_organization()
        require(self.actor, lab, Perm.PROJECTS_MANAGE)
        serializer = ProjectWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = services.project_create(actor=self.actor, lab=lab, **serializer.service_fields())
        return _project_response(self, project, status_code=status.HTTP_201_CREATED)


class ProjectCollectionRoute(ProjectListView, ProjectCreateView):
    """``/projects/``: GET lists the acting lab's projects, POST drafts one."""


class ProjectDetailView(ProjectScopedView):
    @extend_schema(
        summary="One project",
        description=(
            "The lab sees its own projects (drafts too); a vendor or independent expert sees a published project "
            "that is public or invited it. Anything else: 404."
        ),
        parameters=[ORG_PARAMETER],
        responses=ProjectSerializer,
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return _project_response(self, self.get_project())


class ProjectUpdateView(ProjectScopedView):
    @extend_schema(
        summary="Edit a draft",
        description=(
            "Lab owners and admins; send only the fields to change. A published project answers 409 "
            "`project_not_draft`. Bad fields: 400 naming each, nothing changed."
        ),
        parameters=[ORG_PARAMETER],
        request=ProjectWriteSerializer,
        responses=ProjectSerializer,
        tags=TAGS,
    )
    def patch(self, request, *args, **kwargs):
        project = self.get_managed_project()
        serializer = ProjectWriteSerializer(data=request.data, project=project)
        serializer.is_valid(raise_exception=True)
        project = services.project_update(actor=self.actor, project=project, **serializer.service_fields())
        return _project_response(self, project)


class ProjectRoute(ProjectDetailView, ProjectUpdateView):
    """``/projects/{id}/``: GET reads, PATCH edits a draft."""


class _ProjectTransitionView(ProjectScopedView):
    """A bodiless lab transition: look the project up, call one service, answer the project."""

    def perform(self, project: Project) -> None:
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        project = self.get_managed_project()
        self.perform(project)
        return _project_response(self, project)


class ProjectPublishView(_ProjectTransitionView):
    @extend_schema(
        summary="Publish a draft: open it for bids",
        operation_id="projects_publish",
        description=(
            "Lab owners and admins. An incomplete draft answers 400 `project_incomplete` whose `details` name every "
            "missing or inconsistent field (e.g. `budget_cap`, `bid_deadline`, `guidelines`); nothing changes. "
            "Invited organisations are notified. Publishing again changes nothing."
        ),
        parameters=[ORG_PARAMETER],
        request=None,
        responses=ProjectSerializer,
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def perform(self, project):
        services.project_publish(actor=self.actor, project=project)


class ProjectCloseBiddingView(_ProjectTransitionView):
    @extend_schema(
        summary="Close bidding early",
        operation_id="projects_close_bidding",
        description=(
            "Lab owners and admins. Bidding also closes by itself at the deadline. From then on the lab sees the "
            "bids; bidders are told. Closing again changes nothing; a project not open answers 409."
        ),
        parameters=[ORG_PARAMETER],
        request=None,
        responses=ProjectSerializer,
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def perform(self, project):
        bidding_services.project_close_bidding(actor=self.actor, project=project)


class ProjectStartView(_ProjectTransitionView):
    @extend_schema(
        summary="Mark an awarded project as in progress",
        operation_id="projects_start",
        description="Lab owners and admins. Repeating it changes nothing; a project not awarded answers 409.",
        parameters=[ORG_PARAMETER],
        request=None,
        responses=ProjectSerializer,
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def perform(self, project):
        services.project_start(actor=self.actor, project=project)


class ProjectCompleteView(_ProjectTransitionView):
    @extend_schema(
        summary="Mark an in-progress project as completed",
        operation_id="projects_complete",
        description="Lab owners and admins. Repeating it changes nothing; a project not in progress answers 409.",
        parameters=[ORG_PARAMETER],
        request=None,
        responses=ProjectSerializer,
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def perform(self, project):
        services.project_complete(actor=self.actor, project=project)


class ProjectCancelView(ProjectScopedView):
    @extend_schema(
        summary="Cancel a project, with a reason every bidder sees",
        operation_id="projects_cancel",
        description=(
            "Lab owners and admins, at any point before completion. Bidders are told. Cancelling again changes "
            "nothing; a completed project answers 409."
        ),
        parameters=[ORG_PARAMETER],
        request=CancelSerializer,
        responses=ProjectSerializer,
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        project = self.get_managed_project()
        serializer = CancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        bidding_services.project_cancel(actor=self.actor, project=project, **serializer.validated_data)
        return _project_response(self, project)


# --- the marketplace ------------------------------------------------------------------------------------------


class MarketplaceView(ProjectScopedListView):
    serializer_class = ProjectSerializer
    row_source = ProjectRows()
    pagination_class = DeadlineFirstCursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Project.objects.none()
        query = self.query(MarketplaceQuerySerializer)
        return selectors.project_marketplace_list(
            actor=self.actor, organization=self.require_organization(), filters=selectors.MarketplaceFilter(**query)
        )

    @extend_schema(
        summary="Open projects the acting supplier may bid on, soonest deadline first",
        description=(
            "Vendors and independent experts (a lab gets 403). Public projects and those that invited the acting "
            "organisation, while open for bids. An unknown `domain` is a 400 naming `domain`."
        ),
        parameters=[MarketplaceQuerySerializer, ORG_PARAMETER],
        tags=["marketplace"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


# --- guidelines ----------------------------------------------------------------------------------------------


class GuidelineListView(ProjectScopedListView):
    serializer_class = GuidelineVersionSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return GuidelineVersion.objects.none()
        project = self.get_project()
        mine = GuidelineAcknowledgement.objects.filter(version=OuterRef("pk"), user=self.actor).values("created_at")
        return (
            GuidelineVersion.objects.filter(project=project)
            .select_related("project")
            .annotate(acknowledged_at=Subquery(mine[:1]))
        )

    @extend_schema(
        summary="A project's guideline versions, newest first",
        description=(
            "Whoever may see the project (404 otherwise). `acknowledged_at` says whether the caller acknowledged "
            "each version."
        ),
        parameters=[ORG_PARAMETER],
        tags=["guidelines"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class GuidelinePublishView(ProjectScopedView):
    @extend_schema(
        summary="Publish the next guideline version",
        operation_id="guidelines_publish",
        description=(
            "Lab owners and admins. Markdown, rendered to sanitised HTML. From v2 on, `change_summary` is required "
            "and everyone who acknowledged an earlier version is asked to acknowledge this one. A cancelled or "
            "completed project answers 409 `project_closed`."
        ),
        parameters=[ORG_PARAMETER],
        request=GuidelinePublishSerializer,
        responses={201: GuidelineVersionSerializer},
        tags=["guidelines"],
    )
    def post(self, request, *args, **kwargs):
        project = self.get_managed_project()
        serializer = GuidelinePublishSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = services.guideline_publish(actor=self.actor, project=project, **serializer.validated_data)
        return Response(GuidelineVersionSerializer(version).data, status=status.HTTP_201_CREATED)


class GuidelineRoute(GuidelineListView, GuidelinePublishView):
    """``/projects/{id}/guidelines/``: GET lists the versions, POST publishes the next."""


class GuidelineAcknowledgeView(ProjectScopedView):
    @extend_schema(
        summary="Acknowledge having read a guideline version",
        operation_id="guidelines_acknowledge",
        description=(
            "Members of a vendor or independent expert organisation that may see the project (a lab gets 403, "
            "anyone else 404), acting for that organisation. Acknowledging again changes nothing."
        ),
        parameters=[ORG_PARAMETER],
        request=None,
        responses=AcknowledgementSerializer,
        tags=["guidelines"],
    )
    def post(self, request, *args, **kwargs):
        organization = self.get_acting_organization()
        version = selectors.guideline_get(
            actor=self.actor, organization=organization, public_id=self.kwargs["guideline_id"]
        )
        ack = services.guideline_acknowledge(actor=self.actor, organization=organization, version=version)
        return Response(AcknowledgementSerializer(ack).data)


class AcknowledgementListView(ProjectScopedListView):
    serializer_class = AcknowledgementListSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return GuidelineAcknowledgement.objects.none()
        return selectors.guideline_acknowledgements(actor=self.actor, project=self.get_lab_project())

    @extend_schema(
        summary="Who acknowledged which guideline version",
        description=(
            "The lab only. Each row names the expert by pseudonymous `expert_handle` and their organisation, never "
            "by name or e-mail (an independent expert's organisation, named after the person, has a null `name`)."
        ),
        parameters=[ORG_PARAMETER],
        tags=["guidelines"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
