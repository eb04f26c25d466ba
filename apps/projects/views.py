"""Project pages without bids: the lab's project list and draft form, the supplier's marketplace list
and acknowledging a guideline version.

The project pages that show bids (the lab's /projects/<id>/, the supplier's /marketplace/<id>/) live
in ``apps.bidding.views``: the import layers run bidding -> projects, never the other way.

Views are interfaces: parse input, call one selector or service, render. A NotFound becomes 404, a
PermissionDenied 403, any other DomainError a form error on the field it names or a message.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts import policies
from apps.accounts.middleware import get_active_membership
from apps.accounts.models import Organization
from apps.accounts.roles import OrgKind, Perm
from apps.accounts.views import access_errors
from apps.core.errors import DomainError, NotFound, PermissionDenied
from apps.core.money import Money, exponent
from apps.experts.models import CredentialType

from . import selectors, services
from .forms import MarketplaceFilterForm, ProjectForm
from .models import Project
from .selectors import MarketplaceFilter

PAGE_SIZE = 20


def apply_error(form, error: DomainError, aliases: dict[str, str] | None = None) -> None:
    """Put a domain error's per-field details on the form; the rest becomes a form-wide error."""
    placed = False
    for name, problems in (error.details or {}).items():
        field = (aliases or {}).get(name, name)
        if field in form.fields:
            for problem in problems if isinstance(problems, list | tuple) else [problems]:
                form.add_error(field, str(problem))
            placed = True
    if not placed:
        form.add_error(None, error.message)


def active_organization(request: HttpRequest) -> Organization | None:
    membership = get_active_membership(request)
    return membership.organization if membership else None


def lab_organization(request: HttpRequest) -> Organization:
    """The active organisation when it is a lab; anyone else finds no lab project pages (404)."""
    organization = active_organization(request)
    if organization is None or organization.kind != OrgKind.LAB:
        raise Http404("Project pages belong to labs.")
    return organization


def supplier_organization(request: HttpRequest) -> Organization:
    """The active organisation when it is a vendor or an independent expert (404 otherwise)."""
    organization = active_organization(request)
    if organization is None or organization.kind == OrgKind.LAB:
        raise Http404("The marketplace is for vendors and independent experts.")
    return organization


def decorate(project: Project) -> Project:
    """Display helpers: the budget as Money, the currency's minor digits, credential labels."""
    project.budget = Money(project.budget_cap_minor, project.currency) if project.budget_cap_minor is not None else None
    project.exponent = exponent(project.currency)
    labels = dict(CredentialType.choices)
    project.required_credential_labels = [labels.get(t, t) for t in project.required_credential_types]
    return project


def project_url(project: Project, anchor: str = "") -> str:
    url = reverse("bidding:project_detail", args=[project.public_id])
    return f"{url}#{anchor}" if anchor else url


def marketplace_url(project: Project, anchor: str = "") -> str:
    url = reverse("bidding:marketplace_detail", args=[project.public_id])
    return f"{url}#{anchor}" if anchor else url


# --- Lab: the project list and the draft form -------------------------------------------------------

STATUS_TABS = [("", "All")] + list(Project.Status.choices)


@login_required
@require_GET
def project_list(request: HttpRequest) -> HttpResponse:
    lab = lab_organization(request)
    status = request.GET.get("status") or ""
    if status not in Project.Status.values:
        status = ""
    with access_errors():
        projects = selectors.project_list_for_lab(actor=request.user, lab=lab, status=status or None)
        counts = {
            row["status"]: row["n"]
            for row in selectors.project_list_for_lab(actor=request.user, lab=lab)
            .order_by()
            .values("status")
            .annotate(n=Count("id"))
        }
    page = Paginator(projects, PAGE_SIZE).get_page(request.GET.get("page"))
    for project in page:
        decorate(project)
    tabs = [(value, label, sum(counts.values()) if not value else counts.get(value, 0)) for value, label in STATUS_TABS]
    context = {
        "org": lab,
        "page": page,
        "status": status,
        "status_label": Project.Status(status).label if status else "",
        "tabs": tabs,
        "can_manage": policies.has_permission(request.user, lab, Perm.PROJECTS_MANAGE),
    }
    return render(request, "projects/list.html", context)


