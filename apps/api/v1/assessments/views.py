"""v1 Assessments endpoints: tests and their items (authors), attempts (experts), blind grading,
qualifications, calibration rounds and a project's qualification test.

Scope: the acting organisation (``apps/api/v1/experts/scope.py``: an API key's organisation, or a
session's ``?org=`` / active organisation). What each caller may see and do is decided by the
assessments selectors and services; this layer adds only:

- Items with their answer keys reach the test's authors only: acting for the lab that owns the test
  (lab owners and admins, ``assessments.author``; a lab member gets 403). Anyone else, an expert
  above all, gets 404 ``test_not_found`` on ``/items/``, and no other endpoint carries a key.
- Attempts are personal (a session, or a key of the expert's own individual organisation): their
  bodies are built from ``attempt_taker_view`` only, which serves items in shown terms without keys.
- Grading is blind: a task shows the prompt, rubric and answer text, never who wrote it.

Uploads: an items import is ``multipart/form-data``, streamed to the service (not buffered), and does
not use the ``Idempotency-Key`` store (as in ``apps/api/v1/work/views.py``).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from apps.accounts.models import User
from apps.accounts.policies import is_staff_role, require
from apps.accounts.roles import Perm, StaffRole
from apps.api.v1.experts.scope import ORG_PARAMETER
from apps.api.v1.experts.views import OldestFirstCursorPagination, WorkforceListView, WorkforceView
from apps.api.v1.work.views import StreamedUploadMixin, upload_errors, upload_format
from apps.assessments import calibration, selectors, services
from apps.assessments.models import Attempt, CalibrationRound, Qualification, Test
from apps.core.errors import NotFound
from apps.projects import selectors as project_selectors

from .serializers import (
    AnswerInputSerializer,
    AttemptSerializer,
    AttemptStartSerializer,
    AttemptSummarySerializer,
    AuthorItemSerializer,
    CalibrationReportSerializer,
    CalibrationRoundInputSerializer,
    CalibrationRoundSerializer,
    GradedTaskSerializer,
    GradingQueueSerializer,
    GradingScoreSerializer,
    ItemImportResultSerializer,
    ItemImportSerializer,
    ItemInputSerializer,
    ProjectTestInputSerializer,
    ProjectTestSerializer,
    QualificationQuerySerializer,
    QualificationSerializer,
    RevokeSerializer,
    TestInputSerializer,
    TestQuerySerializer,
    TestSerializer,
    report_json,
)

TAGS = ["assessments"]
AUTHORS = "Lab owners and admins of the lab that owns the test (a lab member gets 403; anyone else 404). "


def _test_not_found() -> NotFound:
    return NotFound("Test not found.", code="test_not_found")


# --- scope mixins ----------------------------------------------------------------------------------------------


class _TestMixin:
    def get_test(self) -> Test:
        if not hasattr(self, "_test"):
            self._test = selectors.test_get(
                actor=self.actor, organization=self.get_acting_organization(), public_id=self.kwargs["test_id"]
            )
        return self._test

    def get_authored_test(self) -> Test:
        """The test, for an author acting for the lab that owns it; an expert or another org: 404."""
        test = self.get_test()
        if test.owner_id is None:
            if not is_staff_role(self.actor, StaffRole.OPERATIONS):
                raise _test_not_found()
            return test
        organization = self.get_acting_organization()
        if organization is None or organization.pk != test.owner_id:
            raise _test_not_found()
        require(self.actor, organization, Perm.TESTS_AUTHOR)
        return test

    def test_response(self, test: Test, *, status_code=status.HTTP_200_OK) -> Response:
        test = Test.objects.select_related("owner").get(pk=test.pk)
        return Response(TestSerializer(test).data, status=status_code)


class _AttemptMixin:
    personal = True

    def get_attempt(self) -> Attempt:
        if not hasattr(self, "_attempt"):
            self._attempt = selectors.attempt_get(actor=self.actor, public_id=self.kwargs["attempt_id"])
        return self._attempt

    def attempt_response(self, attempt: Attempt, *, status_code=status.HTTP_200_OK) -> Response:
        attempt = Attempt.objects.select_related("test").get(pk=attempt.pk)
        return Response(AttemptSerializer(attempt).data, status=status_code)


# --- tests -----------------------------------------------------------------------------------------------------


class TestListView(WorkforceListView):
    serializer_class = TestSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Test.objects.none()
        scope = self.query(TestQuerySerializer)["scope"]
        if scope == "authored":
            organization = self.require_organization()
            return selectors.test_list_for_author(actor=self.actor, organization=organization).select_related("owner")
        return selectors.test_list_open(actor=self.actor).select_related("owner")

    @extend_schema(
        summary="Tests: those open to me (default), or the acting lab's (?scope=authored)",
        description=(
            "`scope=open`: the published tests the caller may take. `scope=authored`: every test version of the "
            "acting lab (lab owners and admins). Newest first. No items and no answer keys."
        ),
        parameters=[ORG_PARAMETER, TestQuerySerializer],
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class TestCreateView(WorkforceView):
    @extend_schema(
        summary="Create a draft test for the acting lab",
        operation_id="tests_create",
        description="Lab owners and admins (a lab member gets 403; a supplier or expert 403). Version 1, a draft.",
        parameters=[ORG_PARAMETER],
        request=TestInputSerializer,
        responses={201: TestSerializer},
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        organization = self.require_organization()
        serializer = TestInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        test = services.test_create(actor=self.actor, organization=organization, **serializer.validated_data)
        return Response(TestSerializer(test).data, status=status.HTTP_201_CREATED)


class TestRoute(TestListView, TestCreateView):
    """``/tests/``: GET lists tests, POST creates one."""


class TestDetailView(_TestMixin, WorkforceView):
    @extend_schema(
        summary="One test version (settings; no items, no keys)",
        description="Its authors, and the experts it is open to. Anyone else: 404 `test_not_found`.",
        parameters=[ORG_PARAMETER],
        responses=TestSerializer,
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return self.test_response(self.get_test())

    @extend_schema(
        summary="Change a draft test's settings",
        description=AUTHORS + "Only a draft (a published version is immutable: 409; make a new version).",
        parameters=[ORG_PARAMETER],
        request=TestInputSerializer(partial=True),
        responses=TestSerializer,
        tags=TAGS,
    )
    def patch(self, request, *args, **kwargs):
        test = self.get_authored_test()
        serializer = TestInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        test = services.test_update(actor=self.actor, test=test, **serializer.validated_data)
        return self.test_response(test)


class TestPublishView(_TestMixin, WorkforceView):
    @extend_schema(
        summary="Publish a draft test version",
        description=AUTHORS + "The version becomes immutable and open to takers; a test not ready: 409.",
        parameters=[ORG_PARAMETER],
        request=None,
        responses=TestSerializer,
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        test = self.get_authored_test()
        services.test_publish(actor=self.actor, test=test)
        return self.test_response(test)


class TestNewVersionView(_TestMixin, WorkforceView):
    @extend_schema(
        summary="Start the next version of a published test (a draft copy with its items)",
        description=AUTHORS,
        parameters=[ORG_PARAMETER],
        request=None,
        responses={201: TestSerializer},
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        test = services.test_new_version(actor=self.actor, test=self.get_authored_test())
        return self.test_response(test, status_code=status.HTTP_201_CREATED)


class TestRetireView(_TestMixin, WorkforceView):
    @extend_schema(
        summary="Retire a published test version (no new attempts)",
        description=AUTHORS
        + "Qualifications already granted stay. Retiring a retired test changes nothing; a draft: 409.",
        parameters=[ORG_PARAMETER],
        request=None,
        responses=TestSerializer,
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        test = self.get_authored_test()
        services.test_retire(actor=self.actor, test=test)
        return self.test_response(test)


# --- items (authors only) ------------------------------------------------------------------------------------


class ItemListView(_TestMixin, WorkforceListView):
    serializer_class = AuthorItemSerializer
    pagination_class = OldestFirstCursorPagination

    def get_queryset(self):
        from apps.assessments.models import Item

        if getattr(self, "swagger_fake_view", False):
            return Item.objects.none()
        test = self.get_authored_test()
        return Item.objects.filter(test=test).select_related("answer_key")

    @extend_schema(
        summary="A test's item pool WITH answer keys (authors only)",
        description=AUTHORS + "Experts never reach this endpoint (404).",
        parameters=[ORG_PARAMETER],
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ItemAddView(StreamedUploadMixin, _TestMixin, WorkforceView):
    parser_classes = [JSONParser, MultiPartParser]
    idempotency_note = (
        "Honoured for a JSON body (one item). Not used for a `multipart/form-data` import, which is streamed "
        "rather than buffered."
    )

    @extend_schema(
        summary="Add one item (JSON) or import many (a JSONL or CSV file)",
        operation_id="test_items_add",
        description=AUTHORS
        + "A draft only (409 otherwise). JSON: one item with its key; 201 with the item. `multipart/form-data` "
        "with `file` (JSON Lines of item objects, or CSV with a header; a row names its answer `key`; in CSV `options` and `rubric` as JSON, options also as `a|b|c`) and optionally `format`: every row checked, a bad row refuses the whole import (400 with "
        "`details`); 201 with the count imported.",
        parameters=[ORG_PARAMETER],
        request={"application/json": ItemInputSerializer, "multipart/form-data": ItemImportSerializer},
        responses={201: OpenApiResponse(AuthorItemSerializer, description="The item, or `{imported}` for a file.")},
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        test = self.get_authored_test()
        if request.content_type.startswith("multipart/"):
            serializer = ItemImportSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            upload = serializer.validated_data["file"]
            fmt = upload_format(upload, serializer.validated_data.get("format"))
            with upload_errors():
                result = services.items_import(actor=self.actor, test=test, upload=upload, fmt=fmt)
            return Response(ItemImportResultSerializer({"imported": result}).data, status=status.HTTP_201_CREATED)
        serializer = ItemInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        fields["key"] = fields.pop("answer_key", None)
        item = services.item_add(actor=self.actor, test=test, **fields)
        from apps.assessments.models import Item

        item = Item.objects.select_related("answer_key").get(pk=item.pk)
        return Response(AuthorItemSerializer(item).data, status=status.HTTP_201_CREATED)


class ItemRoute(ItemListView, ItemAddView):
    """``/tests/{id}/items/``: GET lists the pool with keys, POST adds or imports (authors only)."""


# --- attempts (the taker) ------------------------------------------------------------------------------------


class AttemptStartView(_TestMixin, _AttemptMixin, WorkforceView):
    @extend_schema(
        summary="Start an attempt at a published test",
        description=(
            "The expert (a session or their individual organisation's key). Items are sampled and shuffled; "
            "the response lists them in shown order, without keys. Attempts used up, a cooldown running or an "
            "attempt already in progress: 409. A calibration test is taken within a round the expert's supplier "
            "is invited to (`calibration_round`); otherwise 404."
        ),
        parameters=[ORG_PARAMETER],
        request=AttemptStartSerializer,
        responses={201: AttemptSerializer},
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        serializer = AttemptStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        test = self.get_test()
        round_ = None
        round_id = serializer.validated_data.get("calibration_round")
        if round_id is not None:
            round_ = CalibrationRound.objects.filter(public_id=round_id, test=test).first()
            if round_ is None or not calibration.calibration_round_can_attempt(round=round_, expert=self.actor):
                raise _test_not_found()
        attempt = services.attempt_start(actor=self.actor, test=test, calibration_round=round_)
        return self.attempt_response(attempt, status_code=status.HTTP_201_CREATED)


class AttemptListView(_AttemptMixin, WorkforceListView):
    serializer_class = AttemptSummarySerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Attempt.objects.none()
        return selectors.attempt_list_for_expert(actor=self.actor).select_related("test")

    @extend_schema(summary="My attempts, newest first", tags=TAGS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class AttemptDetailView(_AttemptMixin, WorkforceView):
    @extend_schema(
        summary="My attempt: its items in shown order with my saved answers (never a key)",
        description="The taker only (anyone else: 404). After grading, the score and breakdown.",
        responses=AttemptSerializer,
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return self.attempt_response(self.get_attempt())


class AttemptAnswerView(_AttemptMixin, WorkforceView):
    @extend_schema(
        summary="Autosave one answer (in shown terms)",
        description=(
            "The taker, while the attempt is in progress and before its deadline (409 otherwise). The last answer "
            "saved for an item wins. A malformed answer: 400. The response is the attempt, as on GET."
        ),
        request=AnswerInputSerializer,
        responses=AttemptSerializer,
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        attempt = self.get_attempt()
        serializer = AnswerInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.attempt_answer(actor=self.actor, attempt=attempt, item_public_id=data["item"], answer=data["answer"])
        return self.attempt_response(attempt)


class AttemptSubmitView(_AttemptMixin, WorkforceView):
    @extend_schema(
        summary="Submit my attempt for grading",
        description=(
            "Objective items are graded at once; with free-text items the attempt awaits its graders "
            "(`grading`). Already submitted: 409."
        ),
        request=None,
        responses=AttemptSerializer,
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        attempt = services.attempt_submit(actor=self.actor, attempt=self.get_attempt())
        return self.attempt_response(attempt)


# --- grading -------------------------------------------------------------------------------------------------


class GradingQueueView(WorkforceView):
    @extend_schema(
        summary="Free-text answers waiting for my grading, oldest first (blind)",
        description=(
            "The lab's test authors (owners and admins) for the lab's tests; platform operations for platform tests. "
            "Graders see the test title, prompt, rubric and answer text only: never the expert or the attempt. "
            "Tasks claimed by another grader, and answers whose other slot I grade, are not listed. Not paginated."
        ),
        responses=GradingQueueSerializer,
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        rows = selectors.grading_queue(actor=self.actor)
        return Response(GradingQueueSerializer({"results": rows}).data)


class GradingScoreView(WorkforceView):
    @extend_schema(
        summary="Claim and score a grading task",
        description=(
            "A grader the task is queued for. `criterion_points`: one number per rubric criterion, each at most "
            "the criterion's points (400 otherwise). Taken or scored by another grader: 409."
        ),
        parameters=[ORG_PARAMETER],
        request=GradingScoreSerializer,
        responses=GradedTaskSerializer,
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        serializer = GradingScoreSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        task = selectors.grading_task_get(actor=self.actor, public_id=self.kwargs["task_id"])
        task = services.grading_claim(actor=self.actor, task=task)
        task = services.grading_score(
            actor=self.actor, task=task, criterion_points=serializer.validated_data["criterion_points"]
        )
        return Response(GradedTaskSerializer(task).data)


# --- qualifications --------------------------------------------------------------------------------------------


class QualificationListView(WorkforceListView):
    serializer_class = QualificationSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Qualification.objects.none()
        expert_id = self.query(QualificationQuerySerializer).get("expert")
        expert = None
        if expert_id is not None:
            expert = User.objects.filter(public_id=expert_id).first()
            if expert is None:
                return Qualification.objects.none()
        return selectors.qualification_list(actor=self.actor, expert=expert).select_related(
            "test", "expert__expert_profile"
        )

    @extend_schema(
        summary="Qualifications: mine, or (lab authors, operations) those granted by our tests",
        parameters=[ORG_PARAMETER, QualificationQuerySerializer],
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class QualificationRevokeView(WorkforceView):
    @extend_schema(
        summary="Revoke a qualification, with a reason",
        description="Platform operations, with a browser session (anyone else: 403). Revoking again changes nothing.",
        parameters=[ORG_PARAMETER],
        request=RevokeSerializer,
        responses=QualificationSerializer,
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        serializer = RevokeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        qualification = (
            selectors.qualification_list(actor=self.actor).filter(public_id=self.kwargs["qualification_id"]).first()
        )
        if qualification is None:
            raise NotFound("Qualification not found.", code="qualification_not_found")
        services.qualification_revoke(
            actor=self.actor, qualification=qualification, reason=serializer.validated_data["reason"]
        )
        qualification = Qualification.objects.select_related("test", "expert").get(pk=qualification.pk)
        return Response(QualificationSerializer(qualification).data)


# --- calibration rounds ----------------------------------------------------------------------------------------


class CalibrationRoundListView(WorkforceListView):
    serializer_class = CalibrationRoundSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CalibrationRound.objects.none()
        return (
            calibration.calibration_round_list(actor=self.actor, organization=self.require_organization())
            .select_related("lab", "test", "pilot_project")
            .prefetch_related("suppliers")
        )

    @extend_schema(
        summary="Calibration rounds of the acting lab (or sent to the acting supplier)",
        parameters=[ORG_PARAMETER],
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class CalibrationRoundCreateView(WorkforceView):
    @extend_schema(
        summary="Send a calibration test to chosen suppliers, with a deadline",
        operation_id="calibration_rounds_create",
        description="Lab owners and admins, with a published calibration test of the lab.",
        parameters=[ORG_PARAMETER],
        request=CalibrationRoundInputSerializer,
        responses={201: CalibrationRoundSerializer},
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        organization = self.require_organization()
        serializer = CalibrationRoundInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        test = selectors.test_get(actor=self.actor, organization=organization, public_id=data["test"])
        pilot = None
        if data.get("pilot_project"):
            pilot = project_selectors.project_get(
                actor=self.actor, organization=organization, public_id=data["pilot_project"]
            )
        round_ = calibration.calibration_round_create(
            actor=self.actor,
            lab=organization,
            test=test,
            title=data["title"],
            deadline=data["deadline"],
            suppliers=data["suppliers"],
            pilot_project=pilot,
        )
        return Response(CalibrationRoundSerializer(round_).data, status=status.HTTP_201_CREATED)


class CalibrationRoundRoute(CalibrationRoundListView, CalibrationRoundCreateView):
    """``/calibration-rounds/``: GET lists, POST creates."""


class CalibrationReportView(WorkforceView):
    @extend_schema(
        summary="A calibration round's report: per supplier scores and agreement",
        description="The lab that ran the round. Anyone else: 404.",
        parameters=[ORG_PARAMETER],
        responses=CalibrationReportSerializer,
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        round_ = calibration.calibration_round_get(
            actor=self.actor, organization=self.require_organization(), public_id=self.kwargs["round_id"]
        )
        report = calibration.calibration_report(actor=self.actor, round=round_)
        return Response(CalibrationReportSerializer(report_json(report)).data)


class CalibrationRoundCloseView(WorkforceView):
    @extend_schema(
        summary="Close a calibration round (no new attempts)",
        description=(
            "Lab owners and admins of the lab that ran the round (a lab member gets 403; anyone else, an invited "
            "supplier included, 404). Closing a closed round changes nothing."
        ),
        parameters=[ORG_PARAMETER],
        request=None,
        responses=CalibrationRoundSerializer,
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        organization = self.require_organization()
        round_ = calibration.calibration_round_get(
            actor=self.actor, organization=organization, public_id=self.kwargs["round_id"]
        )
        if round_.lab_id != organization.pk:
            raise NotFound("Calibration round not found.", code="calibration_round_not_found")
        calibration.calibration_round_close(actor=self.actor, round=round_)
        round_ = (
            CalibrationRound.objects.select_related("lab", "test", "pilot_project")
            .prefetch_related("suppliers")
            .get(pk=round_.pk)
        )
        return Response(CalibrationRoundSerializer(round_).data)


# --- project requirement -----------------------------------------------------------------------------------------


class ProjectTestView(WorkforceView):
    @extend_schema(
        summary="Set the project's qualification test",
        description=(
            "The lab that owns the project (owners and admins). Experts then need a current qualification in the "
            "test's family to be assigned."
        ),
        parameters=[ORG_PARAMETER],
        request=ProjectTestInputSerializer,
        responses=ProjectTestSerializer,
        tags=TAGS,
    )
    def put(self, request, *args, **kwargs):
        organization = self.require_organization()
        project = project_selectors.project_get(
            actor=self.actor, organization=organization, public_id=self.kwargs["project_id"]
        )
        serializer = ProjectTestInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        test = selectors.test_get(
            actor=self.actor, organization=organization, public_id=serializer.validated_data["test"]
        )
        requirement = services.project_test_require(actor=self.actor, project=project, test=test)
        return Response(ProjectTestSerializer(requirement).data)
