"""v1 reconciliation (platform finance only, browser session; anyone else 404): runs (list; POST runs one now,
in the background), exceptions (list, resolve with a note and an optional adjusting entry), CSV export."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from apps.api.fields import StatusField
from apps.api.serializers import InputSerializer
from apps.api.v1.experts.fields import NamedChoiceField
from apps.api.v1.experts.views import WorkforceListView, WorkforceView
from apps.core.money import SUPPORTED_CURRENCIES
from apps.payments.models import ReconciliationException, ReconciliationRun
from apps.payments.services import reconciliation

FINANCE_ONLY = "Platform finance only, with a browser session (anyone else, and any API key: 404). "


class ReconciliationRunSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    status = StatusField(choices=ReconciliationRun.Status.choices, enum_name="ReconciliationRunStatus")
    started_by = serializers.EmailField(source="started_by.email", read_only=True, allow_null=True)

    class Meta:
        model = ReconciliationRun
        fields = [
            "id", "status", "trigger", "window_start", "window_end", "started_by", "created_at", "finished_at",
            "checked_count", "exception_count", "new_exception_count", "error",
        ]  # fmt: skip
        read_only_fields = fields


class ReconciliationRunCreateSerializer(InputSerializer):
    window_days = serializers.IntegerField(min_value=1, max_value=90, default=3, help_text="How far back to look.")


class ReconciliationExceptionSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    status = StatusField(choices=ReconciliationException.Status.choices, enum_name="ReconciliationExceptionStatus")
    kind = NamedChoiceField(
        choices=ReconciliationException.Kind.choices, enum_name="ReconciliationExceptionKind", read_only=True
    )
    run = serializers.UUIDField(source="run.public_id", read_only=True)
    resolved_by = serializers.EmailField(source="resolved_by.email", read_only=True, allow_null=True)
    adjusting_entry = serializers.UUIDField(source="adjusting_entry.public_id", read_only=True, allow_null=True)
    expected = serializers.IntegerField(read_only=True, allow_null=True, help_text="Minor units (ours).")
    actual = serializers.IntegerField(read_only=True, allow_null=True, help_text="Minor units (Stripe's).")

    class Meta:
        model = ReconciliationException
        fields = [
            "id", "run", "kind", "object_type", "internal_ref", "stripe_id", "expected", "actual", "currency",
            "detail", "status", "created_at", "resolved_by", "resolved_at", "note", "adjusting_entry",
        ]  # fmt: skip
        read_only_fields = fields


class ExceptionQuerySerializer(InputSerializer):
    status = NamedChoiceField(
        choices=ReconciliationException.Status.choices, enum_name="ReconciliationExceptionStatus", required=False
    )
    kind = NamedChoiceField(
        choices=ReconciliationException.Kind.choices, enum_name="ReconciliationExceptionKind", required=False
    )
    run = serializers.UUIDField(required=False)


class AdjustingLegSerializer(InputSerializer):
    account = serializers.CharField(max_length=120, help_text="A ledger account code, e.g. `adjustments`.")
    amount = serializers.IntegerField(help_text="Signed minor units: debit +, credit -.")


class ExceptionResolveSerializer(InputSerializer):
    note = serializers.CharField(max_length=5000, help_text="How it was resolved.")
    currency = serializers.ChoiceField(choices=SUPPORTED_CURRENCIES, required=False)
    legs = AdjustingLegSerializer(many=True, required=False, help_text="An adjusting entry, where money is off.")


class ReconciliationRunListView(WorkforceListView):
    serializer_class = ReconciliationRunSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ReconciliationRun.objects.none()
        return reconciliation.run_list(actor=self.actor)

    @extend_schema(summary="Reconciliation runs, newest first", description=FINANCE_ONLY, tags=["reconciliation"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Reconcile now (in the background)",
        operation_id="reconciliation_runs_create",
        description=FINANCE_ONLY + "Matches every charge, transfer, reversal and connected payout of the window "
        "with Stripe and records each disagreement as an exception.",
        request=ReconciliationRunCreateSerializer,
        responses={202: ReconciliationRunSerializer},
        tags=["reconciliation"],
    )
    def post(self, request, *args, **kwargs):
        reconciliation.run_list(actor=self.actor)  # 404 before validation for anyone but finance
        serializer = ReconciliationRunCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = reconciliation.start_run(actor=self.actor, window_days=serializer.validated_data["window_days"])
        run.refresh_from_db()
        return Response(ReconciliationRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class ReconciliationExceptionListView(WorkforceListView):
    serializer_class = ReconciliationExceptionSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ReconciliationException.objects.none()
        q = self.query(ExceptionQuerySerializer)
        return reconciliation.exception_list(actor=self.actor, status=q.get("status"), kind=q.get("kind"),
                                             run=q.get("run"))  # fmt: skip

    @extend_schema(
        summary="Reconciliation exceptions, newest first",
        description=FINANCE_ONLY,
        parameters=[ExceptionQuerySerializer],
        tags=["reconciliation"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ReconciliationExceptionResolveView(WorkforceView):
    @extend_schema(
        summary="Resolve an exception with a note and, where money is off, an adjusting entry",
        operation_id="reconciliation_exceptions_resolve",
        description=FINANCE_ONLY + "`legs` must balance (400 naming `legs`); already resolved: 409 "
        "`exception_already_resolved`. The records themselves are never edited.",
        request=ExceptionResolveSerializer,
        responses=ReconciliationExceptionSerializer,
        tags=["reconciliation"],
    )
    def post(self, request, *args, **kwargs):
        exception = reconciliation.exception_get(actor=self.actor, public_id=self.kwargs["exception_id"])
        serializer = ExceptionResolveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        resolved = reconciliation.resolve_exception(
            actor=self.actor,
            exception=exception,
            note=data["note"],
            legs=[dict(leg) for leg in data.get("legs") or []],
            currency=data.get("currency"),
        )
        resolved = reconciliation.exception_get(actor=self.actor, public_id=resolved.public_id)
        return Response(ReconciliationExceptionSerializer(resolved).data)


class ReconciliationExceptionExportView(WorkforceView):
    @extend_schema(
        summary="Reconciliation exceptions as CSV (streamed)",
        description=FINANCE_ONLY,
        parameters=[ExceptionQuerySerializer],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV, one row per exception.")},
        tags=["reconciliation"],
    )
    def get(self, request, *args, **kwargs):
        reconciliation.run_list(actor=self.actor)
        status_filter = request.query_params.get("status") or None
        if status_filter not in (None, *ReconciliationException.Status.values):
            status_filter = None
        response = StreamingHttpResponse(
            reconciliation.export_exceptions(actor=self.actor, status=status_filter),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = 'attachment; filename="reconciliation-exceptions.csv"'
        return response
