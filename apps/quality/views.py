"""Quality pages: a contract's quality (lab, supplier, operations), a project's vendor benchmark (the
lab, operations; a supplier sees its own rows), a vendor's team, an expert's own scores, the bias-audit
list, the recompute button with its progress fragment, and the dashboard cards.

Views are interfaces: they call one selector (already scoped: outside it NotFound, so 404) or service
and shape its result for the template. Labs never see an expert's name or e-mail: rows carry the
handle, and the selectors return a name only to the expert's own supplier and operations. Charts are
SVG drawn by ``charts.py``; each sits beside a data table. No inline script or style anywhere: the
progress fragment polls with htmx attributes and the page reloads itself through ``HX-Refresh``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_POST

from apps.accounts import policies
from apps.accounts.middleware import get_active_membership
from apps.accounts.models import Organization, User
from apps.accounts.roles import OrgKind, Perm, Role
from apps.accounts.views import access_errors
from apps.contracts.models import Contract
from apps.experts.selectors import supplier_label
from apps.projects.models import Project

from . import charts, selectors, services
from .models import AuditKind, ScoringRun

DASHBOARD_ROWS = 5
AUDIT_KINDS = dict(AuditKind.choices)
SLA_STATES = {
    "ok": "Meeting the SLA",
    "breached": "Below the SLA",
    "insufficient_evidence": "Not enough evidence yet",
    "no_sla": "No SLA set",
}


def _active_organization(request: HttpRequest) -> Organization | None:
    membership = get_active_membership(request)
    return membership.organization if membership else None


def _scope_organization(request: HttpRequest) -> Organization | None:
    """The organisation a page is read for: the active one; None for platform operations (all)."""
    organization = _active_organization(request)
    if organization is None and not request.user.is_operations:
        raise Http404("No organisation.")
    return organization


def consensus_export_url(contract: Contract) -> str:
    """The API's JSONL export of the contract's consensus labels."""
    try:
        return reverse("api-v1:contract-consensus", kwargs={"contract_id": contract.public_id})
    except NoReverseMatch:
        return f"/api/v1/contracts/{contract.public_id}/consensus/"


def _time_points(snapshots) -> list[charts.TimePoint]:
    return [
        charts.TimePoint(at=s.created_at, value=s.gold_accuracy, lower=s.gold_lower, upper=s.gold_upper, n=s.n_gold)
        for s in snapshots
    ]


def _flags_by_expert(audits) -> dict[int, list[str]]:
    flagged: dict[int, list[str]] = defaultdict(list)
    for flag in audits:
        if flag.flagged and flag.expert_id is not None:
            flagged[flag.expert_id].append(AUDIT_KINDS.get(flag.kind, flag.kind))
    return flagged


# --- A contract's quality -----------------------------------------------------------------------------------------


def _audit_rows(audits) -> list[dict[str, Any]]:
    """Audit flags for ``_audit_table.html``; the selector labelled each subject for the viewer (a
    handle for a lab, a name for the expert's own supplier and operations)."""
    return [
        {
            "contract": flag.contract,
            "kind": AUDIT_KINDS.get(flag.kind, flag.kind),
            "subject": getattr(flag, "subject_label", "") or "—",
            "is_supplier": flag.expert_id is None,
            "explanation": flag.explanation,
            "effect": flag.effect,
            "q": flag.q,
            "p": flag.p,
            "n": flag.n,
            "test": flag.test,
            "flagged": flag.flagged,
        }
        for flag in audits
    ]


@login_required
@require_GET
def contract_quality(request: HttpRequest, public_id) -> HttpResponse:
    organization = _scope_organization(request)
    with access_errors():
        quality = selectors.contract_quality(
            actor=request.user, contract_public_id=public_id, organization=organization
        )
    contract = quality.contract
    is_lab = quality.viewer_side == "lab"
    supplier = supplier_label(contract.supplier)
    flags = _flags_by_expert(quality.audits)
    experts = [
        {
            "handle": row.handle,
            # The selector gives a name only where the viewer may see it; a lab never gets one.
            "name": None if is_lab else row.name,
            "user_id": row.user_id,
            "s": row.snapshot,
            "flags": flags.get(row.user_id, []),
        }
        for row in quality.experts
    ]
    sla = quality.sla
    threshold = sla.threshold
    context = {
        "contract": contract,
        "project": contract.project,
        "quality": quality,
        "summary": quality.summary,
        "sla": sla,
        "sla_label": SLA_STATES.get(sla.state, sla.state),
        "multiplier": quality.multiplier,
        "history": quality.history,
        "experts": experts,
        "batches": quality.batches,
        "audits": _audit_rows(quality.audits),
        "flagged_audit_count": sum(1 for flag in quality.audits if flag.flagged),
        "run": quality.running,
        "contract_public_id": contract.public_id,
        "watching": str(quality.running.public_id) if quality.running else "",
        "is_lab": is_lab,
        "viewer_side": quality.viewer_side,
        "lab_name": contract.lab.name,
        "supplier_name": supplier,
        "consensus_url": consensus_export_url(contract),
        "timeline_chart": charts.quality_over_time(_time_points(quality.history), threshold=threshold),
        "scatter_chart": charts.expert_scatter(
            [
                charts.ScatterPoint(
                    label=row["handle"], x=row["s"].gold_accuracy, y=row["s"].loo_agreement, flagged=bool(row["flags"])
                )
                for row in experts
            ]
        ),
    }
    return render(request, "quality/contract.html", context)


def _run_context(request: HttpRequest, contract_public_id, run: ScoringRun | None) -> dict[str, Any]:
    return {
        "run": run,
        "contract_public_id": contract_public_id,
        "watching": request.GET.get("run") or (str(run.public_id) if run is not None else ""),
    }


@login_required
@require_POST
def recompute(request: HttpRequest, public_id) -> HttpResponse:
    """Ask for a full recompute now (any party to the contract, or operations; the service checks)."""
    contract = Contract.objects.filter(public_id=public_id).select_related("lab", "supplier").first()
    if contract is None:
        raise Http404("Contract not found.")
    with access_errors():
        run = services.request_recompute(actor=request.user, contract=contract)
    if request.htmx:
        return render(request, "quality/_run.html", _run_context(request, public_id, run))
    messages.success(request, "Recompute started. The figures below update when it finishes.")
    return redirect(reverse("quality:contract", args=[public_id]) + "#scoring-run")


@login_required
@require_GET
def run_status(request: HttpRequest, public_id) -> HttpResponse:
    """The progress fragment the page polls while a run is running (``?run=`` names the run watched).
    Once that run is no longer the one running, it asks htmx to reload the page (``HX-Refresh``) so
    every figure on it is the new one."""
    organization = _scope_organization(request)
    with access_errors():
        runs = selectors.scoring_runs(actor=request.user, organization=organization, contract_public_id=public_id)
        running = runs.filter(status=ScoringRun.Status.RUNNING).first()
        run = running or runs.first()
    response = render(request, "quality/_run.html", _run_context(request, public_id, run))
    watched = request.GET.get("run") or ""
    if request.htmx and watched and (running is None or str(running.public_id) != watched):
        response["HX-Refresh"] = "true"
    return response


# --- A project's vendor benchmark ----------------------------------------------------------------------------


@login_required
@require_GET
def vendor_benchmark(request: HttpRequest, public_id) -> HttpResponse:
    organization = _scope_organization(request)
    with access_errors():
        rows = selectors.vendor_benchmark(actor=request.user, project_public_id=public_id, organization=organization)
    # The selector has established that the actor may see the project.
    project = Project.objects.select_related("lab").filter(public_id=public_id).first()
    if project is None:
        raise Http404("Project not found.")
    groups: dict[tuple, list] = defaultdict(list)
    for row in rows:
        groups[(row.task_type, row.guideline_version)].append(row)
    threshold = project.sla_min_gold_accuracy
    tables = []
    for index, ((task_type, version), members) in enumerate(
        sorted(groups.items(), key=lambda kv: (kv[0][0], -(kv[0][1] or 0)))
    ):
        ordered = charts.ranked(
            [
                charts.IntervalRow(
                    label=r.supplier_label, value=r.accuracy, lower=r.lower, upper=r.upper, rank=r.rank, n=r.n_gold
                )
                for r in members
            ]
        )
        by_label = {r.supplier_label: r for r in members}
        tables.append(
            {
                "task_type": task_type,
                "guideline_version": version,
                "rows": [{"row": by_label[item.label], "rank": rank, "tied": tied} for item, rank, tied in ordered],
                "chart": charts.vendor_comparison(
                    [item for item, _, _ in ordered],
                    threshold=threshold,
                    chart_id=f"vendor-comparison-{index}",
                    title=f"Gold accuracy by supplier: {task_type or 'all tasks'}, "
                    f"guidelines {'v' + str(version) if version else 'unversioned'}",
                ),
            }
        )
    return render(
        request,
        "quality/vendor_benchmark.html",
        {
            "project": project,
            "tables": tables,
            "threshold": threshold,
            "is_owner_lab": organization is not None and organization.pk == project.lab_id,
            "is_operations": organization is None,
        },
    )


# --- A vendor's team -------------------------------------------------------------------------------------------


@login_required
@require_GET
def team_quality(request: HttpRequest) -> HttpResponse:
    organization = _active_organization(request)
    if organization is None or organization.kind == OrgKind.LAB:
        raise Http404("Team quality is a supplier's page.")
    with access_errors():
        rows = selectors.team_quality(actor=request.user, organization=organization)
        flags = selectors.audit_flags(actor=request.user, organization=organization)
    flagged: dict[tuple[int, int], list[str]] = defaultdict(list)
    for flag in flags:
        if flag.flagged and flag.expert_id is not None:
            flagged[(flag.contract_id, flag.expert_id)].append(AUDIT_KINDS.get(flag.kind, flag.kind))
    people: dict[int, dict[str, Any]] = {}
    for row in rows:
        s = row.snapshot
        person = people.setdefault(
            row.user_id, {"handle": row.handle, "name": row.name, "contracts": [], "n_gold": 0, "gold_correct": 0}
        )
        person["contracts"].append(
            {"s": s, "contract": s.contract, "flags": flagged.get((s.contract_id, row.user_id), [])}
        )
        person["n_gold"] += s.n_gold
        person["gold_correct"] += s.gold_correct
    team = sorted(people.values(), key=lambda p: (p["name"] or p["handle"]).lower())
    for person in team:
        person["flag_count"] = sum(len(c["flags"]) for c in person["contracts"])
        person["accuracy"] = person["gold_correct"] / person["n_gold"] if person["n_gold"] else None
    return render(
        request,
        "quality/team.html",
        {
            "org": organization,
            "team": team,
            "scatter_chart": charts.expert_scatter(
                [
                    charts.ScatterPoint(
                        label=f"{p['handle']} · {c['contract'].project.title}",
                        x=c["s"].gold_accuracy,
                        y=c["s"].loo_agreement,
                        flagged=bool(c["flags"]),
                    )
                    for p in team
                    for c in p["contracts"]
                ],
                title="Your experts: gold accuracy against agreement, per contract",
            ),
        },
    )


# --- An expert's own scores ------------------------------------------------------------------------------------


@login_required
@require_GET
def my_quality(request: HttpRequest) -> HttpResponse:
    with access_errors():
        snapshots = selectors.my_quality(actor=request.user)
    by_contract: dict[int, list] = defaultdict(list)
    for s in snapshots:  # newest first
        by_contract[s.contract_id].append(s)
    contracts = []
    for index, history in enumerate(by_contract.values()):
        latest = history[0]
        contracts.append(
            {
                "contract": latest.contract,
                "s": latest,
                "history": list(reversed(history)),
                "sparkline": charts.sparkline(
                    [h.gold_accuracy for h in reversed(history)],
                    chart_id=f"my-trend-{index}",
                    title="Your gold accuracy, oldest to newest",
                ),
            }
        )
    return render(request, "quality/me.html", {"contracts": contracts})


# --- Bias audits ---------------------------------------------------------------------------------------------


@login_required
@require_GET
def audits(request: HttpRequest) -> HttpResponse:
    """The latest run's audit results of every contract in scope, filtered by kind and contract;
    flagged results only unless ``show=all``."""
    organization = _scope_organization(request)
    if organization is not None and not policies.has_permission(request.user, organization, Perm.CONTRACTS_VIEW):
        raise Http404("No audits to show.")
    kind = request.GET.get("kind") or ""
    if kind not in AUDIT_KINDS:
        kind = ""
    contract_filter = request.GET.get("contract") or ""
    show_all = request.GET.get("show") == "all"
    with access_errors():
        flags = selectors.audit_flags(actor=request.user, organization=organization, kind=kind or None)
    contracts = {}
    for flag in flags:
        contracts.setdefault(str(flag.contract.public_id), flag.contract)
    if contract_filter not in contracts:
        contract_filter = ""
    shown = [
        flag
        for flag in flags
        if (show_all or flag.flagged) and (not contract_filter or str(flag.contract.public_id) == contract_filter)
    ]
    rows = _audit_rows(shown)
    return render(
        request,
        "quality/audits.html",
        {
            "org": organization,
            "rows": rows,
            "kinds": AuditKind.choices,
            "kind": kind,
            "contract_options": sorted(contracts.items(), key=lambda kv: kv[1].project.title),
            "contract_filter": contract_filter,
            "show_all": show_all,
            "tested_count": len(flags),
            "flagged_count": sum(1 for flag in flags if flag.flagged),
        },
    )


# --- Dashboard cards (apps/dashboard composes them) ------------------------------------------------------------


def dashboard_summary(user: User, membership) -> dict[str, Any]:
    """The quality card of a dashboard: the latest gold accuracy of a party's contracts, an expert's
    own latest scores, and for operations the number of flagged audit results."""
    if user.is_operations:
        flags = selectors.audit_flags(actor=user, organization=None)
        return {"show_quality": True, "quality_flagged_count": sum(1 for flag in flags if flag.flagged)}
    if membership is None:
        return {}
    organization = membership.organization
    context: dict[str, Any] = {"show_quality": True}
    if membership.role == Role.EXPERT or organization.kind == OrgKind.INDIVIDUAL:
        mine: dict[int, Any] = {}
        for snapshot in selectors.my_quality(actor=user):  # newest first
            mine.setdefault(snapshot.contract_id, snapshot)
        context["quality_mine"] = list(mine.values())[:DASHBOARD_ROWS]
    if policies.has_permission(user, organization, Perm.CONTRACTS_VIEW):
        latest: dict[int, Any] = {}
        snapshots = selectors.scores(actor=user, organization=organization, subject_kind="contract")
        for snapshot in snapshots.select_related("contract__project")[:200]:  # newest first
            latest.setdefault(snapshot.contract_id, snapshot)
        context.update(
            {
                "quality_contracts": list(latest.values())[:DASHBOARD_ROWS],
                "quality_contract_count": len(latest),
                "quality_is_lab": organization.kind == OrgKind.LAB,
                "quality_is_vendor": organization.kind == OrgKind.VENDOR,
            }
        )
    return context
