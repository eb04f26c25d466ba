"""Contract pages: the list of an organisation's contracts, the contract page (parties, status and
lifecycle, the terms in force, the version awaiting signatures with its diff and the sign form,
amendments, version history, assignments), every version's page, the NDA page for the supplier's
experts and an expert's own assignments.

Views are interfaces: parse input, call one selector or service, render. A NotFound becomes 404, a
PermissionDenied 403, any other DomainError a form error on the field or row it names, or a message.
Labs never see an expert's name or e-mail here: an independent supplier is "Independent expert
<handle>" and assigned experts are shown by handle.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts import policies
from apps.accounts.middleware import get_active_membership
from apps.accounts.models import Organization, User
from apps.accounts.roles import OrgKind, Perm, Role
from apps.accounts.views import access_errors
from apps.core.errors import DomainError, NotFound
from apps.core.money import Money
from apps.experts import selectors as expert_selectors
from apps.experts.models import ExpertProfile, RosterEntry

from . import selectors, services
from .forms import AmendmentForm, AssignForm, ReasonForm, SignForm
from .models import Assignment, Contract, ContractVersion, Signature

PAGE_SIZE = 20
OPEN = (Contract.Status.PENDING_SIGNATURE, Contract.Status.ACTIVE, Contract.Status.PAUSED)
CLOSED = (Contract.Status.COMPLETED, Contract.Status.TERMINATED)
AWAITING_ME = "awaiting_you"
# The terms a version carries, in the order the pages show them.
TERM_LABELS = [
    ("unit_rate", "Unit rate"),
    ("currency", "Currency"),
    ("volume_cap", "Volume cap"),
    ("budget_cap_minor", "Budget cap"),
    ("sla_min_gold_accuracy", "SLA: minimum gold accuracy"),
    ("sla_min_alpha", "SLA: minimum Krippendorff's α"),
    ("sla_max_turnaround_days", "SLA: maximum turnaround"),
    ("quality_pay", "Quality-pay bands"),
    ("label_set", "Label set"),
    ("review_window_days", "Review window"),
    ("appeal_window_days", "Appeal window"),
    ("notice_period_days", "Notice period"),
    ("nda_version", "NDA version"),
    ("starts_on", "Starts"),
    ("ends_on", "Ends"),
    ("milestones", "Milestones"),
]
GATE_LABELS = {"roster": "Roster", "credential": "Credential", "nda": "NDA", "guidelines": "Guidelines"}


def contract_url(contract: Contract, anchor: str = "") -> str:
    url = reverse("contracts:detail", args=[contract.public_id])
    return f"{url}#{anchor}" if anchor else url


def _ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _active_organization(request: HttpRequest) -> Organization | None:
    membership = get_active_membership(request)
    return membership.organization if membership else None


# --- Reads the pages need that the contracts selectors do not offer (yet) ---------------------------------


def expert_work(user: User) -> dict[str, Any]:
    """An expert's assignments and the NDAs they still have to accept, with each unmet gate."""
    rows = []
    for contract in selectors.contract_list_for_expert(user):
        assignment = contract.assignments.filter(expert=user).order_by("-created_at", "-id").first()
        gates = selectors.assignment_gates(contract, user) if contract.status in OPEN else []
        rows.append(
            {
                "contract": contract,
                "assignment": assignment,
                "gates": [g | {"label": GATE_LABELS.get(g["gate"], g["gate"])} for g in gates],
                "nda_due": contract.current_version is not None and any(g["gate"] == "nda" for g in gates),
            }
        )
    return {
        "work_rows": rows,
        "assignments": [r for r in rows if r["assignment"] is not None],
        "ndas_to_accept": [r for r in rows if r["nda_due"]],
    }


def contracts_summary(user: User, organization: Organization) -> dict[str, Any]:
    """For a dashboard: the contracts awaiting ``organization``'s signature and its active ones."""
    with access_errors():
        qs = selectors.with_signing_state(selectors.contract_list(actor=user, organization=organization), organization)
    awaiting = list(qs.filter(awaiting_me=1)[:5])
    active = list(qs.filter(status=Contract.Status.ACTIVE)[:5])
    counts = {r["status"]: r["n"] for r in qs.order_by().values("status").annotate(n=Count("id"))}
    for contract in awaiting + active:
        _decorate_row(contract, organization)
    return {
        "contracts_awaiting": awaiting,
        "contracts_awaiting_count": qs.filter(awaiting_me=1).count(),
        "contracts_active": active,
        "contract_counts": counts,
        "contract_total": sum(counts.values()),
    }


