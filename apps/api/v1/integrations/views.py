"""v1 Integrations: webhook endpoints (secret shown at creation and rotation only), their delivery log
with redelivery, and the organisation's event log (cursor-paginated, oldest first, to catch up).

Scope: the acting organisation (``apps/api/v1/experts/scope.py``: an API key's organisation, or a
session's ``?org=`` / active organisation). Everything needs ``org.integrations.manage`` (lab owners
and admins, vendor owners and managers, the independent expert): other members get 403. Another
organisation's endpoints and deliveries answer 404, and the event log lists only events about the
acting organisation's own objects.
"""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from apps.api.pagination import CursorPagination
from apps.api.v1.experts.scope import ORG_PARAMETER
from apps.api.v1.experts.views import WorkforceListView, WorkforceView
from apps.integrations import selectors, services
from apps.integrations.models import Delivery, DeliveryAttempt, Event, WebhookEndpoint

from . import filters
from .serializers import (
    EventSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointCreateSerializer,
    WebhookEndpointSecretSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointUpdateSerializer,
)

TAGS = ["webhooks"]
ACCESS = "Organisation owners and admins (vendor owners and managers; the independent expert); others 403. "


class OldestFirstCursorPagination(CursorPagination):
    """The event log in the order things happened, so a consumer can resume from its last cursor."""

    ordering = ("created_at", "id")


class _WebhookMixin:
    scope_resource = "webhooks"

    def get_endpoint(self) -> WebhookEndpoint:
        if not hasattr(self, "_endpoint"):
            self._endpoint = selectors.endpoint_get(
                actor=self.actor, organization=self.get_acting_organization(), public_id=self.kwargs["endpoint_id"]
            )
        return self._endpoint

    def delivery_response(self, delivery: Delivery, *, status_code=status.HTTP_200_OK) -> Response:
        fresh = (
            Delivery.objects.select_related("event", "endpoint")
            .prefetch_related(_recent_attempts())
            .get(pk=delivery.pk)
        )
        return Response(WebhookDeliverySerializer(fresh).data, status=status_code)


def _recent_attempts() -> Prefetch:
    return Prefetch("attempts", queryset=DeliveryAttempt.objects.order_by("-number"), to_attr="recent_attempts")


# --- endpoints -----------------------------------------------------------------------------------------------


