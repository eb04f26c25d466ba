"""Navigation by role and the organisation switcher, for every page."""

from django.urls import NoReverseMatch, reverse

from .middleware import get_active_membership
from .roles import OrgKind, Perm, Role, role_has_permission


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    membership = get_active_membership(request)
    items = [("Dashboard", reverse("home"))]
    if membership is not None:
        kind, role = membership.organization.kind, membership.role
        if role_has_permission(kind, role, Perm.PROJECTS_VIEW):
            items.append(("Projects", reverse("projects:list")))
        if role_has_permission(kind, role, Perm.MARKETPLACE_BROWSE):
            items.append(("Marketplace", reverse("projects:marketplace")))
        if role_has_permission(kind, role, Perm.BIDS_MANAGE):
            items.append(("My bids", reverse("bidding:bid_list")))
        if role_has_permission(kind, role, Perm.CONTRACTS_VIEW):
            items.append(("Contracts", reverse("contracts:list")))
        elif role == Role.EXPERT:
            # A vendor's expert sees the contracts they work on (assignments, NDAs), not the vendor's.
            items.append(("Assignments", reverse("contracts:assignments")))
    if user.is_operations:
        items.append(("Credential queue", reverse("experts:credential_queue")))
        items.append(("Flags", reverse("experts:flags")))
        items.append(("Appeals", reverse("work:appeals")))
    elif not user.is_finance and (
        membership is None or membership.organization.kind == OrgKind.INDIVIDUAL or membership.role == Role.EXPERT
    ):
        # Experts (independent or on a vendor's roster); a person without an organisation may be
        # an invited expert, so they see their roster invitations.
        if membership is not None:
            items.append(("My profile", reverse("experts:profile")))
            items.append(("Credentials", reverse("experts:credentials")))
        items.append(("Rosters", reverse("experts:roster_invitations")))
    # Tests: experts take them; a lab's authors (and operations, for platform tests) write and grade them.
    is_expert = (
        not user.is_operations
        and not user.is_finance
        and (membership is None or membership.organization.kind == OrgKind.INDIVIDUAL or membership.role == Role.EXPERT)
    )
    if is_expert and membership is not None:
        items.append(("Tests", reverse("assessments:open_tests")))
    if user.is_operations:
        items.append(("Test authoring", reverse("assessments:authoring")))
        items.append(("Grading", reverse("assessments:grading")))
        items.append(("Qualifications", reverse("assessments:qualifications")))
    elif membership is not None and role_has_permission(
        membership.organization.kind, membership.role, Perm.TESTS_AUTHOR
    ):
        items.append(("Test authoring", reverse("assessments:authoring")))
        items.append(("Calibration", reverse("assessments:calibration")))
        items.append(("Grading", reverse("assessments:grading")))
    # Quality: a party's bias audits, a vendor's team, an expert's own scores; operations see every audit.
    if user.is_operations:
        items.append(("Quality audits", reverse("quality:audits")))
    elif membership is not None:
        org = membership.organization
        if org.kind == OrgKind.VENDOR and role_has_permission(org.kind, membership.role, Perm.CONTRACTS_VIEW):
            items.append(("Team quality", reverse("quality:team")))
        if role_has_permission(org.kind, membership.role, Perm.CONTRACTS_VIEW):
            items.append(("Quality audits", reverse("quality:audits")))
        if is_expert:
            items.append(("My quality", reverse("quality:me")))
    if user.is_finance:
        items.append(("Ledger", reverse("ledger:balances")))
        items.append(("Money", reverse("payments:finance_dashboard")))
        items.append(("Payouts", reverse("payments:runs")))
    elif (
        membership is not None
        and membership.organization.kind == OrgKind.LAB
        and role_has_permission(OrgKind.LAB, membership.role, Perm.CONTRACTS_VIEW)
    ):
        items.append(("Billing", reverse("payments:billing")))
    if membership is not None:
        org = membership.organization
        if role_has_permission(org.kind, membership.role, Perm.PAYMENTS_MANAGE):
            items.append(("Earnings", reverse("payments:earnings")))
            items.append(("Payout account", reverse("payments:account")))
        elif is_expert and org.kind == OrgKind.VENDOR:
            items.append(("My statement", reverse("payments:statement")))
        if role_has_permission(org.kind, membership.role, Perm.ROSTER_VIEW):
            items.append(("Roster", reverse("experts:roster", args=[org.slug])))
        if role_has_permission(org.kind, membership.role, Perm.EXPERTS_SEARCH):
            items.append(("Find experts", reverse("experts:search")))
        if role_has_permission(org.kind, membership.role, Perm.MEMBERS_VIEW):
            items.append(("Organisation", reverse("accounts:org_settings", args=[org.slug])))
        if role_has_permission(org.kind, membership.role, Perm.API_KEYS_MANAGE):
            items.append(("API keys", reverse("accounts:org_settings", args=[org.slug]) + "#api-keys"))
    try:
        items.append(("API docs", reverse("api-docs")))
    except NoReverseMatch:  # the API app may be installed without its docs page
        pass
    items.append(("Security", reverse("mfa_index")))
    return {
        "nav_items": items,
        "active_membership": membership,
        "all_memberships": list(user.memberships.select_related("organization").order_by("organization__name")),
    }
