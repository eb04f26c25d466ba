"""A contract from the award to both signatures, through the API: both sides list it, read the terms
and their hash, a stale hash is refused without storing anything, and two signatures make it active."""

from decimal import Decimal

from apps.contracts.models import Contract, Signature
from apps.core.models import AuditEvent
from apps.projects.models import Project
from tests.factories import BidFactory

from .conftest import contract_url

CONTRACTS = "/api/v1/contracts/"


def test_an_award_through_the_api_makes_a_contract_both_sides_sign_into_force(
    lab, lab_admin, vendor, vendor_manager, radiologist, project, api_as
):
    bid = BidFactory(project=project, bidder=vendor, team=[radiologist], unit_price=Decimal("2.4000"), volume=600)
    lab_client, vendor_client = api_as(lab_admin), api_as(vendor_manager)
    assert lab_client.post(f"/api/v1/projects/{project.public_id}/close-bidding/").status_code == 200
    awarded = lab_client.post(
        f"/api/v1/projects/{project.public_id}/award/", {"allocations": [{"bid": str(bid.public_id), "volume": 500}]}
    )
    assert awarded.status_code == 201, awarded.content

    # both sides list the pending contract, each knowing its side
    lab_list, vendor_list = lab_client.get(CONTRACTS).json()["results"], vendor_client.get(CONTRACTS).json()["results"]
    assert [c["id"] for c in lab_list] == [c["id"] for c in vendor_list] and len(lab_list) == 1
    summary = lab_list[0]
    assert (summary["status"], summary["side"], vendor_list[0]["side"]) == ("pending_signature", "lab", "supplier")
    assert (summary["current_version"], summary["proposed_version"]) == (None, 1)
    assert summary["project"] == {"id": str(project.public_id), "title": project.title}
    assert summary["lab"]["name"] == "Acme AI Lab"
    assert summary["supplier"] == {"id": str(vendor.public_id), "kind": "vendor", "name": "Northwind Annotation"}
    contract = Contract.objects.get(public_id=summary["id"])

    # the terms awaiting signatures, with their hash
    detail = vendor_client.get(contract_url(contract)).json()
    assert (detail["terms"], detail["terms_hash"], detail["effective_from"]) == (None, None, None)
    proposed = detail["proposed"]
    assert (proposed["number"], proposed["status"], proposed["awaiting_signature_from"]) == (
        1,
        "proposed",
        ["lab", "supplier"],
    )
    assert proposed["proposed_by_side"] == "lab" and proposed["signatures"] == []
    terms = proposed["terms"]
    assert (terms["unit_rate"], terms["currency"], terms["volume_cap"]) == ("2.4000", "USD", 500)
    assert terms["budget_cap"] == {"amount": "1200.00", "currency": "USD"}
    assert terms["quality_pay"] == [["0.95", "1.10"], ["0.85", "1.00"], ["0.75", "0.90"]]
    assert terms["label_set"] == ["A", "B", "tie"]
    assert (terms["sla_min_gold_accuracy"], terms["sla_max_turnaround_days"]) == ("0.8000", 3)
    assert (terms["review_window_days"], terms["appeal_window_days"], terms["notice_period_days"]) == (5, 7, 14)
    assert terms["milestones"] == []
    assert len(proposed["terms_hash"]) == 64
    assert detail["versions"] == [
        {
            "id": proposed["id"],
            "number": 1,
            "status": "proposed",
            "change_summary": "Terms from the award",
            "effective_from": None,
        }
    ]

    # a stale hash is refused and nothing is stored
    audits = AuditEvent.objects.count()
    stale = vendor_client.post(contract_url(contract, "sign/"), {"terms_hash": "0" * 64})
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "terms_hash_mismatch"
    assert stale.json()["error"]["details"] == {"terms_hash": proposed["terms_hash"]}
    assert (Signature.objects.count(), AuditEvent.objects.count()) == (0, audits)

    # the supplier signs, then the lab: in force
    first = vendor_client.post(
        contract_url(contract, "sign/"), {"terms_hash": proposed["terms_hash"]}, REMOTE_ADDR="203.0.113.7"
    )
    assert first.status_code == 200, first.content
    assert first.json()["status"] == "pending_signature"
    assert first.json()["proposed"]["awaiting_signature_from"] == ["lab"]
    second = lab_client.post(
        contract_url(contract, "sign/"), {"terms_hash": proposed["terms_hash"]}, REMOTE_ADDR="198.51.100.9"
    )
    assert second.status_code == 200, second.content
    body = second.json()
    assert (body["status"], body["current_version"], body["proposed_version"], body["proposed"]) == (
        "active",
        1,
        None,
        None,
    )
    assert body["terms"] == terms and body["terms_hash"] == proposed["terms_hash"]
    assert body["effective_from"] is not None
    assert body["versions"][0]["status"] == "effective"
    project.refresh_from_db()
    assert project.status == Project.Status.IN_PROGRESS
    assert AuditEvent.objects.filter(action="contract.signed").count() == 2


