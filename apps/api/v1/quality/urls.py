from django.urls import path

from . import views

urlpatterns = [
    path("quality/scores/", views.ScoreListView.as_view(), name="quality-scores"),
    path("quality/audits/", views.AuditListView.as_view(), name="quality-audits"),
    path("quality/runs/", views.RunListView.as_view(), name="quality-runs"),
    path("quality/runs/<uuid:scoring_run_id>/", views.RunDetailView.as_view(), name="quality-run-detail"),
    path("contracts/<uuid:contract_id>/quality/", views.ContractQualityView.as_view(), name="contract-quality"),
    path(
        "contracts/<uuid:contract_id>/quality/recompute/",
        views.ContractRecomputeView.as_view(),
        name="contract-quality-recompute",
    ),
    path("contracts/<uuid:contract_id>/consensus/", views.ConsensusExportView.as_view(), name="contract-consensus"),
    path("projects/<uuid:project_id>/vendor-benchmark/", views.VendorBenchmarkView.as_view(), name="vendor-benchmark"),
]
