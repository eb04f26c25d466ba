"""Contract page fixtures: contracts made through the real award flow (a published project, a bid,
the deadline passing, the periodic close, the award), a roster expert with a handle, an independent
expert, and helpers that sign through the services or read the page's own forms."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from apps.accounts import services as account_services
from apps.accounts.roles import OrgKind
from apps.bidding import services as bidding_services
from apps.contracts import services as contract_services
from apps.contracts.models import Contract
from apps.experts.models import CredentialType, RosterEntry
from tests.factories import (
    BidFactory,
    CredentialFactory,
    ExpertProfileFactory,
    ProjectFactory,
    RosterEntryFactory,
    UserFactory,
)

HASH_INPUT = re.compile(r'name="terms_hash" value="([0-9a-f]{64})"')


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def roster_expert(vendor, vendor_manager):
    """An expert active on the vendor's roster with a known handle; no credential, NDA or
    acknowledgement yet."""
    user = UserFactory(email="amara@experts.test", full_name="Dr Amara Okafor")
    ExpertProfileFactory(user=user, handle="ex-amara01")
    RosterEntryFactory(vendor=vendor, user=user, status=RosterEntry.Status.ACTIVE)
    return user


@pytest.fixture
def independent(db):
    user = UserFactory(email="solo@expert.test", full_name="Dr Ada Solo")
    org = account_services.organization_create(actor=user, name="Dr Ada Solo", kind=OrgKind.INDIVIDUAL)
    ExpertProfileFactory(user=user, handle="ex-solo0001")
    return {"org": org, "user": user}


def award(project, lab_owner, bids_and_volumes):
    """Close bidding as the periodic job does (past the deadline), then award through the service."""
    with time_machine.travel(project.bid_deadline + timedelta(minutes=1), tick=False):
        bidding_services.projects_close_due()
    project.refresh_from_db()
    bidding_services.award_create(
        actor=lab_owner,
        project=project,
        allocations=[{"bid": str(bid.public_id), "volume": volume} for bid, volume in bids_and_volumes],
    )
    return [Contract.objects.get(allocation__bid=bid) for bid, _ in bids_and_volumes]


@pytest.fixture
def project(lab, lab_owner):
    """Published, requiring a board certification, with guidelines v1; volume 1000, 5,000 USD."""
    return ProjectFactory(published=True, lab=lab)


@pytest.fixture
def contract(project, lab_owner, vendor, vendor_manager, roster_expert):
    """The vendor's contract for 600 units at 2.0000 USD, awaiting both signatures."""
    bid = BidFactory(project=project, bidder=vendor, team=[roster_expert], volume=600)
    (made,) = award(project, lab_owner, [(bid, 600)])
    return made


def sign_both(contract, lab_owner, vendor_manager):
    version = contract.versions.get(status="proposed")
    for actor, org in ((lab_owner, contract.lab), (vendor_manager, contract.supplier)):
        contract_services.contract_sign(
            actor=actor, organization=org, contract=contract, shown_terms_hash=version.terms_hash
        )
    contract.refresh_from_db()
    return contract


@pytest.fixture
def active_contract(contract, lab_owner, vendor_manager):
    return sign_both(contract, lab_owner, vendor_manager)


def make_assignable(contract, expert):
    """Give ``expert`` every gate: a verified board certification, the NDA, the guidelines."""
    CredentialFactory(profile=expert.expert_profile, type=CredentialType.BOARD_CERTIFICATION, verified=True)
    contract_services.nda_accept(actor=expert, contract=contract)
    from apps.projects import services as project_services

    version = contract.project.guideline_versions.order_by("-number").first()
    project_services.guideline_acknowledge(actor=expert, organization=contract.supplier, version=version)


def detail_url(contract) -> str:
    return reverse("contracts:detail", args=[contract.public_id])


def shown_hash(page: str) -> str:
    match = HASH_INPUT.search(page)
    assert match, "no sign form on the page"
    return match[1]


def amend_data(version, **overrides) -> dict:
    """What the amendment form posts when nothing is edited (the terms of ``version``), plus
    ``overrides``; bands and milestones as rows."""
    data = {
        "unit_rate": str(version.unit_rate),
        "volume_cap": str(version.volume_cap),
        "budget_cap": f"{version.budget_cap_minor / 100:.2f}",
        "sla_min_gold_accuracy": "" if version.sla_min_gold_accuracy is None else str(version.sla_min_gold_accuracy),
        "sla_min_alpha": "" if version.sla_min_alpha is None else str(version.sla_min_alpha),
        "sla_max_turnaround_days": version.sla_max_turnaround_days or "",
        "review_window_days": version.review_window_days,
        "appeal_window_days": version.appeal_window_days,
        "notice_period_days": version.notice_period_days,
        "ends_on": version.ends_on.isoformat(),
        "change_summary": "",
    }
    for i, (accuracy, multiplier) in enumerate(version.quality_pay):
        data[f"quality_pay[{i}].accuracy"] = accuracy
        data[f"quality_pay[{i}].multiplier"] = multiplier
    data.update(overrides)
    return data
