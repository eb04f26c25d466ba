"""Pages for delivered work: a contract's batches and the supplier's upload, the batch page (review,
appeal, the appeal's decision, the provenance datasheet and its downloads), the lab's gold items and
platform operations' appeal queue. Notifications link to /work/batches/<public_id>/.

Views are interfaces: parse input, call one selector or service, render. A NotFound becomes 404, a
PermissionDenied 403, any other DomainError a form error on the field it names (a bad upload lists
every bad row), or a message. Gold answers appear on the lab's gold page only; the lab sees the
supplier's people by handle only.
"""

from __future__ import annotations

import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts import policies
from apps.accounts.middleware import get_active_membership
from apps.accounts.models import Organization, User
from apps.accounts.roles import OrgKind, Perm
from apps.accounts.views import access_errors
from apps.contracts import selectors as contract_selectors
from apps.contracts.models import Contract
from apps.core.errors import DomainError, NotFound
from apps.experts.models import CredentialType
from apps.experts.selectors import supplier_label
from apps.projects import selectors as project_selectors
from apps.projects.views import apply_error, lab_organization

from . import datasheet, selectors, services
from .forms import (
    AppealDecisionForm,
    AppealForm,
    BatchUploadForm,
    GoldUploadForm,
    PartialForm,
    RejectForm,
    fresh_batch_key,
)
from .models import Appeal, RejectionReason, WorkBatch

B = WorkBatch.Status
PAGE_SIZE = 20
SHEET_PAGE_SIZE = 50
GOLD_PAGE_SIZE = 50
SAMPLE_SIZE = 25
MAX_SHOWN_ERRORS = 200  # bad rows listed on the page; the total is always given
DASHBOARD_ROWS = 5
CREDENTIAL_LABELS = dict(CredentialType.choices)
REASON_LABELS = dict(RejectionReason.choices)
APPEAL_TABS = [(Appeal.Status.OPEN, "Open"), (Appeal.Status.OVERTURNED, "Overturned"), (Appeal.Status.UPHELD, "Upheld")]


def batch_url(batch: WorkBatch, anchor: str = "") -> str:
    url = reverse("work:batch_detail", args=[batch.public_id])
    return f"{url}#{anchor}" if anchor else url


def _active_organization(request: HttpRequest) -> Organization | None:
    membership = get_active_membership(request)
    return membership.organization if membership else None


def _row_errors(error: DomainError) -> dict[str, Any] | None:
    """A refused upload's bad rows for the page: the first ``MAX_SHOWN_ERRORS``, and the total."""
    rows = error.details.get("rows") if error.details else None
    if not isinstance(rows, list):
        return None
    total = error.details.get("error_count") or len(rows)
    shown = rows[:MAX_SHOWN_ERRORS]
    return {"rows": shown, "total": total, "shown": len(shown), "capped": total > len(shown)}


def _person(user: User | None) -> str:
    return user.display_name if user is not None else ""


# --- A contract's batches and the supplier's upload -----------------------------------------------------


def _party_contract(request: HttpRequest, public_id) -> tuple[Organization, Contract]:
    organization = _active_organization(request)
    with access_errors():
        contract = contract_selectors.contract_get(actor=request.user, organization=organization, public_id=public_id)
    return organization, contract


@login_required
@require_GET
def contract_batches(request: HttpRequest, public_id) -> HttpResponse:
    organization, contract = _party_contract(request, public_id)
    status = request.GET.get("status") or ""
    if status not in B.values:
        status = ""
    with access_errors():
        batches = selectors.batch_list(actor=request.user, organization=organization, contract_id=contract.pk)
    counts = selectors.batch_status_counts(batches)
    page = Paginator(batches.filter(status=status) if status else batches, PAGE_SIZE).get_page(request.GET.get("page"))
    tabs = [("", "All", sum(counts.values()))] + [(v, label, counts[v]) for v, label in B.choices if counts.get(v)]
    return render(
        request,
        "work/contract_batches.html",
        {
            "org": organization,
            "contract": contract,
            "project": contract.project,
            "is_lab": organization.pk == contract.lab_id,
            "page": page,
            "status": status,
            "tabs": tabs,
            "can_upload": organization.pk == contract.supplier_id
            and contract.status == Contract.Status.ACTIVE
            and policies.has_permission(request.user, organization, Perm.WORK_SUBMIT),
        },
    )


