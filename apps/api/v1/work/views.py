"""v1 Work endpoints: the lab's gold items, work batches delivered under a contract (streamed
JSONL/CSV upload), their judgments, the lab's review, appeals decided by platform operations, and
the provenance datasheet of an accepted batch.

Scope: the acting organisation (``apps/api/v1/experts/scope.py``: an API key's organisation, or a
session's ``?org=`` / active organisation).

- Gold items are the lab's alone: acting for anyone but the lab that owns the project (a supplier,
  its experts, another lab) the gold endpoints answer 404, and no other endpoint carries a gold
  answer or marks which items are gold.
- Batches, judgments, datasheets and appeals reach the contract's two parties, with
  ``contracts.view`` (lab members; vendor owners and managers; the independent expert; a vendor's
  experts get 403). Anyone else: 404.
- Delivering and appealing need ``work.submit`` (the supplier); uploading gold and reviewing need
  ``work.review`` (lab owners and admins: a lab member gets 403).
- Appeals are decided by platform operations, with a browser session (with an API key staff powers
  are dropped): anyone else gets 404.

Uploads: ``multipart/form-data`` files are handed to the services as the uploaded file object
(Django spools a large one to disk) and read there in blocks: never read whole into memory here.
For the same reason a multipart upload does not use the ``Idempotency-Key`` store, which
fingerprints the whole body: a batch is idempotent by its ``client_batch_key``, a gold upload by
its nature (the same upload again changes nothing).
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from pathlib import PurePosixPath

from django.db.models import F
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from apps.accounts.policies import is_staff_role, require
from apps.accounts.roles import OrgKind, Perm, StaffRole
from apps.api import idempotency
from apps.api.pagination import CursorPagination
from apps.api.schema import ApiAutoSchema
from apps.api.v1.experts.scope import ORG_PARAMETER
from apps.api.v1.experts.views import OldestFirstCursorPagination, WorkforceListView, WorkforceView
from apps.contracts import selectors as contract_selectors
from apps.contracts.models import Contract
from apps.core.errors import NotFound, PermissionDenied, ValidationFailed
from apps.projects import selectors as project_selectors
from apps.projects.models import Project
from apps.work import datasheet, selectors, services
from apps.work.models import Appeal, GoldItem, Judgment, WorkBatch

from . import filters
from .serializers import (
    AppealDecideSerializer,
    AppealOpenSerializer,
    AppealQuerySerializer,
    AppealSerializer,
    BatchPartialAcceptSerializer,
    BatchRejectSerializer,
    BatchRows,
    BatchSerializer,
    BatchUploadSerializer,
    DatasheetSerializer,
    GoldFileUploadSerializer,
    GoldItemInputSerializer,
    GoldItemSerializer,
    GoldUploadResultSerializer,
    JudgmentSerializer,
)

TAGS = ["work"]
_JSONL_TYPES = {
    "application/jsonl",
    "application/jsonlines",
    "application/json-lines",
    "application/x-jsonlines",
    "application/x-json-lines",
    "application/ndjson",
    "application/x-ndjson",
}
_CSV_TYPES = {"text/csv", "application/csv", "text/comma-separated-values"}
_EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
ROW_ERRORS = (
    "A bad row anywhere refuses the whole upload and stores nothing: 400 `invalid` with `details.rows`, a list of "
    "`{row, field, reason}` (JSONL: the line number; CSV: the record number, the header being row 1; `field` null "
    "for the whole row; the first 1,000 listed) and `details.error_count`, every bad row counted."
)


# --- helpers -------------------------------------------------------------------------------------------


def upload_format(upload, explicit: str | None) -> str:
    """``jsonl`` or ``csv``: as given, else from the file part's content type, else from its name."""
    if explicit:
        return explicit
    content_type = (getattr(upload, "content_type", "") or "").split(";")[0].strip().lower()
    if content_type in _JSONL_TYPES:
        return "jsonl"
    if content_type in _CSV_TYPES:
        return "csv"
    found = _EXTENSIONS.get(PurePosixPath(getattr(upload, "name", "") or "").suffix.lower())
    if found:
        return found
    raise ValidationFailed(
        "Give the file's format (jsonl or csv): it cannot be told from its content type or name.",
        details={"format": ["One of: jsonl, csv."]},
    )


