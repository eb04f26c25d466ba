"""Who reaches the work endpoints: anyone outside the contract's two parties (another lab, another
vendor, their API keys) gets 404 on every endpoint and changes nothing."""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.work import services
from apps.work.models import Appeal, GoldItem, WorkBatch

from .conftest import PERIOD, batch_url, contract_url, gold_url

EVIDENCE = {"reason": "incomplete", "evidence": "Half missing."}


def endpoints(project, contract, batch, appeal):
    upload = {
        "file": SimpleUploadedFile("b.jsonl", b'{"item_id": "x"}\n', content_type="application/jsonl"),
        "client_batch_key": "k-9",
        "unit_count": "1",
        **PERIOD,
    }
    return [
        ("get", gold_url(project), None),
        ("post", gold_url(project), [{"item_id": "g", "answer": "A"}]),
        ("get", contract_url(contract, "batches/"), None),
        ("post", contract_url(contract, "batches/"), upload),
        ("get", batch_url(batch), None),
        ("post", batch_url(batch, "accept/"), None),
        ("post", batch_url(batch, "partially-accept/"), {"accepted_units": 1, **EVIDENCE}),
        ("post", batch_url(batch, "reject/"), EVIDENCE),
        ("post", batch_url(batch, "appeal/"), {"reason": "x"}),
        ("get", batch_url(batch, "judgments/"), None),
        ("get", batch_url(batch, "datasheet/"), None),
        ("post", f"/api/v1/appeals/{appeal.public_id}/decide/", {"outcome": "overturn", "reason": "x"}),
    ]


@pytest.fixture
def world(project, contract, rejected, vendor, vendor_manager):
    appeal = services.appeal_open(actor=vendor_manager, organization=vendor, batch=rejected, reason="Please.")
    return project, contract, rejected, appeal


def snapshot():
    return (
        list(WorkBatch.objects.values_list("status", flat=True)),
        list(Appeal.objects.values_list("status", flat=True)),
        GoldItem.objects.count(),
    )


def call(client, method, url, body):
    if method == "get":
        return client.get(url)
    multipart = isinstance(body, dict) and "file" in body
    return client.post(url, body, format="multipart" if multipart else "json")


@pytest.mark.parametrize("index", range(12))
@pytest.mark.parametrize("who", ["outsider", "rival"])
def test_outsiders_get_404_everywhere(world, who, request, api_as, index):
    method, url, body = endpoints(*world)[index]
    before = snapshot()

    response = call(api_as(request.getfixturevalue(who)), method, url, body)

    assert response.status_code == 404, (url, response.content)
    assert snapshot() == before


@pytest.mark.parametrize("index", range(12))
def test_another_organisations_key_gets_404_everywhere(world, outsider, key_client, index):
    method, url, body = endpoints(*world)[index]
    organization = outsider.memberships.get().organization

    response = call(key_client(outsider, organization), method, url, body)

    assert response.status_code == 404, (url, response.content)


@pytest.mark.parametrize("index", range(12))
def test_a_vendors_expert_reaches_nothing(world, expert, api_as, index):
    method, url, body = endpoints(*world)[index]

    response = call(api_as(expert), method, url, body)

    assert response.status_code in (403, 404), (url, response.content)
    if "gold" in url or "decide" in url:
        assert response.status_code == 404


@pytest.mark.parametrize("tail", ["", "judgments/", "datasheet/", "accept/"])
def test_an_unknown_batch_is_404(lab_admin, api_as, db, tail):
    method = "post" if tail == "accept/" else "get"

    response = getattr(api_as(lab_admin), method)(f"/api/v1/batches/{uuid.uuid4()}/{tail}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "batch_not_found"
