"""An award becomes one contract per allocation, in pending_signature, with v1 terms from the bid and
the project; both sides are told; creation is idempotent. Reads are scoped to the two parties."""

from decimal import Decimal

import pytest

from apps.bidding.models import AwardAllocation
from apps.contracts import selectors, services
from apps.contracts.models import DEFAULT_LABEL_SETS, DEFAULT_QUALITY_PAY, Contract, ContractVersion
from apps.core.errors import NotFound, PermissionDenied
from apps.notifications.models import Notification
from apps.projects.models import Project
from tests.factories import BidFactory, ProjectFactory
from tests.projects.support import audit_actions, audit_rows, kinds_for

from .support import award

C = Contract.Status


def test_award_makes_one_pending_contract_per_allocation(the_award, project, lab, vendor, individual):
    # given the fixture's award (600 units to the vendor, 400 to the independent expert)
    # then each allocation has its own contract awaiting signatures, between the lab and the winner
    contracts = Contract.objects.filter(project=project)
    assert contracts.count() == 2 == AwardAllocation.objects.filter(award=the_award).count()
    assert {(c.allocation.bid.bidder, c.lab, c.supplier, c.status) for c in contracts} == {
        (vendor, lab, vendor, C.PENDING_SIGNATURE),
        (individual, lab, individual, C.PENDING_SIGNATURE),
    }
    # nothing is in force before both sides sign
    assert all(c.current_version is None for c in contracts)
    assert Project.objects.get(pk=project.pk).status == Project.Status.AWARDED


def test_v1_terms_come_from_the_bid_and_the_project(contract, project, bids, lab_admin):
    # when the award made the vendor's contract
    (version,) = contract.versions.all()

    # then v1 carries the bid's price and dates, the allocation's volume and cost, the project's SLA
    assert version.number == 1 and version.status == ContractVersion.Status.PROPOSED
    assert (version.unit_rate, version.currency, version.volume_cap, version.budget_cap_minor) == (
        Decimal("2.4000"), "USD", 600, 144_000,
    )  # fmt: skip
    assert (version.sla_min_gold_accuracy, version.sla_min_alpha, version.sla_max_turnaround_days) == (
        project.sla_min_gold_accuracy, project.sla_min_alpha, project.sla_max_turnaround_days,
    )  # fmt: skip
    assert version.quality_pay == DEFAULT_QUALITY_PAY == [["0.95", "1.10"], ["0.85", "1.00"], ["0.75", "0.90"]]
    assert version.label_set == DEFAULT_LABEL_SETS["preference_comparison"] == ["A", "B", "tie"]
    assert (version.review_window_days, version.appeal_window_days, version.notice_period_days) == (5, 7, 14)
    assert version.nda_version == "standard-nda-v1"
    assert (version.starts_on, version.ends_on) == (bids.vendor.starts_on, bids.vendor.ends_on)
    assert version.effective_from is None and list(version.milestones.all()) == []
    assert (version.proposed_by, version.change_summary) == (lab_admin, "Terms from the award")
    # and the hash covers exactly these terms
    assert version.terms_hash == services.terms_hash(services.canonical_terms(version))
    assert len(version.terms_hash) == 64


def test_label_set_follows_the_task_type(lab, lab_admin, domains, vendor):
    # given a rating project awarded to one bid
    project = ProjectFactory(lab=lab, created_by=lab_admin, domain=domains.law, published=True, task_type="rating")
    bid = BidFactory(project=project, bidder=vendor)
    award(project, lab_admin, (bid, 100))

    # then the contract's labels are the rating scale
    version = Contract.objects.get(project=project).versions.get()
    assert version.label_set == ["1", "2", "3", "4", "5"]


def test_award_tells_both_sides_and_audits_each_contract(
    contract, solo_contract, lab_owner, lab_admin, lab_member, vendor_manager, independent, expert
):
    # the lab's signers and each supplier's signers are asked to sign
    for person in (lab_owner, lab_admin, vendor_manager, independent):
        assert "contract.created" in kinds_for(person)
    assert kinds_for(lab_admin).count("contract.created") == 2  # one per contract
    # a lab member and a vendor expert cannot sign, so they are not asked
    assert "contract.created" not in kinds_for(lab_member) + kinds_for(expert)
    notification = Notification.objects.filter(recipient=vendor_manager, kind="contract.created").get()
    assert notification.url == f"/contracts/{contract.public_id}/"
    # and each contract has its creation audit row, by the awarding admin
    for c, volume in ((contract, 600), (solo_contract, 400)):
        (row,) = audit_rows(c)
        assert (row.action, row.actor, row.data) == ("contract.created", lab_admin, {"allocation_volume": volume})


def test_award_notifications_are_emailed_only_after_commit(
    project, bids, lab_admin, vendor_manager, django_capture_on_commit_callbacks, mailoutbox
):
    # when the award commits
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        award(project, lab_admin, (bids.vendor, 600))
    # then no e-mail went before the commit, and the contract e-mail goes after it
    assert mailoutbox == []
    for callback in callbacks:
        callback()
    assert (vendor_manager.email, "Contract to sign: Radiology preferences") in {
        (m.to[0], m.subject) for m in mailoutbox
    }


def test_contracts_create_for_award_called_twice_creates_nothing_more(the_award, contract, lab_admin):
    # when the hook's subscriber runs again for the same award
    assert services.contracts_create_for_award(award=the_award, actor=lab_admin) == []

    # then the contracts, versions and audit rows are as they were
    assert Contract.objects.count() == 2
    assert ContractVersion.objects.count() == 2
    assert audit_actions(contract) == ["contract.created"]


# --- Reads ------------------------------------------------------------------------------------------


def test_contract_list_shows_each_party_its_contracts(contract, solo_contract, lab, lab_member, vendor, vendor_manager):
    assert set(selectors.contract_list(actor=lab_member, organization=lab)) == {contract, solo_contract}
    assert list(selectors.contract_list(actor=vendor_manager, organization=vendor)) == [contract]
    assert list(selectors.contract_list(actor=lab_member, organization=lab, status=C.ACTIVE)) == []


def test_contract_get_hides_contracts_of_other_parties(contract, solo_contract, vendor, vendor_manager, outsider):
    assert selectors.contract_get(actor=vendor_manager, organization=vendor, public_id=contract.public_id) == contract
    with pytest.raises(NotFound):
        selectors.contract_get(actor=vendor_manager, organization=vendor, public_id=solo_contract.public_id)
    with pytest.raises(NotFound):
        selectors.contract_get(actor=vendor_manager, organization=vendor, public_id="not-a-uuid")
    with pytest.raises(NotFound):
        selectors.contract_get(actor=outsider, organization=vendor, public_id=contract.public_id)
    with pytest.raises(NotFound):
        selectors.contract_get(actor=vendor_manager, organization=None, public_id=contract.public_id)


def test_contract_list_refused_to_a_vendor_expert(contract, vendor, expert):
    with pytest.raises(PermissionDenied):
        selectors.contract_list(actor=expert, organization=vendor)
