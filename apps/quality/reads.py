"""The bodies of ``apps.quality.selectors`` (see there for the contracts and the visibility rules)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Max, Q, QuerySet

from apps.accounts.models import Membership, Organization, User
from apps.accounts.policies import has_permission, is_staff_role, membership_for, require
from apps.accounts.roles import GRANTS, OrgKind, Perm, StaffRole
from apps.contracts.models import Contract
from apps.core.errors import NotFound
from apps.experts.models import ExpertProfile
from apps.experts.selectors import supplier_label
from apps.projects.models import Project
from apps.work.selectors import annotator_handle, annotator_handles

from .history import latest_ids, ratio, wilson_interval
from .models import AuditFlag, ConsensusSnapshot, ScoreSnapshot, ScoringRun, SlaAlert, SubjectKind
from .multiplier import contract_multiplier
from .selectors import BenchmarkExpert, BenchmarkRow, ContractQuality, ExpertRow, SlaStatus

_BAD_ID = (ValueError, TypeError, ValidationError)
HISTORY_LIMIT = 500


# --- Scope --------------------------------------------------------------------------------------------------


def _is_operations(actor: User) -> bool:
    return is_staff_role(actor, StaffRole.OPERATIONS)


def _viewing_orgs(actor: User, organization: Organization | None) -> list[Organization]:
    """The organisations whose contracts the actor reads quality for: the given one (checked), else
    every organisation where the actor's role grants CONTRACTS_VIEW."""
    if organization is not None:
        require(actor, organization, Perm.CONTRACTS_VIEW)
        return [organization]
    if actor is None or not actor.is_authenticated:
        return []
    memberships = Membership.objects.filter(user=actor).select_related("organization")
    return [
        m.organization for m in memberships if m.role in GRANTS[Perm.CONTRACTS_VIEW].get(m.organization.kind, set())
    ]


def _contract_and_side(actor: User, contract_public_id, organization: Organization | None) -> tuple[Contract, str]:
    try:
        contract = Contract.objects.select_related("project", "lab", "supplier", "current_version").get(
            public_id=contract_public_id
        )
    except (Contract.DoesNotExist, *_BAD_ID):
        raise NotFound("Contract not found.", code="contract_not_found")
    if _is_operations(actor):
        return contract, "operations"
    candidates = [organization] if organization is not None else [contract.lab, contract.supplier]
    for org in candidates:
        if org.pk == contract.lab_id and has_permission(actor, org, Perm.CONTRACTS_VIEW):
            return contract, "lab"
        if org.pk == contract.supplier_id and has_permission(actor, org, Perm.CONTRACTS_VIEW):
            return contract, "supplier"
    raise NotFound("Contract not found.", code="contract_not_found")


def _visible_contracts_q(actor: User, organization: Organization | None, prefix: str = "contract__") -> Q | None:
    """A filter on contracts the actor may read (None: everything, for operations)."""
    if _is_operations(actor) and organization is None:
        return None
    orgs = _viewing_orgs(actor, organization)
    if not orgs:
        raise NotFound("Not found.", code="not_found")
    ids = [o.pk for o in orgs]
    return Q(**{f"{prefix}lab_id__in": ids}) | Q(**{f"{prefix}supplier_id__in": ids})


def _visible_snapshots_q(actor: User, organization: Organization | None) -> Q | None:
    """``_visible_contracts_q`` for score snapshots, on the snapshot's own columns (each carries its
    contract's ``lab`` and ``supplier``). A lab is only ever a contract's lab and a vendor or independent
    expert only ever its supplier, so each organisation is matched on its one column: the same rows as
    "the contract's lab or supplier", read newest first from ``snap_lab_created_idx`` or
    ``snap_supplier_created_idx`` instead of joining every snapshot to its contract."""
    if _is_operations(actor) and organization is None:
        return None
    orgs = _viewing_orgs(actor, organization)
    if not orgs:
        raise NotFound("Not found.", code="not_found")
    labs = [o.pk for o in orgs if o.kind == OrgKind.LAB]
    suppliers = [o.pk for o in orgs if o.kind != OrgKind.LAB]
    sides = ([Q(lab_id__in=labs)] if labs else []) + ([Q(supplier_id__in=suppliers)] if suppliers else [])
    return sides[0] if len(sides) == 1 else sides[0] | sides[1]


def _names_visible(side: str) -> bool:
    return side in ("supplier", "operations")


# --- Contract page ------------------------------------------------------------------------------------------