def _assignee_ids(contract: Contract) -> list[dict[str, str]]:
    """The experts the supplier may name as annotators: handle, name and the id to put in the file."""
    people = list(contract_selectors.active_assignees(contract).order_by("full_name", "email"))
    handles = selectors.annotator_handles(u.pk for u in people)
    return [{"id": str(u.public_id), "name": _person(u), "handle": handles.get(u.pk, "")} for u in people]


@login_required
@require_http_methods(["GET", "POST"])
def batch_upload(request: HttpRequest, public_id) -> HttpResponse:
    """The supplier's upload page; the contract page's deliveries form posts here too. A refused
    file lists every bad row (up to ``MAX_SHOWN_ERRORS``, with the total) and stores nothing."""
    organization, contract = _party_contract(request, public_id)
    if organization.pk != contract.supplier_id:
        raise Http404("Batches are delivered by the supplier.")
    with access_errors():
        policies.require(request.user, organization, Perm.WORK_SUBMIT)
    row_errors = None
    status = 200
    if request.method == "GET":
        form = BatchUploadForm(initial={"client_batch_key": fresh_batch_key(), "fmt": "auto"})
    else:
        form = BatchUploadForm(request.POST, request.FILES)
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            started = timezone.now()
            try:
                with access_errors():
                    batch = services.batch_submit(
                        actor=request.user,
                        organization=organization,
                        contract=contract,
                        client_batch_key=data["client_batch_key"],
                        period_start=data["period_start"],
                        period_end=data["period_end"],
                        unit_count=data["unit_count"],
                        upload=data["upload"],
                        fmt=data["resolved_fmt"],
                    )
            except DomainError as error:
                row_errors = _row_errors(error)
                if row_errors is None:
                    apply_error(form, error)
            else:
                if batch.created_at < started:
                    messages.info(request, "This batch was already delivered with this key and file; nothing changed.")
                else:
                    messages.success(
                        request,
                        f"Batch delivered: {batch.unit_count} units, {batch.judgment_count} judgments. "
                        "The lab was told and reviews it within the review window.",
                    )
                return redirect(batch_url(batch))
    terms = contract.current_version
    return render(
        request,
        "work/upload.html",
        {
            "org": organization,
            "contract": contract,
            "project": contract.project,
            "terms": terms,
            "upload_form": form,
            "row_errors": row_errors,
            "assignees": _assignee_ids(contract),
            "can_upload": contract.status == Contract.Status.ACTIVE and terms is not None,
            "remaining": max(terms.volume_cap - services.units_committed(contract), 0) if terms else 0,
        },
        status=status,
    )


# --- The batch page -------------------------------------------------------------------------------------


def _party_batch(request: HttpRequest, public_id) -> tuple[Organization, WorkBatch]:
    organization = _active_organization(request)
    with access_errors():
        batch = selectors.batch_get(actor=request.user, organization=organization, public_id=public_id)
    return organization, batch


def _appeal_of(batch: WorkBatch) -> Appeal | None:
    try:
        return batch.appeal
    except ObjectDoesNotExist:
        return None


def _operations_batch(request: HttpRequest, public_id) -> WorkBatch | None:
    """For platform operations: the batch, if it is under appeal (operations read appealed batches
    only); otherwise None, and the page is read as for a party."""
    if not request.user.is_operations:
        return None
    try:
        return selectors.batch_get_for_operations(actor=request.user, public_id=public_id)
    except NotFound:
        return None


def _sheet_page(sheet: datasheet.Datasheet, number) -> Any:
    """One page of the datasheet's rows, with credential types and the outcome by their labels. The
    paginator counts positions only (the count is known: no COUNT over a large batch); the page's
    rows are read by offset."""
    page = Paginator(range(sheet.summary["judgment_count"]), SHEET_PAGE_SIZE).get_page(number)
    positions = page.object_list  # a range
    outcome = sheet.summary["review_outcome_label"]
    page.rows = [
        {
            **row,
            "credential_types": [CREDENTIAL_LABELS.get(t, t) for t in row["credential_types"]],
            "review_outcome": outcome,
        }
        for row in sheet.rows(offset=positions.start, limit=len(positions))
    ]
    return page