# --- Display helpers ---------------------------------------------------------------------------------------


def _date(value) -> str:
    if not value:
        return "—"
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return dateformat.format(value, "j M Y")


def _days(n: int) -> str:
    return f"{n} day{'s' if n != 1 else ''}"


def _unit(project) -> tuple[str, str]:
    unit = (project.get_unit_name_display() or "unit").lower()
    return unit, f"{unit}s"


def _money(minor: int, currency: str) -> str:
    return f"{intcomma(Money(minor, currency).format_amount())} {currency}"


def _show(key: str, terms: dict, project) -> dict:
    """One term as the page shows it: ``text``, or ``list`` (bands), ``tags`` or ``milestones``."""
    value, currency = terms[key], terms["currency"]
    unit, units = _unit(project)
    if key == "unit_rate":
        return {"text": f"{value} {currency} per {unit}"}
    if key == "volume_cap":
        return {"text": f"{value:,} {unit if value == 1 else units}"}
    if key == "budget_cap_minor":
        return {"text": _money(value, currency)}
    if key in ("sla_min_gold_accuracy", "sla_min_alpha"):
        return {"text": f"≥ {value}" if value is not None else "Not set"}
    if key == "sla_max_turnaround_days":
        return {"text": f"≤ {_days(value)}" if value else "Not set"}
    if key == "quality_pay":
        items = [f"≥ {accuracy}: ×{multiplier}" for accuracy, multiplier in value]
        if value:
            items.append(f"below {value[-1][0]}: ×0, with rework")
        return {"list": items}
    if key == "label_set":
        return {"tags": value}
    if key.endswith("_days"):
        return {"text": _days(value)}
    if key in ("starts_on", "ends_on"):
        return {"text": _date(value)}
    if key == "milestones":
        if not value:
            return {"text": "None"}
        return {
            "milestones": [
                {
                    "title": m["title"],
                    "amount": _money(m["amount_minor"], currency),
                    "due_on": _date(m["due_on"]),
                    "acceptance_criteria": m["acceptance_criteria"],
                }
                for m in value
            ]
        }
    return {"text": str(value)}


def term_rows(version: ContractVersion, project) -> list[dict]:
    terms = services.canonical_terms(version)
    return [{"key": key, "label": label, "value": _show(key, terms, project)} for key, label in TERM_LABELS]


def diff_rows(old: ContractVersion, new: ContractVersion, project) -> list[dict]:
    """Every term of ``new`` beside the same term of ``old``; changed ones are marked."""
    before, after = services.canonical_terms(old), services.canonical_terms(new)
    return [
        {
            "key": key,
            "label": label,
            "old": _show(key, before, project),
            "new": _show(key, after, project),
            "changed": before[key] != after[key],
        }
        for key, label in TERM_LABELS
    ]


def _handles(users: list[User]) -> dict[int, str]:
    return dict(ExpertProfile.objects.filter(user__in=users).values_list("user_id", "handle"))


def _supplier_name(contract: Contract, viewer: Organization | None) -> str:
    """The supplier as the viewer may see it: the lab sees an independent expert by handle only."""
    if viewer is not None and viewer.pk == contract.supplier_id:
        return contract.supplier.name
    return expert_selectors.supplier_label(contract.supplier)


def _decorate_row(contract: Contract, organization: Organization) -> Contract:
    """List-row helpers: the other party's label and the terms to show (in force, else proposed)."""
    if organization.pk == contract.lab_id:
        contract.counterparty = _supplier_name(contract, organization)
    else:
        contract.counterparty = contract.lab.name
    terms = contract.current_version or selectors.latest_version(contract)
    contract.terms = terms
    if terms is not None:
        contract.budget = _money(terms.budget_cap_minor, terms.currency)
    contract.is_awaiting_me = bool(getattr(contract, "awaiting_me", 0))
    return contract


# --- The list ---------------------------------------------------------------------------------------------


