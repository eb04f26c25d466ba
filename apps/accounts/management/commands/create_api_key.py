"""``manage.py create_api_key --org <slug> --name <name> [--user <email>] [--expires-days N]``.

Creates an organisation API key through ``api_key_create`` as the given member (default: the
organisation's first owner) and prints the raw key alone on the last line, so that a script can
take it with ``| tail -n 1``. The key is shown only this once.
"""

from __future__ import annotations

import argparse
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.accounts.models import Membership, Organization, User
from apps.accounts.roles import Role
from apps.accounts.services import api_key_create
from apps.core.errors import DomainError


def _positive_days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        days = 0
    if days <= 0:
        raise argparse.ArgumentTypeError(f"must be a whole number of days above 0, got '{value}'")
    return days


class Command(BaseCommand):
    help = "Create an API key for an organisation and print it (last line of output)."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Organisation slug.")
        parser.add_argument("--name", required=True, help="What uses the key, e.g. 'labelling pipeline'.")
        parser.add_argument("--user", help="E-mail of the member who creates the key (default: the first owner).")
        parser.add_argument("--expires-days", type=_positive_days, help="Days until the key expires (default: never).")

    def handle(self, *args, org: str, name: str, user: str | None, expires_days: int | None, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organisation with slug '{org}'.")
        actor = self._actor(organization, user)
        expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
        try:
            key, raw = api_key_create(actor=actor, organization=organization, name=name, expires_at=expires_at)
        except DomainError as exc:
            raise CommandError(f"{exc.message} [{exc.code}]")
        expiry = key.expires_at.isoformat(timespec="seconds") if key.expires_at else "never"
        self.stdout.write(
            f"API key '{key.name}' ({key.prefix}…) for {organization.name} [{organization.slug}], "
            f"created as {actor.email}, expires: {expiry}."
        )
        self.stdout.write("Store it now; it is not shown again. Send it as 'Authorization: Bearer <key>'.")
        self.stdout.write(raw)

    def _actor(self, organization: Organization, email: str | None) -> User:
        if email is None:
            owner = (
                Membership.objects.filter(organization=organization, role=Role.OWNER)
                .select_related("user")
                .order_by("created_at", "id")
                .first()
            )
            if owner is None:
                raise CommandError(f"Organisation '{organization.slug}' has no owner; pass --user.")
            return owner.user
        actor = User.objects.filter(email__iexact=email.strip()).first()
        if actor is None:
            raise CommandError(f"No user with e-mail '{email}'.")
        if not Membership.objects.filter(organization=organization, user=actor).exists():
            raise CommandError(f"User '{actor.email}' is not a member of organisation '{organization.slug}'.")
        return actor
