"""Version 1 of the API. Each domain adds its own ``v1/<domain>/urls.py`` here."""

from django.urls import include, path

urlpatterns = [
    path("", include("apps.api.v1.accounts.urls")),
    path("", include("apps.api.v1.experts.urls")),
    path("", include("apps.api.v1.notifications.urls")),
    path("", include("apps.api.v1.projects.urls")),
    path("", include("apps.api.v1.bidding.urls")),
    path("", include("apps.api.v1.contracts.urls")),
    path("", include("apps.api.v1.work.urls")),
    path("", include("apps.api.v1.assessments.urls")),
    path("", include("apps.api.v1.quality.urls")),
    path("", include("apps.api.v1.ledger.urls")),
    path("", include("apps.api.v1.payments.urls")),
    path("", include("apps.api.v1.integrations.urls")),
]
