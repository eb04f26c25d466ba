"""Who a Workforce API caller acts as, and for which organisation.

Organisation (roster, expert search): an API key acts for the key's organisation only. A browser
session acts for ``?org=<organisation id>`` when given (404 unless the caller is a member),
otherwise for its active organisation: the one chosen with the site's organisation switcher,
falling back to the first membership by organisation name (``get_active_membership``). With a
key, an ``?org`` naming another organisation is a 404.

Personal data (own profile, credentials, roster memberships, notifications) belongs to a person,
not to an organisation: a session reaches it, and so does a key of the person's own
``individual`` organisation (which stands for that person). A lab or vendor key does not (403
``api_key_out_of_scope``), so an organisation's key never reveals one member's private data.

Platform-staff powers (operations) need a session: with an API key the caller is treated as an
ordinary member, so an organisation's key never gains staff visibility (e.g. experts' names).
"""

from __future__ import annotations

import copy
import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from apps.accounts import selectors as account_selectors
from apps.accounts.middleware import get_active_membership
from apps.accounts.models import Organization, User
from apps.accounts.roles import OrgKind, StaffRole
from apps.core.errors import NotFound, PermissionDenied, ValidationFailed

ORG_PARAMETER = OpenApiParameter(
    name="org",
    type=OpenApiTypes.UUID,
    location=OpenApiParameter.QUERY,
    required=False,
    description=(
        "The organisation to act for (browser sessions). Default: the active organisation chosen on the site, "
        "else the first by name. With an API key, always the key's organisation."
    ),
)


class WorkforceScopeMixin:
    """For ``ApiView`` subclasses: ``actor``, ``get_acting_organization()``, ``require_personal_caller()``."""

    @property
    def actor(self) -> User:
        """The user services and selectors act as: staff powers stripped for API-key callers."""
        if not hasattr(self, "_actor"):
            user = self.request.user
            if self.api_key is not None and getattr(user, "staff_role", ""):
                user = copy.copy(user)
                user.staff_role = StaffRole.NONE
            self._actor = user
        return self._actor

    def get_acting_organization(self) -> Organization | None:
        """The organisation the caller acts for (see the module docstring); None if they have none."""
        if hasattr(self, "_acting_organization"):
            return self._acting_organization
        raw = self.request.query_params.get("org")
        if raw is not None:
            try:
                raw = str(uuid.UUID(raw))
            except ValueError:
                raise ValidationFailed("`org` must be an organisation id (UUID).", details={"org": ["Must be a UUID."]})
        key_org = self.scope_organization
        if key_org is not None:
            if raw is not None and raw != str(key_org.public_id):
                raise NotFound("Organisation not found.", code="organization_not_found")
            organization = key_org
        elif raw is not None:
            organization = account_selectors.organization_get_for_user(self.request.user, raw)
        else:
            membership = get_active_membership(self.request._request)
            organization = membership.organization if membership is not None else None
        self._acting_organization = organization
        return organization

    def require_organization(self) -> Organization:
        organization = self.get_acting_organization()
        if organization is None:
            raise NotFound("Organisation not found.", code="organization_not_found")
        return organization

    def require_personal_caller(self) -> None:
        """Personal data: a session, or an API key of the caller's own individual organisation."""
        key = self.api_key
        if key is not None and key.organization.kind != OrgKind.INDIVIDUAL:
            raise PermissionDenied(
                "An organisation's API key cannot reach personal data; use a browser session or a key of "
                "your own individual (independent expert) organisation.",
                code="api_key_out_of_scope",
            )

    def check_permissions(self, request):
        # Runs after authentication and before an Idempotency-Key is claimed.
        super().check_permissions(request)
        if getattr(self, "personal", False):
            self.require_personal_caller()