@login_required
@require_GET
def contract_list(request: HttpRequest) -> HttpResponse:
    membership = get_active_membership(request)
    if membership is None:
        raise Http404("Contracts belong to organisations.")
    organization = membership.organization
    if not policies.has_permission(request.user, organization, Perm.CONTRACTS_VIEW) and membership.role == Role.EXPERT:
        # Experts on a vendor's roster see the contracts they work on, not the vendor's contracts.
        return redirect("contracts:assignments")
    status = request.GET.get("status") or ""
    if status not in (*Contract.Status.values, AWAITING_ME):
        status = ""
    with access_errors():
        qs = selectors.with_signing_state(
            selectors.contract_list(actor=request.user, organization=organization), organization
        )
    counts = {r["status"]: r["n"] for r in qs.order_by().values("status").annotate(n=Count("id"))}
    awaiting_count = qs.filter(awaiting_me=1).count()
    if status == AWAITING_ME:
        qs = qs.filter(awaiting_me=1)
    elif status:
        qs = qs.filter(status=status)
    qs = qs.order_by("-awaiting_me", "status_rank", "-created_at", "-id")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for contract in page:
        _decorate_row(contract, organization)
    tabs = [(AWAITING_ME, "Awaiting your signature", awaiting_count), ("", "All", sum(counts.values()))]
    tabs += [(value, label, counts.get(value, 0)) for value, label in Contract.Status.choices]
    return render(
        request,
        "contracts/list.html",
        {
            "org": organization,
            "is_lab": organization.kind == OrgKind.LAB,
            "page": page,
            "status": status,
            "tabs": tabs,
            "status_label": dict((v, label) for v, label, _ in tabs).get(status, ""),
        },
    )


# --- The contract page ---------------------------------------------------------------------------------


def _party_contract(request: HttpRequest, public_id) -> tuple[Organization, Contract]:
    """The contract as seen by a party (the active organisation): 404 outside, 403 without the role."""
    organization = _active_organization(request)
    with access_errors():
        contract = selectors.contract_get(actor=request.user, organization=organization, public_id=public_id)
    return organization, contract


def _find(request: HttpRequest, public_id) -> tuple[Organization | None, Contract]:
    """A party's view when the active organisation may see contracts, else an expert's (404 for anyone
    who is neither)."""
    organization = _active_organization(request)
    if organization is not None and policies.has_permission(request.user, organization, Perm.CONTRACTS_VIEW):
        try:
            contract = selectors.contract_get(actor=request.user, organization=organization, public_id=public_id)
        except NotFound:
            pass
        else:
            return organization, contract
    with access_errors():
        return None, selectors.contract_get_for_expert(request.user, public_id)


def _signatures(version: ContractVersion, contract: Contract, organization: Organization) -> list[dict]:
    """Who signed ``version`` for each side: a person of one's own side by name, the other side by
    its label."""
    side = selectors.side_of(contract, organization)
    signed = {s.side: s for s in version.signatures.all()}
    rows = []
    for value, label in Signature.Side.choices:
        party = contract.lab.name if value == Signature.Side.LAB else _supplier_name(contract, organization)
        signature = signed.get(value)
        who = None
        if signature is not None:
            who = signature.signed_by.display_name if value == side else party
        rows.append({"side": value, "label": label, "party": party, "signature": signature, "who": who})
    return rows


def _proposer(version: ContractVersion, contract: Contract, organization: Organization) -> str:
    user = version.proposed_by
    if user is None:
        return "—"
    own = policies.membership_for(user, organization) is not None
    if own:
        return f"{user.display_name} ({organization.name})"
    if policies.membership_for(user, contract.lab) is not None:
        return contract.lab.name
    return _supplier_name(contract, organization)


def _candidates(request: HttpRequest, contract: Contract, organization: Organization) -> list[dict]:
    """The supplier's people who could be assigned (not already), each with their unmet gates."""
    if organization.kind == OrgKind.VENDOR:
        with access_errors():
            entries = expert_selectors.roster_list(
                actor=request.user, vendor=organization, status=RosterEntry.Status.ACTIVE
            )
        people = [e.user for e in entries]
    else:
        people = list(
            User.objects.filter(memberships__organization=organization, memberships__role=Role.OWNER, is_active=True)
        )
    taken = set(
        contract.assignments.filter(status__in=[Assignment.Status.ACTIVE, Assignment.Status.SUSPENDED]).values_list(
            "expert_id", flat=True
        )
    )
    handles = _handles(people)
    out = []
    for person in sorted(people, key=lambda u: (u.full_name or u.email).lower()):
        if person.pk in taken:
            continue
        gates = selectors.assignment_gates(contract, person)
        out.append(
            {
                "value": str(person.public_id),
                "user": person,
                "label": person.full_name or person.email,
                "handle": handles.get(person.pk, ""),
                "gates": [g | {"label": GATE_LABELS.get(g["gate"], g["gate"])} for g in gates],
            }
        )
    return out