def _annotator_rows(sheet: datasheet.Datasheet) -> list[dict[str, Any]]:
    return [
        {
            "handle": who.handle,
            "credential_types": [CREDENTIAL_LABELS.get(t, t) for t in who.credential_types],
            "guideline_version": who.guideline_version,
            "judgments": who.judgments,
            "seconds_spent": who.seconds_spent,
            "facts": who.facts,  # from datasheet providers, e.g. quality scores
        }
        for who in sorted(sheet.annotators.values(), key=lambda a: a.handle)
    ]


def _sample(request: HttpRequest, organization: Organization | None, batch: WorkBatch) -> list[dict[str, Any]]:
    """The batch's first judgments with their labels, for a look before the review."""
    with access_errors():
        if organization is None:  # operations
            qs = selectors.judgment_list_for_operations(actor=request.user, batch=batch)
        else:
            qs = selectors.judgment_list(actor=request.user, organization=organization, batch=batch)
    labels = batch.contract_version.label_set
    return [
        {
            "item_id": j.item_id,
            "annotator": j.annotator_handle or "(no profile)",
            "label": labels[j.label] if 0 <= j.label < len(labels) else j.label,
            "order": j.get_displayed_order_display() if j.displayed_order is not None else "",
            "seconds_spent": j.seconds_spent,
            "comment": j.comment,
        }
        for j in qs[:SAMPLE_SIZE]
    ]


def _render_batch(
    request: HttpRequest,
    organization: Organization | None,
    batch: WorkBatch,
    *,
    status: int = 200,
    ops_appeal: Appeal | None = None,
    partial_form: PartialForm | None = None,
    reject_form: RejectForm | None = None,
    appeal_form: AppealForm | None = None,
    decision_form: AppealDecisionForm | None = None,
    open_review: str = "",
) -> HttpResponse:
    """The batch as the lab, the supplier or (``organization`` None, an appealed batch) operations see it."""
    user = request.user
    contract = batch.contract
    now = timezone.now()
    viewer = "operations" if organization is None else ("lab" if organization.pk == contract.lab_id else "supplier")
    is_lab, is_supplier = viewer == "lab", viewer == "supplier"
    appeal = ops_appeal or _appeal_of(batch)
    deadline = services.appeal_deadline(batch)
    if viewer == "lab":
        supplier_name = supplier_label(contract.supplier)
        submitted_by = supplier_name
        reviewed_by = _person(batch.reviewed_by)
    else:
        supplier_name = contract.supplier.name
        submitted_by = _person(batch.submitted_by) if is_supplier else supplier_name
        reviewed_by = contract.lab.name if is_supplier else _person(batch.reviewed_by)
    can_review = (
        is_lab and batch.status == B.SUBMITTED and policies.has_permission(user, organization, Perm.WORK_REVIEW)
    )
    can_appeal = (
        is_supplier
        and batch.status == B.REJECTED
        and appeal is None
        and deadline is not None
        and now <= deadline
        and policies.has_permission(user, organization, Perm.WORK_SUBMIT)
    )
    context: dict[str, Any] = {
        "org": organization,
        "batch": batch,
        "contract": contract,
        "project": contract.project,
        "viewer": viewer,
        "is_lab": is_lab,
        "is_supplier": is_supplier,
        "is_operations": viewer == "operations",
        "lab_name": contract.lab.name,
        "supplier_name": supplier_name,
        "submitted_by": submitted_by,
        "reviewed_by": reviewed_by,
        "rejection_label": REASON_LABELS.get(batch.rejection_reason, ""),
        "label_set": batch.contract_version.label_set,
        "appeal": appeal,
        "appeal_deadline": deadline,
        "appeal_window_open": deadline is not None and now <= deadline,
        "review_window_open": now <= batch.review_due_at,
        "can_review": can_review,
        "can_appeal": can_appeal,
        "open_review": open_review,
        "accepted": batch.status in WorkBatch.ACCEPTED_STATES,
        "refused_units": batch.unit_count - batch.accepted_units if batch.status == B.PARTIALLY_ACCEPTED else 0,
    }
    if can_review:
        context["partial_form"] = partial_form or PartialForm(unit_count=batch.unit_count, auto_id="partial-%s")
        context["reject_form"] = reject_form or RejectForm(auto_id="reject-%s")
    if can_appeal:
        context["appeal_form"] = appeal_form or AppealForm(auto_id="appeal-%s")
    if viewer == "operations" and appeal is not None and appeal.status == Appeal.Status.OPEN:
        context["decision_form"] = decision_form or AppealDecisionForm(auto_id=f"decide-{appeal.public_id}-%s")
    if context["accepted"] and organization is not None:
        with access_errors():
            sheet = datasheet.datasheet_get(actor=user, organization=organization, public_id=batch.public_id)
        context["sheet"] = sheet.summary
        context["sheet_annotators"] = _annotator_rows(sheet)
        context["sheet_page"] = _sheet_page(sheet, request.GET.get("page"))
        context["sheet_hours"] = round(sheet.summary["seconds_spent_total"] / 3600, 1)
    else:
        context["sample"] = _sample(request, organization, batch)
    return render(request, "work/batch_detail.html", context, status=status)