def _require_manage(request: HttpRequest, lab: Organization) -> None:
    with access_errors():
        policies.require(request.user, lab, Perm.PROJECTS_MANAGE)


@login_required
@require_http_methods(["GET", "POST"])
def project_create(request: HttpRequest) -> HttpResponse:
    lab = lab_organization(request)
    _require_manage(request, lab)
    if request.method == "GET":
        form = ProjectForm(initial={"currency": "USD", "visibility": "public"})
        return render(request, "projects/form.html", {"form": form, "org": lab, "project": None})
    form = ProjectForm(request.POST)
    if form.is_valid():
        try:
            with access_errors():
                project = services.project_create(actor=request.user, lab=lab, **form.service_fields())
        except DomainError as error:
            apply_error(form, error)
        else:
            messages.success(
                request, f"“{project.title}” is saved as a draft. Add the guidelines, then publish it for bids."
            )
            return redirect(project_url(project))
    return render(request, "projects/form.html", {"form": form, "org": lab, "project": None}, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def project_edit(request: HttpRequest, public_id) -> HttpResponse:
    lab = lab_organization(request)
    with access_errors():
        project = selectors.project_get(actor=request.user, organization=lab, public_id=public_id)
    _require_manage(request, lab)
    if project.status != Project.Status.DRAFT:
        messages.info(
            request, f"“{project.title}” is {project.get_status_display().lower()}; only a draft can be edited."
        )
        return redirect(project_url(project))
    context = {"org": lab, "project": project}
    if request.method == "GET":
        context["form"] = ProjectForm(initial=ProjectForm.initial_for(project))
        return render(request, "projects/form.html", context)
    form = ProjectForm(request.POST)
    context["form"] = form
    if form.is_valid():
        try:
            with access_errors():
                services.project_update(actor=request.user, project=project, **form.service_fields())
        except DomainError as error:
            apply_error(form, error)
        else:
            messages.success(request, f"“{form.cleaned_data['title']}” is saved.")
            return redirect(project_url(project))
    return render(request, "projects/form.html", context, status=400)


# --- Suppliers: the marketplace -------------------------------------------------------------------------


@login_required
@require_GET
def marketplace(request: HttpRequest) -> HttpResponse:
    organization = supplier_organization(request)
    form = MarketplaceFilterForm(request.GET or None)
    filters = MarketplaceFilter()
    if form.is_bound and form.is_valid():
        filters = MarketplaceFilter(
            task_type=form.cleaned_data["task_type"] or None,
            domain=form.cleaned_data["domain"] or None,
            min_budget=form.min_budget_value(),
            deadline_before=form.deadline_limit(),
        )
    with access_errors():
        try:
            projects = selectors.project_marketplace_list(
                actor=request.user, organization=organization, filters=filters
            )
        except (NotFound, PermissionDenied):
            raise
        except DomainError as error:
            apply_error(form, error)
            projects = selectors.project_marketplace_list(actor=request.user, organization=organization)
    if form.is_bound and form.errors:
        projects = projects.none()
    page = Paginator(projects, PAGE_SIZE).get_page(request.GET.get("page"))
    for project in page:
        decorate(project)
    context = {
        "org": organization,
        "form": form,
        "page": page,
        "filtered": bool(form.is_bound and any(request.GET.get(f) for f in form.fields)),
        "can_bid": policies.has_permission(request.user, organization, Perm.BIDS_MANAGE),
    }
    return render(request, "projects/marketplace.html", context)


@login_required
@require_POST
def guideline_acknowledge(request: HttpRequest, public_id) -> HttpResponse:
    """An expert (or a supplier's manager) confirms they read one guideline version."""
    organization = supplier_organization(request)
    with access_errors():
        version = selectors.guideline_get(actor=request.user, organization=organization, public_id=public_id)
        try:
            services.guideline_acknowledge(actor=request.user, organization=organization, version=version)
        except (NotFound, PermissionDenied):
            raise
        except DomainError as error:
            messages.error(request, f"Not acknowledged: {error.message}")
        else:
            messages.success(request, f"You acknowledged guidelines v{version.number} of “{version.project.title}”.")
    return redirect(marketplace_url(version.project, "guidelines"))
