"""The NDA and assignments: each unmet gate named in the refusal, a successful assignment, the lab
seeing experts by handle only, ending and resuming, and the supplier's gate preview."""

import pytest

from apps.contracts import services
from apps.contracts.models import Assignment, NdaAcceptance
from apps.experts.models import RosterEntry
from apps.projects import services as project_services
from tests.factories import OrganizationFactory

from .conftest import acknowledge_guidelines, contract_url, roster_expert


def assign(client, contract, expert, **extra):
    return client.post(contract_url(contract, "assignments/"), {"expert": str(expert.public_id)}, **extra)


def gates(response):
    assert response.status_code == 409, response.content
    error = response.json()["error"]
    assert error["code"] == "assignment_gates_unmet"
    return [g["gate"] for g in error["details"]["gates"]]


@pytest.fixture
def ready(active_contract, radiologist, vendor, api_as):
    """The radiologist passes every gate: roster, certification, NDA, guidelines."""
    assert api_as(radiologist).post(contract_url(active_contract, "nda/accept/")).status_code == 200
    acknowledge_guidelines(radiologist, vendor, active_contract.project)
    return radiologist


# --- the NDA ---------------------------------------------------------------------------------------------


def test_a_roster_expert_accepts_the_nda_with_a_session(active_contract, radiologist, api_as):
    client = api_as(radiologist)

    response = client.post(contract_url(active_contract, "nda/accept/"), REMOTE_ADDR="203.0.113.5")
    again = client.post(contract_url(active_contract, "nda/accept/"))

    assert response.status_code == again.status_code == 200, response.content
    assert response.json()["contract"] == str(active_contract.public_id)
    assert response.json()["nda_version"] == "standard-nda-v1"
    acceptance = NdaAcceptance.objects.get()
    assert (acceptance.user, acceptance.ip_address) == (radiologist, "203.0.113.5")


def test_an_independent_expert_accepts_with_their_own_key(
    individual_contract, individual, lab_admin, key_client, api_as
):
    services.contract_sign(
        actor=lab_admin,
        organization=individual_contract.lab,
        contract=individual_contract,
        shown_terms_hash=individual_contract.versions.get().terms_hash,
    )
    services.contract_sign(
        actor=individual.user,
        organization=individual.organization,
        contract=individual_contract,
        shown_terms_hash=individual_contract.versions.get().terms_hash,
    )

    response = key_client(individual.user, individual.organization).post(
        contract_url(individual_contract, "nda/accept/")
    )

    assert response.status_code == 200, response.content
    assert NdaAcceptance.objects.filter(user=individual.user).exists()


def test_an_organisations_key_cannot_accept_an_nda(active_contract, vendor, vendor_manager, key_client):
    response = key_client(vendor_manager, vendor).post(contract_url(active_contract, "nda/accept/"))

    assert response.status_code == 403 and response.json()["error"]["code"] == "api_key_out_of_scope"


@pytest.mark.parametrize("who", ["lab_admin", "vendor_manager", "outsider", "rival_expert"])
def test_only_the_suppliers_experts_accept_the_nda(active_contract, api_as, request, who):
    if who == "rival_expert":
        user = roster_expert(OrganizationFactory(kind="vendor"), "rad@rival.test")
    else:
        user = request.getfixturevalue(who)

    response = api_as(user).post(contract_url(active_contract, "nda/accept/"))

    assert response.status_code == 404 and response.json()["error"]["code"] == "contract_not_found"
    assert NdaAcceptance.objects.count() == 0


def test_the_nda_waits_for_both_signatures(contract, radiologist, api_as):
    response = api_as(radiologist).post(contract_url(contract, "nda/accept/"))

    assert response.status_code == 409 and response.json()["error"]["code"] == "contract_not_active"


# --- assigning ---------------------------------------------------------------------------------------------