def _assignments(contract: Contract, *, is_lab: bool) -> list[Assignment]:
    assignments = list(contract.assignments.select_related("expert").order_by("-created_at", "-id"))
    handles = _handles([a.expert for a in assignments])
    for assignment in assignments:
        assignment.handle = handles.get(assignment.expert_id, "")
        # The lab sees the handle only; the supplier sees its expert's name too.
        assignment.name = None if is_lab else (assignment.expert.full_name or assignment.expert.email)
    return assignments


def _render_party(
    request: HttpRequest,
    organization: Organization,
    contract: Contract,
    *,
    status: int = 200,
    amend_form: AmendmentForm | None = None,
    assign_form: AssignForm | None = None,
    refusal: dict | None = None,
) -> HttpResponse:
    user = request.user
    project = contract.project
    side = selectors.side_of(contract, organization)
    is_lab = side == Signature.Side.LAB
    can_sign = policies.has_permission(user, organization, Perm.CONTRACTS_SIGN)
    can_assign = not is_lab and policies.has_permission(user, organization, Perm.ASSIGNMENTS_MANAGE)
    closed = contract.status in CLOSED
    versions = list(
        contract.versions.select_related("proposed_by").prefetch_related("signatures__signed_by", "milestones")
    )
    versions.sort(key=lambda v: v.number, reverse=True)
    current = next((v for v in versions if v.pk == contract.current_version_id), None)
    pending = next((v for v in versions if v.status == ContractVersion.Status.PROPOSED), None)
    base = current or (versions[0] if versions else None)

    context: dict[str, Any] = {
        "org": organization,
        "contract": contract,
        "project": project,
        "is_lab": is_lab,
        "side": side,
        "lab_name": contract.lab.name,
        "supplier_name": _supplier_name(contract, organization),
        "can_sign": can_sign,
        "can_assign": can_assign,
        "closed": closed,
        "current": current,
        "current_rows": term_rows(current, project) if current else None,
        "pending": pending,
        "versions": [
            {
                "version": v,
                "proposer": _proposer(v, contract, organization),
                "url": reverse("contracts:version", args=[contract.public_id, v.number]),
                "only_rate_cut": v is pending and current is not None and services.is_rate_cut_only(current, v),
            }
            for v in versions
        ],
        "project_url": reverse(
            "bidding:project_detail" if is_lab else "bidding:marketplace_detail", args=[project.public_id]
        ),
        "lifecycle": {
            "pause": is_lab and can_sign and contract.status == Contract.Status.ACTIVE,
            "resume": is_lab and can_sign and contract.status == Contract.Status.PAUSED,
            "complete": is_lab and can_sign and contract.status in (Contract.Status.ACTIVE, Contract.Status.PAUSED),
            "terminate": can_sign and contract.status in OPEN,
        },
        "assignments": _assignments(contract, is_lab=is_lab),
        "supplier_person": not is_lab and selectors.on_supplier_side(contract, user),
    }
    if pending is not None:
        signatures = _signatures(pending, contract, organization)
        signed_by_me = any(s["side"] == side and s["signature"] for s in signatures)
        context.update(
            pending_rows=diff_rows(current, pending, project) if current else term_rows(pending, project),
            pending_signatures=signatures,
            pending_proposer=_proposer(pending, contract, organization),
            signed_by_me=signed_by_me,
            rate_cut=current is not None and pending.unit_rate < current.unit_rate,
            only_rate_cut=current is not None and services.is_rate_cut_only(current, pending),
            diff_old_label=f"In force (v{current.number})" if current else "",
        )
        if can_sign and not signed_by_me and not closed:
            context["sign_form"] = SignForm(initial={"terms_hash": pending.terms_hash})
    if can_sign and not closed and base is not None:
        context["amend_form"] = amend_form or AmendmentForm(
            base=base, base_terms=services.canonical_terms(base), auto_id="amend-%s"
        )
        context["amend_base"] = base
        context["rate_cut_date"] = timezone.localdate() + timedelta(days=base.notice_period_days)
    if can_assign:
        candidates = _candidates(request, contract, organization)
        context["candidates"] = candidates
        context["can_assign_now"] = contract.status == Contract.Status.ACTIVE
        context["assign_form"] = assign_form or AssignForm(candidates=candidates, auto_id="assign-%s")
        context["refusal"] = refusal
    if context["supplier_person"]:
        context["my_gates"] = selectors.assignment_gates(contract, user)
        context["my_nda_accepted"] = current is not None and not any(g["gate"] == "nda" for g in context["my_gates"])
    return render(request, "contracts/detail.html", context, status=status)


