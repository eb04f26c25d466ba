from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .health import check_broker, check_database


@never_cache
@require_GET
def healthz(request):
    """200 when the database (and the broker, where one is configured) answer; 503 naming what failed."""
    checks: dict[str, str] = {}
    failed: dict[str, str] = {}
    for name, check in (("database", check_database), ("broker", check_broker)):
        if name == "broker" and (settings.CELERY_TASK_ALWAYS_EAGER or not settings.CELERY_BROKER_URL):
            checks[name] = "not_configured"
            continue
        error = check()
        checks[name] = "ok" if error is None else "failed"
        if error is not None:
            failed[name] = error
    body = {"status": "ok" if not failed else "unavailable", "checks": checks}
    if failed:
        body["failed"] = failed
    return JsonResponse(body, status=200 if not failed else 503)
