"""Stripe's two webhook endpoints (outside /api/v1/): platform events and Connect events.

Each verifies the signature on the raw body with its own secret; a bad or stale signature gets 400 and nothing
is stored. A verified event is stored once by id and answered 200 at once (a duplicate too); processing runs in
Celery after commit (``services.webhooks``).
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.payments import gateway
from apps.payments.models import StripeEvent
from apps.payments.services import webhooks


def _receive(request: HttpRequest, source: str) -> JsonResponse:
    try:
        event, created = webhooks.receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature", ""), source=source
        )
    except gateway.SignatureInvalid as exc:
        return JsonResponse({"error": {"code": exc.code, "message": exc.message}}, status=400)
    return JsonResponse({"received": True, "id": event.event_id, "duplicate": not created})


@csrf_exempt
@require_POST
def stripe_platform(request: HttpRequest) -> JsonResponse:
    return _receive(request, StripeEvent.Source.PLATFORM)


@csrf_exempt
@require_POST
def stripe_connect(request: HttpRequest) -> JsonResponse:
    return _receive(request, StripeEvent.Source.CONNECT)
