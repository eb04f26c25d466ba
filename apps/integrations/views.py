"""Pages for an organisation's admins: webhook endpoints (the secret shown once, at creation and on
rotation), each endpoint's delivery log with redelivery, test events, disabling and enabling.

Interfaces only: every read is a selector (scoped; another organisation's endpoint is a 404), every
write a service. A NotFound is 404, a PermissionDenied 403, any other DomainError a form error or a
message.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts import policies
from apps.accounts.models import Organization
from apps.accounts.roles import Perm
from apps.accounts.views import access_errors, org_view
from apps.core.errors import DomainError, NotFound, PermissionDenied

from . import selectors, services
from .forms import WebhookEndpointForm
from .models import DeliveryAttempt, WebhookEndpoint

DELIVERIES_PER_PAGE = 25


def _apply_error(form, error: DomainError) -> None:
    placed = False
    for field, problems in (error.details or {}).items():
        if field in form.fields:
            for problem in problems if isinstance(problems, list | tuple) else [problems]:
                form.add_error(field, str(problem))
            placed = True
    if not placed:
        form.add_error(None, error.message)


def _no_store(response: HttpResponse) -> HttpResponse:
    # A secret is in this body and nowhere else: keep it out of every cache.
    response["Cache-Control"] = "no-store, private"
    return response


def _detail_url(organization: Organization, endpoint: WebhookEndpoint) -> str:
    return reverse("integrations:endpoint_detail", args=[organization.slug, endpoint.public_id])


def _endpoint(request: HttpRequest, organization: Organization, public_id) -> WebhookEndpoint:
    with access_errors():
        return selectors.endpoint_get(actor=request.user, organization=organization, public_id=public_id)


def _render_list(request, organization, *, form=None, status=200) -> HttpResponse:
    with access_errors():
        endpoints = list(selectors.endpoint_list(actor=request.user, organization=organization))
    context = {"org": organization, "endpoints": endpoints, "form": form or WebhookEndpointForm()}
    return render(request, "integrations/endpoint_list.html", context, status=status)


def _render_detail(request, organization, endpoint, *, secret=None, form=None, status=200) -> HttpResponse:
    with access_errors():
        deliveries = selectors.delivery_list(
            actor=request.user, organization=organization, endpoint_id=endpoint.public_id
        ).prefetch_related(
            Prefetch("attempts", queryset=DeliveryAttempt.objects.order_by("-number"), to_attr="recent_attempts")
        )
    page = Paginator(deliveries, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    initial = {"url": endpoint.url, "description": endpoint.description, "event_types": endpoint.event_types}
    context = {
        "org": organization,
        "endpoint": endpoint,
        "secret": secret,
        "form": form or WebhookEndpointForm(initial=initial),
        "page": page,
    }
    response = render(request, "integrations/endpoint_detail.html", context, status=status)
    return _no_store(response) if secret else response


@require_http_methods(["GET", "POST"])
@org_view
def endpoint_list(request: HttpRequest, organization: Organization) -> HttpResponse:
    with access_errors():
        policies.require(request.user, organization, Perm.INTEGRATIONS_MANAGE)
    if request.method == "GET":
        return _render_list(request, organization)
    form = WebhookEndpointForm(request.POST)
    if form.is_valid():
        try:
            endpoint, secret = services.endpoint_create(
                actor=request.user, organization=organization, **form.cleaned_data
            )
        except (NotFound, PermissionDenied):
            raise
        except DomainError as error:
            _apply_error(form, error)
        else:
            # Rendered in this response, not after a redirect: the secret is shown this once.
            messages.success(request, "Endpoint registered. Copy its signing secret now.")
            return _render_detail(request, organization, endpoint, secret=secret, status=201)
    return _render_list(request, organization, form=form, status=400)


@require_GET
@org_view
def endpoint_detail(request: HttpRequest, organization: Organization, public_id) -> HttpResponse:
    return _render_detail(request, organization, _endpoint(request, organization, public_id))


def _act(request, organization, endpoint, action, success: str) -> HttpResponse:
    try:
        with access_errors():
            action()
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect(_detail_url(organization, endpoint))


@require_POST
@org_view
def endpoint_update(request: HttpRequest, organization: Organization, public_id) -> HttpResponse:
    endpoint = _endpoint(request, organization, public_id)
    form = WebhookEndpointForm(request.POST)
    if form.is_valid():
        try:
            with access_errors():
                services.endpoint_update(actor=request.user, endpoint=endpoint, **form.cleaned_data)
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, "Endpoint saved.")
            return redirect(_detail_url(organization, endpoint))
    return _render_detail(request, organization, endpoint, form=form, status=400)


@require_POST
@org_view
def endpoint_toggle(request: HttpRequest, organization: Organization, public_id) -> HttpResponse:
    endpoint = _endpoint(request, organization, public_id)
    enable = endpoint.status == WebhookEndpoint.Status.DISABLED
    return _act(
        request,
        organization,
        endpoint,
        lambda: services.endpoint_update(actor=request.user, endpoint=endpoint, active=enable),
        "Endpoint enabled." if enable else "Endpoint disabled: it receives nothing until you enable it.",
    )


@require_POST
@org_view
def endpoint_rotate(request: HttpRequest, organization: Organization, public_id) -> HttpResponse:
    endpoint = _endpoint(request, organization, public_id)
    with access_errors():
        secret = services.endpoint_rotate_secret(actor=request.user, endpoint=endpoint)
    messages.success(request, "New secret created. The previous one keeps signing during the grace period.")
    return _render_detail(request, organization, endpoint, secret=secret)


@require_POST
@org_view
def endpoint_test(request: HttpRequest, organization: Organization, public_id) -> HttpResponse:
    endpoint = _endpoint(request, organization, public_id)
    return _act(
        request,
        organization,
        endpoint,
        lambda: services.endpoint_send_test(actor=request.user, endpoint=endpoint),
        "A webhook.test event is on its way; see the delivery log below.",
    )


@require_POST
@org_view
def endpoint_delete(request: HttpRequest, organization: Organization, public_id) -> HttpResponse:
    endpoint = _endpoint(request, organization, public_id)
    with access_errors():
        services.endpoint_delete(actor=request.user, endpoint=endpoint)
    messages.success(request, "Endpoint deleted.")
    return redirect("integrations:endpoint_list", organization.slug)


@require_POST
@org_view
def delivery_redeliver(request: HttpRequest, organization: Organization, public_id, delivery_id) -> HttpResponse:
    endpoint = _endpoint(request, organization, public_id)
    with access_errors():
        delivery = selectors.delivery_get(actor=request.user, organization=organization, public_id=delivery_id)
        if delivery.endpoint_id != endpoint.pk:
            raise NotFound("Delivery not found.", code="delivery_not_found")
    return _act(
        request,
        organization,
        endpoint,
        lambda: services.delivery_redeliver(actor=request.user, delivery=delivery),
        f"{delivery.event.type} is being delivered again.",
    )
