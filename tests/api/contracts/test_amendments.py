"""Amendments: new versions both sides sign again, a rate cut on notice, invalid terms named one by
one with nothing saved, every version readable afterwards, milestones, and Idempotency-Key replays."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.contracts import services
from apps.contracts.models import ContractVersion, Milestone

from .conftest import contract_url

MILESTONE = {
    "title": "Pilot batch",
    "amount": {"amount": "250.00", "currency": "USD"},
    "due_on": "2031-01-15",
    "acceptance_criteria": "200 comparisons at 85% gold accuracy.",
}


def amend(client, contract, changes, summary="Adjust the terms", **extra):
    return client.post(contract_url(contract, "amendments/"), {"changes": changes, "change_summary": summary}, **extra)


def versions(contract):
    return list(ContractVersion.objects.filter(contract=contract).order_by("number").values_list("number", "status"))


def test_an_amendment_is_a_new_version_both_sides_sign_into_force(active_contract, lab_admin, vendor_manager, api_as):
    lab_client, vendor_client = api_as(lab_admin), api_as(vendor_manager)
    v1_hash = lab_client.get(contract_url(active_contract)).json()["terms_hash"]

    proposed = amend(lab_client, active_contract, {"volume_cap": 1200, "milestones": [MILESTONE]}, "More volume")

    assert proposed.status_code == 201, proposed.content
    body = proposed.json()
    assert (body["number"], body["status"], body["change_summary"]) == (2, "proposed", "More volume")
    assert (body["proposed_by_side"], body["effective_from"]) == ("lab", None)
    assert body["terms"]["volume_cap"] == 1200
    assert body["terms"]["milestones"] == [{**MILESTONE, "position": 1}]
    assert body["terms_hash"] != v1_hash
    detail = vendor_client.get(contract_url(active_contract)).json()
    assert (detail["current_version"], detail["proposed_version"]) == (1, 2)
    assert detail["terms"]["volume_cap"] == 1000 and detail["proposed"]["id"] == body["id"]

    for client in (vendor_client, lab_client):
        signed = client.post(contract_url(active_contract, "sign/"), {"terms_hash": body["terms_hash"]})
        assert signed.status_code == 200, signed.content

    after = signed.json()
    assert (after["status"], after["current_version"], after["proposed"]) == ("active", 2, None)
    assert after["terms"]["volume_cap"] == 1200 and after["terms_hash"] == body["terms_hash"]
    assert [(v["number"], v["status"]) for v in after["versions"]] == [(1, "superseded"), (2, "effective")]


def test_every_version_stays_readable_after_an_amendment(active_contract, lab_admin, vendor_manager, api_as, sign_both):
    client = api_as(vendor_manager)
    v1 = client.get(contract_url(active_contract)).json()
    amend(api_as(lab_admin), active_contract, {"unit_rate": "2.5000"})
    sign_both(active_contract)

    listed = client.get(contract_url(active_contract, "versions/")).json()["results"]
    assert [(v["number"], v["status"]) for v in listed] == [(1, "superseded"), (2, "effective")]
    first = client.get(contract_url(active_contract, f"versions/{listed[0]['id']}/"))
    assert first.status_code == 200
    assert first.json()["terms"] == v1["terms"] and first.json()["terms_hash"] == v1["terms_hash"]
    assert {s["side"] for s in first.json()["signatures"]} == {"lab", "supplier"}
    amendments = client.get(contract_url(active_contract, "amendments/")).json()["results"]
    assert [(v["number"], v["terms"]["unit_rate"]) for v in amendments] == [(2, "2.5000")]


def test_a_version_of_another_contract_is_404(active_contract, individual_contract, lab_admin, api_as):
    other = individual_contract.versions.get()

    response = api_as(lab_admin).get(contract_url(active_contract, f"versions/{other.public_id}/"))

    assert response.status_code == 404 and response.json()["error"]["code"] == "version_not_found"


def test_a_new_proposal_replaces_the_one_awaiting_signatures(active_contract, lab_admin, vendor_manager, api_as):
    first = amend(api_as(lab_admin), active_contract, {"volume_cap": 900}).json()

    second = amend(api_as(vendor_manager), active_contract, {"volume_cap": 1100}, "Counter-offer")

    assert second.status_code == 201 and second.json()["proposed_by_side"] == "supplier"
    assert versions(active_contract) == [(1, "effective"), (2, "withdrawn"), (3, "proposed")]
    stale = api_as(lab_admin).post(contract_url(active_contract, "sign/"), {"terms_hash": first["terms_hash"]})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "terms_hash_mismatch"


def test_a_rate_cut_shows_when_it_takes_effect_without_the_supplier(active_contract, lab_admin, api_as):
    client = api_as(lab_admin)

    response = amend(client, active_contract, {"unit_rate": "1.5000"}, "Rate cut")

    assert response.status_code == 201, response.content
    expected = timezone.localdate() + timedelta(days=14)
    assert response.json()["effective_from"] == expected.isoformat()
    assert client.get(contract_url(active_contract)).json()["versions"][1]["effective_from"] == expected.isoformat()
    # signed by the lab, it takes effect after the notice period without the supplier
    client.post(contract_url(active_contract, "sign/"), {"terms_hash": response.json()["terms_hash"]})
    assert services.amendments_apply_due(today=expected) == 1
    detail = client.get(contract_url(active_contract)).json()
    assert (detail["current_version"], detail["terms"]["unit_rate"], detail["effective_from"]) == (
        2,
        "1.5000",
        expected.isoformat(),
    )


@pytest.mark.parametrize(
    ("bands", "offender"),
    [
        ([["0.95", "1.10"], ["0.97", "1.00"]], "quality_pay[1]"),
        ([["0.95", "1.10"], ["1.5", "1.00"]], "quality_pay[1]"),
        ([["0.95"]], "quality_pay[0]"),
        ([["0.95", "9"]], "quality_pay[0]"),
        ([], "quality_pay"),
    ],
)
def test_invalid_quality_pay_bands_are_named_and_nothing_is_saved(active_contract, lab_admin, api_as, bands, offender):
    response = amend(api_as(lab_admin), active_contract, {"quality_pay": bands})

    assert response.status_code == 400, response.content
    assert list(response.json()["error"]["details"]) == [offender]
    assert versions(active_contract) == [(1, "effective")]


def test_valid_quality_pay_bands_are_normalised(active_contract, lab_admin, api_as):
    response = amend(api_as(lab_admin), active_contract, {"quality_pay": [["0.9", "1.2"], ["0.8", "1"]]})

    assert response.status_code == 201
    assert response.json()["terms"]["quality_pay"] == [["0.9", "1.2"], ["0.8", "1"]]


@pytest.mark.parametrize(
    ("changes", "offenders"),
    [
        ({"unit_rate": 1.5}, ["unit_rate"]),
        ({"unit_rate": "0"}, ["unit_rate"]),
        ({"currency": "EUR"}, ["currency"]),
        ({"effective_from": "2031-01-01"}, ["effective_from"]),
        ({"budget_cap": {"amount": "100.00", "currency": "EUR"}}, ["budget_cap"]),
        ({"starts_on": "2031-06-01", "ends_on": "2031-05-01"}, ["ends_on"]),
        ({"label_set": ["yes", "yes"]}, ["label_set"]),
        (
            {"milestones": [MILESTONE, {**MILESTONE, "title": "", "amount": {"amount": "1.001", "currency": "USD"}}]},
            ["milestones[1].amount", "milestones[1].title"],
        ),
        ({}, ["changes"]),
    ],
)
def test_invalid_terms_are_named_and_nothing_is_saved(active_contract, lab_admin, api_as, changes, offenders):
    response = amend(api_as(lab_admin), active_contract, changes)

    assert response.status_code == 400, response.content
    assert sorted(response.json()["error"]["details"]) == offenders
    assert versions(active_contract) == [(1, "effective")]


def test_a_change_summary_is_required(active_contract, lab_admin, api_as):
    response = amend(api_as(lab_admin), active_contract, {"volume_cap": 10}, summary="")

    assert response.status_code == 400 and list(response.json()["error"]["details"]) == ["change_summary"]


def test_a_closed_contract_cannot_be_amended(active_contract, lab_admin, api_as):
    client = api_as(lab_admin)
    client.post(contract_url(active_contract, "complete/"))

    response = amend(client, active_contract, {"volume_cap": 10})

    assert response.status_code == 409 and response.json()["error"]["code"] == "contract_closed"


def test_a_replayed_idempotency_key_amends_once(active_contract, lab_admin, api_as):
    client = api_as(lab_admin)

    first = amend(client, active_contract, {"volume_cap": 900}, HTTP_IDEMPOTENCY_KEY="amend-1")
    replay = amend(client, active_contract, {"volume_cap": 900}, HTTP_IDEMPOTENCY_KEY="amend-1")
    reused = amend(client, active_contract, {"volume_cap": 800}, HTTP_IDEMPOTENCY_KEY="amend-1")

    assert first.status_code == replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true" and replay.content == first.content
    assert reused.status_code == 422
    assert versions(active_contract) == [(1, "effective"), (2, "proposed")]


def test_milestones_of_the_terms_in_force_and_of_the_proposal(active_contract, lab_admin, vendor_manager, api_as):
    client = api_as(vendor_manager)
    assert client.get(contract_url(active_contract, "milestones/")).json() == {
        "in_force": {"version": 1, "status": "effective", "milestones": []},
        "proposed": None,
    }
    amend(api_as(lab_admin), active_contract, {"milestones": [MILESTONE, {**MILESTONE, "title": "Final batch"}]})

    body = client.get(contract_url(active_contract, "milestones/")).json()

    assert body["in_force"]["milestones"] == []
    assert body["proposed"]["version"] == 2
    assert [(m["position"], m["title"], m["amount"]) for m in body["proposed"]["milestones"]] == [
        (1, "Pilot batch", {"amount": "250.00", "currency": "USD"}),
        (2, "Final batch", {"amount": "250.00", "currency": "USD"}),
    ]
    assert Milestone.objects.count() == 2


def test_before_signing_an_amendment_replaces_the_award_terms(contract, lab_admin, vendor_manager, api_as):
    response = amend(api_as(vendor_manager), contract, {"unit_rate": "1.9000"}, "Discount")

    assert response.status_code == 201
    assert response.json()["effective_from"] is None  # no rate-cut notice before anything is in force
    assert versions(contract) == [(1, "withdrawn"), (2, "proposed")]
    detail = api_as(lab_admin).get(contract_url(contract)).json()
    assert (detail["status"], detail["terms"], detail["proposed"]["number"]) == ("pending_signature", None, 2)


def test_reading_versions_takes_the_same_queries_however_many_there_are(active_contract, lab_admin, api_as):
    client = api_as(lab_admin)

    def count(tail):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(contract_url(active_contract, tail)).status_code == 200
        return len(queries)

    amend(client, active_contract, {"unit_rate": "2.0500"})
    count("")  # the session and membership caches
    one = (count(""), count("versions/"), count("amendments/"))
    for rate in ("2.1000", "2.2000", "2.3000"):
        amend(client, active_contract, {"unit_rate": rate, "milestones": [MILESTONE]})

    assert (count(""), count("versions/"), count("amendments/")) == one