def sla_status(contract: Contract, summary: ScoreSnapshot | None) -> SlaStatus:
    terms = contract.current_version
    threshold = terms.sla_min_gold_accuracy if terms is not None else None
    alpha_threshold = terms.sla_min_alpha if terms is not None else None
    open_alerts = list(SlaAlert.objects.filter(contract=contract, status=SlaAlert.Status.OPEN).order_by("-id"))
    measured = summary.gold_accuracy if summary else None
    lower = summary.gold_lower if summary else None
    upper = summary.gold_upper if summary else None
    n = summary.n_gold if summary else 0
    alpha_lower = summary.alpha_lower if summary else None
    gold_ok = threshold is None or (lower is not None and Decimal(str(lower)) >= threshold)
    alpha_ok = alpha_threshold is None or (alpha_lower is not None and Decimal(str(alpha_lower)) >= alpha_threshold)
    if open_alerts:  # on either metric
        state = "breached"
    elif threshold is None and alpha_threshold is None:
        state = "no_sla"
    elif gold_ok and alpha_ok:
        state = "ok"
    else:
        state = "insufficient_evidence"
    return SlaStatus(
        state=state,
        metric="gold_accuracy",
        threshold=threshold,
        measured=measured,
        lower=lower,
        upper=upper,
        n=n,
        open_alerts=open_alerts,
        alpha_threshold=alpha_threshold,
        alpha_measured=summary.alpha if summary else None,
        alpha_lower=summary.alpha_lower if summary else None,
        alpha_upper=summary.alpha_upper if summary else None,
    )


def _expert_rows(snapshots: list[ScoreSnapshot], names: bool) -> list[ExpertRow]:
    user_ids = [s.expert_id for s in snapshots]
    handles = annotator_handles(user_ids)
    users = dict(User.objects.filter(pk__in=user_ids).values_list("pk", "full_name")) if names else {}
    return [
        ExpertRow(
            snapshot=s,
            handle=handles.get(s.expert_id, "expert"),
            user_id=s.expert_id,
            name=(users.get(s.expert_id) or None) if names else None,
        )
        for s in snapshots
    ]


def _latest_audit_flags(contract_ids_q: Q | None, *, contract_id=None, kind=None) -> list[AuditFlag]:
    """Flags of the newest run that wrote audits, per contract."""
    qs = AuditFlag.objects.all()
    if contract_ids_q is not None:
        qs = qs.filter(contract_ids_q)
    if contract_id is not None:
        qs = qs.filter(contract_id=contract_id)
    runs = list(qs.order_by().values("contract_id").annotate(last=Max("run_id")))
    run_ids = [r["last"] for r in runs]
    flags = AuditFlag.objects.filter(run_id__in=run_ids).select_related("contract__project", "supplier", "run")
    if contract_id is not None:
        flags = flags.filter(contract_id=contract_id)
    if kind:
        flags = flags.filter(kind=kind)
    return list(flags.order_by("-flagged", "q", "id"))


def _label_flags(flags: list[AuditFlag], actor: User, orgs_as_supplier: set[int], operations: bool) -> list:
    handles = annotator_handles([f.expert_id for f in flags if f.expert_id])
    names = dict(User.objects.filter(pk__in=[f.expert_id for f in flags if f.expert_id]).values_list("pk", "full_name"))
    for f in flags:
        if f.subject_kind == "supplier":
            f.subject_label = supplier_label(f.supplier)
        elif operations or f.supplier_id in orgs_as_supplier:
            f.subject_label = names.get(f.expert_id) or handles.get(f.expert_id, "expert")
        else:
            f.subject_label = handles.get(f.expert_id, "expert")
        f.subject_handle = handles.get(f.expert_id) if f.expert_id else None
    return flags


def contract_quality(*, actor: User, contract_public_id, organization: Organization | None = None) -> ContractQuality:
    contract, side = _contract_and_side(actor, contract_public_id, organization)
    snaps = ScoreSnapshot.objects.filter(contract=contract)
    contract_snaps = snaps.filter(subject_kind=SubjectKind.CONTRACT)
    summary = contract_snaps.order_by("-id").first()
    history = list(reversed(list(contract_snaps.order_by("-id")[:HISTORY_LIMIT])))
    expert_snaps = list(
        ScoreSnapshot.objects.filter(pk__in=latest_ids(snaps.filter(subject_kind=SubjectKind.EXPERT), "expert_id"))
        .select_related("expert")
        .order_by("-n_judgments", "id")
    )
    batch_snaps = list(
        ScoreSnapshot.objects.filter(
            pk__in=latest_ids(
                snaps.filter(subject_kind=SubjectKind.BATCH, batch_id__in=contract.batches.values("id")), "batch_id"
            )
        )
        .select_related("batch")
        .order_by("-batch__created_at", "-id")
    )
    flags = _latest_audit_flags(None, contract_id=contract.pk)
    supplier_ids = {contract.supplier_id} if side == "supplier" else set()
    flags = _label_flags(flags, actor, supplier_ids, side == "operations")
    running = ScoringRun.objects.filter(contract=contract, status=ScoringRun.Status.RUNNING).order_by("-id").first()
    return ContractQuality(
        contract=contract,
        summary=summary,
        sla=sla_status(contract, summary),
        multiplier=contract_multiplier(contract),
        history=history,
        experts=_expert_rows(expert_snaps, _names_visible(side)),
        batches=batch_snaps,
        audits=flags,
        running=running,
        viewer_side=side,
    )


