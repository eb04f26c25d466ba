"""Reads of contracts, scoped to the two parties (and platform operations where stated)."""

from __future__ import annotations

from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When

from apps.accounts.models import Membership, Organization, User
from apps.accounts.policies import require
from apps.accounts.roles import OrgKind, Perm, Role
from apps.assessments.models import ProjectTestRequirement
from apps.assessments.selectors import current_qualification
from apps.core.errors import NotFound
from apps.experts.models import Credential, RosterEntry
from apps.experts.selectors import verified_credentials_q
from apps.projects.models import GuidelineAcknowledgement, GuidelineVersion

from .models import Assignment, Contract, ContractVersion, NdaAcceptance, Signature

_BAD_ID = (ValueError, TypeError, ValidationError)
STATUS_ORDER = [
    Contract.Status.PENDING_SIGNATURE,
    Contract.Status.ACTIVE,
    Contract.Status.PAUSED,
    Contract.Status.COMPLETED,
    Contract.Status.TERMINATED,
]


def contract_list(*, actor: User, organization: Organization, status: str | None = None) -> QuerySet[Contract]:
    """The contracts ``organization`` is a party to (as lab or supplier).

    A lab is only ever a contract's lab (it drafts the project) and a vendor or independent expert only
    ever its supplier (it bids), so one column is filtered by the organisation's kind: the same contracts
    as ``lab OR supplier``, read from that side's index (``contract_lab_created_idx`` or
    ``contract_supplier_created_idx``) newest first."""
    require(actor, organization, Perm.CONTRACTS_VIEW)
    party = Q(lab=organization) if organization.kind == OrgKind.LAB else Q(supplier=organization)
    qs = Contract.objects.filter(party)
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("project", "lab", "supplier", "current_version").order_by("-created_at", "-id")


def contract_get(*, actor: User, organization: Organization | None, public_id: UUID | str) -> Contract:
    if organization is None:
        raise NotFound("Contract not found.", code="contract_not_found")
    try:
        return contract_list(actor=actor, organization=organization).get(public_id=public_id)
    except (Contract.DoesNotExist, *_BAD_ID):
        raise NotFound("Contract not found.", code="contract_not_found")


def side_of(contract: Contract, organization: Organization) -> str:
    """'lab' or 'supplier': which party ``organization`` is."""
    return "lab" if organization.pk == contract.lab_id else "supplier"


def terms_in_force(contract: Contract) -> ContractVersion | None:
    """The effective version (the current one), or None before both sides signed v1."""
    return contract.current_version


def latest_version(contract: Contract) -> ContractVersion:
    return contract.versions.order_by("-number").first()


def active_assignees(contract: Contract) -> QuerySet[User]:
    """Experts currently allowed to deliver judgments on ``contract``."""
    return User.objects.filter(assignments__contract=contract, assignments__status=Assignment.Status.ACTIVE).distinct()


# --- For the supplier's experts and the parties' lists -----------------------------------------------


def on_supplier_side(contract: Contract, user: User) -> bool:
    """Is ``user`` one of the supplier's people (an active roster expert, or the independent expert
    who is the supplier)? Asked of the domain's own roster gate."""
    return is_supplier_person(contract, user)


def contract_get_for_expert(user: User, public_id) -> Contract:
    """A contract seen by one of the supplier's experts (who holds no CONTRACTS_VIEW); 404 otherwise."""
    try:
        contract = Contract.objects.select_related("project", "lab", "supplier", "current_version").get(
            public_id=public_id
        )
    except (Contract.DoesNotExist, *_BAD_ID):
        raise NotFound("Contract not found.", code="contract_not_found")
    if not on_supplier_side(contract, user):
        raise NotFound("Contract not found.", code="contract_not_found")
    return contract


