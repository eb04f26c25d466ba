"""The project pages that show bids: the lab's /projects/<id>/ (lifecycle, guidelines, questions, the
sealed count or, after the close, the comparison and the award) and the supplier's /marketplace/<id>/
(guidelines, questions and answers, its own bid), plus the supplier's list of bids.

They live here because the import layers run bidding -> projects. Views are interfaces: parse
input, call one selector or service, render. A NotFound becomes 404, a PermissionDenied 403, any
other DomainError a form error on the field (or award row) it names, or a message.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from apps.accounts import policies
from apps.accounts.models import Organization
from apps.accounts.roles import OrgKind, Perm
from apps.accounts.views import access_errors
from apps.assessments import selectors as assessment_selectors
from apps.assessments import services as assessment_services
from apps.assessments.models import ProjectTestRequirement, Test
from apps.core.errors import DomainError
from apps.core.money import Money, to_minor
from apps.experts import selectors as expert_selectors
from apps.experts.models import CredentialType, RosterEntry
from apps.experts.selectors import owner_handle, supplier_label
from apps.projects import selectors as project_selectors
from apps.projects import services as project_services
from apps.projects.forms import GuidelineForm, ProjectForm
from apps.projects.models import GuidelineAcknowledgement, Project
from apps.projects.views import (
    apply_error,
    decorate,
    lab_organization,
    marketplace_url,
    project_url,
    supplier_organization,
)

from . import selectors, services
from .forms import AnswerForm, AwardForm, BidForm, QuestionForm, ReasonForm
from .models import Bid

PAGE_SIZE = 20
SEALED = (Project.Status.DRAFT, Project.Status.OPEN)
DEFAULT_SORT = "cost_per_quality_unit"
CREDENTIAL_LABELS = dict(CredentialType.choices)
# Columns of the comparison that sort, and the label of each.
SORTS = [
    ("cost_per_quality_unit", "Cost per quality-adjusted unit"),
    ("unit_price", "Unit price"),
    ("volume", "Volume"),
    ("weekly_capacity", "Weekly capacity"),
    ("weeks_to_finish", "Weeks to finish"),
]
PROBLEM_LABELS = {"budget_cap": "Budget cap", "guidelines": "Guidelines", "domain": "Domain"}


def _money(amount: Decimal, currency: str) -> Money:
    return Money(to_minor(amount, currency), currency)


# --- Lab: the project page ------------------------------------------------------------------------------


def _lab_project(request: HttpRequest, public_id) -> Project:
    lab = lab_organization(request)
    with access_errors():
        return decorate(project_selectors.project_get(actor=request.user, organization=lab, public_id=public_id))


def _require_manage(request: HttpRequest, project: Project) -> None:
    with access_errors():
        policies.require(request.user, project.lab, Perm.PROJECTS_MANAGE)


def _problem_rows(project: Project, problems: dict) -> list[dict]:
    """Each missing or wrong field with its label, its messages and where to fix it."""
    order = list(ProjectForm.base_fields) + ["guidelines"]
    edit = reverse("projects:edit", args=[project.public_id])
    rows = []
    for name in sorted(problems, key=lambda n: order.index(n) if n in order else len(order)):
        field = ProjectForm.base_fields.get(name)
        label = PROBLEM_LABELS.get(name) or (
            field.label if field and field.label else name.replace("_", " ").capitalize()
        )
        anchor = "#guidelines" if name == "guidelines" else f"{edit}#field-{name}"
        rows.append({"field": name, "label": label, "messages": problems[name], "anchor": anchor})
    return rows


CHART_WIDTH, CHART_LABEL, CHART_VALUE, CHART_BAR, CHART_GAP = 720, 200, 130, 24, 12


def _chart(rows: list[selectors.ComparisonRow]) -> dict | None:
    """A horizontal bar per bid, cheapest expected cost per quality-adjusted unit first."""
    points = sorted((r for r in rows if r.cost_per_quality_unit is not None), key=lambda r: r.cost_per_quality_unit)
    if not points:
        return None
    top = points[-1].cost_per_quality_unit
    span = CHART_WIDTH - CHART_LABEL - CHART_VALUE
    bars = []
    for index, row in enumerate(points):
        width = max(2, int((row.cost_per_quality_unit / top * span).to_integral_value()))
        y = index * (CHART_BAR + CHART_GAP)
        bars.append(
            {
                "label": row.bid.bidder_label,
                "value": row.cost_per_quality_unit,
                "currency": row.bid.currency,
                "y": y,
                "width": width,
                "text_y": y + CHART_BAR // 2 + 5,
                "value_x": CHART_LABEL + width + 8,
                "best": index == 0,
                "inactive": row.bid.status not in Bid.LIVE and row.bid.status != Bid.Status.AWARDED,
            }
        )
    return {
        "width": CHART_WIDTH,
        "height": len(points) * (CHART_BAR + CHART_GAP) - CHART_GAP,
        "bar_height": CHART_BAR,
        "label_x": CHART_LABEL - 10,
        "bar_x": CHART_LABEL,
        "bars": bars,
    }


def _award(project: Project) -> dict | None:
    try:
        award = project.award
    except ObjectDoesNotExist:
        return None
    allocations = list(award.allocations.select_related("bid__bidder").order_by("id"))
    for allocation in allocations:
        allocation.amount = Money(allocation.amount_minor, award.currency)
    return {
        "award": award,
        "allocations": allocations,
        "total": Money(award.total_minor, award.currency),
        "volume": sum(a.volume for a in allocations),
    }


def _render_lab(
    request: HttpRequest,
    project: Project,
    *,
    status: int = 200,
    publish_failed: dict | None = None,
    guideline_form: GuidelineForm | None = None,
    answer: tuple[int, AnswerForm] | None = None,
    award_form: AwardForm | None = None,
) -> HttpResponse:
    user = request.user
    can_manage = policies.has_permission(user, project.lab, Perm.PROJECTS_MANAGE)
    with access_errors():
        acknowledgements = list(project_selectors.guideline_acknowledgements(actor=user, project=project))
        questions = list(selectors.question_list(actor=user, organization=project.lab, project=project))
    versions = list(project.guideline_versions.all())
    open_questions = [q for q in questions if q.status == q.Status.OPEN]
    context: dict = {
        "org": project.lab,
        "project": project,
        "can_manage": can_manage,
        "versions": versions,
        "latest": versions[0] if versions else None,
        "acknowledgements": acknowledgements,
        "questions": [
            (q, answer[1] if answer and answer[0] == q.pk else AnswerForm(auto_id=f"answer-{q.public_id}-%s"))
            for q in questions
        ],
        "open_question_count": len(open_questions),
        "guideline_form": guideline_form or GuidelineForm(),
        "can_publish_guidelines": can_manage
        and project.status not in (Project.Status.CANCELLED, Project.Status.COMPLETED),
        "cancellable": project.status not in (Project.Status.CANCELLED, Project.Status.COMPLETED),
        "sealed": project.status in SEALED,
        "publish_failed": publish_failed is not None,
        "now": timezone.now(),
        # Invited suppliers as the lab may see them: an independent expert by handle, never by name.
        "invited_labels": [
            supplier_label(o, o.handle)
            for o in project.invited_organizations.annotate(handle=owner_handle("pk")).order_by("name", "id")
        ],
    }
    requirement = ProjectTestRequirement.objects.filter(project=project).select_related("test").first()
    context["required_test"] = requirement.test if requirement else None
    if can_manage:
        context["qualification_tests"] = _qualification_tests(project)
    if project.status == Project.Status.DRAFT:
        problems = publish_failed if publish_failed is not None else project_services.publication_problems(project)
        context["problems"] = _problem_rows(project, problems)
    if context["sealed"]:
        context["bid_count"] = selectors.bid_count(project)
    else:
        sort = request.GET.get("sort") or DEFAULT_SORT
        if sort not in selectors.SORT_KEYS:
            sort = DEFAULT_SORT
        with access_errors():
            rows = selectors.bid_comparison(actor=user, project=project, sort=sort)
        for row in rows:
            row.credential_summary = [(CREDENTIAL_LABELS.get(t, t), n) for t, n in row.team_credentials.items()]
            row.live = row.bid.status in Bid.LIVE
        live = [r.bid for r in rows if r.live]
        context.update(rows=rows, sort=sort, sorts=SORTS, chart=_chart(rows), award=_award(project))
        context["can_decide"] = can_manage and project.status == Project.Status.BIDDING_CLOSED
        if context["can_decide"] and live:
            context["award_form"] = award_form or AwardForm(bids=live)
    return render(request, "projects/detail.html", context, status=status)


def _qualification_tests(project: Project) -> list[Test]:
    """Published qualification tests the project may require: the lab's own and the platform's."""
    return list(
        Test.objects.filter(status=Test.Status.PUBLISHED, kind=Test.Kind.QUALIFICATION)
        .filter(Q(owner=project.lab) | Q(owner__isnull=True))
        .order_by("title", "-version")
    )


@login_required
@require_GET
def project_detail(request: HttpRequest, public_id) -> HttpResponse:
    return _render_lab(request, _lab_project(request, public_id))


def _lab_action(request: HttpRequest, public_id, action) -> HttpResponse:
    """Run one lifecycle service; its refusal becomes a message."""
    project = _lab_project(request, public_id)
    try:
        with access_errors():
            message = action(project)
    except DomainError as error:
        messages.error(request, f"Nothing changed: {error.message}")
    else:
        messages.success(request, message)
    return redirect(project_url(project))


@login_required
@require_POST
def project_publish(request: HttpRequest, public_id) -> HttpResponse:
    project = _lab_project(request, public_id)
    try:
        with access_errors():
            project_services.project_publish(actor=request.user, project=project)
    except DomainError as error:
        if error.details:
            return _render_lab(request, project, status=400, publish_failed=error.details)
        messages.error(request, f"Not published: {error.message}")
    else:
        messages.success(
            request, f"“{project.title}” is open for bids until {project.bid_deadline:%d %b %Y, %H:%M} UTC."
        )
    return redirect(project_url(project))


@login_required
@require_POST
def project_close(request: HttpRequest, public_id) -> HttpResponse:
    def action(project):
        services.project_close_bidding(actor=request.user, project=project)
        return "Bidding is closed. The bids are open for comparison; bidders were told."

    return _lab_action(request, public_id, action)


@login_required
@require_POST
def project_cancel(request: HttpRequest, public_id) -> HttpResponse:
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""

    def action(project):
        services.project_cancel(actor=request.user, project=project, reason=reason)
        return f"“{project.title}” is cancelled; bidders see your reason."

    return _lab_action(request, public_id, action)


@login_required
@require_POST
def project_start(request: HttpRequest, public_id) -> HttpResponse:
    def action(project):
        project_services.project_start(actor=request.user, project=project)
        return f"“{project.title}” is in progress."

    return _lab_action(request, public_id, action)


@login_required
@require_POST
def project_complete(request: HttpRequest, public_id) -> HttpResponse:
    def action(project):
        project_services.project_complete(actor=request.user, project=project)
        return f"“{project.title}” is completed."

    return _lab_action(request, public_id, action)


@login_required
@require_POST
def guideline_publish(request: HttpRequest, public_id) -> HttpResponse:
    project = _lab_project(request, public_id)
    form = GuidelineForm(request.POST)
    if form.is_valid():
        try:
            with access_errors():
                version = project_services.guideline_publish(
                    actor=request.user,
                    project=project,
                    body_markdown=form.cleaned_data["body_markdown"],
                    change_summary=form.cleaned_data["change_summary"],
                )
        except DomainError as error:
            if not error.details:
                messages.error(request, f"Not published: {error.message}")
                return redirect(project_url(project, "guidelines"))
            apply_error(form, error)
        else:
            messages.success(request, f"Guidelines v{version.number} are published.")
            return redirect(project_url(project, "guidelines"))
    return _render_lab(request, project, status=400, guideline_form=form)


@login_required
@require_POST
def project_test_require(request: HttpRequest, public_id) -> HttpResponse:
    """Set the project's qualification test; a refusal (or an unknown test) becomes a message."""
    project = _lab_project(request, public_id)
    try:
        with access_errors():
            policies.require(request.user, project.lab, Perm.PROJECTS_MANAGE)
        test = assessment_selectors.test_get(
            actor=request.user, organization=project.lab, public_id=request.POST.get("test", "")
        )
        with access_errors():
            assessment_services.project_test_require(actor=request.user, project=project, test=test)
    except DomainError as error:
        messages.error(request, f"Nothing changed: {error.message}")
    else:
        messages.success(request, f"Experts now need a current qualification in “{test.title}”.")
    return redirect(project_url(project, "qualification-test"))


