from django.urls import path

from . import charges, reconciliation, views

_R = "payout-runs/<uuid:run_id>/"

urlpatterns = [
    path("payments/accounts/", views.AccountView.as_view(), name="payments-account"),
    path("earnings/", views.EarningListView.as_view(), name="earning-list"),
    path("payout-runs/", views.PayoutRunListView.as_view(), name="payout-run-list"),
    path(_R, views.PayoutRunDetailView.as_view(), name="payout-run-detail"),
    path(f"{_R}approve/", views.PayoutRunApproveView.as_view(), name="payout-run-approve"),
    path(f"{_R}process/", views.PayoutRunProcessView.as_view(), name="payout-run-process"),
    path(f"{_R}retry/", views.PayoutRunRetryView.as_view(), name="payout-run-retry"),
    path(f"{_R}lines/", views.PayoutLineListView.as_view(), name="payout-run-lines"),
    path(f"{_R}lines/export/", views.PayoutLineExportView.as_view(), name="payout-run-lines-export"),
    path("charges/", charges.ChargeListView.as_view(), name="charge-list"),
    path("charges/<uuid:charge_id>/", charges.ChargeDetailView.as_view(), name="charge-detail"),
    path("charges/<uuid:charge_id>/refund/", charges.ChargeRefundView.as_view(), name="charge-refund"),
    path("reconciliation-runs/", reconciliation.ReconciliationRunListView.as_view(), name="reconciliation-run-list"),
    path(
        "reconciliation-exceptions/",
        reconciliation.ReconciliationExceptionListView.as_view(),
        name="reconciliation-exception-list",
    ),
    path(
        "reconciliation-exceptions/export/",
        reconciliation.ReconciliationExceptionExportView.as_view(),
        name="reconciliation-exception-export",
    ),
    path(
        "reconciliation-exceptions/<uuid:exception_id>/resolve/",
        reconciliation.ReconciliationExceptionResolveView.as_view(),
        name="reconciliation-exception-resolve",
    ),
]
