"""Contracts API helpers: a contract made the way production makes one (a published project, a bid,
bidding closed, an award), roster experts who pass or miss each assignment gate, and clients."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from apps.accounts.roles import OrgKind, Role
from apps.bidding import services as bidding_services
from apps.contracts.models import Contract
from apps.experts.models import CredentialType, RosterEntry
from apps.projects import services as project_services
from apps.projects.models import GuidelineVersion
from tests.factories import (
    BidFactory,
    CredentialFactory,
    ExpertProfileFactory,
    OrganizationFactory,
    ProjectFactory,
    RosterEntryFactory,
    member,
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Credential evidence goes to a per-test directory."""
    settings.MEDIA_ROOT = tmp_path / "media"


def contract_url(contract, tail=""):
    return f"/api/v1/contracts/{contract.public_id}/{tail}"


def roster_expert(vendor, email, *, full_name="Dr Rosa Roster", handle=None, certified=True):
    """A user with an expert profile, active on ``vendor``'s roster, with a verified board certification
    (the credential the default project requires) unless ``certified=False``."""
    entry = RosterEntryFactory(
        vendor=vendor, user__email=email, user__full_name=full_name, status=RosterEntry.Status.ACTIVE
    )
    profile = ExpertProfileFactory(user=entry.user, **({"handle": handle} if handle else {}))
    if certified:
        CredentialFactory(profile=profile, type=CredentialType.BOARD_CERTIFICATION, verified=True)
    return entry.user


def acknowledge_guidelines(user, organization, project):
    version = GuidelineVersion.objects.filter(project=project).order_by("-number").first()
    return project_services.guideline_acknowledge(actor=user, organization=organization, version=version)


def award(project, lab_admin, bid):
    """Close bidding early and award ``bid`` its whole volume; returns the contract made for it."""
    bidding_services.project_close_bidding(actor=lab_admin, project=project)
    project.refresh_from_db()
    bidding_services.award_create(
        actor=lab_admin, project=project, allocations=[{"bid": str(bid.public_id), "volume": bid.volume}]
    )
    return Contract.objects.get(allocation__bid=bid)


@pytest.fixture
def radiologist(vendor, vendor_manager):
    return roster_expert(vendor, "rad@northwind.test", full_name="Dr Rosa Roster", handle="quiet-heron")


@pytest.fixture
def project(lab, lab_admin):
    return ProjectFactory(lab=lab, published=True)


@pytest.fixture
def contract(project, lab_admin, vendor, vendor_manager, radiologist):
    """A contract awaiting both signatures between ``lab`` and ``vendor`` (1000 units at 2.0000 USD)."""
    bid = BidFactory(project=project, bidder=vendor, team=[radiologist])
    return award(project, lab_admin, bid)


@pytest.fixture
def sign_both(api_as, lab_admin, vendor_manager):
    """Both sides sign the version awaiting signatures, through the API."""

    def sign(contract):
        for user in (lab_admin, vendor_manager):
            client = api_as(user)
            proposed = client.get(contract_url(contract)).json()["proposed"]
            response = client.post(contract_url(contract, "sign/"), {"terms_hash": proposed["terms_hash"]})
            assert response.status_code == 200, response.content
        contract.refresh_from_db()
        return contract

    return sign


@pytest.fixture
def active_contract(contract, sign_both):
    return sign_both(contract)


@pytest.fixture
def individual(db):
    """An independent expert: the owner of an ``individual`` organisation named after them."""
    organization = OrganizationFactory(name="Dr Ida Secret", slug="ida", kind=OrgKind.INDIVIDUAL)
    user = member(organization, Role.OWNER, email="ida@secret.test", full_name="Dr Ida Secret")
    profile = ExpertProfileFactory(user=user, handle="bright-otter")
    CredentialFactory(profile=profile, type=CredentialType.BOARD_CERTIFICATION, verified=True)
    return SimpleNamespace(user=user, organization=organization)


@pytest.fixture
def individual_contract(lab, lab_admin, individual):
    project = ProjectFactory(lab=lab, published=True)
    bid = BidFactory(project=project, bidder=individual.organization)
    return award(project, lab_admin, bid)
