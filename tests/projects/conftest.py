"""Projects fixtures: a small domain taxonomy, suppliers of both kinds, draft and open projects."""

from types import SimpleNamespace

import pytest

from apps.accounts.roles import OrgKind, Role
from apps.experts.models import RosterEntry
from tests.factories import DomainFactory, OrganizationFactory, ProjectFactory, RosterEntryFactory, member


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def domains(db):
    """medicine > radiology, and law."""
    medicine = DomainFactory(slug="medicine", name="Medicine")
    radiology = DomainFactory(slug="radiology", name="Radiology", parent=medicine)
    law = DomainFactory(slug="law", name="Law")
    return SimpleNamespace(medicine=medicine, radiology=radiology, law=law)


@pytest.fixture
def draft(lab, lab_admin, domains):
    """A complete draft of the persona lab, with guidelines v1."""
    return ProjectFactory(lab=lab, created_by=lab_admin, domain=domains.radiology, title="Radiology preferences")


@pytest.fixture
def open_project(lab, lab_admin, domains):
    """A public project of the persona lab, open for bids for another 14 days."""
    return ProjectFactory(lab=lab, created_by=lab_admin, domain=domains.radiology, published=True, title="Open RLHF")


@pytest.fixture
def team(vendor, vendor_manager):
    """Two experts on the persona vendor's active roster."""
    return [RosterEntryFactory(vendor=vendor, status=RosterEntry.Status.ACTIVE).user for _ in range(2)]


@pytest.fixture
def individual(db):
    """An independent expert's single-member organisation."""
    return OrganizationFactory(name="Dr. Mei Tanaka", slug="mei-tanaka", kind=OrgKind.INDIVIDUAL)


@pytest.fixture
def independent(individual):
    """The independent expert who owns ``individual``."""
    return member(individual, Role.OWNER, email="mei@independent.test")


@pytest.fixture
def rival(db):
    """A second vendor, with a manager and one active roster expert."""
    org = OrganizationFactory(name="Southgate Labelling", slug="southgate", kind=OrgKind.VENDOR)
    manager = member(org, Role.MANAGER, email="manager@southgate.test")
    expert = RosterEntryFactory(vendor=org, status=RosterEntry.Status.ACTIVE).user
    return SimpleNamespace(org=org, manager=manager, team=[expert])