# --- Benchmark ----------------------------------------------------------------------------------------------


def _rank(rows: list[dict]) -> None:
    """Best first; a supplier whose interval overlaps the interval of the row ranked above it shares
    that rank (ties are ties). Rows without gold come last, unranked among themselves."""
    rows.sort(key=lambda r: (r["accuracy"] is None, -(r["accuracy"] or 0), -(r["n_gold"])))
    rank, previous = 0, None
    for position, row in enumerate(rows, start=1):
        if row["accuracy"] is None:
            row["rank"] = previous["rank"] + 1 if previous and previous["accuracy"] is not None else position
            row["rank"] = max(row["rank"], rank)
            rank = row["rank"]
            previous = row
            continue
        if previous is not None and previous["accuracy"] is not None and row["upper"] >= previous["lower"]:
            row["rank"] = previous["rank"]
        else:
            row["rank"] = position
        rank = row["rank"]
        previous = row


def vendor_benchmark(*, actor: User, project_public_id, organization: Organization | None = None) -> list:
    try:
        project = Project.objects.select_related("lab").get(public_id=project_public_id)
    except (Project.DoesNotExist, *_BAD_ID):
        raise NotFound("Project not found.", code="project_not_found")
    operations = _is_operations(actor) and organization is None
    own_suppliers: set[int] = set()
    if not operations:
        orgs = _viewing_orgs(actor, organization)
        lab_view = any(o.pk == project.lab_id and has_permission(actor, o, Perm.PROJECTS_VIEW) for o in orgs)
        own_suppliers = {o.pk for o in orgs if o.kind in (OrgKind.VENDOR, OrgKind.INDIVIDUAL)}
        if not lab_view:
            if not Contract.objects.filter(project=project, supplier_id__in=own_suppliers).exists():
                raise NotFound("Project not found.", code="project_not_found")
    else:
        lab_view = True
    base = ScoreSnapshot.objects.filter(project=project)
    if not lab_view:
        base = base.filter(supplier_id__in=own_suppliers)
    # The latest supplier row per (contract, guideline version): additive gold counts summed over contracts.
    supplier_rows = ScoreSnapshot.objects.filter(
        pk__in=[
            r["last"]
            for r in base.filter(subject_kind=SubjectKind.SUPPLIER)
            .order_by()
            .values("contract_id", "guideline_version_id")
            .annotate(last=Max("id"))
        ]
    ).select_related("supplier", "guideline_version")
    grouped: dict[tuple, dict] = {}
    for s in supplier_rows:
        key = (s.supplier_id, s.task_type, s.guideline_version.number if s.guideline_version else None)
        row = grouped.setdefault(key, {"supplier": s.supplier, "n_gold": 0, "gold_correct": 0})
        row["n_gold"] += s.n_gold
        row["gold_correct"] += s.gold_correct
    expert_snaps = ScoreSnapshot.objects.filter(
        pk__in=[
            r["last"]
            for r in base.filter(subject_kind=SubjectKind.EXPERT)
            .order_by()
            .values("contract_id", "expert_id")
            .annotate(last=Max("id"))
        ]
    )
    per_expert: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for s in expert_snaps:
        counts = per_expert[(s.supplier_id, s.task_type, s.expert_id)]
        counts[0] += s.n_gold
        counts[1] += s.gold_correct
    handles = annotator_handles([k[2] for k in per_expert])
    names = dict(User.objects.filter(pk__in=[k[2] for k in per_expert]).values_list("pk", "full_name"))
    by_task: dict[str, list[dict]] = defaultdict(list)
    for (supplier_id, task_type, version), row in grouped.items():
        accuracy, lower, upper = wilson_interval(row["gold_correct"], row["n_gold"])
        row.update(
            supplier_id=supplier_id, task_type=task_type, version=version, accuracy=accuracy, lower=lower, upper=upper
        )
        by_task[(task_type, version)].append(row)
    out: list[BenchmarkRow] = []
    for key in sorted(by_task, key=lambda k: (k[0], k[1] is None, k[1] or 0)):
        rows = by_task[key]
        _rank(rows)
        for row in rows:
            experts = []
            show_names = operations or row["supplier_id"] in own_suppliers
            if show_names or lab_view:
                for (sid, task_type, expert_id), (n, correct) in per_expert.items():
                    if sid != row["supplier_id"] or task_type != row["task_type"]:
                        continue
                    accuracy, lower, upper = wilson_interval(correct, n)
                    label = (
                        (names.get(expert_id) or handles.get(expert_id, "expert"))
                        if show_names
                        else (handles.get(expert_id, "expert"))
                    )
                    experts.append(BenchmarkExpert(label, n, correct, accuracy, lower, upper))
                experts.sort(key=lambda e: (e.accuracy is None, -(e.accuracy or 0)))
            out.append(
                BenchmarkRow(
                    supplier_public_id=row["supplier"].public_id,
                    supplier_label=supplier_label(row["supplier"]),
                    task_type=row["task_type"],
                    guideline_version=row["version"],
                    n_gold=row["n_gold"],
                    gold_correct=row["gold_correct"],
                    accuracy=row["accuracy"],
                    lower=row["lower"],
                    upper=row["upper"],
                    rank=row["rank"],
                    experts=experts,
                )
            )
    return out


