"""Platform finance's ledger pages: balances by account, the journal, one entry, an adjusting entry
and the streamed CSV export of the journal. Anyone but finance finds no page (404).

Views are interfaces: parse input, call one selector or service, render. A refused adjusting entry
shows each problem on the row or field it names and posts nothing.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from apps.accounts.views import access_errors
from apps.core.errors import DomainError

from . import codes, exports, selectors, services
from .forms import AdjustmentForm, BalanceFilterForm, ExportForm, JournalFilterForm, fresh_adjustment_key
from .models import AccountKind, JournalEntry

PAGE_SIZE = 50
KIND_LABELS = dict(AccountKind.choices)


def _require_finance(request: HttpRequest) -> None:
    if not request.user.is_finance:
        raise Http404("The ledger is platform finance's.")


def entry_url(entry: JournalEntry) -> str:
    return reverse("ledger:entry_detail", args=[entry.public_id])


# --- Balances -------------------------------------------------------------------------------------------------


def _balance_sheet(rows: list[selectors.AccountBalance]) -> list[dict[str, Any]]:
    """Per currency: its accounts grouped by kind, the kind totals, and whether the books balance."""
    sheet: OrderedDict[str, dict[str, Any]] = OrderedDict()
    for row in sorted(rows, key=lambda r: r.currency):
        book = sheet.setdefault(
            row.currency, {"currency": row.currency, "groups": OrderedDict(), "total": 0, "attention": 0}
        )
        group = book["groups"].setdefault(
            row.kind, {"kind": row.kind, "label": KIND_LABELS[row.kind], "rows": [], "total": 0}
        )
        group["rows"].append(row)
        group["total"] += row.natural
        book["total"] += row.balance
        book["attention"] += row.needs_attention
    for book in sheet.values():
        book["groups"] = sorted(book["groups"].values(), key=lambda g: selectors.KIND_ORDER.index(g["kind"]))
    return list(sheet.values())


@login_required
@require_GET
def balances(request: HttpRequest) -> HttpResponse:
    _require_finance(request)
    form = BalanceFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    with access_errors():
        rows = selectors.balance_list_for_finance(
            actor=request.user, currency=filters.get("currency") or None, as_of=filters.get("as_of")
        )
    return render(
        request,
        "ledger/balances.html",
        {
            "form": form,
            "books": _balance_sheet(rows),
            "as_of": filters.get("as_of"),
            "attention": sum(row.needs_attention for row in rows),
            "clearing_prefixes": sorted(codes.CLEARING_PREFIXES),
            "chart": codes.ACCOUNT_TYPES.values(),
        },
        status=200 if not form.is_bound or form.is_valid() else 400,
    )


# --- The journal ------------------------------------------------------------------------------------------------


@login_required
@require_GET
def journal(request: HttpRequest) -> HttpResponse:
    _require_finance(request)
    form = JournalFilterForm(request.GET or None)
    valid = not form.is_bound or form.is_valid()
    filters = {k: v for k, v in form.cleaned_data.items() if v} if form.is_bound and valid else {}
    with access_errors():
        entries = selectors.entry_list_for_finance(actor=request.user, **filters)
    return render(
        request,
        "ledger/journal.html",
        {
            "form": form,
            "page": Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page")),
            "source_types": selectors.source_types(),
        },
        status=200 if valid else 400,
    )


@login_required
@require_GET
def entry_detail(request: HttpRequest, public_id) -> HttpResponse:
    _require_finance(request)
    with access_errors():
        entry = selectors.entry_get_for_finance(actor=request.user, public_id=public_id)
    postings = list(entry.postings.all())
    return render(
        request,
        "ledger/entry_detail.html",
        {
            "entry": entry,
            "postings": postings,
            "debits": sum(p.debit for p in postings if p.currency == entry.currency),
            "credits": sum(p.credit for p in postings if p.currency == entry.currency),
            "reversal": getattr(entry, "reversed_by", None),
            "memo": sorted((entry.memo or {}).items()),
        },
    )


# --- Adjusting entries -----------------------------------------------------------------------------------------------


def _apply_service_error(form: AdjustmentForm, error: DomainError) -> None:
    """Each problem on the row or field it names (``legs.<n>``: the n-th leg posted); the rest on the form."""
    details = error.details or {}
    placed = False
    for name, problems in details.items():
        field = None if name == "legs" else form.field_for(name) or (name if name in form.fields else None)
        if field is None:
            continue
        for problem in problems if isinstance(problems, list | tuple) else [problems]:
            form.add_error(field, str(problem))
        placed = True
    for problem in details.get("legs", []):
        form.add_error(None, str(problem))
        placed = True
    if not placed:
        form.add_error(None, error.message)


@login_required
@require_http_methods(["GET", "POST"])
def adjust(request: HttpRequest) -> HttpResponse:
    _require_finance(request)
    if request.method == "POST":
        form = AdjustmentForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                with access_errors():
                    entry = services.adjust(
                        actor=request.user,
                        description=data["description"],
                        currency=data["currency"],
                        legs=data["legs"],
                        reason=data["reason"],
                        idempotency_key=data["key"],
                    )
            except DomainError as error:
                _apply_service_error(form, error)
            else:
                messages.success(request, "Adjusting entry posted.")
                return redirect(entry_url(entry))
        return render(request, "ledger/adjust.html", {"form": form}, status=400)
    form = AdjustmentForm(initial={"key": fresh_adjustment_key(), "currency": "USD"})
    return render(request, "ledger/adjust.html", {"form": form})


# --- The CSV export --------------------------------------------------------------------------------------------------


@login_required
@require_GET
def export_page(request: HttpRequest) -> HttpResponse:
    """The export's period form (this month by default); it downloads from ``export_csv``."""
    _require_finance(request)
    today = timezone.now().date()
    form = ExportForm(initial={"occurred_from": today.replace(day=1), "occurred_to": today})
    return render(request, "ledger/export.html", {"form": form})


@login_required
@require_GET
def export_csv(request: HttpRequest) -> HttpResponse:
    _require_finance(request)
    form = ExportForm(request.GET)
    if not form.is_valid():
        return render(request, "ledger/export.html", {"form": form}, status=400)
    start, end = form.cleaned_data["occurred_from"], form.cleaned_data["occurred_to"]
    with access_errors():
        chunks = exports.journal_csv(actor=request.user, occurred_from=start, occurred_to=end)
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="journal-{start:%Y%m%d}-{end:%Y%m%d}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- For the finance dashboard ------------------------------------------------------------------------------------------


def ledger_summary(user) -> dict[str, Any]:
    """Clearing accounts not at zero (the largest first), for finance's dashboard."""
    if not user.is_finance:
        return {}
    with access_errors():
        rows = selectors.balance_list_for_finance(actor=user)
    attention = sorted((row for row in rows if row.needs_attention), key=lambda row: -abs(row.balance))
    return {"show_ledger": True, "ledger_attention": attention[:5], "ledger_attention_count": len(attention)}