@login_required
@require_POST
def question_answer(request: HttpRequest, public_id, question_id) -> HttpResponse:
    project = _lab_project(request, public_id)
    with access_errors():
        question = selectors.question_get_for_lab(actor=request.user, lab=project.lab, public_id=question_id)
    if question.project_id != project.pk:
        raise Http404("Question not found.")
    form = AnswerForm(request.POST, auto_id=f"answer-{question.public_id}-%s")
    if form.is_valid():
        try:
            with access_errors():
                services.question_answer(
                    actor=request.user,
                    question=question,
                    answer=form.cleaned_data["answer"],
                    visibility=form.cleaned_data["visibility"],
                )
        except DomainError as error:
            apply_error(form, error)
        else:
            messages.success(request, "Your answer is published.")
            return redirect(project_url(project, "questions"))
    return _render_lab(request, project, status=400, answer=(question.pk, form))


def _lab_bid(request: HttpRequest, project: Project, bid_id) -> Bid:
    with access_errors():
        bid = selectors.bid_get(actor=request.user, organization=project.lab, public_id=bid_id)
    if bid.project_id != project.pk:
        raise Http404("Bid not found.")
    return bid


@login_required
@require_POST
def bid_shortlist(request: HttpRequest, public_id, bid_id) -> HttpResponse:
    def action(project):
        bid = _lab_bid(request, project, bid_id)
        services.bid_shortlist(actor=request.user, bid=bid)
        return f"The bid from {bid.bidder_label} is shortlisted."

    return _lab_action(request, public_id, action)


