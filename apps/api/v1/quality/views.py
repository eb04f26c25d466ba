"""v1 Quality endpoints: score snapshots, bias-audit flags, scoring runs (progress), a contract's
quality summary (SLA status, multiplier, open alerts) and consensus export, and a project's vendor
benchmark.

Scope: the acting organisation (``apps/api/v1/experts/scope.py``). A lab sees its contracts' figures
with experts by handle; a supplier its own contracts and team; a vendor's expert (no ``contracts.view``)
only their own expert rows in ``/quality/scores/`` (403 elsewhere); platform operations (browser
session) everything. Another tenant's contract or project answers 404.
"""

from __future__ import annotations

import json

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from apps.accounts.policies import is_staff_role
from apps.accounts.roles import StaffRole
from apps.api.pagination import CursorPagination
from apps.api.v1.experts.scope import ORG_PARAMETER
from apps.api.v1.experts.views import WorkforceListView, WorkforceView
from apps.core.errors import NotFound
from apps.quality import selectors, services
from apps.quality.models import AuditFlag, ScoreSnapshot, ScoringRun

from .serializers import (
    AuditFlagSerializer,
    AuditQuerySerializer,
    BenchmarkRowSerializer,
    ContractQualitySerializer,
    RunQuerySerializer,
    ScoreQuerySerializer,
    ScoreRows,
    ScoreSnapshotSerializer,
    ScoringRunSerializer,
)

TAGS = ["quality"]


class _Scoped:
    def organization(self):
        """The acting organisation; None for platform operations acting for none."""
        if is_staff_role(self.actor, StaffRole.OPERATIONS):
            return None
        organization = self.get_acting_organization()
        if organization is None:
            raise NotFound("Not found.", code="not_found")
        return organization


class ScorePagination(CursorPagination):
    """The cursor over the ``?ordering=`` the caller chose (validated by ``ScoreQuerySerializer``),
    with the id as tie-breaker in the same direction."""

    def get_ordering(self, request, queryset, view):
        chosen = view.score_query().get("ordering")
        if not chosen:
            return self.ordering
        return (chosen, "-id" if chosen.startswith("-") else "id")