def _render_expert(request: HttpRequest, contract: Contract) -> HttpResponse:
    """The contract as one of the supplier's experts sees it: the work, not the money."""
    user = request.user
    terms = contract.current_version
    gates = selectors.assignment_gates(contract, user)
    assignment = contract.assignments.filter(expert=user).order_by("-created_at", "-id").first()
    rows = None
    if terms is not None:
        shown = {"sla_min_gold_accuracy", "sla_min_alpha", "sla_max_turnaround_days", "label_set"}
        shown |= {"review_window_days", "appeal_window_days", "nda_version", "starts_on", "ends_on"}
        rows = [row for row in term_rows(terms, contract.project) if row["key"] in shown]
    return render(
        request,
        "contracts/expert_detail.html",
        {
            "contract": contract,
            "project": contract.project,
            "terms": terms,
            "rows": rows,
            "assignment": assignment,
            "gates": [g | {"label": GATE_LABELS.get(g["gate"], g["gate"])} for g in gates],
            "nda_accepted": terms is not None and not any(g["gate"] == "nda" for g in gates),
            "guidelines_url": reverse("bidding:marketplace_detail", args=[contract.project.public_id]) + "#guidelines",
        },
    )


@login_required
@require_GET
def contract_detail(request: HttpRequest, public_id) -> HttpResponse:
    organization, contract = _find(request, public_id)
    if organization is None:
        return _render_expert(request, contract)
    return _render_party(request, organization, contract)


@login_required
@require_GET
def version_detail(request: HttpRequest, public_id, number: int) -> HttpResponse:
    organization, contract = _party_contract(request, public_id)
    versions = {
        v.number: v
        for v in contract.versions.filter(number__in=[number, number - 1])
        .select_related("proposed_by")
        .prefetch_related("signatures__signed_by", "milestones")
    }
    version = versions.get(number)
    if version is None:
        raise Http404("No such version.")
    previous = versions.get(number - 1)
    project = contract.project
    return render(
        request,
        "contracts/version.html",
        {
            "org": organization,
            "contract": contract,
            "project": project,
            "version": version,
            "previous": previous,
            "rows": diff_rows(previous, version, project) if previous else None,
            "plain_rows": None if previous else term_rows(version, project),
            "old_label": f"v{previous.number}" if previous else "",
            "new_label": f"v{version.number}",
            "signatures": _signatures(version, contract, organization),
            "proposer": _proposer(version, contract, organization),
            "supplier_name": _supplier_name(contract, organization),
            "latest_number": contract.versions.order_by("-number").values_list("number", flat=True).first(),
            "only_rate_cut": version.status == ContractVersion.Status.PROPOSED
            and contract.current_version is not None
            and services.is_rate_cut_only(contract.current_version, version),
        },
    )


# --- Signing and amending ----------------------------------------------------------------------------------