@login_required
@require_POST
def bid_reject(request: HttpRequest, public_id, bid_id) -> HttpResponse:
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""

    def action(project):
        bid = _lab_bid(request, project, bid_id)
        services.bid_reject(actor=request.user, bid=bid, reason=reason)
        return f"The bid from {bid.bidder_label} is rejected; they see your reason."

    return _lab_action(request, public_id, action)


@login_required
@require_POST
def award(request: HttpRequest, public_id) -> HttpResponse:
    project = _lab_project(request, public_id)
    _require_manage(request, project)
    if project.status != Project.Status.BIDDING_CLOSED:
        # The award form exists only between the close and the award (a repeated submit lands here).
        messages.error(
            request,
            f"Not awarded: the project is {project.get_status_display().lower()}; "
            "a project is awarded once, after bidding closes.",
        )
        return redirect(project_url(project, "bids"))
    sort = request.GET.get("sort") or DEFAULT_SORT
    try:
        with access_errors():
            rows = selectors.bid_comparison(
                actor=request.user, project=project, sort=sort if sort in selectors.SORT_KEYS else DEFAULT_SORT
            )
    except DomainError as error:
        messages.error(request, f"Not awarded: {error.message}")
        return redirect(project_url(project))
    form = AwardForm(request.POST, bids=[r.bid for r in rows if r.bid.status in Bid.LIVE])
    if form.is_valid():
        try:
            with access_errors():
                result = services.award_create(
                    actor=request.user, project=project, allocations=form.allocations(), note=form.cleaned_data["note"]
                )
        except DomainError as error:
            if not error.details:  # a state conflict (already awarded, no longer closed), not bad input
                messages.error(request, f"Not awarded: {error.message}")
                return redirect(project_url(project, "bids"))
            form.apply_service_error(error)
        else:
            total = Money(result.total_minor, result.currency)
            messages.success(
                request,
                f"Awarded for {total.format_amount()} {total.currency}. Winners and the other bidders were told.",
            )
            return redirect(project_url(project, "bids"))
    return _render_lab(request, project, status=400, award_form=form)


