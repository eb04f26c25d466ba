"""Organisation kinds, roles and what each role may do. The single source of access rules.

Views, API permissions and services all ask ``has_permission``; none decides access by itself.
"""

from django.db import models


class OrgKind(models.TextChoices):
    LAB = "lab", "Lab"
    VENDOR = "vendor", "Vendor"
    INDIVIDUAL = "individual", "Independent expert"


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"  # lab
    MEMBER = "member", "Member"  # lab
    MANAGER = "manager", "Manager"  # vendor
    EXPERT = "expert", "Expert"  # vendor


class StaffRole(models.TextChoices):
    NONE = "", "None"
    OPERATIONS = "operations", "Platform operations"
    FINANCE = "finance", "Platform finance"


ROLES_BY_KIND: dict[str, tuple[str, ...]] = {
    OrgKind.LAB: (Role.OWNER, Role.ADMIN, Role.MEMBER),
    OrgKind.VENDOR: (Role.OWNER, Role.MANAGER, Role.EXPERT),
    OrgKind.INDIVIDUAL: (Role.OWNER,),
}


class Perm:
    """Permission names. Later capabilities add theirs here and to ``GRANTS``."""

    ORG_VIEW = "org.view"
    MEMBERS_VIEW = "org.members.view"
    MEMBERS_INVITE = "org.members.invite"
    MEMBERS_MANAGE = "org.members.manage"  # change roles, remove members
    API_KEYS_MANAGE = "org.api_keys.manage"
    ROSTER_VIEW = "workforce.roster.view"
    ROSTER_MANAGE = "workforce.roster.manage"  # invite, suspend, reinstate, offboard
    EXPERTS_SEARCH = "workforce.experts.search"
    PROJECTS_VIEW = "projects.view"  # the lab's own projects, bids and comparison
    PROJECTS_MANAGE = "projects.manage"  # create, edit, publish, cancel, guidelines, answer, award
    MARKETPLACE_BROWSE = "marketplace.browse"  # open projects a supplier may see, guidelines
    BIDS_MANAGE = "bids.manage"  # ask questions, submit, revise, withdraw bids
    CONTRACTS_VIEW = "contracts.view"
    CONTRACTS_SIGN = "contracts.sign"  # sign, propose amendments; the lab also pauses, resumes, completes
    ASSIGNMENTS_MANAGE = "contracts.assignments.manage"  # the supplier assigns and ends experts
    WORK_SUBMIT = "work.submit"  # the supplier delivers batches and appeals rejections
    WORK_REVIEW = "work.review"  # the lab uploads gold and reviews batches
    TESTS_AUTHOR = "assessments.author"  # the lab's own tests, their grading and calibration rounds
    PAYMENTS_MANAGE = "payments.manage"  # the supplier connects its Stripe account and sees its earnings
    INTEGRATIONS_MANAGE = "org.integrations.manage"  # webhook endpoints, their deliveries, the event log


_EVERYONE = {Role.OWNER, Role.ADMIN, Role.MEMBER, Role.MANAGER, Role.EXPERT}