class WebhookEndpointListView(_WebhookMixin, WorkforceListView):
    serializer_class = WebhookEndpointSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WebhookEndpoint.objects.none()
        return selectors.endpoint_list(actor=self.actor, organization=self.get_acting_organization())

    @extend_schema(
        summary="The organisation's webhook endpoints, newest first",
        description=ACCESS + "Secrets are never listed.",
        parameters=[ORG_PARAMETER],
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class WebhookEndpointCreateView(_WebhookMixin, WorkforceView):
    @extend_schema(
        summary="Register a webhook endpoint (its secret is in this answer only)",
        operation_id="webhook_endpoints_create",
        description=(
            ACCESS + "`url` must be https and resolve to public addresses only (400 `invalid_webhook_url` "
            'naming `url`); `event_types` lists event types or `["*"]` (400 naming unknown types). At most 20 '
            "endpoints per organisation (409 `too_many_endpoints`). The answer carries `secret`, which signs "
            "every delivery (docs/webhooks.md): store it, it is not shown again."
        ),
        parameters=[ORG_PARAMETER],
        request=WebhookEndpointCreateSerializer,
        responses={201: WebhookEndpointSecretSerializer},
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        organization = self.require_organization()
        serializer = WebhookEndpointCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint, secret = services.endpoint_create(
            actor=self.actor, organization=organization, **serializer.validated_data
        )
        data = WebhookEndpointSecretSerializer(endpoint, context={"secret": secret}).data
        return Response(data, status=status.HTTP_201_CREATED)


class WebhookEndpointCollectionRoute(WebhookEndpointListView, WebhookEndpointCreateView):
    """``/webhook-endpoints/``: GET lists, POST registers."""


class WebhookEndpointDetailView(_WebhookMixin, WorkforceView):
    @extend_schema(
        summary="One webhook endpoint",
        description=ACCESS + "Another organisation's endpoint: 404 `webhook_endpoint_not_found`.",
        parameters=[ORG_PARAMETER],
        responses=WebhookEndpointSerializer,
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return Response(WebhookEndpointSerializer(self.get_endpoint()).data)

    @extend_schema(
        summary="Change a webhook endpoint's URL, event types or description, or disable / enable it",
        description=(
            ACCESS + "Any subset of `url`, `event_types`, `description`, `active`. `active: false` disables "
            "the endpoint (it receives nothing; pending deliveries wait); `active: true` enables it again and "
            "clears its failure record."
        ),
        parameters=[ORG_PARAMETER],
        request=WebhookEndpointUpdateSerializer,
        responses=WebhookEndpointSerializer,
        tags=TAGS,
    )
    def patch(self, request, *args, **kwargs):
        endpoint = self.get_endpoint()
        serializer = WebhookEndpointUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = services.endpoint_update(actor=self.actor, endpoint=endpoint, **serializer.validated_data)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(
        summary="Delete a webhook endpoint and its delivery log",
        description=ACCESS + "The event log keeps the events.",
        parameters=[ORG_PARAMETER],
        request=None,
        responses={204: None},
        tags=TAGS,
    )
    def delete(self, request, *args, **kwargs):
        services.endpoint_delete(actor=self.actor, endpoint=self.get_endpoint())
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookEndpointRotateSecretView(_WebhookMixin, WorkforceView):
    @extend_schema(
        summary="Rotate a webhook endpoint's secret (the new one is in this answer only)",
        operation_id="webhook_endpoints_rotate_secret",
        description=(
            ACCESS + "For `WEBHOOK_SECRET_GRACE_HOURS` (24) deliveries carry two signatures, the new secret's "
            "and the previous one's (`secret_rotation_ends_at`); then only the new one."
        ),
        parameters=[ORG_PARAMETER],
        request=None,
        responses={200: WebhookEndpointSecretSerializer},
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        endpoint = self.get_endpoint()
        secret = services.endpoint_rotate_secret(actor=self.actor, endpoint=endpoint)
        return Response(WebhookEndpointSecretSerializer(endpoint, context={"secret": secret}).data)


class WebhookEndpointTestView(_WebhookMixin, WorkforceView):
    @extend_schema(
        summary="Send a webhook.test event to this endpoint",
        operation_id="webhook_endpoints_test",
        description=(
            ACCESS + "A `webhook.test` event (also in the event log) is delivered to this endpoint only, "
            "signed like any other. 202 with the delivery, queued. A disabled endpoint: 409 `endpoint_disabled`."
        ),
        parameters=[ORG_PARAMETER],
        request=None,
        responses={202: WebhookDeliverySerializer},
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        delivery = services.endpoint_send_test(actor=self.actor, endpoint=self.get_endpoint())
        return self.delivery_response(delivery, status_code=status.HTTP_202_ACCEPTED)


# --- deliveries ----------------------------------------------------------------------------------------------


class WebhookDeliveryListView(_WebhookMixin, WorkforceListView):
    serializer_class = WebhookDeliverySerializer
    filterset_class = filters.DeliveryFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Delivery.objects.none()
        return selectors.delivery_list(actor=self.actor, organization=self.get_acting_organization()).prefetch_related(
            _recent_attempts()
        )

    @extend_schema(
        summary="The delivery log of the organisation's endpoints, newest first",
        description=(
            ACCESS + "Each delivery with its status, attempt count, next retry and its latest attempts (status "
            "code, latency in milliseconds, error, the start of the receiver's answer). Filter by `endpoint`, "
            "`event_type` and `status`."
        ),
        parameters=[ORG_PARAMETER],
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class WebhookDeliveryRedeliverView(_WebhookMixin, WorkforceView):
    @extend_schema(
        summary="Send a delivery's event again now",
        operation_id="webhook_deliveries_redeliver",
        description=(
            ACCESS + "Whatever its status, the same event (same id and body) is sent again with a new 24-hour "
            "retry window. 202 with the delivery, queued. A disabled endpoint: 409 `endpoint_disabled`. Another "
            "organisation's delivery: 404 `delivery_not_found`."
        ),
        parameters=[ORG_PARAMETER],
        request=None,
        responses={202: WebhookDeliverySerializer},
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        delivery = selectors.delivery_get(
            actor=self.actor, organization=self.get_acting_organization(), public_id=self.kwargs["delivery_id"]
        )
        delivery = services.delivery_redeliver(actor=self.actor, delivery=delivery)
        return self.delivery_response(delivery, status_code=status.HTTP_202_ACCEPTED)


# --- the event log -------------------------------------------------------------------------------------------


class EventListView(WorkforceListView):
    scope_resource = "events"
    serializer_class = EventSerializer
    filterset_class = filters.EventFilter
    pagination_class = OldestFirstCursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Event.objects.none()
        return selectors.event_list(actor=self.actor, organization=self.get_acting_organization())

    @extend_schema(
        summary="The organisation's event log, oldest first",
        description=(
            ACCESS + "Every event about the organisation's own objects, as delivered to webhooks (`id`, `type`, "
            "`created`, `data`), whether or not an endpoint received it. Cursor-paginated oldest first: keep the "
            "`next` cursor, or filter `created_after` the last event you processed, to catch up after missed "
            "deliveries. Filter by `type`."
        ),
        parameters=[ORG_PARAMETER],
        tags=["events"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