# --- Suppliers: the project page and the bid -------------------------------------------------------------


def _supplier_project(request: HttpRequest, public_id) -> tuple[Organization, Project]:
    organization = supplier_organization(request)
    with access_errors():
        project = project_selectors.project_get(actor=request.user, organization=organization, public_id=public_id)
    return organization, decorate(project)


def _require_bids(request: HttpRequest, organization: Organization) -> None:
    with access_errors():
        policies.require(request.user, organization, Perm.BIDS_MANAGE)


def _roster(request: HttpRequest, organization: Organization) -> list[RosterEntry]:
    """The experts a vendor may propose: its active roster, by name."""
    if organization.kind != OrgKind.VENDOR:
        return []
    with access_errors():
        entries = expert_selectors.roster_list(
            actor=request.user, vendor=organization, status=RosterEntry.Status.ACTIVE
        )
        return sorted(entries, key=lambda e: (e.user.full_name or e.user.email).lower())


def _bidding_open(project: Project) -> bool:
    return project.status == Project.Status.OPEN and (
        project.bid_deadline is None or project.bid_deadline > timezone.now()
    )


def _render_supplier(
    request: HttpRequest,
    organization: Organization,
    project: Project,
    *,
    status: int = 200,
    bid_form: BidForm | None = None,
    ask_form: QuestionForm | None = None,
) -> HttpResponse:
    user = request.user
    can_bid = policies.has_permission(user, organization, Perm.BIDS_MANAGE)
    versions = list(project.guideline_versions.all())
    acknowledged = dict(
        GuidelineAcknowledgement.objects.filter(user=user, version__project=project).values_list(
            "version_id", "created_at"
        )
    )
    for version in versions:
        version.acknowledged_at = acknowledged.get(version.pk)
    with access_errors():
        questions = list(selectors.question_list(actor=user, organization=organization, project=project))
    bidding_open = _bidding_open(project)
    context: dict = {
        "org": organization,
        "project": project,
        "can_bid": can_bid,
        "versions": versions,
        "latest": versions[0] if versions else None,
        "public_questions": [q for q in questions if q.asker_organization_id != organization.pk],
        "own_questions": [q for q in questions if q.asker_organization_id == organization.pk],
        "bid_count": selectors.bid_count_visible_to_bidders(project),
        "bidding_open": bidding_open,
        "target_price": _money(project.target_unit_price, project.currency) if project.target_unit_price else None,
    }
    if can_bid:
        with access_errors():
            bids = list(selectors.bid_list_for_bidder(actor=user, organization=organization, project=project))
        for bid in bids:
            bid.history = list(selectors.bid_revisions(bid))
            bid.total = _money(bid.unit_price * bid.volume, bid.currency)
            allocation = getattr(bid, "allocation", None) if bid.status == Bid.Status.AWARDED else None
            bid.awarded = (allocation, Money(allocation.amount_minor, bid.currency)) if allocation else None
        live = next((b for b in bids if b.status in Bid.LIVE), None)
        context.update(bids=bids, live_bid=live)
        if bidding_open:
            if bid_form is None:
                initial = {}
                if live is not None:
                    team = [str(u.public_id) for u in live.history[-1].team.all()] if live.history else []
                    initial = BidForm.initial_for(live, team)
                bid_form = BidForm(initial=initial, organization=organization, roster=_roster(request, organization))
            context["bid_form"] = bid_form
            context["ask_form"] = ask_form or QuestionForm()
    return render(request, "bidding/marketplace_detail.html", context, status=status)


