"""Who sees which quality figures: labs see experts by handle only, a vendor only its own team, an
expert only their own rows, operations everything; the benchmark ranks ties as ties."""

from __future__ import annotations

import pytest

from apps.accounts.roles import OrgKind, Role
from apps.core.errors import NotFound
from apps.quality import services
from apps.quality.selectors import (
    audit_flags,
    contract_quality,
    my_quality,
    scores,
    team_quality,
    vendor_benchmark,
)
from tests.factories import AssignmentFactory, ContractFactory, OrganizationFactory, UserFactory, member

from .conftest import gold_rows, make_batch, set_gold

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(contract, annotators, project):
    """Our vendor's contract, and a rival vendor's contract on the same project, both scored."""
    rows = []
    gold = {}
    for k, a in enumerate(annotators):
        r, g = gold_rows(a, 40 - 5 * k, 5 + 5 * k, prefix=f"g{k}")
        rows += r
        gold.update(g)
    set_gold(project, gold)
    make_batch(contract, rows)
    services.score_contract(contract=contract)

    rival = OrganizationFactory(name="Rival Annotation", kind=OrgKind.VENDOR)
    rival_manager = member(rival, Role.MANAGER, email="manager@rival.test")
    rival_contract = ContractFactory(project=project, lab=contract.lab, supplier=rival)
    rival_expert = AssignmentFactory(contract=rival_contract, expert=UserFactory(full_name="Rita Rival")).expert
    r, g = gold_rows(rival_expert, 39, 11, prefix="r")
    set_gold(project, g)
    make_batch(rival_contract, r)
    services.score_contract(contract=rival_contract)
    return {
        "rival": rival,
        "rival_manager": rival_manager,
        "rival_contract": rival_contract,
        "rival_expert": rival_expert,
    }


def test_lab_sees_experts_by_handle_only(contract, annotators, lab_admin, lab, scored):
    quality = contract_quality(actor=lab_admin, contract_public_id=contract.public_id, organization=lab)

    assert quality.viewer_side == "lab"
    assert len(quality.experts) == 4
    assert all(row.name is None for row in quality.experts)
    assert {row.handle for row in quality.experts} == {a.expert_profile.handle for a in annotators}
    for flag in quality.audits:
        assert flag.subject_label not in {a.full_name for a in annotators if a.full_name}


def test_vendor_sees_its_own_experts_by_name_and_not_the_rivals(contract, annotators, vendor_manager, vendor, scored):
    quality = contract_quality(actor=vendor_manager, contract_public_id=contract.public_id, organization=vendor)
    assert quality.viewer_side == "supplier"
    assert {row.name for row in quality.experts} == {a.full_name or None for a in annotators}

    with pytest.raises(NotFound):
        contract_quality(
            actor=vendor_manager, contract_public_id=scored["rival_contract"].public_id, organization=vendor
        )
    team = team_quality(actor=vendor_manager, organization=vendor)
    assert {row.user_id for row in team} == {a.pk for a in annotators}
    visible = scores(actor=vendor_manager, organization=vendor)
    assert set(visible.values_list("supplier_id", flat=True)) == {vendor.pk}
    assert not scores(actor=vendor_manager, organization=vendor, vendor=scored["rival"].public_id).exists()


def test_expert_sees_only_their_own_rows(contract, annotators, expert, vendor, scored):
    mine = my_quality(actor=expert)
    assert mine and {s.expert_id for s in mine} == {expert.pk}
    visible = scores(actor=expert, organization=vendor)
    assert set(visible.values_list("expert_id", flat=True)) == {expert.pk}
    assert set(visible.values_list("subject_kind", flat=True)) == {"expert"}


def test_outsider_sees_nothing(contract, outsider, scored):
    with pytest.raises(NotFound):
        contract_quality(actor=outsider, contract_public_id=contract.public_id)
    with pytest.raises(NotFound):
        vendor_benchmark(actor=outsider, project_public_id=contract.project.public_id)
    assert not scores(actor=outsider, organization=outsider.memberships.get().organization).exists()


def test_operations_see_everything(contract, operations, scored):
    assert contract_quality(actor=operations, contract_public_id=contract.public_id).viewer_side == "operations"
    assert (
        scores(actor=operations, organization=None).count()
        == scores(actor=operations, organization=None, contract=None).count()
    )
    assert {s.supplier_id for s in scores(actor=operations, organization=None)} == {
        contract.supplier_id,
        scored["rival"].pk,
    }


def test_benchmark_ranks_with_intervals_and_hides_names_from_the_lab(
    contract, annotators, lab_admin, lab, vendor_manager, vendor, scored
):
    rows = vendor_benchmark(actor=lab_admin, project_public_id=contract.project.public_id, organization=lab)

    assert [r.supplier_label for r in rows] == ["Rival Annotation", "Northwind Annotation"]
    theirs, ours = rows
    assert (ours.n_gold, ours.gold_correct) == (180, 130)  # 40+35+30+25 of 4 x 45
    assert (theirs.n_gold, theirs.gold_correct) == (50, 39)
    assert ours.lower < ours.accuracy < ours.upper
    # 0.78 vs 0.72 with overlapping intervals: a tie, not an order
    assert theirs.accuracy > ours.accuracy and theirs.lower < ours.upper
    assert theirs.rank == ours.rank == 1
    labels = {e.label for r in rows for e in r.experts}
    assert "Rita Rival" not in labels
    assert labels == {a.expert_profile.handle for a in annotators} | {scored["rival_expert"].expert_profile.handle}

    own = vendor_benchmark(actor=vendor_manager, project_public_id=contract.project.public_id, organization=vendor)
    assert [r.supplier_label for r in own] == ["Northwind Annotation"]


def test_audit_flags_are_scoped(contract, lab_admin, lab, vendor_manager, vendor, scored):
    lab_flags = audit_flags(actor=lab_admin, organization=lab)
    vendor_flags = audit_flags(actor=vendor_manager, organization=vendor)
    assert {f.contract_id for f in lab_flags} == {contract.pk, scored["rival_contract"].pk}
    assert {f.contract_id for f in vendor_flags} == {contract.pk}
