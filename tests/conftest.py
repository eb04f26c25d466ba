"""Personas shared by every test: a lab admin, a vendor manager, an expert, finance and an outsider."""

from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from apps.accounts.roles import OrgKind, Role, StaffRole
from tests.factories import OrganizationFactory, UserFactory, member


@pytest.fixture
def lab(db):
    return OrganizationFactory(name="Acme AI Lab", slug="acme-lab", kind=OrgKind.LAB)


@pytest.fixture
def vendor(db):
    return OrganizationFactory(name="Northwind Annotation", slug="northwind", kind=OrgKind.VENDOR)


@pytest.fixture
def lab_owner(lab):
    return member(lab, Role.OWNER, email="owner@acme.test")


@pytest.fixture
def lab_admin(lab, lab_owner):
    return member(lab, Role.ADMIN, email="admin@acme.test")


@pytest.fixture
def lab_member(lab, lab_owner):
    return member(lab, Role.MEMBER, email="member@acme.test")


@pytest.fixture
def vendor_manager(vendor):
    member(vendor, Role.OWNER, email="owner@northwind.test")
    return member(vendor, Role.MANAGER, email="manager@northwind.test")


@pytest.fixture
def expert(vendor, vendor_manager):
    return member(vendor, Role.EXPERT, email="expert@northwind.test")


@pytest.fixture
def finance(db):
    return UserFactory(email="finance@platform.test", staff_role=StaffRole.FINANCE)


@pytest.fixture
def operations(db):
    return UserFactory(email="ops@platform.test", staff_role=StaffRole.OPERATIONS)


@pytest.fixture
def outsider(db):
    """Owner of an unrelated lab: has an account and an organisation, but no access to ours."""
    other = OrganizationFactory(name="Other Lab", slug="other-lab", kind=OrgKind.LAB)
    return member(other, Role.OWNER, email="outsider@other.test")


@pytest.fixture
def personas(lab_admin, vendor_manager, expert, finance, outsider):
    return SimpleNamespace(
        lab_admin=lab_admin, vendor_manager=vendor_manager, expert=expert, finance=finance, outsider=outsider
    )


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def api_as():
    """An APIClient logged in (session) as the given user."""

    def make(user):
        client = APIClient()
        client.force_login(user)
        return client

    return make