def test_signatures_name_the_signers_and_show_the_ip_to_the_own_side_only(contract, lab_admin, vendor_manager, api_as):
    lab_client, vendor_client = api_as(lab_admin), api_as(vendor_manager)
    lab_admin.full_name, vendor_manager.full_name = "Alice Admin", "Mo Manager"
    lab_admin.save(), vendor_manager.save()
    terms_hash = lab_client.get(contract_url(contract)).json()["proposed"]["terms_hash"]
    lab_client.post(contract_url(contract, "sign/"), {"terms_hash": terms_hash}, REMOTE_ADDR="198.51.100.9")
    vendor_client.post(contract_url(contract, "sign/"), {"terms_hash": terms_hash}, REMOTE_ADDR="203.0.113.7")

    def signatures(client):
        version = client.get(contract_url(contract, "versions/")).json()["results"][0]
        return {s["side"]: (s["signed_by"], s["ip_address"], s["terms_hash"]) for s in version["signatures"]}

    assert signatures(lab_client) == {
        "lab": ("Alice Admin", "198.51.100.9", terms_hash),
        "supplier": ("Mo Manager", None, terms_hash),
    }
    assert signatures(vendor_client) == {
        "lab": ("Alice Admin", None, terms_hash),
        "supplier": ("Mo Manager", "203.0.113.7", terms_hash),
    }


def test_behind_a_trusted_proxy_the_forwarded_address_is_recorded(contract, lab_admin, api_as, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    client = api_as(lab_admin)
    terms_hash = client.get(contract_url(contract)).json()["proposed"]["terms_hash"]

    client.post(
        contract_url(contract, "sign/"),
        {"terms_hash": terms_hash},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="192.0.2.1, 198.51.100.9",
    )

    assert Signature.objects.get().ip_address == "198.51.100.9"


def test_an_independent_expert_signs_and_appears_to_the_lab_as_the_expert(
    individual_contract, individual, lab_admin, api_as, key_client
):
    expert_client = key_client(individual.user, individual.organization)
    listed = expert_client.get(CONTRACTS).json()["results"]
    assert [(c["id"], c["side"]) for c in listed] == [(str(individual_contract.public_id), "supplier")]
    assert listed[0]["supplier"] == {"id": str(individual.organization.public_id), "kind": "individual", "name": None}
    terms_hash = expert_client.get(contract_url(individual_contract)).json()["proposed"]["terms_hash"]

    signed = expert_client.post(contract_url(individual_contract, "sign/"), {"terms_hash": terms_hash})

    assert signed.status_code == 200, signed.content
    lab_view = api_as(lab_admin).get(contract_url(individual_contract)).json()
    (signature,) = lab_view["proposed"]["signatures"]
    assert (signature["side"], signature["signed_by"], signature["ip_address"]) == ("supplier", "The expert", None)
    assert "Ida" not in str(lab_view)
    own = expert_client.get(contract_url(individual_contract)).json()["proposed"]["signatures"][0]
    assert own["signed_by"] == "Dr Ida Secret" and own["ip_address"] == "127.0.0.1"


def test_the_list_filters_by_status_and_project(contract, individual_contract, lab_admin, api_as, sign_both):
    sign_both(contract)
    client = api_as(lab_admin)

    def ids(query):
        response = client.get(CONTRACTS + query)
        assert response.status_code == 200, response.content
        return [c["id"] for c in response.json()["results"]]

    assert ids("") == [str(individual_contract.public_id), str(contract.public_id)]
    assert ids("?status=active") == [str(contract.public_id)]
    assert ids("?status=pending_signature") == [str(individual_contract.public_id)]
    assert ids(f"?project={individual_contract.project.public_id}") == [str(individual_contract.public_id)]
    bad = client.get(CONTRACTS + "?status=signed")
    assert bad.status_code == 400 and list(bad.json()["error"]["details"]) == ["status"]


def test_signing_again_for_the_same_side_changes_nothing(contract, lab_admin, api_as):
    client = api_as(lab_admin)
    terms_hash = client.get(contract_url(contract)).json()["proposed"]["terms_hash"]

    first = client.post(contract_url(contract, "sign/"), {"terms_hash": terms_hash})
    second = client.post(contract_url(contract, "sign/"), {"terms_hash": terms_hash})

    assert first.status_code == second.status_code == 200
    assert Signature.objects.count() == 1
    assert AuditEvent.objects.filter(action="contract.signed").count() == 1


def test_a_replayed_idempotency_key_signs_once_and_answers_the_first_response(contract, vendor_manager, api_as):
    client = api_as(vendor_manager)
    terms_hash = client.get(contract_url(contract)).json()["proposed"]["terms_hash"]

    first = client.post(contract_url(contract, "sign/"), {"terms_hash": terms_hash}, HTTP_IDEMPOTENCY_KEY="sign-1")
    replay = client.post(contract_url(contract, "sign/"), {"terms_hash": terms_hash}, HTTP_IDEMPOTENCY_KEY="sign-1")

    assert first.status_code == replay.status_code == 200
    assert replay["Idempotent-Replayed"] == "true" and replay.content == first.content
    assert Signature.objects.count() == 1


def test_a_malformed_hash_is_a_validation_error(contract, lab_admin, api_as):
    response = api_as(lab_admin).post(contract_url(contract, "sign/"), {"terms_hash": "abc"})

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["terms_hash"]
    assert Signature.objects.count() == 0


def test_with_nothing_to_sign_a_retry_of_the_terms_in_force_changes_nothing_and_other_terms_conflict(
    active_contract, lab_admin, api_as
):
    client = api_as(lab_admin)
    terms_hash = client.get(contract_url(active_contract)).json()["terms_hash"]

    retry = client.post(contract_url(active_contract, "sign/"), {"terms_hash": terms_hash})
    other = client.post(contract_url(active_contract, "sign/"), {"terms_hash": "0" * 64})

    assert retry.status_code == 200 and retry.json()["status"] == "active"
    assert Signature.objects.count() == 2
    assert other.status_code == 409 and other.json()["error"]["code"] == "nothing_to_sign"