# permission -> org kind -> roles that hold it
GRANTS: dict[str, dict[str, set[str]]] = {
    Perm.ORG_VIEW: {OrgKind.LAB: _EVERYONE, OrgKind.VENDOR: _EVERYONE, OrgKind.INDIVIDUAL: _EVERYONE},
    Perm.MEMBERS_VIEW: {
        OrgKind.LAB: {Role.OWNER, Role.ADMIN, Role.MEMBER},
        OrgKind.VENDOR: {Role.OWNER, Role.MANAGER},
        OrgKind.INDIVIDUAL: {Role.OWNER},
    },
    Perm.MEMBERS_INVITE: {
        OrgKind.LAB: {Role.OWNER, Role.ADMIN},
        OrgKind.VENDOR: {Role.OWNER, Role.MANAGER},
        OrgKind.INDIVIDUAL: set(),  # a single-member organisation
    },
    Perm.MEMBERS_MANAGE: {OrgKind.LAB: {Role.OWNER}, OrgKind.VENDOR: {Role.OWNER}, OrgKind.INDIVIDUAL: set()},
    Perm.API_KEYS_MANAGE: {
        OrgKind.LAB: {Role.OWNER, Role.ADMIN},
        OrgKind.VENDOR: {Role.OWNER, Role.MANAGER},
        OrgKind.INDIVIDUAL: {Role.OWNER},
    },
    Perm.ROSTER_VIEW: {OrgKind.VENDOR: {Role.OWNER, Role.MANAGER}},
    Perm.ROSTER_MANAGE: {OrgKind.VENDOR: {Role.OWNER, Role.MANAGER}},
    Perm.EXPERTS_SEARCH: {
        OrgKind.LAB: {Role.OWNER, Role.ADMIN, Role.MEMBER},
        OrgKind.VENDOR: {Role.OWNER, Role.MANAGER},
    },
    Perm.PROJECTS_VIEW: {OrgKind.LAB: {Role.OWNER, Role.ADMIN, Role.MEMBER}},
    Perm.PROJECTS_MANAGE: {OrgKind.LAB: {Role.OWNER, Role.ADMIN}},
    Perm.MARKETPLACE_BROWSE: {
        OrgKind.VENDOR: {Role.OWNER, Role.MANAGER, Role.EXPERT},
        OrgKind.INDIVIDUAL: {Role.OWNER},
    },
    Perm.BIDS_MANAGE: {OrgKind.VENDOR: {Role.OWNER, Role.MANAGER}, OrgKind.INDIVIDUAL: {Role.OWNER}},
    Perm.CONTRACTS_VIEW: {
        OrgKind.LAB: {Role.OWNER, Role.ADMIN, Role.MEMBER},
        OrgKind.VENDOR: {Role.OWNER, Role.MANAGER},
        OrgKind.INDIVIDUAL: {Role.OWNER},
    },
    Perm.CONTRACTS_SIGN: {
        OrgKind.LAB: {Role.OWNER, Role.ADMIN},
        OrgKind.VENDOR: {Role.OWNER, Role.MANAGER},
        OrgKind.INDIVIDUAL: {Role.OWNER},
    },
    Perm.ASSIGNMENTS_MANAGE: {OrgKind.VENDOR: {Role.OWNER, Role.MANAGER}, OrgKind.INDIVIDUAL: {Role.OWNER}},
    Perm.WORK_SUBMIT: {OrgKind.VENDOR: {Role.OWNER, Role.MANAGER}, OrgKind.INDIVIDUAL: {Role.OWNER}},
    Perm.WORK_REVIEW: {OrgKind.LAB: {Role.OWNER, Role.ADMIN}},
    Perm.TESTS_AUTHOR: {OrgKind.LAB: {Role.OWNER, Role.ADMIN}},
    Perm.PAYMENTS_MANAGE: {OrgKind.VENDOR: {Role.OWNER, Role.MANAGER}, OrgKind.INDIVIDUAL: {Role.OWNER}},
    Perm.INTEGRATIONS_MANAGE: {
        OrgKind.LAB: {Role.OWNER, Role.ADMIN},
        OrgKind.VENDOR: {Role.OWNER, Role.MANAGER},
        OrgKind.INDIVIDUAL: {Role.OWNER},
    },
}


def role_has_permission(kind: str, role: str, perm: str) -> bool:
    return role in GRANTS.get(perm, {}).get(kind, set())


def invitable_roles(kind: str, inviter_role: str) -> tuple[str, ...]:
    """Roles an inviter may hand out: only an owner may make another owner.

    Vendor experts join through the roster (with its conflict-of-interest declaration), not
    through an organisation invitation.
    """
    roles = tuple(r for r in ROLES_BY_KIND[kind] if not (kind == OrgKind.VENDOR and r == Role.EXPERT))
    if inviter_role == Role.OWNER:
        return roles
    return tuple(r for r in roles if r != Role.OWNER)
