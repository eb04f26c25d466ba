"""Appeals through the API: the supplier appeals a rejection, platform operations decide it (anyone
else, and any API key, gets 404), and the appeal lists."""

import pytest

from apps.accounts.roles import Role
from apps.work import services
from apps.work.models import Appeal
from tests.factories import MembershipFactory

from .conftest import batch_url, jsonl, simple_rows

APPEAL = {"reason": "The guideline allows B for these items."}


def decide_url(appeal):
    return f"/api/v1/appeals/{appeal.public_id}/decide/"


@pytest.fixture
def appeal(rejected, vendor, vendor_manager):
    return services.appeal_open(actor=vendor_manager, organization=vendor, batch=rejected, reason=APPEAL["reason"])


def test_the_supplier_appeals_a_rejection(rejected, vendor_manager, api_as):
    client = api_as(vendor_manager)

    response = client.post(batch_url(rejected, "appeal/"), APPEAL)

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["reason"]) == ("open", APPEAL["reason"])
    assert body["batch"]["id"] == str(rejected.public_id) and body["batch"]["status"] == "appealed"
    assert body["batch"]["rejection_reason"] == "low_gold_accuracy"
    detail = client.get(batch_url(rejected)).json()
    assert detail["status"] == "appealed" and detail["appeal"]["id"] == body["id"]


def test_the_same_appeal_again_is_a_200_another_a_409(rejected, vendor_manager, api_as):
    client = api_as(vendor_manager)
    first = client.post(batch_url(rejected, "appeal/"), APPEAL)

    again = client.post(batch_url(rejected, "appeal/"), APPEAL)
    other = client.post(batch_url(rejected, "appeal/"), {"reason": "Something else."})

    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 409)
    assert again.json()["id"] == first.json()["id"]
    assert other.json()["error"]["code"] == "appeal_exists"


def test_a_batch_that_was_not_rejected_cannot_be_appealed(batch, vendor_manager, api_as):
    response = api_as(vendor_manager).post(batch_url(batch, "appeal/"), APPEAL)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "workbatch_not_rejected"
    assert not Appeal.objects.exists()


def test_the_lab_cannot_appeal(rejected, lab_admin, api_as):
    response = api_as(lab_admin).post(batch_url(rejected, "appeal/"), APPEAL)

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("outcome", "batch_status", "accepted"), [("overturn", "overturned", 12), ("uphold", "upheld", None)]
)
def test_operations_decide(appeal, operations, api_as, outcome, batch_status, accepted):
    response = api_as(operations).post(decide_url(appeal), {"outcome": outcome, "reason": "Checked the items."})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == {"overturn": "overturned", "uphold": "upheld"}[outcome]
    assert body["decision_reason"] == "Checked the items." and body["decided_at"]
    appeal.batch.refresh_from_db()
    assert (appeal.batch.status, appeal.batch.accepted_units) == (batch_status, accepted)


def test_a_decided_appeal_cannot_be_decided_otherwise(appeal, operations, api_as):
    client = api_as(operations)
    client.post(decide_url(appeal), {"outcome": "uphold", "reason": "Checked."})

    assert client.post(decide_url(appeal), {"outcome": "uphold", "reason": "Checked."}).status_code == 200
    response = client.post(decide_url(appeal), {"outcome": "overturn", "reason": "Changed my mind."})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "appeal_not_open"


def test_an_unknown_outcome_is_a_400(appeal, operations, api_as):
    response = api_as(operations).post(decide_url(appeal), {"outcome": "split", "reason": "Half."})

    assert response.status_code == 400
    assert "outcome" in response.json()["error"]["details"]


@pytest.mark.parametrize("who", ["lab_admin", "lab_owner", "vendor_manager", "expert", "outsider", "finance"])
def test_nobody_but_operations_decides(appeal, who, request, api_as):
    response = api_as(request.getfixturevalue(who)).post(decide_url(appeal), {"outcome": "overturn", "reason": "x"})

    assert response.status_code == 404, response.content
    appeal.refresh_from_db()
    assert appeal.status == "open"


def test_operations_with_an_api_key_get_404(appeal, operations, lab, key_client):
    MembershipFactory(user=operations, organization=lab, role=Role.OWNER)
    client = key_client(operations, lab)

    response = client.post(decide_url(appeal), {"outcome": "overturn", "reason": "x"})

    assert response.status_code == 404
    appeal.refresh_from_db()
    assert appeal.status == "open"


# --- the lists -------------------------------------------------------------------------------------------


def test_operations_see_the_open_queue_by_default(
    appeal, submit, annotators, lab_admin, vendor, vendor_manager, operations, api_as
):
    other = submit(jsonl(simple_rows(annotators, items=1)), client_batch_key="batch-2", unit_count=3)
    services.batch_reject(actor=lab_admin, batch=other, reason="incomplete", evidence="Half the items.")
    decided = services.appeal_open(actor=vendor_manager, organization=vendor, batch=other, reason="No.")
    services.appeal_decide(actor=operations, appeal=decided, outcome="uphold", reason="It was incomplete.")
    client = api_as(operations)

    queue = client.get("/api/v1/appeals/").json()["results"]
    upheld = client.get("/api/v1/appeals/?status=upheld").json()["results"]

    assert [a["id"] for a in queue] == [str(appeal.public_id)]
    assert [a["id"] for a in upheld] == [str(decided.public_id)]
    assert queue[0]["batch"]["review_evidence"] == "60% on gold."


@pytest.mark.parametrize("who", ["lab_member", "vendor_manager"])
def test_the_parties_see_their_own(appeal, who, request, api_as):
    response = api_as(request.getfixturevalue(who)).get("/api/v1/appeals/")

    assert response.status_code == 200
    assert [a["id"] for a in response.json()["results"]] == [str(appeal.public_id)]


def test_others_see_none(appeal, outsider, rival, expert, api_as):
    assert api_as(outsider).get("/api/v1/appeals/").json()["results"] == []
    assert api_as(rival).get("/api/v1/appeals/").json()["results"] == []
    assert api_as(expert).get("/api/v1/appeals/").status_code == 403