@contextmanager
def upload_errors(upload_field: str = "file"):
    """Name the API's fields in an upload refusal (the services say ``upload`` and ``fmt``)."""
    try:
        yield
    except ValidationFailed as exc:
        for service_name, api_name in (("upload", upload_field), ("fmt", "format")):
            if service_name in exc.details:
                exc.details[api_name] = exc.details.pop(service_name)
        raise


class StreamedUploadSchema(ApiAutoSchema):
    """Documents how the ``Idempotency-Key`` applies to an endpoint taking a streamed upload
    (the view's ``idempotency_note``)."""

    def get_override_parameters(self):
        parameters = []
        for parameter in super().get_override_parameters():
            name = getattr(parameter, "name", None)
            if name == idempotency.REPLAYED_HEADER and not self.view.idempotency_replays:
                continue  # never a stored replay
            if name == idempotency.HEADER:
                parameter = copy.copy(parameter)
                parameter.description = self.view.idempotency_note
            parameters.append(parameter)
        return parameters


class StreamedUploadMixin:
    """A ``multipart/form-data`` body is never buffered whole to fingerprint an ``Idempotency-Key``
    (``ApiView.initial`` would read ``request.body``): the header is not used for such a request."""

    schema = StreamedUploadSchema()
    idempotency_note = ""
    idempotency_replays = True  # whether any request (a JSON one) may be answered from the store

    def initial(self, request, *args, **kwargs):
        if request.content_type.startswith("multipart/"):
            return GenericAPIView.initial(self, request, *args, **kwargs)
        return super().initial(request, *args, **kwargs)


class _JsonForErrors(BaseContentNegotiation):
    """The datasheet picks its own format (``?format=`` or ``Accept``); errors are the JSON envelope."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class UploadOrderCursorPagination(CursorPagination):
    """Judgments in upload order; larger pages for pulling a batch's data."""

    ordering = ("id",)
    page_size = 100
    max_page_size = 1000


class GoldOrderCursorPagination(CursorPagination):
    ordering = ("item_id", "id")


# --- scope mixins ------------------------------------------------------------------------------------------


class _ContractMixin:
    def get_contract(self) -> Contract:
        if not hasattr(self, "_contract"):
            self._contract = contract_selectors.contract_get(
                actor=self.actor, organization=self.get_acting_organization(), public_id=self.kwargs["contract_id"]
            )
        return self._contract


class _BatchMixin:
    def get_batch(self) -> WorkBatch:
        if not hasattr(self, "_batch"):
            self._batch = selectors.batch_get(
                actor=self.actor, organization=self.get_acting_organization(), public_id=self.kwargs["batch_id"]
            )
        return self._batch

    def batch_response(self, batch: WorkBatch, *, status_code=status.HTTP_200_OK) -> Response:
        """The batch as it is now, read again through the scoped selector."""
        fresh = (
            selectors.batch_list(actor=self.actor, organization=self.get_acting_organization())
            .select_related("appeal")
            .get(pk=batch.pk)
        )
        return Response(BatchSerializer(fresh).data, status=status_code)

    def appeal_response(self, appeal: Appeal, *, status_code=status.HTTP_200_OK) -> Response:
        appeal = Appeal.objects.select_related(
            "batch__contract__project", "batch__contract__lab", "batch__contract__supplier"
        ).get(pk=appeal.pk)
        return Response(AppealSerializer(appeal).data, status=status_code)


class _GoldMixin:
    def get_gold_project(self) -> Project:
        """One of the acting lab's projects, for its members; a supplier or an expert: 404."""
        if not hasattr(self, "_project"):
            organization = self.get_acting_organization()
            if organization is None or organization.kind != OrgKind.LAB:
                raise NotFound("Gold items not found.", code="gold_not_found")
            project = project_selectors.project_get(
                actor=self.actor, organization=organization, public_id=self.kwargs["project_id"]
            )
            selectors.gold_list(actor=self.actor, organization=organization, project=project)  # the lab's only
            self._project = project
        return self._project


# --- gold ----------------------------------------------------------------------------------------------------


