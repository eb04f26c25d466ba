"""The site's URLs plus API views that exist only to exercise the base class (5xx, crashes, races)."""

import threading

from django.urls import include, path
from rest_framework.response import Response

from apps.api.base import ApiView


class Unavailable(ApiView):
    """Answers 503 and counts how often its handler really ran."""

    calls = 0

    def post(self, request, *args, **kwargs):
        type(self).calls += 1
        return Response({"error": {"code": "unavailable", "message": "Try later.", "details": {}}}, status=503)


class Crashing(ApiView):
    calls = 0

    def post(self, request, *args, **kwargs):
        type(self).calls += 1
        raise RuntimeError("an unexpected failure")


class Blocking(ApiView):
    """Holds the request until the test releases it, to observe a repeat while the first runs."""

    calls = 0
    entered = threading.Event()
    release = threading.Event()

    def post(self, request, *args, **kwargs):
        type(self).calls += 1
        type(self).entered.set()
        type(self).release.wait(timeout=10)
        return Response({"done": True, "body": request.data}, status=201)


class VersionEcho(ApiView):
    def get(self, request, *args, **kwargs):
        return Response({"version": request.version})


def reset():
    for view in (Unavailable, Crashing, Blocking):
        view.calls = 0
    Blocking.entered = threading.Event()
    Blocking.release = threading.Event()


test_patterns = [
    path("unavailable/", Unavailable.as_view(), name="unavailable"),
    path("crashing/", Crashing.as_view(), name="crashing"),
    path("blocking/", Blocking.as_view(), name="blocking"),
    path("version/", VersionEcho.as_view(), name="version"),
]

urlpatterns = [
    path("test-api/v1/", include((test_patterns, "test-api")), {"version": "v1"}),
    path("", include("marketplace.urls")),
]
