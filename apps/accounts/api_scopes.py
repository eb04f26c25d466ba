"""The vocabulary of API key scopes: ``<resource>:read``, ``<resource>:write``, ``<resource>:*`` and ``*``.

``<resource>:*`` grants both actions on one resource; ``*`` grants everything, including resources
added later (keys created before scopes existed were migrated to it). ``write`` does not imply
``read``. The API layer (``apps/api/scopes.py``) decides which scope each operation needs; this module
only names the scopes and answers whether a key's list grants one.
"""

from __future__ import annotations

from collections.abc import Iterable

from apps.core.errors import PermissionDenied, ValidationFailed

FULL_ACCESS = "*"
ACTIONS = ("read", "write")

# resource -> what it covers (shown on the key form and in docs/api.md)
RESOURCES: dict[str, str] = {
    "org": "the organisation, its members, invitations and API keys",
    "projects": "projects, guidelines and acknowledgements",
    "bids": "bids, clarification questions, bid comparison and awards",
    "contracts": "contracts, versions, amendments, milestones, NDAs and assignments",
    "work": "work batches, judgments, gold items, reviews, appeals and datasheets",
    "assessments": "qualification tests, attempts, grading, qualifications and calibration",
    "experts": "the expert directory, profiles, credentials and the vendor roster",
    "quality": "quality scores, consensus labels, bias audits and SLA alerts",
    "payments": "charges, earnings, payout runs and payouts",
    "ledger": "ledger accounts and journal entries",
    "webhooks": "webhook endpoints and deliveries",
    "events": "the organisation's event log",
    "notifications": "notifications and notification preferences",
}

ALL_SCOPES: tuple[str, ...] = (
    FULL_ACCESS,
    *(f"{resource}:{action}" for resource in RESOURCES for action in ("read", "write", "*")),
)


def scope_choices() -> list[tuple[str, str]]:
    """(value, label) pairs for forms: full access, then each resource's read / write / both."""
    choices = [(FULL_ACCESS, "Full access (every resource, including ones added later)")]
    for resource, covers in RESOURCES.items():
        choices += [
            (f"{resource}:read", f"{resource}:read — read {covers}"),
            (f"{resource}:write", f"{resource}:write — change {covers}"),
            (f"{resource}:*", f"{resource}:* — read and change {covers}"),
        ]
    return choices


def grants(granted: Iterable[str], required: str) -> bool:
    """Whether a key holding ``granted`` may perform an operation needing ``required``."""
    if not required:
        return True
    granted = set(granted)
    if FULL_ACCESS in granted or required in granted:
        return True
    resource, _, _action = required.partition(":")
    return f"{resource}:*" in granted


def normalize(scopes: Iterable[str] | None) -> list[str]:
    """Validated, de-duplicated, sorted scopes; None means full access. Raises ValidationFailed naming bad ones."""
    if scopes is None:
        return [FULL_ACCESS]
    if isinstance(scopes, str):
        scopes = [scopes]
    values = [str(s).strip() for s in scopes]
    unknown = sorted({s for s in values if s not in ALL_SCOPES})
    if unknown:
        raise ValidationFailed(
            f"Unknown scope: {', '.join(unknown)}. Use <resource>:read, <resource>:write, <resource>:* or *.",
            details={"scopes": [f"Unknown scope '{s}'." for s in unknown]},
        )
    if not values:
        raise ValidationFailed("Pick at least one scope.", details={"scopes": ["Pick at least one scope."]})
    if FULL_ACCESS in values:
        return [FULL_ACCESS]
    return sorted(set(values))


def require_within(requested: list[str], granted: Iterable[str]) -> None:
    """A key may only mint keys with scopes it holds itself (no escalation through the API)."""
    granted = list(granted)
    beyond = []
    for scope in requested:
        if scope == FULL_ACCESS:
            ok = FULL_ACCESS in granted
        elif scope.endswith(":*"):
            resource = scope.split(":", 1)[0]
            ok = all(grants(granted, f"{resource}:{action}") for action in ACTIONS)
        else:
            ok = grants(granted, scope)
        if not ok:
            beyond.append(scope)
    if beyond:
        raise PermissionDenied(
            f"This API key cannot grant scopes it does not hold: {', '.join(beyond)}.",
            code="scope_escalation",
            details={"scopes": beyond},
        )
