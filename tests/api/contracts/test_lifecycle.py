"""Pause, resume, complete and terminate: the lab's moves (terminate: either side), 409 from a
state that does not allow the move, and repeats that change nothing."""

import pytest

from apps.contracts.models import Contract
from apps.core.models import AuditEvent

from .conftest import contract_url


def status_of(contract):
    contract.refresh_from_db()
    return contract.status


def test_the_lab_pauses_resumes_and_completes_an_active_contract(active_contract, lab_admin, api_as):
    client = api_as(lab_admin)

    paused = client.post(contract_url(active_contract, "pause/"))
    assert paused.status_code == 200, paused.content
    assert paused.json()["status"] == "paused"
    resumed = client.post(contract_url(active_contract, "resume/"))
    assert resumed.status_code == 200 and resumed.json()["status"] == "active"
    completed = client.post(contract_url(active_contract, "complete/"))
    assert completed.status_code == 200 and completed.json()["status"] == "completed"
    assert (
        AuditEvent.objects.filter(action__in=["contract.paused", "contract.active", "contract.completed"]).count() == 4
    )


def test_either_side_terminates_with_a_reason_both_see(active_contract, vendor_manager, lab_admin, api_as):
    response = api_as(vendor_manager).post(contract_url(active_contract, "terminate/"), {"reason": "Team disbanded."})

    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["status_reason"]) == ("terminated", "Team disbanded.")
    lab_view = api_as(lab_admin).get(contract_url(active_contract)).json()
    assert (lab_view["status"], lab_view["status_reason"]) == ("terminated", "Team disbanded.")


def test_terminating_needs_a_reason(active_contract, lab_admin, api_as):
    response = api_as(lab_admin).post(contract_url(active_contract, "terminate/"), {})

    assert response.status_code == 400 and list(response.json()["error"]["details"]) == ["reason"]
    assert status_of(active_contract) == Contract.Status.ACTIVE


def test_a_pending_contract_may_be_terminated_before_anyone_signs(contract, lab_admin, api_as):
    response = api_as(lab_admin).post(contract_url(contract, "terminate/"), {"reason": "Budget withdrawn."})

    assert response.status_code == 200 and response.json()["status"] == "terminated"


@pytest.mark.parametrize("tail", ["pause/", "resume/", "complete/"])
def test_the_supplier_cannot_pause_resume_or_complete(active_contract, vendor_manager, api_as, tail):
    response = api_as(vendor_manager).post(contract_url(active_contract, tail))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "lab_only"
    assert status_of(active_contract) == Contract.Status.ACTIVE


@pytest.mark.parametrize(
    ("tail", "code"),
    [
        ("pause/", "contract_not_active"),
        ("resume/", "contract_not_paused"),
        ("complete/", "contract_not_active_or_paused"),
    ],
)
def test_a_pending_contract_cannot_be_paused_resumed_or_completed(contract, lab_admin, api_as, tail, code):
    response = api_as(lab_admin).post(contract_url(contract, tail))

    assert response.status_code == 409, response.content
    assert response.json()["error"]["code"] == code
    contract.refresh_from_db()
    assert (contract.status, contract.current_version) == (Contract.Status.PENDING_SIGNATURE, None)


@pytest.mark.parametrize("tail", ["pause/", "resume/", "complete/", "terminate/"])
def test_a_terminated_contract_stays_terminated(active_contract, lab_admin, api_as, tail):
    client = api_as(lab_admin)
    client.post(contract_url(active_contract, "terminate/"), {"reason": "Ended."})

    response = client.post(contract_url(active_contract, tail), {"reason": "Again."} if tail == "terminate/" else {})

    if tail == "terminate/":
        assert response.status_code == 200  # a repeat changes nothing
        assert response.json()["status_reason"] == "Ended."
    else:
        assert response.status_code == 409, response.content
    assert status_of(active_contract) == Contract.Status.TERMINATED


def test_a_completed_contract_cannot_be_terminated(active_contract, lab_admin, api_as):
    client = api_as(lab_admin)
    client.post(contract_url(active_contract, "complete/"))

    response = client.post(contract_url(active_contract, "terminate/"), {"reason": "Too late."})

    assert response.status_code == 409
    assert status_of(active_contract) == Contract.Status.COMPLETED


def test_pausing_twice_changes_nothing(active_contract, lab_admin, api_as):
    client = api_as(lab_admin)
    client.post(contract_url(active_contract, "pause/"))

    again = client.post(contract_url(active_contract, "pause/"))

    assert again.status_code == 200 and again.json()["status"] == "paused"
    assert AuditEvent.objects.filter(action="contract.paused").count() == 1


def test_a_closed_contract_cannot_be_signed(contract, lab_admin, api_as):
    client = api_as(lab_admin)
    terms_hash = client.get(contract_url(contract)).json()["proposed"]["terms_hash"]
    client.post(contract_url(contract, "terminate/"), {"reason": "Ended."})

    response = client.post(contract_url(contract, "sign/"), {"terms_hash": terms_hash})

    assert response.status_code == 409 and response.json()["error"]["code"] == "contract_closed"