def test_an_expert_passing_every_gate_is_assigned(active_contract, ready, vendor_manager, lab_admin, api_as):
    response = assign(api_as(vendor_manager), active_contract, ready)

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["status_reason"], body["contract"]) == ("active", "", str(active_contract.public_id))
    assert body["expert"] == {"id": str(ready.public_id), "handle": "quiet-heron", "name": "Dr Rosa Roster"}
    lab_list = api_as(lab_admin).get(contract_url(active_contract, "assignments/")).json()["results"]
    assert [a["expert"] for a in lab_list] == [{"id": str(ready.public_id), "handle": "quiet-heron", "name": None}]
    assert "Rosa" not in str(lab_list) and ready.email not in str(lab_list)
    supplier_list = api_as(vendor_manager).get(contract_url(active_contract, "assignments/")).json()["results"]
    assert supplier_list[0]["expert"]["name"] == "Dr Rosa Roster"


def test_each_unmet_gate_is_named(active_contract, radiologist, vendor, vendor_manager, api_as):
    client = api_as(vendor_manager)

    assert gates(assign(client, active_contract, radiologist)) == ["nda", "guidelines"]
    api_as(radiologist).post(contract_url(active_contract, "nda/accept/"))
    assert gates(assign(client, active_contract, radiologist)) == ["guidelines"]
    acknowledge_guidelines(radiologist, vendor, active_contract.project)
    assert assign(client, active_contract, radiologist).status_code == 201


def test_a_missing_credential_is_named_with_its_type(active_contract, vendor, vendor_manager, api_as):
    uncertified = roster_expert(vendor, "new@northwind.test", certified=False)
    api_as(uncertified).post(contract_url(active_contract, "nda/accept/"))
    acknowledge_guidelines(uncertified, vendor, active_contract.project)

    response = assign(api_as(vendor_manager), active_contract, uncertified)

    assert gates(response) == ["credential"]
    (gate,) = response.json()["error"]["details"]["gates"]
    assert gate["credential_type"] == "board_certification"
    assert Assignment.objects.count() == 0


def test_someone_elses_expert_fails_the_roster_gate_and_nothing_more_is_said(active_contract, vendor_manager, api_as):
    rival_expert = roster_expert(OrganizationFactory(kind="vendor"), "rad@rival.test", certified=False)

    response = assign(api_as(vendor_manager), active_contract, rival_expert)

    assert gates(response) == ["roster"]


def test_a_new_guideline_version_is_a_gate_again(active_contract, ready, vendor_manager, lab_admin, api_as):
    project_services.guideline_publish(
        actor=lab_admin, project=active_contract.project, body_markdown="# v2", change_summary="Stricter"
    )

    assert gates(assign(api_as(vendor_manager), active_contract, ready)) == ["guidelines"]


def test_an_unknown_expert_is_a_validation_error(active_contract, vendor_manager, api_as):
    response = api_as(vendor_manager).post(
        contract_url(active_contract, "assignments/"), {"expert": "5f0c2a4e-0000-4000-8000-000000000000"}
    )

    assert response.status_code == 400 and list(response.json()["error"]["details"]) == ["expert"]


def test_only_an_active_contract_takes_assignments(contract, radiologist, vendor_manager, api_as):
    response = assign(api_as(vendor_manager), contract, radiologist)

    assert response.status_code == 409 and response.json()["error"]["code"] == "contract_not_active"


def test_the_lab_cannot_assign(active_contract, ready, lab_admin, api_as):
    response = assign(api_as(lab_admin), active_contract, ready)

    assert response.status_code == 403
    assert Assignment.objects.count() == 0


def test_assigning_twice_is_a_conflict_and_a_replayed_key_answers_the_first(
    active_contract, ready, vendor_manager, api_as
):
    client = api_as(vendor_manager)

    first = assign(client, active_contract, ready, HTTP_IDEMPOTENCY_KEY="assign-1")
    replay = assign(client, active_contract, ready, HTTP_IDEMPOTENCY_KEY="assign-1")
    second = assign(client, active_contract, ready)

    assert first.status_code == replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert second.status_code == 409 and second.json()["error"]["code"] == "already_assigned"
    assert Assignment.objects.count() == 1


# --- ending, suspension and resuming -------------------------------------------------------------------------