class GoldListView(_GoldMixin, WorkforceListView):
    serializer_class = GoldItemSerializer
    pagination_class = GoldOrderCursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return GoldItem.objects.none()
        return selectors.gold_list(
            actor=self.actor, organization=self.get_acting_organization(), project=self.get_gold_project()
        )

    @extend_schema(
        summary="The project's gold items (the lab only), by item id",
        description=(
            "Members of the lab that owns the project. Gold answers are hidden from every supplier and expert: "
            "acting for a supplier (or for another lab), 404 `gold_not_found` (or `project_not_found`)."
        ),
        parameters=[ORG_PARAMETER],
        tags=["gold"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class GoldUploadView(StreamedUploadMixin, _GoldMixin, WorkforceView):
    parser_classes = [JSONParser, MultiPartParser]
    idempotency_note = (
        "Honoured for a JSON body (a repeat replays the first response). Not used for a `multipart/form-data` "
        "upload, which is streamed rather than buffered: uploading the same gold again changes nothing anyway."
    )

    @extend_schema(
        summary="Upload gold items: a JSONL or CSV file, or a JSON list",
        operation_id="gold_upload",
        description=(
            "Lab owners and admins (a lab member gets 403; a supplier or expert 404). Either `multipart/form-data` "
            'with `file` (JSON Lines of `{"item_id", "answer"}` objects, or CSV with the header `item_id,answer`) '
            "and optionally `format` (`jsonl` or `csv`; by default from the file's content type or name), or a "
            'JSON list of `{"item_id", "answer"}` objects (row numbers count from 1). Answers must be in the '
            "label set of every contract on the project with terms in force. The last upload wins: an item already "
            "in the gold set gets the new answer, items not in the upload are kept. " + ROW_ERRORS
        ),
        parameters=[ORG_PARAMETER],
        request={
            "application/json": GoldItemInputSerializer(many=True),
            "multipart/form-data": GoldFileUploadSerializer,
        },
        responses=GoldUploadResultSerializer,
        tags=["gold"],
    )
    def post(self, request, *args, **kwargs):
        project = self.get_gold_project()
        require(self.actor, project.lab, Perm.WORK_REVIEW)  # before the body is read
        if request.content_type.startswith("multipart/"):
            serializer = GoldFileUploadSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            rows = serializer.validated_data["file"]
            fmt, upload_field = upload_format(rows, serializer.validated_data.get("format")), "file"
        else:
            rows, fmt, upload_field = request.data, None, "non_field_errors"
            if not isinstance(rows, list):
                raise ValidationFailed(
                    "Send a JSON list of {item_id, answer} objects, or a file as multipart/form-data.",
                    details={"non_field_errors": ["A JSON list of {item_id, answer} objects."]},
                )
        with upload_errors(upload_field):
            result = services.gold_upload(actor=self.actor, project=project, rows=rows, fmt=fmt)
        return Response(GoldUploadResultSerializer(result).data)


class GoldRoute(GoldListView, GoldUploadView):
    """``/projects/{id}/gold/``: GET lists the gold items, POST uploads some."""


# --- batches -------------------------------------------------------------------------------------------------


class BatchListView(_ContractMixin, WorkforceListView):
    serializer_class = BatchSerializer  # the schema; the page is read and rendered by ``row_source``
    row_source = BatchRows()
    filterset_class = filters.BatchFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WorkBatch.objects.none()
        contract = self.get_contract()
        return selectors.batch_list(
            actor=self.actor, organization=self.get_acting_organization(), contract_id=contract.pk
        ).select_related("appeal")

    def get_serializer_context(self):
        # The list's one contract, already read to scope it: ``BatchRows`` renders its parties from it.
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["contract"] = self.get_contract()
        return context

    @extend_schema(
        summary="A contract's work batches, newest first",
        description="Either party (a vendor's experts get 403). Anyone else: 404 `contract_not_found`.",
        parameters=[ORG_PARAMETER],
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class BatchCreateView(StreamedUploadMixin, _ContractMixin, _BatchMixin, WorkforceView):
    parser_classes = [MultiPartParser]
    idempotency_replays = False
    idempotency_note = (
        "Not used by this endpoint (the upload is streamed, not buffered to fingerprint it): `client_batch_key` "
        "makes the delivery idempotent instead. The same key with the same period, units and file returns the "
        "stored batch (200); with anything else, 409 `batch_key_reused`."
    )

    @extend_schema(
        summary="Deliver a batch of judgments: a JSONL or CSV file, streamed",
        operation_id="batches_create",
        description=(
            "The supplier's owners and managers, or the independent expert (a lab gets 403), on an active contract "
            "(otherwise 409 `contract_not_active`). `multipart/form-data` with `file`, `client_batch_key`, "
            "`period_start`, `period_end`, `unit_count` and optionally `format` (`jsonl` or `csv`; by default from "
            "the file's content type or name). Each row is one judgment by an expert actively assigned to the "
            "contract, with a label of the contract's label set. 201 with the new batch, awaiting the lab's review "
            "until `review_due_at` (then accepted automatically). A retry with the same `client_batch_key`, period, "
            "units and file content: 200 with the stored batch; the key with anything else: 409 `batch_key_reused`. "
            "Units beyond the contract's remaining volume: 400 `volume_exceeded`. " + ROW_ERRORS
        ),
        parameters=[ORG_PARAMETER],
        request={"multipart/form-data": BatchUploadSerializer},
        responses={201: BatchSerializer, 200: BatchSerializer},
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        contract = self.get_contract()
        organization = self.require_organization()
        require(self.actor, organization, Perm.WORK_SUBMIT)  # before the upload is read
        serializer = BatchUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        upload = data["file"]
        fmt = upload_format(upload, data.get("format"))
        retry = WorkBatch.objects.filter(contract=contract, client_batch_key=data["client_batch_key"]).exists()
        with upload_errors():
            batch = services.batch_submit(
                actor=self.actor,
                organization=organization,
                contract=contract,
                client_batch_key=data["client_batch_key"],
                period_start=data["period_start"],
                period_end=data["period_end"],
                unit_count=data["unit_count"],
                upload=upload,
                fmt=fmt,
            )
        return self.batch_response(batch, status_code=status.HTTP_200_OK if retry else status.HTTP_201_CREATED)


class BatchRoute(BatchListView, BatchCreateView):
    """``/contracts/{id}/batches/``: GET lists the contract's batches, POST delivers one."""


class BatchDetailView(_BatchMixin, WorkforceView):
    @extend_schema(
        summary="One work batch: counts, status, review, terms and guideline versions, due dates",
        description=(
            "Either party. `contract_version` is the number of the terms the batch was delivered against (their "
            "label set decodes its judgments); `review_due_at` when it is accepted automatically if unreviewed; "
            "`appeal_due_at` until when a rejection may be appealed. Anyone else: 404 `batch_not_found`."
        ),
        parameters=[ORG_PARAMETER],
        responses=BatchSerializer,
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return self.batch_response(self.get_batch())


class _ReviewView(_BatchMixin, WorkforceView):
    def get_review_batch(self) -> WorkBatch:
        """The batch, for a reviewer of the lab that is party to it (a supplier or lab member: 403)."""
        batch = self.get_batch()
        organization = self.require_organization()
        require(self.actor, organization, Perm.WORK_REVIEW)
        if organization.pk != batch.contract.lab_id:
            raise PermissionDenied("Only the lab reviews a batch.", code="lab_only")
        return batch


REVIEW_ACCESS = "Lab owners and admins (a lab member or the supplier gets 403; anyone else 404). "


class BatchAcceptView(_ReviewView):
    @extend_schema(
        summary="Accept every unit of a submitted batch",
        operation_id="batches_accept",
        description=(
            REVIEW_ACCESS + "Allowed while the batch awaits review, even after `review_due_at`. Accepting again "
            "changes nothing; a batch already reviewed otherwise: 409 (e.g. `workbatch_not_submitted`). The "
            "supplier is told."
        ),
        parameters=[ORG_PARAMETER],
        request=None,
        responses=BatchSerializer,
        tags=["review"],
    )
    def post(self, request, *args, **kwargs):
        batch = services.batch_accept(actor=self.actor, batch=self.get_review_batch())
        return self.batch_response(batch)


class BatchPartialAcceptView(_ReviewView):
    @extend_schema(
        summary="Accept part of a submitted batch, with a reason and evidence for the rest",
        operation_id="batches_partially_accept",
        description=(
            REVIEW_ACCESS + "`accepted_units` between 1 and `unit_count - 1`, a `reason` from the taxonomy and "
            "written `evidence`. Within the review window only (after it: 409 `review_window_closed`). The same "
            "review again changes nothing; another review of a reviewed batch: 409 (`batch_already_reviewed`, "
            "`workbatch_not_submitted`)."
        ),
        parameters=[ORG_PARAMETER],
        request=BatchPartialAcceptSerializer,
        responses=BatchSerializer,
        tags=["review"],
    )
    def post(self, request, *args, **kwargs):
        batch = self.get_review_batch()
        serializer = BatchPartialAcceptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        batch = services.batch_partially_accept(actor=self.actor, batch=batch, **serializer.validated_data)
        return self.batch_response(batch)


class BatchRejectView(_ReviewView):
    @extend_schema(
        summary="Reject a submitted batch, with a reason and evidence",
        operation_id="batches_reject",
        description=(
            REVIEW_ACCESS + "A `reason` from the taxonomy and written `evidence`, within the review window (after "
            "it: 409 `review_window_closed`). The supplier may appeal until `appeal_due_at`. The same rejection "
            "again changes nothing; another review of a reviewed batch: 409."
        ),
        parameters=[ORG_PARAMETER],
        request=BatchRejectSerializer,
        responses=BatchSerializer,
        tags=["review"],
    )
    def post(self, request, *args, **kwargs):
        batch = self.get_review_batch()
        serializer = BatchRejectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        batch = services.batch_reject(actor=self.actor, batch=batch, **serializer.validated_data)
        return self.batch_response(batch)


class BatchAppealView(_BatchMixin, WorkforceView):
    @extend_schema(
        summary="Appeal the rejection of a batch",
        operation_id="batches_appeal",
        description=(
            "The supplier's owners and managers, or the independent expert (the lab gets 403), within the appeal "
            "window (`appeal_due_at`; after it: 409 `appeal_window_closed`). 201 with the appeal; platform "
            "operations decide it. The same appeal again: 200 with it; another: 409 `appeal_exists`. A batch that "
            "was not rejected: 409 `workbatch_not_rejected`."
        ),
        parameters=[ORG_PARAMETER],
        request=AppealOpenSerializer,
        responses={201: AppealSerializer, 200: AppealSerializer},
        tags=["appeals"],
    )
    def post(self, request, *args, **kwargs):
        batch = self.get_batch()
        organization = self.require_organization()
        require(self.actor, organization, Perm.WORK_SUBMIT)
        serializer = AppealOpenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        existed = Appeal.objects.filter(batch=batch).exists()
        appeal = services.appeal_open(
            actor=self.actor, organization=organization, batch=batch, reason=serializer.validated_data["reason"]
        )
        return self.appeal_response(appeal, status_code=status.HTTP_200_OK if existed else status.HTTP_201_CREATED)


# --- judgments -------------------------------------------------------------------------------------------------


class JudgmentListView(_BatchMixin, WorkforceListView):
    serializer_class = JudgmentSerializer
    pagination_class = UploadOrderCursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Judgment.objects.none()
        return selectors.judgment_list(
            actor=self.actor, organization=self.get_acting_organization(), batch=self.get_batch()
        ).annotate(annotator_public_id=F("annotator__public_id"))

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "swagger_fake_view", False):
            return context
        batch = self.get_batch()
        organization = self.get_acting_organization()
        return {
            **context,
            "labels": batch.contract_version.label_set,
            "supplier_view": organization is not None and organization.pk == batch.contract.supplier_id,
        }

    @extend_schema(
        summary="A batch's judgments, in upload order",
        description=(
            "Either party, to pull the delivered data (a vendor's experts get 403; anyone else 404). `label` is the "
            "label's text under the contract version the batch was delivered against. The lab knows each annotator "
            "by pseudonymous `annotator_handle`; the supplier also gets `annotator_id`. Nothing marks gold items. "
            "Pages of 100 by default, up to 1,000 (`page_size`)."
        ),
        parameters=[ORG_PARAMETER],
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


# --- the datasheet ---------------------------------------------------------------------------------------------


DATASHEET_FORMAT = OpenApiParameter(
    name="format",
    type=OpenApiTypes.STR,
    enum=["json", "csv"],
    location=OpenApiParameter.QUERY,
    required=False,
    description="`json` (default) or `csv`. Without it, an `Accept: text/csv` header asks for CSV.",
)


def datasheet_format(request) -> str:
    """``json`` or ``csv``: ``?format=`` if given, else the first of them the ``Accept`` header names."""
    raw = request.query_params.get("format")
    if raw is not None:
        fmt = raw.strip().lower()
        if fmt not in ("json", "csv"):
            raise ValidationFailed("`format` must be json or csv.", details={"format": ["One of: json, csv."]})
        return fmt
    for media_range in request.headers.get("Accept", "").split(","):
        media_type = media_range.split(";")[0].strip().lower()
        if media_type == "text/csv":
            return "csv"
        if media_type in ("application/json", "application/*", "*/*"):
            return "json"
    return "json"


class DatasheetView(_BatchMixin, WorkforceView):
    content_negotiation_class = _JsonForErrors

    @extend_schema(
        summary="The provenance datasheet of an accepted batch, as JSON or CSV (streamed)",
        description=(
            "Either party, once the batch is accepted in whole, in part or on appeal (otherwise 409 "
            "`batch_not_accepted`). Who did each item, by pseudonymous handle, with their verified credential types, "
            "the guideline version they had acknowledged, the time spent and the review outcome; for the batch, the "
            "credential mix and totals. Never a gold answer, a gold mark or a label.\n\n"
            'JSON by default: `{"batch": {...summary...}, "rows": [...]}`. `?format=csv` (or `Accept: text/csv`) '
            "gives one CSV line per judgment with a header (`item_id, annotator, credential_types, "
            "guideline_version, started_at, seconds_spent, review_outcome`; credential types joined by `;`), sent as "
            "an attachment. Both are streamed."
        ),
        parameters=[DATASHEET_FORMAT, ORG_PARAMETER],
        responses={
            (200, "application/json"): DatasheetSerializer,
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="One line per judgment after a header line (`?format=csv`)."
            ),
        },
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        fmt = datasheet_format(request)
        sheet = datasheet.datasheet_get(
            actor=self.actor, organization=self.get_acting_organization(), public_id=self.kwargs["batch_id"]
        )
        if fmt == "csv":
            response = StreamingHttpResponse(datasheet.render_csv(sheet), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="datasheet-{sheet.batch.public_id}.csv"'
        else:
            response = StreamingHttpResponse(datasheet.render_json(sheet), content_type="application/json")
        response["Cache-Control"] = "private, no-store"
        response["Vary"] = "Accept"
        return response


# --- appeals ------------------------------------------------------------------------------------------------


class AppealListView(WorkforceListView):
    serializer_class = AppealSerializer
    pagination_class = OldestFirstCursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Appeal.objects.none()
        wanted = self.query(AppealQuerySerializer).get("status")
        if is_staff_role(self.actor, StaffRole.OPERATIONS):
            return selectors.appeal_queue(actor=self.actor, status=wanted or Appeal.Status.OPEN)
        return selectors.appeal_list(actor=self.actor, organization=self.require_organization(), status=wanted)

    @extend_schema(
        summary="Appeals, oldest first: operations' queue, or the acting organisation's own",
        description=(
            "Platform operations (browser session) see every appeal, by default the open ones (the queue). Either "
            "party to a contract sees the appeals of its batches, by default all (a vendor's experts get 403). Each "
            "carries the batch with the lab's rejection reason and evidence."
        ),
        parameters=[AppealQuerySerializer, ORG_PARAMETER],
        tags=["appeals"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class AppealDecideView(_BatchMixin, WorkforceView):
    @extend_schema(
        summary="Operations: decide an appeal (overturn or uphold the rejection)",
        operation_id="appeals_decide",
        description=(
            "Platform operations only, with a browser session (anyone else, and any API key: 404). `overturn`: the "
            "batch counts as accepted, every unit (`overturned`); `uphold`: the rejection stands (`upheld`). Both "
            "sides read `reason`. The same decision again changes nothing; another decision of a decided appeal: "
            "409 (`appeal_already_decided`, `appeal_not_open`)."
        ),
        request=AppealDecideSerializer,
        responses=AppealSerializer,
        tags=["appeals"],
    )
    def post(self, request, *args, **kwargs):
        if not is_staff_role(self.actor, StaffRole.OPERATIONS):
            raise NotFound("Appeal not found.", code="appeal_not_found")
        appeal = selectors.appeal_get(actor=self.actor, organization=None, public_id=self.kwargs["appeal_id"])
        serializer = AppealDecideSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        appeal = services.appeal_decide(actor=self.actor, appeal=appeal, **serializer.validated_data)
        return self.appeal_response(appeal)
