"""Helpers for the contract tests: the real award flow, signing, and an expert who passes every gate."""

from datetime import timedelta

import time_machine

from apps.bidding import services as bidding
from apps.contracts import services
from apps.contracts.models import Contract, ContractVersion
from apps.experts.models import CredentialType, ExpertProfile
from apps.projects.models import GuidelineVersion
from apps.projects.services import guideline_acknowledge
from tests.factories import CredentialFactory, ExpertProfileFactory

IP = "203.0.113.7"


def close_bidding(project) -> None:
    """The deadline passes and the periodic close runs."""
    with time_machine.travel(project.bid_deadline + timedelta(minutes=1), tick=False):
        assert bidding.projects_close_due() == 1


def award(project, actor, *pairs):
    """Close bidding on ``project`` and award ``(bid, volume)`` pairs: the hook makes the contracts."""
    close_bidding(project)
    allocations = [{"bid": str(bid.public_id), "volume": volume} for bid, volume in pairs]
    return bidding.award_create(actor=actor, project=project, allocations=allocations)


def proposed(contract: Contract) -> ContractVersion:
    return contract.versions.get(status=ContractVersion.Status.PROPOSED)


def sign(contract: Contract, actor, organization, *, shown_hash: str | None = None, ip: str | None = IP):
    """Sign the proposed version with the hash of the terms as shown (the current one unless given)."""
    shown = shown_hash if shown_hash is not None else proposed(contract).terms_hash
    return services.contract_sign(
        actor=actor, organization=organization, contract=contract, shown_terms_hash=shown, ip_address=ip
    )


def sign_both(contract: Contract, lab_signer, supplier_signer) -> ContractVersion:
    sign(contract, lab_signer, contract.lab)
    version = sign(contract, supplier_signer, contract.supplier)
    contract.refresh_from_db()
    return version


def profile_of(user) -> ExpertProfile:
    return ExpertProfile.objects.filter(user=user).first() or ExpertProfileFactory(user=user)


def qualify(user, *, types=(CredentialType.BOARD_CERTIFICATION,), **credential_fields):
    """Give ``user`` a verified credential of each type; returns the last one."""
    credential = None
    for kind in types:
        credential = CredentialFactory(profile=profile_of(user), type=kind, verified=True, **credential_fields)
    return credential


def acknowledge_latest(user, organization, project):
    version = GuidelineVersion.objects.filter(project=project).order_by("-number").first()
    return guideline_acknowledge(actor=user, organization=organization, version=version)


def make_ready(contract: Contract, user, **credential_fields):
    """Every gate but the roster (which the fixture decides): a verified credential of each required
    type, the NDA accepted, the latest guidelines acknowledged. Returns the (last) credential."""
    credential = qualify(user, types=contract.project.required_credential_types, **credential_fields)
    services.nda_accept(actor=user, contract=contract, ip_address=IP)
    acknowledge_latest(user, contract.supplier, contract.project)
    return credential


def gates_of(exc) -> list[str]:
    return [g["gate"] for g in exc.details["gates"]]