@login_required
@require_GET
def batch_detail(request: HttpRequest, public_id) -> HttpResponse:
    batch = _operations_batch(request, public_id)
    if batch is not None:
        return _render_batch(request, None, batch)
    organization, batch = _party_batch(request, public_id)
    return _render_batch(request, organization, batch)


@login_required
@require_POST
def batch_review(request: HttpRequest, public_id) -> HttpResponse:
    """The lab's review: ``decision`` is accept, partial (accepted units, reason, evidence) or reject
    (reason, evidence)."""
    organization, batch = _party_batch(request, public_id)
    decision = request.POST.get("decision")
    forms: dict[str, Any] = {}
    try:
        with access_errors():
            if decision == "accept":
                services.batch_accept(actor=request.user, batch=batch)
                done = f"Batch accepted: all {batch.unit_count} units. The supplier was told."
            elif decision == "partial":
                form = forms["partial_form"] = PartialForm(
                    request.POST, unit_count=batch.unit_count, auto_id="partial-%s"
                )
                if not form.is_valid():
                    return _render_batch(request, organization, batch, status=400, open_review="partial", **forms)
                data = form.cleaned_data
                services.batch_partially_accept(
                    actor=request.user,
                    batch=batch,
                    accepted_units=data["accepted_units"],
                    reason=data["reason"],
                    evidence=data["evidence"],
                )
                done = f"Batch partially accepted: {batch.accepted_units} of {batch.unit_count} units. The supplier was told."
            elif decision == "reject":
                form = forms["reject_form"] = RejectForm(request.POST, auto_id="reject-%s")
                if not form.is_valid():
                    return _render_batch(request, organization, batch, status=400, open_review="reject", **forms)
                data = form.cleaned_data
                services.batch_reject(actor=request.user, batch=batch, reason=data["reason"], evidence=data["evidence"])
                done = "Batch rejected. The supplier was told and may appeal within the appeal window."
            else:
                messages.error(request, "Choose accept, partially accept or reject.")
                return redirect(batch_url(batch, "review"))
    except DomainError as error:
        form = next(iter(forms.values()), None)
        if form is not None and error.details and any(name in form.fields for name in error.details):
            apply_error(form, error)
            open_review = "partial" if "partial_form" in forms else "reject"
            return _render_batch(request, organization, batch, status=400, open_review=open_review, **forms)
        messages.error(request, f"Not reviewed: {error.message}")
        return redirect(batch_url(batch, "review"))
    messages.success(request, done)
    return redirect(batch_url(batch, "review"))