@login_required
@require_POST
def contract_sign(request: HttpRequest, public_id) -> HttpResponse:
    organization, contract = _party_contract(request, public_id)
    form = SignForm(request.POST)
    shown = form.cleaned_data["terms_hash"] if form.is_valid() else ""
    try:
        with access_errors():
            version = services.contract_sign(
                actor=request.user,
                organization=organization,
                contract=contract,
                shown_terms_hash=shown,
                ip_address=_ip(request),
            )
    except DomainError as error:
        if error.code == "terms_hash_mismatch":
            messages.error(request, "Not signed: the terms changed; read them again before you sign.")
        else:
            messages.error(request, f"Not signed: {error.message}")
        return redirect(contract_url(contract, "pending"))
    contract.refresh_from_db()
    if version.status == ContractVersion.Status.EFFECTIVE:
        became = " The contract is active." if contract.status == Contract.Status.ACTIVE and version.number == 1 else ""
        messages.success(
            request, f"You signed v{version.number}. Both sides have signed: these terms are in force.{became}"
        )
    elif (
        selectors.side_of(contract, organization) == Signature.Side.LAB
        and contract.current_version is not None
        and services.is_rate_cut_only(contract.current_version, version)
    ):
        messages.success(
            request,
            f"You signed v{version.number}. The rate cut takes effect on {_date(version.effective_from)} "
            "unless the supplier signs sooner.",
        )
    else:
        messages.success(request, f"You signed v{version.number}. It takes effect once the other side signs.")
    return redirect(contract_url(contract, "pending" if version.status == ContractVersion.Status.PROPOSED else "terms"))


@login_required
@require_POST
def contract_amend(request: HttpRequest, public_id) -> HttpResponse:
    organization, contract = _party_contract(request, public_id)
    with access_errors():
        policies.require(request.user, organization, Perm.CONTRACTS_SIGN)
    base = contract.current_version or selectors.latest_version(contract)
    form = AmendmentForm(request.POST, base=base, base_terms=services.canonical_terms(base), auto_id="amend-%s")
    if form.is_valid():
        changes = form.changes()
        if not changes:
            form.add_error(None, "Nothing changed: edit at least one term to propose an amendment.")
        else:
            try:
                with access_errors():
                    version = services.contract_amend(
                        actor=request.user,
                        organization=organization,
                        contract=contract,
                        changes=changes,
                        change_summary=form.cleaned_data["change_summary"],
                    )
            except DomainError as error:
                if not error.details:
                    messages.error(request, f"Not proposed: {error.message}")
                    return redirect(contract_url(contract, "amend"))
                form.apply_service_error(error)
            else:
                messages.success(
                    request,
                    f"v{version.number} is proposed and the other side was asked to sign. "
                    "Read it below and sign it for your side.",
                )
                return redirect(contract_url(contract, "pending"))
    return _render_party(request, organization, contract, status=400, amend_form=form)


# --- The lifecycle ---------------------------------------------------------------------------------------


def _lifecycle(request: HttpRequest, public_id, action, done: str) -> HttpResponse:
    organization, contract = _party_contract(request, public_id)
    try:
        with access_errors():
            action(organization, contract)
    except DomainError as error:
        messages.error(request, f"Nothing changed: {error.message}")
    else:
        messages.success(request, done)
    return redirect(contract_url(contract, "status"))


@login_required
@require_POST
def contract_pause(request: HttpRequest, public_id) -> HttpResponse:
    def action(organization, contract):
        services.contract_pause(actor=request.user, organization=organization, contract=contract)

    return _lifecycle(request, public_id, action, "The contract is paused; the supplier was told.")


@login_required
@require_POST
def contract_resume(request: HttpRequest, public_id) -> HttpResponse:
    def action(organization, contract):
        services.contract_resume(actor=request.user, organization=organization, contract=contract)

    return _lifecycle(request, public_id, action, "The contract is active again; the supplier was told.")


@login_required
@require_POST
def contract_complete(request: HttpRequest, public_id) -> HttpResponse:
    def action(organization, contract):
        services.contract_complete(actor=request.user, organization=organization, contract=contract)

    return _lifecycle(request, public_id, action, "The contract is completed.")


@login_required
@require_POST
def contract_terminate(request: HttpRequest, public_id) -> HttpResponse:
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""

    def action(organization, contract):
        services.contract_terminate(actor=request.user, organization=organization, contract=contract, reason=reason)

    return _lifecycle(request, public_id, action, "The contract is terminated; the other side sees your reason.")


