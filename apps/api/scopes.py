"""Which API key scope each operation needs, and its enforcement (for API-key callers only).

Derived by default, so a new endpoint is covered without doing anything:

- the resource from the view's module, ``apps.api.v1.<domain>.…`` → ``DOMAIN_RESOURCES[domain]``
  (an unknown domain is its own resource name; ``tests/api/test_scopes.py`` then fails until the
  vocabulary in ``apps/accounts/api_scopes.py`` knows it);
- the action from the HTTP method: GET/HEAD/OPTIONS read, anything else write.

A view overrides with ``scope_resource = "events"`` (keeps the method rule) or
``required_scope = "projects:read"`` (one scope for every method; ``""`` for none, e.g. ``/me/``).

Browser sessions are governed by roles alone; both always also pass the role checks.
"""

from __future__ import annotations

from apps.accounts import api_scopes
from apps.core.errors import PermissionDenied

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

DOMAIN_RESOURCES = {
    "accounts": "org",
    "experts": "experts",
    "notifications": "notifications",
    "projects": "projects",
    "bidding": "bids",
    "contracts": "contracts",
    "work": "work",
    "assessments": "assessments",
    "quality": "quality",
    "payments": "payments",
    "ledger": "ledger",
    "integrations": "webhooks",
}


def _resource_for(view_class: type) -> str:
    explicit = getattr(view_class, "scope_resource", None)
    if explicit:
        return explicit
    parts = view_class.__module__.split(".")
    domain = parts[3] if len(parts) > 3 and parts[:3] == ["apps", "api", "v1"] else parts[-1]
    resource = DOMAIN_RESOURCES.get(domain, domain)
    # The integrations domain serves two resources: webhook endpoints/deliveries and the event log.
    name = view_class.__name__.lower()
    if domain == "integrations" and "event" in name and "webhook" not in name:
        return "events"
    return resource


def required_scope(view_class: type, method: str) -> str:
    """The scope a key needs for ``method`` on ``view_class``; ``""`` when none is needed."""
    explicit = getattr(view_class, "required_scope", None)
    if explicit is not None:
        return explicit
    action = "read" if method.upper() in SAFE_METHODS else "write"
    return f"{_resource_for(view_class)}:{action}"


def enforce(view, request) -> None:
    """403 ``missing_scope`` naming the scope when the request's API key does not hold it."""
    key = getattr(view, "api_key", None)
    if key is None:
        return
    scope = required_scope(type(view), request.method)
    if not api_scopes.grants(key.scopes or [], scope):
        raise PermissionDenied(
            f"This API key lacks the scope '{scope}' that this operation needs.",
            code="missing_scope",
            details={"required_scope": scope, "key_scopes": list(key.scopes or [])},
        )
