"""Payments pages: the supplier's Stripe account and earnings, each expert's own statement, and
finance's payout runs (list, detail with lines and their earnings, approve / process / retry, CSV).

Views are interfaces: they call one service or selector. NotFound -> 404, PermissionDenied -> 403,
any other DomainError -> a message. Every finance page shows a "local test mode" banner when the
gateway talks to the local Stripe emulator.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.accounts.middleware import get_active_membership
from apps.accounts.views import access_errors
from apps.core.errors import DomainError

from . import exports, gateway, selectors
from .forms import PayoutRunForm
from .models import PayoutLine
from .services import accounts as account_services
from .services import payouts as payout_services


def _organization(request: HttpRequest):
    membership = get_active_membership(request)
    if membership is None:
        raise Http404("No organisation.")
    return membership.organization


def _finance_context(**extra):
    return {"local_test_mode": gateway.is_local_emulator(), **extra}


# --- Supplier ------------------------------------------------------------------------------------------------


@login_required
def account(request: HttpRequest) -> HttpResponse:
    organization = _organization(request)
    with access_errors():
        if (
            request.GET.get("returned")
            and selectors.account_status(actor=request.user, organization=organization).account
        ):
            try:
                account_services.refresh_account(actor=request.user, organization=organization)
            except DomainError as error:
                messages.warning(request, f"Could not refresh from Stripe: {error.message}")
        state = selectors.account_status(actor=request.user, organization=organization)
    return render(request, "payments/account.html", {"state": state, "local_test_mode": gateway.is_local_emulator()})


@login_required
@require_POST
def account_onboard(request: HttpRequest) -> HttpResponse:
    organization = _organization(request)
    back = request.build_absolute_uri(reverse("payments:account"))
    try:
        with access_errors():
            url = account_services.onboarding_link(
                actor=request.user,
                organization=organization,
                refresh_url=back,
                return_url=f"{back}?returned=1",
            )
    except DomainError as error:
        messages.error(request, f"Could not start onboarding: {error.message}")
        return redirect("payments:account")
    return HttpResponseRedirect(url)


@login_required
def earnings(request: HttpRequest) -> HttpResponse:
    organization = _organization(request)
    with access_errors():
        qs = selectors.earning_list(actor=request.user, organization=organization, status=request.GET.get("status"))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "payments/earnings.html",
        {"organization": organization, "page": page, "totals": selectors.earning_totals(qs)},
    )


@login_required
def statement(request: HttpRequest) -> HttpResponse:
    """A vendor's per-expert statement (managers see everyone; an expert sees their own share)."""
    organization = _organization(request)
    with access_errors():
        rows = selectors.expert_statement(actor=request.user, organization=organization)
    return render(request, "payments/statement.html", {"organization": organization, "rows": rows})


# --- Finance ---------------------------------------------------------------------------------------------------


@login_required
def runs(request: HttpRequest) -> HttpResponse:
    with access_errors():
        qs = selectors.run_list(actor=request.user, status=request.GET.get("status"))
    form = PayoutRunForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with access_errors():
                run = payout_services.create_run(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            messages.error(request, f"No run created: {error.message}")
        else:
            messages.success(request, f"Draft run computed: {run.line_count} lines, {run.total}.")
            return redirect("payments:run_detail", public_id=run.public_id)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(request, "payments/runs.html", _finance_context(page=page, form=form))


@login_required
def run_detail(request: HttpRequest, public_id) -> HttpResponse:
    with access_errors():
        run = selectors.run_get(actor=request.user, public_id=public_id)
        lines = selectors.line_list(actor=request.user, run=run, status=request.GET.get("status"))
    page = Paginator(lines, 100).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    earnings_by_line: dict[int, list] = {}
    for earning in (
        run.earnings.filter(line__in=shown).select_related("batch", "contract__project").order_by("earned_on", "id")
    ):
        earnings_by_line.setdefault(earning.line_id, []).append(earning)
    for line in shown:
        line.shown_earnings = earnings_by_line.get(line.pk, [])
    return render(
        request,
        "payments/run_detail.html",
        _finance_context(
            run=run,
            page=page,
            lines=shown,
            counts=selectors.line_status_counts(run),
            needs_two=payout_services.needs_two_approvals(run),
            statuses=PayoutLine.Status.choices,
        ),
    )


def _run_action(request: HttpRequest, public_id, action, done: str) -> HttpResponse:
    with access_errors():
        run = selectors.run_get(actor=request.user, public_id=public_id)
    try:
        with access_errors():
            run = action(actor=request.user, run=run)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done.format(status=run.get_status_display().lower()))
    return redirect("payments:run_detail", public_id=public_id)


@login_required
@require_POST
def run_approve(request: HttpRequest, public_id) -> HttpResponse:
    return _run_action(request, public_id, payout_services.approve_run, "Approval recorded: the run is {status}.")


@login_required
@require_POST
def run_process(request: HttpRequest, public_id) -> HttpResponse:
    return _run_action(request, public_id, payout_services.process_run, "Transfers are being sent ({status}).")


@login_required
@require_POST
def run_retry(request: HttpRequest, public_id) -> HttpResponse:
    return _run_action(request, public_id, payout_services.retry_failed_lines, "Failed lines retried ({status}).")


@login_required
def run_export(request: HttpRequest, public_id) -> StreamingHttpResponse:
    with access_errors():
        run = selectors.run_get(actor=request.user, public_id=public_id)
    response = StreamingHttpResponse(exports.run_lines_csv(run), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{exports.run_lines_filename(run)}"'
    return response