@login_required
@require_GET
def marketplace_detail(request: HttpRequest, public_id) -> HttpResponse:
    organization, project = _supplier_project(request, public_id)
    return _render_supplier(request, organization, project)


def _refused(request: HttpRequest, project: Project, error: DomainError, what: str) -> HttpResponse:
    messages.error(request, f"{what}: {error.message}")
    return redirect(marketplace_url(project))


@login_required
@require_POST
def question_ask(request: HttpRequest, public_id) -> HttpResponse:
    organization, project = _supplier_project(request, public_id)
    _require_bids(request, organization)
    form = QuestionForm(request.POST)
    if form.is_valid():
        try:
            with access_errors():
                services.question_ask(
                    actor=request.user, organization=organization, project=project, text=form.cleaned_data["text"]
                )
        except DomainError as error:
            if not error.details:
                return _refused(request, project, error, "Not asked")
            apply_error(form, error)
        else:
            messages.success(request, "Your question is sent to the lab. You see the answer here.")
            return redirect(marketplace_url(project, "questions"))
    return _render_supplier(request, organization, project, status=400, ask_form=form)


@login_required
@require_POST
def bid_submit(request: HttpRequest, public_id) -> HttpResponse:
    organization, project = _supplier_project(request, public_id)
    _require_bids(request, organization)
    form = BidForm(request.POST, organization=organization, roster=_roster(request, organization))
    if form.is_valid():
        try:
            with access_errors():
                services.bid_submit(
                    actor=request.user, organization=organization, project=project, **form.service_fields()
                )
        except DomainError as error:
            if not error.details:
                return _refused(request, project, error, "Not submitted")
            apply_error(form, error)
        else:
            messages.success(request, "Your sealed bid is submitted. You can revise or withdraw it until the deadline.")
            return redirect(marketplace_url(project, "your-bid"))
    return _render_supplier(request, organization, project, status=400, bid_form=form)


