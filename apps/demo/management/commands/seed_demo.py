"""``manage.py seed_demo``: the demo world behind ``make run``. Idempotent.

Creates (or finds) one lab, one vendor with a manager and two rostered experts, an independent
expert with a single-member ``individual`` organisation, and platform finance and operations
staff, all with the shared demo password and a verified primary e-mail so that they can log in
under mandatory verification. Existing users are left untouched (a changed password stays
changed); a second run writes nothing, audit rows included.

Refuses to run under production settings unless ``--force`` is given: the demo password is
public.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import StringIO

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.accounts.models import Membership, Organization, User
from apps.accounts.roles import OrgKind, Role, StaffRole
from apps.accounts.services import AccountType, signup_complete
from apps.core.transitions import audit

DEMO_PASSWORD = "demo-password-2026"  # public by design: printed on every run
LAB_NAME = "Helix AI Lab"
VENDOR_NAME = "Meridian Data Services"


@dataclass(frozen=True)
class DemoUser:
    email: str
    full_name: str
    staff_role: str = StaffRole.NONE


LAB_OWNER = DemoUser("lab@demo.test", "Lena Ortiz")
LAB_ADMIN = DemoUser("labadmin@demo.test", "Sam Whitfield")
VENDOR_OWNER = DemoUser("vendor@demo.test", "Priya Raman")
VENDOR_MANAGER = DemoUser("manager@demo.test", "Tomás Herrera")
EXPERT1 = DemoUser("expert1@demo.test", "Dr. Amara Okafor")
EXPERT2 = DemoUser("expert2@demo.test", "Dr. Jonas Lindqvist")
EXPERT3 = DemoUser("expert3@demo.test", "Dr. Mei Tanaka")
FINANCE = DemoUser("finance@demo.test", "Farah Nasser", StaffRole.FINANCE)
OPERATIONS = DemoUser("ops@demo.test", "Oliver Grant", StaffRole.OPERATIONS)

ALL_USERS = (LAB_OWNER, LAB_ADMIN, VENDOR_OWNER, VENDOR_MANAGER, EXPERT1, EXPERT2, EXPERT3, FINANCE, OPERATIONS)


def is_production_settings() -> bool:
    return str(getattr(settings, "SETTINGS_MODULE", "")).endswith(".production")


class Command(BaseCommand):
    help = "Create the demo lab, vendor, experts and staff (idempotent). Password: " + DEMO_PASSWORD

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even under production settings (the demo password is public: do not).",
        )

    def handle(self, *args, force: bool = False, **options):
        if is_production_settings() and not force:
            raise CommandError(
                f"Refusing to seed demo users with a public password under {settings.SETTINGS_MODULE}; "
                "pass --force if you really mean it."
            )
        loaded = StringIO()
        # The taxonomy lives in apps.experts, above accounts in the layers: load it by fixture name only.
        call_command("loaddata", "domains", stdout=loaded)
        self._taxonomy = loaded.getvalue().strip()
        self._changes: list[str] = []
        with transaction.atomic():
            self._seed()
        self._print_summary()

    # --- seeding ---------------------------------------------------------------------------------

    def _seed(self) -> None:
        users = {demo: self._user(demo) for demo in ALL_USERS}

        lab = self._signup_org(users[LAB_OWNER], AccountType.LAB, OrgKind.LAB, LAB_NAME)
        self._add_member(lab, users[LAB_ADMIN], Role.ADMIN, by=users[LAB_OWNER])

        vendor = self._signup_org(users[VENDOR_OWNER], AccountType.VENDOR, OrgKind.VENDOR, VENDOR_NAME)
        self._add_member(vendor, users[VENDOR_MANAGER], Role.MANAGER, by=users[VENDOR_OWNER])
        self._add_member(vendor, users[EXPERT1], Role.EXPERT, by=users[VENDOR_OWNER])
        self._add_member(vendor, users[EXPERT2], Role.EXPERT, by=users[VENDOR_OWNER])

        self._signup_org(users[EXPERT3], AccountType.EXPERT, OrgKind.INDIVIDUAL, None)

    def _user(self, demo: DemoUser) -> User:
        user = User.objects.filter(email__iexact=demo.email).first()
        if user is None:
            user = User.objects.create_user(
                email=demo.email, password=DEMO_PASSWORD, full_name=demo.full_name, staff_role=demo.staff_role
            )
            self._changes.append(f"user {user.email}")
        # Mandatory verification: a demo login must not wait for a confirmation e-mail.
        if not EmailAddress.objects.filter(user=user).exists():
            EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        return user

    def _signup_org(self, owner: User, account_type: str, kind: str, name: str | None) -> Organization:
        """The organisation ``owner`` owns of this kind (and name), made through sign-up when missing."""
        existing = Organization.objects.filter(
            kind=kind, memberships__user=owner, memberships__role=Role.OWNER
        ).order_by("id")
        if name is not None:
            existing = existing.filter(name=name)
        org = existing.first()
        if org is None:
            org = signup_complete(user=owner, account_type=account_type, organization_name=name or "")
            self._changes.append(f"{kind} organisation {org.name}")
        return org

    def _add_member(self, org: Organization, user: User, role: str, *, by: User) -> None:
        # No service adds a member without an invitation (staff/system onboarding); this mirrors
        # what invitation_accept writes: the membership plus its audit row.
        if Membership.objects.filter(organization=org, user=user).exists():
            return
        membership = Membership.objects.create(organization=org, user=user, role=role)
        audit(
            membership,
            "membership.created",
            actor=by,
            organization_public_id=org.public_id,
            data={"role": role, "via": "seed_demo"},
        )
        self._changes.append(f"{role} {user.email} in {org.name}")

    # --- output ----------------------------------------------------------------------------------

    def _print_summary(self) -> None:
        out = self.stdout
        out.write(f"Domain taxonomy (fixtures/domains.json): {self._taxonomy}")
        if self._changes:
            out.write(self.style.SUCCESS(f"Created {len(self._changes)} demo record(s):"))
            for change in self._changes:
                out.write(f"  + {change}")
        else:
            out.write("Demo data already present; nothing changed.")
        rows = []
        for demo in ALL_USERS:
            user = User.objects.get(email__iexact=demo.email)
            memberships = Membership.objects.filter(user=user).select_related("organization").order_by("id")
            where = ", ".join(f"{m.organization.name} ({m.organization.kind} {m.role})" for m in memberships)
            if user.staff_role:
                where = ", ".join(filter(None, [f"platform {user.staff_role}", where]))
            rows.append((user.email, where or "-"))
        width = max(len(email) for email, _ in rows)
        out.write("")
        out.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        out.write(f"  {'e-mail'.ljust(width)}  role")
        for email, where in rows:
            out.write(f"  {email.ljust(width)}  {where}")