def test_the_supplier_ends_an_assignment(active_contract, ready, vendor_manager, lab_admin, api_as):
    client = api_as(vendor_manager)
    assignment_id = assign(client, active_contract, ready).json()["id"]
    url = contract_url(active_contract, f"assignments/{assignment_id}/end/")

    assert api_as(lab_admin).post(url).status_code == 403
    ended = client.post(url)
    again = client.post(url)

    assert ended.status_code == again.status_code == 200
    assert ended.json()["status"] == "ended"
    resumed = client.post(contract_url(active_contract, f"assignments/{assignment_id}/resume/"))
    assert resumed.status_code == 409
    ended_only = client.get(contract_url(active_contract, "assignments/") + "?status=ended").json()["results"]
    assert [a["id"] for a in ended_only] == [assignment_id]


def test_a_suspended_assignment_resumes_once_the_gates_hold_again(
    active_contract, ready, vendor, vendor_manager, lab_admin, api_as
):
    client = api_as(vendor_manager)
    assignment_id = assign(client, active_contract, ready).json()["id"]
    project_services.guideline_publish(
        actor=lab_admin, project=active_contract.project, body_markdown="# v2", change_summary="Stricter"
    )
    listed = api_as(lab_admin).get(contract_url(active_contract, "assignments/")).json()["results"][0]
    assert (listed["status"], listed["status_reason"]) == ("suspended", "Has not acknowledged guidelines v2.")
    url = contract_url(active_contract, f"assignments/{assignment_id}/resume/")

    assert gates(client.post(url)) == ["guidelines"]
    acknowledge_guidelines(ready, vendor, active_contract.project)
    resumed = client.post(url)

    assert resumed.status_code == 200, resumed.content
    assert (resumed.json()["status"], resumed.json()["status_reason"]) == ("active", "")


def test_an_assignment_of_another_contract_is_404(active_contract, ready, individual_contract, vendor_manager, api_as):
    assignment_id = assign(api_as(vendor_manager), active_contract, ready).json()["id"]
    other = f"/api/v1/contracts/{individual_contract.public_id}/assignments/{assignment_id}/end/"
    wrong = contract_url(active_contract, "assignments/5f0c2a4e-0000-4000-8000-000000000000/end/")

    assert api_as(vendor_manager).post(other).status_code == 404
    response = api_as(vendor_manager).post(wrong)
    assert response.status_code == 404 and response.json()["error"]["code"] == "assignment_not_found"


# --- the gate preview ---------------------------------------------------------------------------------------


def test_the_supplier_previews_the_gates_an_expert_misses(active_contract, radiologist, vendor_manager, api_as):
    client = api_as(vendor_manager)
    url = contract_url(active_contract, f"gates/?expert={radiologist.public_id}")

    body = client.get(url).json()

    assert (body["expert"], body["assignable"]) == (str(radiologist.public_id), False)
    assert [g["gate"] for g in body["gates"]] == ["nda", "guidelines"]
    assert all(g["message"] for g in body["gates"])


def test_the_preview_says_assignable_when_every_gate_holds(active_contract, ready, vendor_manager, api_as):
    body = api_as(vendor_manager).get(contract_url(active_contract, f"gates/?expert={ready.public_id}")).json()

    assert (body["assignable"], body["gates"]) == (True, [])


def test_the_preview_is_the_suppliers(active_contract, radiologist, lab_admin, vendor_manager, api_as):
    lab = api_as(lab_admin).get(contract_url(active_contract, f"gates/?expert={radiologist.public_id}"))
    missing = api_as(vendor_manager).get(contract_url(active_contract, "gates/"))

    assert lab.status_code == 403
    assert missing.status_code == 400 and list(missing.json()["error"]["details"]) == ["expert"]


def test_an_expert_leaving_the_roster_fails_the_roster_gate(active_contract, ready, vendor_manager, api_as):
    RosterEntry.objects.filter(user=ready).update(status=RosterEntry.Status.OFFBOARDED)

    body = api_as(vendor_manager).get(contract_url(active_contract, f"gates/?expert={ready.public_id}")).json()

    assert [g["gate"] for g in body["gates"]] == ["roster"]
