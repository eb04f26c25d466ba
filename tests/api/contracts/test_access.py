"""Who reaches a contract: its two parties only (anyone else gets a 404 on every endpoint), by role
within each party, and through API keys only for the key's organisation."""

import uuid

import pytest

from apps.contracts.models import Contract, Signature
from tests.factories import OrganizationFactory

from .conftest import contract_url

# (method, tail) of every endpoint under /contracts/{id}/; {a} is an assignment id.
ENDPOINTS = [
    ("get", ""),
    ("post", "sign/"),
    ("post", "pause/"),
    ("post", "resume/"),
    ("post", "complete/"),
    ("post", "terminate/"),
    ("get", "versions/"),
    ("get", "versions/{v}/"),
    ("get", "amendments/"),
    ("post", "amendments/"),
    ("get", "milestones/"),
    ("post", "nda/accept/"),
    ("get", "gates/"),
    ("get", "assignments/"),
    ("post", "assignments/"),
    ("post", "assignments/{a}/end/"),
    ("post", "assignments/{a}/resume/"),
]
BODIES = {
    "sign/": {"terms_hash": "0" * 64},
    "terminate/": {"reason": "No longer needed."},
    "amendments/": {"changes": {"volume_cap": 10}, "change_summary": "Less"},
    "assignments/": {"expert": str(uuid.uuid4())},
}


def call(client, contract, method, tail, **extra):
    version = contract.versions.get(number=1)
    path = contract_url(contract, tail.format(v=version.public_id, a=uuid.uuid4()))
    if method == "get":
        return client.get(path + ("?expert=" + str(uuid.uuid4()) if tail == "gates/" else ""), **extra)
    return client.post(path, BODIES.get(tail, {}), **extra)


def snapshot(contract):
    contract.refresh_from_db()
    return (contract.status, contract.versions.count(), Signature.objects.count())


@pytest.mark.parametrize(("method", "tail"), ENDPOINTS)
def test_an_outsider_gets_404_on_every_endpoint(contract, outsider, api_as, method, tail):
    before = snapshot(contract)

    response = call(api_as(outsider), contract, method, tail)

    assert response.status_code == 404, response.content
    assert response.json()["error"]["code"] == "contract_not_found"
    assert snapshot(contract) == before


@pytest.mark.parametrize(("method", "tail"), ENDPOINTS)
def test_another_vendors_key_gets_404_on_every_endpoint(contract, key_client, method, tail):
    from tests.factories import member

    rival = OrganizationFactory(kind="vendor", name="Rival")
    client = key_client(member(rival, "owner"), rival)

    response = call(client, contract, method, tail)

    assert response.status_code in (403, 404), response.content
    if tail != "nda/accept/":  # personal data: an organisation's key is refused before any lookup
        assert response.status_code == 404


def test_a_contract_id_that_does_not_exist_is_404(lab_admin, api_as, db):
    response = api_as(lab_admin).get(f"/api/v1/contracts/{uuid.uuid4()}/")

    assert response.status_code == 404 and response.json()["error"]["code"] == "contract_not_found"


def test_a_lab_member_reads_but_cannot_sign(contract, lab_member, api_as):
    client = api_as(lab_member)
    detail = client.get(contract_url(contract))
    assert detail.status_code == 200

    response = client.post(contract_url(contract, "sign/"), {"terms_hash": detail.json()["proposed"]["terms_hash"]})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "role_not_allowed"
    assert Signature.objects.count() == 0


@pytest.mark.parametrize("tail", ["pause/", "complete/", "terminate/", "amendments/"])
def test_a_lab_member_cannot_change_the_contract(active_contract, lab_member, api_as, tail):
    response = api_as(lab_member).post(contract_url(active_contract, tail), BODIES.get(tail, {}))

    assert response.status_code == 403, response.content
    active_contract.refresh_from_db()
    assert active_contract.status == Contract.Status.ACTIVE


def test_a_vendors_expert_cannot_see_contracts(contract, radiologist, api_as):
    client = api_as(radiologist)

    listed = client.get("/api/v1/contracts/")
    detail = client.get(contract_url(contract))
    versions = client.get(contract_url(contract, "versions/"))

    assert listed.status_code == detail.status_code == versions.status_code == 403
    assert listed.json()["error"]["code"] == "role_not_allowed"
    assert "2.0000" not in detail.content.decode()


def test_the_lab_key_sees_its_contracts_and_a_vendor_key_its_own(
    contract, lab, lab_admin, vendor, vendor_manager, key_client
):
    lab_ids = [c["id"] for c in key_client(lab_admin, lab).get("/api/v1/contracts/").json()["results"]]
    vendor_ids = [c["id"] for c in key_client(vendor_manager, vendor).get("/api/v1/contracts/").json()["results"]]

    assert lab_ids == vendor_ids == [str(contract.public_id)]


def test_a_key_naming_another_organisation_is_404(contract, lab, lab_admin, vendor, key_client):
    response = key_client(lab_admin, lab).get(contract_url(contract) + f"?org={vendor.public_id}")

    assert response.status_code == 404


def test_a_session_acts_for_the_org_it_names(contract, lab_admin, vendor, api_as):
    client = api_as(lab_admin)

    as_lab = client.get(contract_url(contract) + f"?org={contract.lab.public_id}")
    as_vendor = client.get(contract_url(contract) + f"?org={vendor.public_id}")

    assert as_lab.status_code == 200 and as_lab.json()["side"] == "lab"
    assert as_vendor.status_code == 404  # not a member of the vendor


def test_an_outsider_lists_no_contracts(contract, outsider, api_as):
    response = api_as(outsider).get("/api/v1/contracts/")

    assert response.status_code == 200 and response.json()["results"] == []


def test_anonymous_callers_are_refused(contract, api_client):
    assert api_client.get(contract_url(contract)).status_code in (401, 403)
