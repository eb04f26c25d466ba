"""Lifecycle: pending_signature -> active <-> paused -> completed | terminated (with a reason). Pause,
resume and complete are the lab's; either side may terminate. Closed contracts take no signatures
or amendments."""

import pytest

from apps.contracts import services
from apps.contracts.models import Assignment, Contract
from apps.core.errors import DomainError, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from tests.projects.support import audit_actions, audit_rows, kinds_for

from .support import proposed, sign

C = Contract.Status


def status(contract) -> str:
    return Contract.objects.get(pk=contract.pk).status


def test_lab_pauses_and_resumes_an_active_contract(active, lab, lab_admin, vendor_manager):
    # when the lab pauses the contract
    assert services.contract_pause(actor=lab_admin, organization=lab, contract=active) is True
    # then it is paused, audited, and both sides are told
    assert status(active) == C.PAUSED
    assert audit_rows(active).get(action="contract.paused").actor == lab_admin
    assert kinds_for(vendor_manager)[-1] == kinds_for(lab_admin)[-1] == "contract.status_changed"

    # when the lab resumes it
    assert services.contract_resume(actor=lab_admin, organization=lab, contract=active) is True
    assert status(active) == C.ACTIVE
    assert audit_actions(active)[-2:] == ["contract.paused", "contract.active"]


def test_pausing_or_resuming_twice_is_a_no_op(active, lab, lab_admin):
    services.contract_pause(actor=lab_admin, organization=lab, contract=active)
    rows = audit_rows(active).count()
    assert services.contract_pause(actor=lab_admin, organization=lab, contract=active) is False
    services.contract_resume(actor=lab_admin, organization=lab, contract=active)
    assert services.contract_resume(actor=lab_admin, organization=lab, contract=active) is False
    assert audit_rows(active).count() == rows + 1


@pytest.mark.parametrize("move", ["contract_pause", "contract_complete"])
def test_a_contract_awaiting_signatures_cannot_be_paused_or_completed(contract, lab, lab_admin, move):
    with pytest.raises(InvalidTransition):
        getattr(services, move)(actor=lab_admin, organization=lab, contract=contract)
    assert status(contract) == C.PENDING_SIGNATURE
    assert audit_actions(contract) == ["contract.created"]


@pytest.mark.parametrize("move", ["contract_pause", "contract_resume", "contract_complete"])
def test_only_the_lab_pauses_resumes_and_completes(active, lab, lab_admin, vendor, vendor_manager, move):
    # given a paused contract for resume, an active one otherwise
    if move == "contract_resume":
        services.contract_pause(actor=lab_admin, organization=lab, contract=active)
    before = status(active)

    with pytest.raises(PermissionDenied) as exc:
        getattr(services, move)(actor=vendor_manager, organization=vendor, contract=active)

    assert exc.value.code == "lab_only"
    assert status(active) == before


def test_a_lab_member_and_an_outsider_cannot_pause(active, lab, lab_member, outsider):
    with pytest.raises(PermissionDenied):
        services.contract_pause(actor=lab_member, organization=lab, contract=active)
    with pytest.raises(NotFound):
        services.contract_pause(actor=outsider, organization=lab, contract=active)
    with pytest.raises(NotFound):
        services.contract_pause(actor=outsider, organization=outsider.memberships.get().organization, contract=active)
    assert status(active) == C.ACTIVE


def test_lab_completes_a_paused_contract_which_then_is_final(active, lab, lab_admin, vendor, vendor_manager):
    services.contract_pause(actor=lab_admin, organization=lab, contract=active)
    assert services.contract_complete(actor=lab_admin, organization=lab, contract=active) is True
    assert status(active) == C.COMPLETED
    # completing twice is a no-op; nothing moves a completed contract
    assert services.contract_complete(actor=lab_admin, organization=lab, contract=active) is False
    with pytest.raises(InvalidTransition):
        services.contract_resume(actor=lab_admin, organization=lab, contract=active)
    with pytest.raises(InvalidTransition):
        services.contract_terminate(actor=vendor_manager, organization=vendor, contract=active, reason="Too late")
    assert audit_rows(active).filter(action="contract.completed").count() == 1


@pytest.mark.parametrize("side", ["lab", "supplier"])
def test_either_side_terminates_with_a_reason_both_see(active, lab, lab_admin, vendor, vendor_manager, side):
    actor, org = (lab_admin, lab) if side == "lab" else (vendor_manager, vendor)

    assert services.contract_terminate(actor=actor, organization=org, contract=active, reason="  Scope changed ")

    active.refresh_from_db()
    assert (active.status, active.status_reason) == (C.TERMINATED, "Scope changed")
    row = audit_rows(active).get(action="contract.terminated")
    assert (row.actor, row.reason, row.from_status) == (actor, "Scope changed", C.ACTIVE)
    for person in (lab_admin, vendor_manager):
        assert kinds_for(person)[-1] == "contract.status_changed"


def test_terminating_twice_is_a_no_op(active, lab, lab_admin):
    services.contract_terminate(actor=lab_admin, organization=lab, contract=active, reason="Scope changed")
    assert services.contract_terminate(actor=lab_admin, organization=lab, contract=active, reason="Again") is False
    active.refresh_from_db()
    assert active.status_reason == "Scope changed"
    assert audit_rows(active).filter(action="contract.terminated").count() == 1


def test_a_pending_contract_may_be_terminated(contract, vendor, vendor_manager):
    services.contract_terminate(actor=vendor_manager, organization=vendor, contract=contract, reason="Declined")
    assert status(contract) == C.TERMINATED


def test_terminating_without_a_reason_is_refused(active, lab, lab_admin):
    with pytest.raises(ValidationFailed) as exc:
        services.contract_terminate(actor=lab_admin, organization=lab, contract=active, reason="   ")
    assert exc.value.details == {"reason": ["This field is required."]}
    assert status(active) == C.ACTIVE


@pytest.mark.parametrize("end", ["terminate", "complete"])
def test_a_closed_contract_refuses_signatures_and_amendments(active, lab, lab_admin, vendor, vendor_manager, end):
    # given a proposed amendment, then the contract is closed
    services.contract_amend(
        actor=lab_admin, organization=lab, contract=active, changes={"volume_cap": 700}, change_summary="More"
    )
    if end == "terminate":
        services.contract_terminate(actor=lab_admin, organization=lab, contract=active, reason="Done early")
    else:
        services.contract_complete(actor=lab_admin, organization=lab, contract=active)
    versions = list(active.versions.values_list("number", "status"))

    # then neither side can sign the amendment, and no new one can be proposed
    with pytest.raises(DomainError) as exc:
        sign(active, vendor_manager, vendor)
    assert exc.value.code == "contract_closed"
    with pytest.raises(DomainError) as exc:
        services.contract_amend(
            actor=lab_admin, organization=lab, contract=active, changes={"volume_cap": 800}, change_summary="More"
        )
    assert exc.value.code == "contract_closed"
    assert list(active.versions.values_list("number", "status")) == versions
    assert not proposed(active).signatures.exists()


def test_terminating_a_contract_ends_its_assignments(active, ready, vendor, vendor_manager):
    assignment = services.assignment_create(
        actor=vendor_manager, organization=vendor, contract=active, expert_public_id=ready.public_id
    )

    services.contract_terminate(actor=vendor_manager, organization=vendor, contract=active, reason="Team disbanded")

    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.ENDED