class ScoreListView(_Scoped, WorkforceListView):
    serializer_class = ScoreSnapshotSerializer
    row_source = ScoreRows()
    pagination_class = ScorePagination

    def score_query(self) -> dict:
        """The validated query parameters, once per request (the filters and the pagination both read them)."""
        if not hasattr(self, "_score_query"):
            self._score_query = self.query(ScoreQuerySerializer)
        return self._score_query

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ScoreSnapshot.objects.none()
        q = self.score_query()
        return selectors.scores(
            actor=self.actor,
            organization=self.organization(),
            contract=q.get("contract"),
            vendor=q.get("vendor"),
            expert=q.get("expert"),
            subject_kind=q.get("subject_kind"),
            since=q.get("since"),
            until=q.get("until"),
        )

    @extend_schema(
        summary="Quality score snapshots, newest first",
        description=(
            "Append-only snapshots of gold accuracy (with 95% Wilson interval), leave-one-out agreement, "
            "Krippendorff's alpha, Fleiss' and pairwise Cohen's kappa and Dawid-Skene expected accuracy, per contract, "
            "supplier (per guideline version), expert and batch. Filters: `contract`, `vendor` (supplier id), `expert` "
            "(handle), `subject_kind`, and the data window (`since`, `until`); `ordering` sorts (e.g. `-n_gold`). The "
            "contracts' parties see their "
            "contracts; a vendor's expert only their own expert rows; operations everything."
        ),
        parameters=[ScoreQuerySerializer, ORG_PARAMETER],
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class AuditListView(_Scoped, WorkforceListView):
    serializer_class = AuditFlagSerializer
    pagination_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AuditFlag.objects.none()
        q = self.query(AuditQuerySerializer)
        flags = selectors.audit_flags(
            actor=self.actor, organization=self.organization(), contract_public_id=q.get("contract"), kind=q.get("kind")
        )
        if q.get("flagged") is not None:
            flags = [f for f in flags if f.flagged == q["flagged"]]
        return flags

    @extend_schema(
        summary="Bias audits of the latest run per contract (flagged first)",
        description=(
            "Position bias (A/B items, exact binomial test), label skew against peers (chi-square), speeding (median "
            "time far below peers, Mann-Whitney U) and drift (first vs second half, two-proportion z-test), each "
            "Benjamini-Hochberg corrected across experts. Every tested expert has a row, flagged or not; "
            "`explanation` says what was found and how strong the evidence is. Experts by handle."
        ),
        parameters=[AuditQuerySerializer, ORG_PARAMETER],
        responses={200: AuditFlagSerializer(many=True)},
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class RunListView(_Scoped, WorkforceListView):
    serializer_class = ScoringRunSerializer
    pagination_class = CursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ScoringRun.objects.none()
        q = self.query(RunQuerySerializer)
        return selectors.scoring_runs(
            actor=self.actor, organization=self.organization(), contract_public_id=q.get("contract")
        )

    @extend_schema(
        summary="Scoring runs, newest first (progress of the running ones)",
        parameters=[RunQuerySerializer, ORG_PARAMETER],
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class RunDetailView(_Scoped, WorkforceView):
    serializer_class = ScoringRunSerializer

    @extend_schema(summary="One scoring run: status, progress and timings", parameters=[ORG_PARAMETER], tags=TAGS)
    def get(self, request, *args, **kwargs):
        run = selectors.scoring_run_get(
            actor=self.actor, organization=self.organization(), public_id=self.kwargs["scoring_run_id"]
        )
        return Response(ScoringRunSerializer(run).data)


class ContractQualityView(_Scoped, WorkforceView):
    serializer_class = ContractQualitySerializer

    @extend_schema(
        summary="A contract's quality: latest summary, SLA status, multiplier and open alerts",
        description=(
            "For either party (or operations). `sla.state`: `ok` (the lower bound of the gold-accuracy interval is at "
            "or above the minimum), `breached` (an open alert: the upper bound fell below it), "
            "`insufficient_evidence` (the interval straddles the minimum, or no gold yet), `no_sla`. `multiplier` is "
            "the quality-pay multiplier from the contract's cumulative gold accuracy."
        ),
        parameters=[ORG_PARAMETER],
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        quality = selectors.contract_quality(
            actor=self.actor, contract_public_id=self.kwargs["contract_id"], organization=self.organization()
        )
        return Response(ContractQualitySerializer(quality).data)


class ContractRecomputeView(_Scoped, WorkforceView):
    serializer_class = ScoringRunSerializer

    @extend_schema(
        summary="Ask for a full quality recompute of the contract now",
        description=(
            "Either party (or operations). Answers 202 with the run (status `running`); poll "
            "`/api/v1/quality/runs/{run_id}/` for progress. A run already running for the contract is returned as is."
        ),
        request=None,
        parameters=[ORG_PARAMETER],
        responses={202: ScoringRunSerializer},
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        quality = selectors.contract_quality(
            actor=self.actor, contract_public_id=self.kwargs["contract_id"], organization=self.organization()
        )
        run = services.request_recompute(actor=self.actor, contract=quality.contract)
        run.refresh_from_db()
        return Response(ScoringRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class ConsensusExportView(_Scoped, WorkforceView):
    @extend_schema(
        summary="The contract's consensus labels as JSON Lines (streamed)",
        description=(
            "One line per item of the latest full run: `item_id`, `label` (a label of the contract's label set, or "
            "null with `tie: true` when the Dawid-Skene posterior is tied: never given to one side), "
            "`probabilities` per label, `confidence` (the highest probability) and `disagreement` (experts genuinely "
            "disagree: kept apart, not voted away). For the lab and operations each line also has `gold` (the item is one of "
            "the project's gold items, whose consensus is clamped to the gold answer); the supplier side never gets gold "
            "items (they are left out entirely, so neither the answers nor which items are gold leak). Empty before the "
            "first full run."
        ),
        parameters=[ORG_PARAMETER],
        responses={
            (200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.STR, description="One JSON object per line.")
        },
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        rows = selectors.consensus_rows(
            actor=self.actor, organization=self.organization(), contract_public_id=self.kwargs["contract_id"]
        )
        response = StreamingHttpResponse(
            (json.dumps(row, separators=(",", ":")) + "\n" for row in rows), content_type="application/x-ndjson"
        )
        response["Content-Disposition"] = f'attachment; filename="consensus-{self.kwargs["contract_id"]}.jsonl"'
        response["Cache-Control"] = "private, no-store"
        return response


class VendorBenchmarkView(_Scoped, WorkforceView):
    serializer_class = BenchmarkRowSerializer
    queryset = ScoreSnapshot.objects.none()  # for the schema generator only
    pagination_class = None  # a plain array, not a page (the schema said "paginated" and the fuzzer got [])

    @extend_schema(
        summary="The project's vendor league table on the lab's gold",
        description=(
            "Per supplier, task type and guideline version: gold answers, accuracy with a 95% Wilson interval and a "
            "rank (suppliers whose intervals overlap share a rank), with the experts within each vendor (by handle). "
            "The lab that owns the project sees every supplier; a supplier only its own rows (its experts by name)."
        ),
        parameters=[ORG_PARAMETER],
        responses={200: BenchmarkRowSerializer(many=True)},
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        rows = selectors.vendor_benchmark(
            actor=self.actor, project_public_id=self.kwargs["project_id"], organization=self.organization()
        )
        return Response(BenchmarkRowSerializer(rows, many=True).data)
