"""Pages of payments part B: a lab's billing (its invoices and payments, what each paid for, pay buttons) and
platform finance's money dashboard (balances by ledger account, payout runs, reconciliation with open exceptions
by age, recent runs, resolving an exception). A "local test mode" banner shows when Stripe is the local emulator.

Views are interfaces: each calls one service or selector. NotFound -> 404, PermissionDenied -> 403, any other
DomainError -> a message."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.middleware import get_active_membership
from apps.accounts.views import access_errors
from apps.contracts.models import Milestone
from apps.core.errors import DomainError
from apps.core.money import SUPPORTED_CURRENCIES, Money, exponent, to_minor

from . import gateway
from .models import Charge, PayoutRun
from .services import charges as charge_services
from .services import reconciliation


def _lab(request: HttpRequest):
    membership = get_active_membership(request)
    if membership is None:
        raise Http404("No organisation.")
    return membership.organization


@login_required
def billing(request: HttpRequest) -> HttpResponse:
    lab = _lab(request)
    with access_errors():
        charges = list(charge_services.charge_list(actor=request.user, organization=lab)[:200])
    paid_or_pending = {c.milestone_id for c in charges if c.milestone_id and c.status in ("pending", "succeeded")}
    milestones = [
        m
        for m in Milestone.objects.filter(version__contract__lab=lab, version=F("version__contract__current_version"))
        .select_related("version__contract__project")
        .order_by("due_on", "position")
        if m.pk not in paid_or_pending
    ]
    context = {
        "lab": lab,
        "charges": charges,
        "milestones": milestones,
        "currencies": SUPPORTED_CURRENCIES,
        "prepaid": {cur: charge_services.prepaid_balance(lab, cur) for cur in SUPPORTED_CURRENCIES},
        "local_test_mode": gateway.is_local_emulator(),
    }
    context["prepaid"] = {cur: Money(v, cur) for cur, v in context["prepaid"].items() if v}
    return render(request, "payments/billing.html", context)


@login_required
@require_POST
def billing_pay(request: HttpRequest) -> HttpResponse:
    lab = _lab(request)
    kind = request.POST.get("kind", "")
    milestone = None
    amount_minor = currency = None
    if request.POST.get("milestone"):
        milestone = (
            Milestone.objects.filter(public_id=request.POST["milestone"], version__contract__lab=lab)
            .select_related("version__contract")
            .first()
        )
        if milestone is None:
            raise Http404("Milestone not found.")
    else:
        currency = (request.POST.get("currency") or "").upper()
        try:
            major = Decimal((request.POST.get("amount") or "").strip())
            if not major.is_finite() or -major.as_tuple().exponent > exponent(currency):
                raise ValueError
            amount_minor = to_minor(major, currency)
        except (ValueError, ArithmeticError):
            messages.error(request, "Give the amount as a number with at most the currency's decimals, e.g. 250.00.")
            return redirect("payments:billing")
    try:
        with access_errors():
            charge = charge_services.start_charge(
                actor=request.user, lab=lab, kind=kind, milestone=milestone, amount_minor=amount_minor,
                currency=currency,
            )  # fmt: skip
    except DomainError as error:
        detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in (error.details or {}).items())
        messages.error(request, f"No payment started: {error.message} {detail}".strip())
        return redirect("payments:billing")
    if charge.status == Charge.Status.FAILED:
        messages.error(request, f"The card was declined ({charge.failure_code}).")
    elif charge.kind == Charge.Kind.INVOICE and charge.hosted_invoice_url:
        messages.success(request, "Invoice issued: pay it on Stripe's page (link in the list).")
    else:
        messages.success(request, "Payment sent: it is confirmed when Stripe tells us.")
    return redirect("payments:billing")


# --- Finance ------------------------------------------------------------------------------------------------


@login_required
def finance_dashboard(request: HttpRequest) -> HttpResponse:
    from apps.ledger import selectors as ledger_selectors

    with access_errors():
        runs = list(reconciliation.run_list(actor=request.user)[:10])
        open_exceptions = list(reconciliation.exception_list(actor=request.user, status="open")[:200])
        ageing = reconciliation.ageing(actor=request.user)
    context = {
        "balances": [row for row in ledger_selectors.balances() if row.balance],
        "payout_runs": list(PayoutRun.objects.order_by("-created_at", "-id")[:10]),
        "recon_runs": runs,
        "exceptions": open_exceptions,
        "ageing": ageing,
        "local_test_mode": gateway.is_local_emulator(),
    }
    return render(request, "payments/finance_dashboard.html", context)


@login_required
@require_POST
def reconcile_now(request: HttpRequest) -> HttpResponse:
    with access_errors():
        reconciliation.start_run(actor=request.user)
    messages.success(request, "Reconciliation started; refresh in a minute.")
    return redirect("payments:finance_dashboard")


@login_required
def exception_detail(request: HttpRequest, public_id) -> HttpResponse:
    with access_errors():
        exception = reconciliation.exception_get(actor=request.user, public_id=public_id)
    if request.method == "POST":
        legs = []
        for account, amount in zip(
            request.POST.getlist("leg_account"), request.POST.getlist("leg_amount"), strict=False
        ):
            if account.strip() or amount.strip():
                try:
                    legs.append({"account": account.strip(), "amount": int(amount)})
                except ValueError:
                    messages.error(request, f"Leg amount {amount!r} is not a whole number of minor units.")
                    return redirect("payments:exception_detail", public_id=public_id)
        try:
            with access_errors():
                reconciliation.resolve_exception(
                    actor=request.user, exception=exception, note=request.POST.get("note", ""), legs=legs,
                    currency=request.POST.get("currency") or None,
                )  # fmt: skip
        except DomainError as error:
            messages.error(request, f"Not resolved: {error.message}")
        else:
            messages.success(request, "Exception resolved.")
            return redirect("payments:finance_dashboard")
    return render(
        request,
        "payments/exception_detail.html",
        {"exception": exception, "local_test_mode": gateway.is_local_emulator(), "leg_rows": range(3)},
    )


@login_required
def exceptions_csv(request: HttpRequest) -> StreamingHttpResponse:
    with access_errors():
        rows = reconciliation.export_exceptions(actor=request.user, status=request.GET.get("status") or None)
        first = next(rows)
    response = StreamingHttpResponse(_chain(first, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="reconciliation-exceptions.csv"'
    return response


def _chain(first, rest):
    yield first
    yield from rest
