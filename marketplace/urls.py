from django.contrib import admin
from django.urls import include, path

from apps.core.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/", include("apps.api.urls")),
    path("", include("apps.accounts.urls")),
    path("", include("apps.experts.urls")),
    path("", include("apps.projects.urls")),
    path("", include("apps.bidding.urls")),
    path("", include("apps.contracts.urls")),
    path("", include("apps.work.urls")),
    path("", include("apps.assessments.urls")),
    path("", include("apps.quality.urls")),
    path("", include("apps.ledger.urls")),
    path("", include("apps.payments.urls")),
    path("", include("apps.integrations.urls")),
    path("", include("apps.notifications.urls")),
    path("", include("apps.dashboard.urls")),
]
