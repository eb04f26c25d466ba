"""v1 Payments endpoints: the supplier's connected account, earnings, and finance's payout runs.

- ``/payments/accounts/``: the acting supplier organisation's Stripe account (``payments.manage``:
  vendor owners and managers, the independent expert); POST creates it once and returns a fresh
  onboarding link. Labs and anyone else: 404 / 403 as the policies say.
- ``/earnings/``: a supplier's own earnings, or for a lab what it owes on its contracts.
- ``/payout-runs/...``: platform finance only, with a browser session (an API key drops staff
  powers): everyone else gets 404.
"""

from __future__ import annotations

from django.conf import settings
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from apps.api.v1.experts.scope import ORG_PARAMETER
from apps.api.v1.experts.views import WorkforceListView, WorkforceView
from apps.payments import exports, selectors
from apps.payments.models import Earning, PayoutLine, PayoutRun
from apps.payments.services import accounts as account_services
from apps.payments.services import payouts as payout_services

from .serializers import (
    AccountConnectSerializer,
    AccountStatusSerializer,
    EarningQuerySerializer,
    EarningSerializer,
    PayoutLineQuerySerializer,
    PayoutLineSerializer,
    PayoutRunCreateSerializer,
    PayoutRunQuerySerializer,
    PayoutRunSerializer,
)

FINANCE_ONLY = "Platform finance only, with a browser session (anyone else, and any API key: 404). "


