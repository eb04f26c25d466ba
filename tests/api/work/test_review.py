"""The lab's review through the API: accept, partially accept, reject; 409 on a wrong state; 403 for
a lab member and for the supplier."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.work.models import WorkBatch

from .conftest import batch_url

EVIDENCE = {"reason": "low_gold_accuracy", "evidence": "62% on the gold items, below the 85% SLA."}


def test_accept(batch, lab_admin, api_as):
    response = api_as(lab_admin).post(batch_url(batch, "accept/"))

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["accepted_units"], body["auto_accepted"]) == ("accepted", 12, False)
    assert body["reviewed_at"]


def test_accepting_again_changes_nothing(batch, lab_admin, api_as):
    client = api_as(lab_admin)
    first = client.post(batch_url(batch, "accept/")).json()

    again = client.post(batch_url(batch, "accept/"))

    assert again.status_code == 200 and again.json()["reviewed_at"] == first["reviewed_at"]


def test_partially_accept(batch, lab_admin, api_as):
    response = api_as(lab_admin).post(batch_url(batch, "partially-accept/"), {"accepted_units": 9, **EVIDENCE})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["accepted_units"], body["rejection_reason"]) == (
        "partially_accepted",
        9,
        "low_gold_accuracy",
    )
    assert body["review_evidence"] == EVIDENCE["evidence"]


def test_partially_accepting_every_unit_is_a_400(batch, lab_admin, api_as):
    response = api_as(lab_admin).post(batch_url(batch, "partially-accept/"), {"accepted_units": 12, **EVIDENCE})

    assert response.status_code == 400
    assert "accepted_units" in response.json()["error"]["details"]


def test_reject(batch, lab_admin, api_as):
    response = api_as(lab_admin).post(batch_url(batch, "reject/"), EVIDENCE)

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["rejection_reason"], body["accepted_units"]) == ("rejected", "low_gold_accuracy", None)
    assert body["appeal_due_at"]  # seven days after the review


def test_a_reason_outside_the_taxonomy_and_no_evidence_are_named(batch, lab_admin, api_as):
    response = api_as(lab_admin).post(batch_url(batch, "reject/"), {"reason": "bad vibes", "evidence": ""})

    assert response.status_code == 400
    assert {"reason", "evidence"} <= set(response.json()["error"]["details"])
    batch.refresh_from_db()
    assert batch.status == "submitted"


@pytest.mark.parametrize(
    ("first", "then", "body"),
    [
        ("accept/", "reject/", EVIDENCE),
        ("accept/", "partially-accept/", {"accepted_units": 3, **EVIDENCE}),
        ("reject/", "accept/", None),
        ("reject/", "partially-accept/", {"accepted_units": 3, **EVIDENCE}),
        ("partially-accept/", "accept/", None),
    ],
)
def test_a_reviewed_batch_cannot_be_reviewed_otherwise(batch, lab_admin, api_as, first, then, body):
    client = api_as(lab_admin)
    first_body = {"accepted_units": 3, **EVIDENCE} if first == "partially-accept/" else EVIDENCE
    assert client.post(batch_url(batch, first), first_body if first != "accept/" else None).status_code == 200

    response = client.post(batch_url(batch, then), body)

    assert response.status_code == 409, response.content
    assert response.json()["error"]["code"].startswith("workbatch_not_")


def test_the_same_rejection_again_changes_nothing_another_is_a_409(batch, lab_admin, api_as):
    client = api_as(lab_admin)
    client.post(batch_url(batch, "reject/"), EVIDENCE)

    assert client.post(batch_url(batch, "reject/"), EVIDENCE).status_code == 200
    response = client.post(batch_url(batch, "reject/"), {**EVIDENCE, "reason": "incomplete"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "batch_already_reviewed"


def test_rejecting_after_the_review_window_is_a_409(batch, lab_admin, api_as):
    WorkBatch.objects.filter(pk=batch.pk).update(review_due_at=timezone.now() - timedelta(minutes=1))

    response = api_as(lab_admin).post(batch_url(batch, "reject/"), EVIDENCE)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "review_window_closed"
    assert api_as(lab_admin).post(batch_url(batch, "accept/")).status_code == 200


@pytest.mark.parametrize(
    ("tail", "body"),
    [("accept/", None), ("partially-accept/", {"accepted_units": 3, **EVIDENCE}), ("reject/", EVIDENCE)],
)
@pytest.mark.parametrize("who", ["lab_member", "vendor_manager"])
def test_a_lab_member_and_the_supplier_cannot_review(batch, who, request, api_as, tail, body):
    response = api_as(request.getfixturevalue(who)).post(batch_url(batch, tail), body)

    assert response.status_code == 403, response.content
    assert response.json()["error"]["code"] == "role_not_allowed"
    batch.refresh_from_db()
    assert batch.status == "submitted"


def test_a_lab_key_reviews(batch, lab, lab_admin, key_client):
    assert key_client(lab_admin, lab).post(batch_url(batch, "accept/")).status_code == 200