def _own_bid(request: HttpRequest, bid_id) -> tuple[Organization, Bid, Project]:
    organization = supplier_organization(request)
    _require_bids(request, organization)
    with access_errors():
        bid = selectors.bid_get(actor=request.user, organization=organization, public_id=bid_id)
        project = project_selectors.project_get(
            actor=request.user, organization=organization, public_id=bid.project.public_id
        )
    return organization, bid, decorate(project)


@login_required
@require_POST
def bid_revise(request: HttpRequest, bid_id) -> HttpResponse:
    organization, bid, project = _own_bid(request, bid_id)
    form = BidForm(request.POST, organization=organization, roster=_roster(request, organization))
    if form.is_valid():
        try:
            with access_errors():
                revised = services.bid_revise(actor=request.user, bid=bid, **form.service_fields())
        except DomainError as error:
            if not error.details:
                return _refused(request, project, error, "Not revised")
            apply_error(form, error)
        else:
            messages.success(request, f"Your bid is revised (revision {revised.revision_number}).")
            return redirect(marketplace_url(project, "your-bid"))
    return _render_supplier(request, organization, project, status=400, bid_form=form)


@login_required
@require_POST
def bid_withdraw(request: HttpRequest, bid_id) -> HttpResponse:
    _organization, bid, project = _own_bid(request, bid_id)
    try:
        with access_errors():
            services.bid_withdraw(actor=request.user, bid=bid)
    except DomainError as error:
        return _refused(request, project, error, "Not withdrawn")
    messages.success(request, "Your bid is withdrawn. You may submit a new one until the deadline.")
    return redirect(marketplace_url(project, "your-bid"))


@login_required
@require_GET
def bid_list(request: HttpRequest) -> HttpResponse:
    organization = supplier_organization(request)
    with access_errors():
        bids = selectors.bid_list_for_bidder(actor=request.user, organization=organization)
    page = Paginator(bids, PAGE_SIZE).get_page(request.GET.get("page"))
    for bid in page:
        bid.total = _money(bid.unit_price * bid.volume, bid.currency)
        allocation = getattr(bid, "allocation", None) if bid.status == Bid.Status.AWARDED else None
        bid.awarded = (allocation, Money(allocation.amount_minor, bid.currency)) if allocation else None
    return render(request, "bidding/bid_list.html", {"org": organization, "page": page})