def _site(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


class AccountView(WorkforceView):
    def _status(self, onboarding_url=None, status_code=status.HTTP_200_OK) -> Response:
        state = selectors.account_status(actor=self.actor, organization=self.require_organization())
        data = AccountStatusSerializer(state).data
        data["onboarding_url"] = onboarding_url
        return Response(data, status=status_code)

    @extend_schema(
        summary="The acting supplier's Stripe connected account and what it still needs",
        description="Vendor owners and managers, the independent expert (others: 403; labs: 404).",
        parameters=[ORG_PARAMETER],
        responses=AccountStatusSerializer,
        tags=["payments"],
    )
    def get(self, request, *args, **kwargs):
        return self._status()

    @extend_schema(
        summary="Connect a Stripe account (once) and get a fresh onboarding link",
        operation_id="payments_accounts_connect",
        description=(
            "Creates the organisation's connected account the first time (the same account on every later call) "
            "and returns a single-use `onboarding_url` to Stripe's onboarding. Labs: 409 `not_a_supplier`."
        ),
        parameters=[ORG_PARAMETER],
        request=AccountConnectSerializer,
        responses={201: AccountStatusSerializer},
        tags=["payments"],
    )
    def post(self, request, *args, **kwargs):
        serializer = AccountConnectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        organization = self.require_organization()
        data = serializer.validated_data
        account_services.connect_account(actor=self.actor, organization=organization, country=data["country"])
        url = account_services.onboarding_link(
            actor=self.actor,
            organization=organization,
            refresh_url=data.get("refresh_url") or _site("/payments/account/onboard/"),
            return_url=data.get("return_url") or _site("/payments/account/"),
        )
        return self._status(onboarding_url=url, status_code=status.HTTP_201_CREATED)


class EarningListView(WorkforceListView):
    serializer_class = EarningSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Earning.objects.none()
        q = self.query(EarningQuerySerializer)
        return selectors.earning_list(
            actor=self.actor,
            organization=self.require_organization(),
            contract_public_id=q.get("contract"),
            status=q.get("status"),
            earned_from=q.get("earned_from"),
            earned_to=q.get("earned_to"),
        )

    @extend_schema(
        summary="Earnings: a supplier's own, or what a lab owes on its contracts",
        description=(
            "A supplier (vendor owners and managers, the independent expert) sees its earnings per batch; a lab "
            "(contracts.view) sees the earnings of its contracts, i.e. what it owes. Filter by contract, status and "
            "the day earned."
        ),
        parameters=[EarningQuerySerializer],
        tags=["payments"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class _RunMixin:
    def get_run(self) -> PayoutRun:
        if not hasattr(self, "_run"):
            self._run = selectors.run_get(actor=self.actor, public_id=self.kwargs["run_id"])
        return self._run

    def run_response(self, run: PayoutRun, status_code=status.HTTP_200_OK) -> Response:
        fresh = selectors.run_get(actor=self.actor, public_id=run.public_id)
        return Response(PayoutRunSerializer(fresh).data, status=status_code)


class PayoutRunListView(_RunMixin, WorkforceListView):
    serializer_class = PayoutRunSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PayoutRun.objects.none()
        q = self.query(PayoutRunQuerySerializer)
        return selectors.run_list(actor=self.actor, status=q.get("status"), currency=q.get("currency"))

    @extend_schema(
        summary="Payout runs, newest first",
        description=FINANCE_ONLY,
        parameters=[PayoutRunQuerySerializer],
        tags=["payouts"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Compute a draft payout run for a period",
        operation_id="payout_runs_create",
        description=FINANCE_ONLY + "Accrues missing earnings first, then one line per supplier with the sum of its "
        "pending earnings of the currency earned on or before `period_end`. Nothing to pay: 409 `payout_run_empty`.",
        request=PayoutRunCreateSerializer,
        responses={201: PayoutRunSerializer},
        tags=["payouts"],
    )
    def post(self, request, *args, **kwargs):
        selectors.run_list(actor=self.actor)  # 404 before validation for anyone but finance
        serializer = PayoutRunCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = payout_services.create_run(actor=self.actor, **serializer.validated_data)
        return self.run_response(run, status.HTTP_201_CREATED)


class PayoutRunDetailView(_RunMixin, WorkforceView):
    @extend_schema(summary="One payout run", description=FINANCE_ONLY, responses=PayoutRunSerializer, tags=["payouts"])
    def get(self, request, *args, **kwargs):
        return self.run_response(self.get_run())


class PayoutRunApproveView(_RunMixin, WorkforceView):
    @extend_schema(
        summary="Approve a draft payout run",
        operation_id="payout_runs_approve",
        description=FINANCE_ONLY + "Above PAYOUT_FOUR_EYES_LIMIT_MINOR two different finance users must approve: "
        "the first approval is recorded (the run stays `draft`), the same user again gets 403 `four_eyes_required`. "
        "A run that is not a draft: 409 `payout_run_not_draft`.",
        request=None,
        responses=PayoutRunSerializer,
        tags=["payouts"],
    )
    def post(self, request, *args, **kwargs):
        return self.run_response(payout_services.approve_run(actor=self.actor, run=self.get_run()))


class PayoutRunProcessView(_RunMixin, WorkforceView):
    @extend_schema(
        summary="Send an approved run's transfers (in the background)",
        operation_id="payout_runs_process",
        description=FINANCE_ONLY + "Moves the run to `processing` and schedules the job; on a processing run it "
        "resumes the job; on a finished run it changes nothing. No line is ever paid twice. A draft: 409 "
        "`payout_run_not_approved`.",
        request=None,
        responses={202: PayoutRunSerializer},
        tags=["payouts"],
    )
    def post(self, request, *args, **kwargs):
        run = payout_services.process_run(actor=self.actor, run=self.get_run())
        return self.run_response(run, status.HTTP_202_ACCEPTED)


class PayoutRunRetryView(_RunMixin, WorkforceView):
    @extend_schema(
        summary="Retry a partially failed run's failed lines",
        operation_id="payout_runs_retry",
        description=FINANCE_ONLY + "Failed lines go back to pending with a new idempotency key version and the job "
        "runs again. Not partially failed: 409 `payout_run_not_partially_failed`.",
        request=None,
        responses={202: PayoutRunSerializer},
        tags=["payouts"],
    )
    def post(self, request, *args, **kwargs):
        run = payout_services.retry_failed_lines(actor=self.actor, run=self.get_run())
        return self.run_response(run, status.HTTP_202_ACCEPTED)


class PayoutLineListView(_RunMixin, WorkforceListView):
    serializer_class = PayoutLineSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PayoutLine.objects.none()
        q = self.query(PayoutLineQuerySerializer)
        return selectors.line_list(actor=self.actor, run=self.get_run(), status=q.get("status"))

    @extend_schema(
        summary="A payout run's lines (one per supplier)",
        description=FINANCE_ONLY,
        parameters=[PayoutLineQuerySerializer],
        tags=["payouts"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class PayoutLineExportView(_RunMixin, WorkforceView):
    @extend_schema(
        summary="A payout run's lines as CSV (streamed)",
        description=FINANCE_ONLY,
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV, one row per line.")},
        tags=["payouts"],
    )
    def get(self, request, *args, **kwargs):
        run = self.get_run()
        response = StreamingHttpResponse(exports.run_lines_csv(run), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{exports.run_lines_filename(run)}"'
        return response
