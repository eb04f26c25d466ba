"""Contracts fixtures: a project awarded through the real flow to a vendor (600 units at 2.40) and an
independent expert (400 units at 2.80), so the award hook made one contract per allocation."""

from decimal import Decimal
from types import SimpleNamespace

import pytest

from apps.contracts.models import Contract
from apps.experts.models import RosterEntry
from tests.factories import BidFactory, ProjectFactory, RosterEntryFactory
from tests.projects.conftest import domains, independent, individual, media_root, rival  # noqa: F401

from .support import award, make_ready, sign_both


@pytest.fixture
def project(lab, lab_admin, domains):  # noqa: F811
    """The persona lab's open project: 1,000 comparisons, budget 5,000.00 USD, board certification
    required, guidelines v1."""
    return ProjectFactory(
        lab=lab, created_by=lab_admin, domain=domains.radiology, published=True, title="Radiology preferences"
    )


@pytest.fixture
def workers(vendor, vendor_manager):
    """Two experts on the persona vendor's active roster."""
    return [RosterEntryFactory(vendor=vendor, status=RosterEntry.Status.ACTIVE).user for _ in range(2)]


@pytest.fixture
def bids(project, vendor, workers, individual, independent):  # noqa: F811
    return SimpleNamespace(
        vendor=BidFactory(project=project, bidder=vendor, unit_price=Decimal("2.40"), volume=1000, team=workers),
        individual=BidFactory(project=project, bidder=individual, unit_price=Decimal("2.80"), volume=500),
    )


@pytest.fixture
def the_award(project, bids, lab_admin):
    return award(project, lab_admin, (bids.vendor, 600), (bids.individual, 400))


@pytest.fixture
def contract(the_award, vendor):
    """The vendor's contract, awaiting both signatures."""
    return Contract.objects.get(allocation__award=the_award, supplier=vendor)


@pytest.fixture
def solo_contract(the_award, individual):  # noqa: F811
    """The independent expert's contract, awaiting both signatures."""
    return Contract.objects.get(allocation__award=the_award, supplier=individual)


@pytest.fixture
def active(contract, lab_admin, vendor_manager):
    """The vendor's contract, signed by both sides: v1 in force."""
    sign_both(contract, lab_admin, vendor_manager)
    assert contract.status == Contract.Status.ACTIVE
    return contract


@pytest.fixture
def ready(active, workers):
    """The first roster worker passes every gate on the active contract."""
    make_ready(active, workers[0])
    return workers[0]
