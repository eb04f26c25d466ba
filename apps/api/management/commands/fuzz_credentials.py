"""``manage.py fuzz_credentials``: one set of credentials per demo persona, for the schemathesis CI step.

Needs the demo data (``seed_demo``). Prints one line per persona, tab-separated: the persona, then the
HTTP headers to send (``Name: value``). Organisation members get a full-access API key of their
organisation, created through ``api_key_create``; platform staff (finance, operations) have no
organisation and so no key: they get a browser session and a CSRF token, as their browser would.
Not for production: it refuses to run under the production settings.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test import Client

from apps.accounts.models import Membership, User
from apps.accounts.services import api_key_create

# persona -> (demo e-mail, how it authenticates)
PERSONAS = {
    "lab_admin": ("labadmin@demo.test", "key"),
    "vendor_manager": ("manager@demo.test", "key"),
    "expert": ("expert3@demo.test", "key"),  # an independent expert: their own individual organisation
    "finance": ("finance@demo.test", "session"),
    "operations": ("ops@demo.test", "session"),
}


class Command(BaseCommand):
    help = "Create API keys (members) and sessions (staff) for the demo personas; print their headers."

    def handle(self, *args, **options):
        if settings.SETTINGS_MODULE.endswith(".production"):
            raise CommandError("Refusing to mint fuzzing credentials under the production settings.")
        for persona, (email, how) in PERSONAS.items():
            user = User.objects.filter(email=email).first()
            if user is None:
                raise CommandError(f"No demo user {email}; run seed_demo first.")
            headers = self._key_headers(user, persona) if how == "key" else self._session_headers(user)
            self.stdout.write("\t".join([persona, *headers]))

    def _key_headers(self, user: User, persona: str) -> list[str]:
        membership = Membership.objects.filter(user=user).select_related("organization").order_by("created_at").first()
        if membership is None:
            raise CommandError(f"{user.email} belongs to no organisation.")
        _key, raw = api_key_create(
            actor=user, organization=membership.organization, name=f"fuzz {persona}", scopes=["*"]
        )
        return [f"Authorization: Bearer {raw}"]

    def _session_headers(self, user: User) -> list[str]:
        client = Client()
        client.force_login(user)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        csrf = secrets.token_hex(16)  # an unmasked 32-character secret: the cookie and the header must match
        return [
            f"Cookie: {settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={csrf}",
            f"X-CSRFToken: {csrf}",
        ]