def contract_list_for_expert(user: User) -> list[Contract]:
    """The contracts ``user`` works on for a supplier: open ones of the vendors whose active roster
    they are on (or of their own independent organisation), and any they were ever assigned to."""
    vendors = RosterEntry.objects.filter(user=user, status=RosterEntry.Status.ACTIVE).values("vendor_id")
    own = Membership.objects.filter(user=user, role=Role.OWNER, organization__kind=OrgKind.INDIVIDUAL).values(
        "organization_id"
    )
    mine = Assignment.objects.filter(contract=OuterRef("pk"), expert=user)
    return list(
        Contract.objects.filter(
            (Q(supplier_id__in=vendors) | Q(supplier_id__in=own))
            & (Q(status__in=[Contract.Status.ACTIVE, Contract.Status.PAUSED]) | Q(Exists(mine)))
        )
        .select_related("project", "lab", "supplier", "current_version")
        .order_by("-created_at", "-id")
    )


def with_signing_state(qs, organization: Organization):
    """Annotate ``awaiting_me``: terms await ``organization``'s signature on the contract."""
    proposed = ContractVersion.objects.filter(contract=OuterRef("pk"), status=ContractVersion.Status.PROPOSED)
    signed = Signature.objects.filter(version__contract=OuterRef("pk"), version__status=ContractVersion.Status.PROPOSED)
    return qs.annotate(
        awaiting_me=Case(
            When(
                Q(lab=organization) & Q(Exists(proposed)) & ~Q(Exists(signed.filter(side=Signature.Side.LAB))),
                then=Value(1),
            ),
            When(
                Q(supplier=organization)
                & Q(Exists(proposed))
                & ~Q(Exists(signed.filter(side=Signature.Side.SUPPLIER))),
                then=Value(1),
            ),
            default=Value(0),
            output_field=IntegerField(),
        ),
        status_rank=Case(
            *[When(status=s, then=Value(i)) for i, s in enumerate(STATUS_ORDER)],
            default=Value(len(STATUS_ORDER)),
            output_field=IntegerField(),
        ),
    )


# --- Gates --------------------------------------------------------------------------------------------------


def is_supplier_person(contract: Contract, user: User) -> bool:
    supplier = contract.supplier
    if supplier.kind == OrgKind.INDIVIDUAL:
        return supplier.memberships.filter(user=user, role=Role.OWNER).exists()
    return RosterEntry.objects.filter(vendor=supplier, user=user, status=RosterEntry.Status.ACTIVE).exists()


def assignment_gates(contract: Contract, expert: User) -> list[dict[str, str]]:
    """Every unmet gate for ``expert`` on ``contract`` (empty when all hold), each with a code."""
    unmet: list[dict[str, str]] = []
    if not is_supplier_person(contract, expert):
        # Nothing more about someone else's expert: their credentials, NDAs and acknowledgements
        # (perhaps for a rival on this project) are not the supplier's to probe.
        return [{"gate": "roster", "message": "Not an active expert on the supplier's roster."}]
    required = list(contract.project.required_credential_types or [])
    if required:
        held = set(
            Credential.objects.filter(verified_credentials_q(), profile__user=expert).values_list("type", flat=True)
        )
        for kind in required:
            if kind not in held:
                unmet.append(
                    {
                        "gate": "credential",
                        "message": f"No verified, unexpired {kind.replace('_', ' ')}.",
                        "credential_type": kind,
                    }
                )
    terms = contract.current_version
    if (
        terms is None
        or not NdaAcceptance.objects.filter(contract=contract, user=expert, nda_version=terms.nda_version).exists()
    ):
        unmet.append({"gate": "nda", "message": "Has not accepted the contract's NDA."})
    latest = GuidelineVersion.objects.filter(project=contract.project).order_by("-number").first()
    if latest is not None and not GuidelineAcknowledgement.objects.filter(version=latest, user=expert).exists():
        unmet.append({"gate": "guidelines", "message": f"Has not acknowledged guidelines v{latest.number}."})
    requirement = ProjectTestRequirement.objects.filter(project=contract.project).select_related("test").first()
    if requirement is not None and current_qualification(expert=expert, family=requirement.test.family) is None:
        unmet.append(
            {
                "gate": "qualification",
                "message": f"No current qualification in '{requirement.test.title}'.",
                "test": str(requirement.test.public_id),
            }
        )
    return unmet
