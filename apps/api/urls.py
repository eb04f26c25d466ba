"""``/api/``: the OpenAPI schema, its offline Swagger UI, and the versioned endpoints.

``/api/v1/...`` passes ``version="v1"`` to every view, so ``URLPathVersioning`` sets
``request.version == "v1"``. URL names: ``api-schema``, ``api-docs``, ``api-v1:<name>``.
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from .docs import swagger_ui

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", swagger_ui, name="api-docs"),
    path("v1/", include(("apps.api.v1.urls", "api-v1")), {"version": "v1"}),
]
