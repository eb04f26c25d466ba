"""Navigation by role and the organisation switcher, for every page."""

from django.urls import NoReverseMatch, reverse

from .middleware import get_active_membership
from .roles import Perm, role_has_permission


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    membership = get_active_membership(request)
    items = [("Dashboard", reverse("home"))]
    if membership is not None:
        org = membership.organization
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