# --- Team, me, audits, scores -------------------------------------------------------------------------------


def team_quality(*, actor: User, organization: Organization) -> list[ExpertRow]:
    require(actor, organization, Perm.CONTRACTS_VIEW)
    if organization.kind == OrgKind.LAB:
        raise NotFound("Team not found.", code="team_not_found")
    base = ScoreSnapshot.objects.filter(supplier=organization, subject_kind=SubjectKind.EXPERT)
    ids = [r["last"] for r in base.order_by().values("contract_id", "expert_id").annotate(last=Max("id"))]
    snaps = list(
        ScoreSnapshot.objects.filter(pk__in=ids)
        .select_related("contract__project", "expert")
        .order_by("expert_id", "-id")
    )
    return _expert_rows(snaps, names=True)


def my_quality(*, actor: User) -> list:
    if actor is None or not actor.is_authenticated:
        raise NotFound("Not found.", code="not_found")
    return list(
        ScoreSnapshot.objects.filter(expert=actor, subject_kind=SubjectKind.EXPERT)
        .select_related("contract__project", "contract__lab")
        .order_by("-id")
    )


def audit_flags(*, actor: User, organization: Organization | None, contract_public_id=None, kind: str | None = None):
    contract_id = None
    if contract_public_id is not None:
        contract, side = _contract_and_side(actor, contract_public_id, organization)
        contract_id = contract.pk
    scope = _visible_contracts_q(actor, organization)
    flags = _latest_audit_flags(scope, contract_id=contract_id, kind=kind)
    orgs = _viewing_orgs(actor, organization) if scope is not None else []
    supplier_ids = {o.pk for o in orgs if o.kind != OrgKind.LAB}
    return _label_flags(flags, actor, supplier_ids, scope is None)


def _own_rows_only(actor: User, organization: Organization | None) -> bool:
    if organization is None or _is_operations(actor):
        return False
    membership = membership_for(actor, organization)
    return membership is not None and not has_permission(actor, organization, Perm.CONTRACTS_VIEW)


def _expert_pk(value) -> int:
    """An expert by User, by user public id, or by pseudonymous handle (what a lab knows)."""
    if isinstance(value, User):
        return value.pk
    pk = _pk_of(User, value, "expert")
    if pk != -1:
        return pk
    found = ExpertProfile.objects.filter(handle=str(value)).values_list("user_id", flat=True).first()
    return found if found is not None else -1


def _pk_of(model, value, code: str):
    if value is None:
        return None
    if isinstance(value, model):
        return value.pk
    try:
        return model.objects.values_list("pk", flat=True).get(public_id=value)
    except (model.DoesNotExist, *_BAD_ID):
        return -1  # matches nothing: an unknown or invisible id filters to an empty list