# --- The NDA -----------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def contract_nda(request: HttpRequest, public_id) -> HttpResponse:
    """The contract's NDA: the supplier's experts accept it here (the parties read it)."""
    organization, contract = _find(request, public_id)
    user = request.user
    supplier_person = selectors.on_supplier_side(contract, user)
    if request.method == "POST":
        try:
            with access_errors():
                acceptance = services.nda_accept(actor=user, contract=contract, ip_address=_ip(request))
        except DomainError as error:
            messages.error(request, f"Not accepted: {error.message}")
        else:
            messages.success(
                request, f"You accepted the NDA ({acceptance.nda_version}) for “{contract.project.title}”."
            )
        return redirect(reverse("contracts:nda", args=[contract.public_id]))
    terms = contract.current_version or (selectors.latest_version(contract) if organization is not None else None)
    acceptance = None
    if supplier_person and contract.current_version is not None:
        acceptance = contract.nda_acceptances.filter(
            user=user, nda_version=contract.current_version.nda_version
        ).first()
    return render(
        request,
        "contracts/nda.html",
        {
            "contract": contract,
            "project": contract.project,
            "terms": terms,
            "supplier_person": supplier_person,
            "acceptance": acceptance,
            "in_force": contract.current_version is not None,
            "supplier_name": _supplier_name(contract, organization) if organization else contract.supplier.name,
        },
    )


# --- Assignments -------------------------------------------------------------------------------------------


@login_required
@require_POST
def assignment_create(request: HttpRequest, public_id) -> HttpResponse:
    organization, contract = _party_contract(request, public_id)
    with access_errors():
        policies.require(request.user, organization, Perm.ASSIGNMENTS_MANAGE)
    if organization.pk != contract.supplier_id:
        raise Http404("Assignments belong to the supplier.")
    candidates = _candidates(request, contract, organization)
    form = AssignForm(request.POST, candidates=candidates, auto_id="assign-%s")
    refusal = None
    if form.is_valid():
        chosen = form.cleaned_data["expert"]
        try:
            with access_errors():
                assignment = services.assignment_create(
                    actor=request.user, organization=organization, contract=contract, expert_public_id=chosen
                )
        except DomainError as error:
            if error.code == "assignment_gates_unmet":
                candidate = next((c for c in candidates if c["value"] == chosen), None)
                refusal = {
                    "who": candidate["label"] if candidate else "This expert",
                    "gates": [
                        g | {"label": GATE_LABELS.get(g["gate"], g["gate"])} for g in error.details.get("gates", [])
                    ],
                }
            elif "expert" in error.details:
                form.add_error("expert", " ".join(error.details["expert"]))
            else:
                messages.error(request, f"Not assigned: {error.message}")
                return redirect(contract_url(contract, "assignments"))
        else:
            name = assignment.expert.full_name or assignment.expert.email
            messages.success(request, f"{name} is assigned to this contract and was told.")
            return redirect(contract_url(contract, "assignments"))
    return _render_party(request, organization, contract, status=400, assign_form=form, refusal=refusal)


def _assignment(request: HttpRequest, public_id, assignment_id) -> tuple[Organization, Contract, Assignment]:
    organization, contract = _party_contract(request, public_id)
    try:
        assignment = contract.assignments.select_related("expert", "contract").get(public_id=assignment_id)
    except (Assignment.DoesNotExist, ValueError, ValidationError):
        raise Http404("Assignment not found.")
    return organization, contract, assignment


@login_required
@require_POST
def assignment_end(request: HttpRequest, public_id, assignment_id) -> HttpResponse:
    organization, contract, assignment = _assignment(request, public_id, assignment_id)
    try:
        with access_errors():
            services.assignment_end(actor=request.user, organization=organization, assignment=assignment)
    except DomainError as error:
        messages.error(request, f"Nothing changed: {error.message}")
    else:
        messages.success(request, "The assignment is ended.")
    return redirect(contract_url(contract, "assignments"))


@login_required
@require_POST
def assignment_resume(request: HttpRequest, public_id, assignment_id) -> HttpResponse:
    organization, contract, assignment = _assignment(request, public_id, assignment_id)
    try:
        with access_errors():
            services.assignment_resume(actor=request.user, organization=organization, assignment=assignment)
    except DomainError as error:
        messages.error(request, f"Not resumed: {error.message}")
    else:
        messages.success(request, "The assignment is active again.")
    return redirect(contract_url(contract, "assignments"))


# --- An expert's own assignments ----------------------------------------------------------------------------


@login_required
@require_GET
def my_assignments(request: HttpRequest) -> HttpResponse:
    return render(request, "contracts/assignments.html", expert_work(request.user))
