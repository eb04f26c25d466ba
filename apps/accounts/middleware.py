"""The organisation a signed-in person is acting for (switchable; one person, many organisations)."""

from __future__ import annotations

SESSION_KEY = "active_org"


def get_active_membership(request):
    """The membership the person is acting through (None without one); computed once per request."""
    if not hasattr(request, "_active_membership"):
        request._active_membership = _active_membership(request)
    return request._active_membership


def _active_membership(request):
    from .selectors import membership_list_for_user

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    memberships = list(membership_list_for_user(user))
    wanted = request.session.get(SESSION_KEY)
    for m in memberships:
        if str(m.organization.public_id) == wanted:
            return m
    return memberships[0] if memberships else None