@login_required
@require_POST
def batch_appeal(request: HttpRequest, public_id) -> HttpResponse:
    organization, batch = _party_batch(request, public_id)
    form = AppealForm(request.POST, auto_id="appeal-%s")
    if form.is_valid():
        try:
            with access_errors():
                services.appeal_open(
                    actor=request.user, organization=organization, batch=batch, reason=form.cleaned_data["reason"]
                )
        except DomainError as error:
            if not (error.details and "reason" in error.details):
                messages.error(request, f"Not appealed: {error.message}")
                return redirect(batch_url(batch, "appeal"))
            apply_error(form, error)
        else:
            messages.success(request, "Appeal sent. Platform operations decide it; the lab was told.")
            return redirect(batch_url(batch, "appeal"))
    return _render_batch(request, organization, batch, status=400, appeal_form=form)


# --- The datasheet downloads ----------------------------------------------------------------------------------


def _sheet(request: HttpRequest, public_id) -> datasheet.Datasheet:
    organization = _active_organization(request)
    try:
        with access_errors():
            return datasheet.datasheet_get(actor=request.user, organization=organization, public_id=public_id)
    except DomainError as error:  # not accepted (yet): there is no datasheet
        raise Http404(error.message)


def _download(chunks, content_type: str, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def datasheet_json(request: HttpRequest, public_id) -> StreamingHttpResponse:
    sheet = _sheet(request, public_id)
    return _download(datasheet.render_json(sheet), "application/json", f"datasheet-{sheet.batch.public_id}.json")


@login_required
@require_GET
def datasheet_csv(request: HttpRequest, public_id) -> StreamingHttpResponse:
    sheet = _sheet(request, public_id)
    return _download(datasheet.render_csv(sheet), "text/csv; charset=utf-8", f"datasheet-{sheet.batch.public_id}.csv")


@login_required
@require_GET
def datasheet_summary_csv(request: HttpRequest, public_id) -> HttpResponse:
    sheet = _sheet(request, public_id)
    response = HttpResponse(datasheet.render_summary_csv(sheet), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="datasheet-{sheet.batch.public_id}-summary.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- Gold (the lab only) ---------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def project_gold(request: HttpRequest, public_id) -> HttpResponse:
    """The project's gold items: the lab's reviewers upload them (file or pasted rows); anyone not
    in the lab finds no page (404)."""
    lab = lab_organization(request)
    user = request.user
    with access_errors():
        project = project_selectors.project_get(actor=user, organization=lab, public_id=public_id)
        items = selectors.gold_list(actor=user, organization=lab, project=project)
    can_upload = policies.has_permission(user, lab, Perm.WORK_REVIEW)
    row_errors = None
    status = 200
    form = GoldUploadForm(initial={"fmt": "auto"})
    if request.method == "POST":
        with access_errors():
            policies.require(user, lab, Perm.WORK_REVIEW)
        form = GoldUploadForm(request.POST, request.FILES)
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            rows = data["upload"] if data["upload"] is not None else io.BytesIO(data["text"].encode())
            try:
                with access_errors():
                    result = services.gold_upload(actor=user, project=project, rows=rows, fmt=data["resolved_fmt"])
            except DomainError as error:
                row_errors = _row_errors(error)
                if row_errors is None:
                    apply_error(form, error)
            else:
                messages.success(
                    request,
                    f"Gold items saved: {result.created} new, {result.updated} with a new answer, "
                    f"{result.unchanged} unchanged.",
                )
                return redirect(reverse("work:gold", args=[project.public_id]))
    query = (request.GET.get("q") or "").strip()[:200]
    shown = items.filter(item_id__icontains=query) if query else items
    return render(
        request,
        "work/gold.html",
        {
            "org": lab,
            "project": project,
            "page": Paginator(shown.select_related("uploaded_by"), GOLD_PAGE_SIZE).get_page(request.GET.get("page")),
            "total": items.count(),
            "query": query,
            "labels": services.gold_labels(project),
            "can_upload": can_upload,
            "gold_form": form,
            "row_errors": row_errors,
        },
        status=status,
    )


# --- Appeals (platform operations) ---------------------------------------------------------------------------


def _require_operations(request: HttpRequest) -> None:
    if not request.user.is_operations:
        raise Http404("Appeals are decided by platform operations.")


def _render_queue(
    request: HttpRequest, *, status: int = 200, failed: tuple[Appeal, AppealDecisionForm] | None = None
) -> HttpResponse:
    tab = request.GET.get("status") or Appeal.Status.OPEN
    if tab not in Appeal.Status.values:
        tab = Appeal.Status.OPEN
    with access_errors():
        queue = selectors.appeal_queue(actor=request.user, status=tab)
    page = Paginator(queue.select_related("batch__contract_version"), PAGE_SIZE).get_page(request.GET.get("page"))
    for appeal in page:
        if failed and failed[0].pk == appeal.pk:
            appeal.form = failed[1]
        elif appeal.status == Appeal.Status.OPEN:
            appeal.form = AppealDecisionForm(auto_id=f"decide-{appeal.public_id}-%s")
        appeal.rejection_label = REASON_LABELS.get(appeal.batch.rejection_reason, "")
    return render(
        request,
        "work/appeals.html",
        {"page": page, "tab": tab, "tabs": APPEAL_TABS, "now": timezone.now()},
        status=status,
    )


@login_required
@require_GET
def appeal_queue(request: HttpRequest) -> HttpResponse:
    _require_operations(request)
    return _render_queue(request)


@login_required
@require_POST
def appeal_decide(request: HttpRequest, public_id) -> HttpResponse:
    _require_operations(request)
    with access_errors():
        appeal = selectors.appeal_get(actor=request.user, organization=None, public_id=public_id)
    from_batch = request.POST.get("from") == "batch"
    back = batch_url(appeal.batch, "appeal") if from_batch else reverse("work:appeals")
    form = AppealDecisionForm(request.POST, auto_id=f"decide-{appeal.public_id}-%s")
    if form.is_valid():
        try:
            with access_errors():
                services.appeal_decide(
                    actor=request.user,
                    appeal=appeal,
                    outcome=form.cleaned_data["outcome"],
                    reason=form.cleaned_data["reason"],
                )
        except DomainError as error:
            if not (error.details and any(name in form.fields for name in error.details)):
                messages.error(request, f"Not decided: {error.message}")
                return redirect(back)
            apply_error(form, error)
        else:
            verdict = (
                "overturned: the batch counts as accepted" if form.cleaned_data["outcome"] == "overturn" else "upheld"
            )
            messages.success(request, f"Appeal decided: the rejection is {verdict}. Both sides were told.")
            next_url = request.POST.get("next") or ""
            if not from_batch and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
                back = next_url
            return redirect(back)
    if from_batch:
        return _render_batch(request, None, appeal.batch, status=400, ops_appeal=appeal, decision_form=form)
    return _render_queue(request, status=400, failed=(appeal, form))


# --- For the dashboards ------------------------------------------------------------------------------------------


def work_summary(user: User, organization: Organization) -> dict[str, Any]:
    """A lab's batches awaiting review (soonest due first); a supplier's rejected batches it may
    still appeal (the window closing soonest first)."""
    if not policies.has_permission(user, organization, Perm.CONTRACTS_VIEW):
        return {}
    if organization.kind == OrgKind.LAB:
        with access_errors():
            awaiting = selectors.batch_list_awaiting_review(actor=user, organization=organization)
        return {
            "show_work": True,
            "batches_awaiting_review": list(awaiting[:DASHBOARD_ROWS]),
            "batches_awaiting_review_count": awaiting.count(),
            "can_review_work": policies.has_permission(user, organization, Perm.WORK_REVIEW),
        }
    with access_errors():
        appealable = selectors.batch_list_appealable(actor=user, organization=organization)
    for batch in appealable:
        batch.rejection_label = REASON_LABELS.get(batch.rejection_reason, "")
    return {
        "show_work": True,
        "appealable_batches": appealable[:DASHBOARD_ROWS],
        "appealable_count": len(appealable),
    }


def appeals_summary(user: User) -> dict[str, Any]:
    """Operations' open appeals, oldest first."""
    with access_errors():
        queue = selectors.appeal_queue(actor=user)
    return {"open_appeal_count": queue.count(), "open_appeals": list(queue[:DASHBOARD_ROWS])}