def scores(
    *,
    actor: User,
    organization: Organization | None,
    contract=None,
    vendor=None,
    expert=None,
    subject_kind: str | None = None,
    since=None,
    until=None,
) -> QuerySet[ScoreSnapshot]:
    qs = ScoreSnapshot.objects.all()
    if _own_rows_only(actor, organization):
        # A vendor's expert (no CONTRACTS_VIEW): their own expert rows, nothing else.
        qs = qs.filter(expert=actor, subject_kind=SubjectKind.EXPERT, supplier=organization)
    else:
        scope = _visible_snapshots_q(actor, organization)
        if scope is not None:
            qs = qs.filter(scope)
    if contract is not None:
        qs = qs.filter(contract_id=_pk_of(Contract, contract, "contract"))
    if vendor is not None:
        qs = qs.filter(supplier_id=_pk_of(Organization, vendor, "vendor"))
    if expert is not None:
        qs = qs.filter(expert_id=_expert_pk(expert))
    if subject_kind:
        qs = qs.filter(subject_kind=subject_kind)
    if since is not None:
        qs = qs.filter(window_end__gte=since)
    if until is not None:
        qs = qs.filter(window_start__lte=until)
    return qs.select_related("contract", "supplier", "batch", "run", "guideline_version").annotate(
        expert_handle=annotator_handle("expert_id")
    )


# --- Consensus ------------------------------------------------------------------------------------------------


def _gold_item_ids(contract: Contract) -> set[str]:
    from apps.work.models import GoldItem

    return set(GoldItem.objects.filter(project_id=contract.project_id).values_list("item_id", flat=True))


def _rows(
    snapshot: ConsensusSnapshot,
    wanted: set[str] | None = None,
    *,
    omit: set[str] | frozenset = frozenset(),
    gold: set[str] | None = None,
) -> Iterator[dict]:
    """One dict per item of ``snapshot``; items in ``omit`` are skipped. With ``gold`` (the lab's and
    operations' view) each row also says whether its item is a gold item."""
    data = snapshot.unpack()
    labels = snapshot.label_set
    for i, item_id in enumerate(data["items"]):
        if wanted is not None and item_id not in wanted:
            continue
        if item_id in omit:
            continue
        code = int(data["label"][i])
        probas = data["probas"][i] if data["probas"].ndim == 2 else []
        row = {
            "item_id": item_id,
            "label": labels[code] if code >= 0 else None,
            "tie": code < 0,
            "probabilities": {labels[k]: round(float(p), 6) for k, p in enumerate(probas) if k < len(labels)},
            "confidence": round(float(data["confidence"][i]), 6),
            "disagreement": bool(data["disagreement"][i]),
        }
        if gold is not None:
            row["gold"] = item_id in gold
        yield row


def _latest_consensus(contract: Contract) -> ConsensusSnapshot | None:
    return ConsensusSnapshot.objects.filter(contract=contract).order_by("-id").first()


def consensus_rows(*, actor: User, organization: Organization | None, contract_public_id) -> Iterator[dict]:
    contract, side = _contract_and_side(actor, contract_public_id, organization)
    snapshot = _latest_consensus(contract)
    if snapshot is None:
        return iter(())
    gold = _gold_item_ids(contract)
    if side == "supplier":
        # Dawid-Skene clamps gold items to their answer: the supplier side never gets them (neither the
        # answer nor which items are gold), so they are left out and the rows carry no ``gold`` key.
        return _rows(snapshot, omit=gold)
    return _rows(snapshot, gold=gold)


def consensus_for_items(contract, item_ids) -> dict[str, dict]:
    snapshot = _latest_consensus(contract)
    if snapshot is None:
        return {}
    return {row["item_id"]: row for row in _rows(snapshot, set(item_ids))}


# --- Runs -------------------------------------------------------------------------------------------------------


def scoring_runs(*, actor: User, organization: Organization | None, contract_public_id=None) -> QuerySet[ScoringRun]:
    scope = _visible_contracts_q(actor, organization)
    qs = ScoringRun.objects.select_related("contract")
    if scope is not None:
        qs = qs.filter(scope)
    if contract_public_id is not None:
        contract, _ = _contract_and_side(actor, contract_public_id, organization)
        qs = qs.filter(contract=contract)
    return qs.order_by("-created_at", "-id")


def scoring_run_get(*, actor: User, organization: Organization | None, public_id) -> ScoringRun:
    try:
        return scoring_runs(actor=actor, organization=organization).get(public_id=public_id)
    except (ScoringRun.DoesNotExist, *_BAD_ID):
        raise NotFound("Scoring run not found.", code="scoring_run_not_found")


def ratio_of(snapshot: ScoreSnapshot) -> Decimal | None:
    return ratio(snapshot.gold_correct, snapshot.n_gold)
