"""Payments pages. Notifications link to /payments/account/, /payments/earnings/ and /finance/payouts/<id>/."""

from django.urls import path

from . import pages as money_pages
from . import views
from . import webhooks as stripe_webhooks

app_name = "payments"

urlpatterns = [
    path("payments/account/", views.account, name="account"),
    path("payments/account/onboard/", views.account_onboard, name="account_onboard"),
    path("payments/earnings/", views.earnings, name="earnings"),
    path("payments/statement/", views.statement, name="statement"),
    path("finance/payouts/", views.runs, name="runs"),
    path("finance/payouts/<uuid:public_id>/", views.run_detail, name="run_detail"),
    path("finance/payouts/<uuid:public_id>/approve/", views.run_approve, name="run_approve"),
    path("finance/payouts/<uuid:public_id>/process/", views.run_process, name="run_process"),
    path("finance/payouts/<uuid:public_id>/retry/", views.run_retry, name="run_retry"),
    path("finance/payouts/<uuid:public_id>/lines.csv", views.run_export, name="run_export"),
    path("webhooks/stripe/platform/", stripe_webhooks.stripe_platform, name="stripe_webhook_platform"),
    path("webhooks/stripe/connect/", stripe_webhooks.stripe_connect, name="stripe_webhook_connect"),
    path("payments/billing/", money_pages.billing, name="billing"),
    path("payments/billing/pay/", money_pages.billing_pay, name="billing_pay"),
    path("finance/", money_pages.finance_dashboard, name="finance_dashboard"),
    path("finance/reconciliation/run/", money_pages.reconcile_now, name="reconcile_now"),
    path("finance/reconciliation/exceptions.csv", money_pages.exceptions_csv, name="exceptions_csv"),
    path("finance/reconciliation/exceptions/<uuid:public_id>/", money_pages.exception_detail, name="exception_detail"),
]
