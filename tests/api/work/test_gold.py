"""Gold items through the API: the lab uploads them (a JSON list, or a JSONL or CSV file) and lists
them; nobody else reaches them, by any endpoint."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.work import services
from apps.work.models import GoldItem

from .conftest import batch_url, contract_url, gold_url, jsonl, judgment, simple_rows

# An item only the lab's gold set holds (no batch carries it): it must never reach anyone else.
SECRET_ITEM = "zz-gold-secret-7f3a"


def post_file(client, project, content: bytes, *, name, content_type, **fields):
    data = {"file": SimpleUploadedFile(name, content, content_type=content_type), **fields}
    return client.post(gold_url(project), data, format="multipart")


def test_the_lab_uploads_a_json_list_and_lists_it(project, contract, lab_admin, lab_member, api_as):
    response = api_as(lab_admin).post(
        gold_url(project), [{"item_id": "item-1", "answer": "A"}, {"item_id": "item-0", "answer": "tie"}]
    )

    assert response.status_code == 200, response.content
    assert response.json() == {"created": 2, "updated": 0, "unchanged": 0}
    listed = api_as(lab_member).get(gold_url(project))
    assert listed.status_code == 200
    assert [(g["item_id"], g["answer"]) for g in listed.json()["results"]] == [("item-0", "tie"), ("item-1", "A")]


def test_a_jsonl_file_and_then_a_csv_file_update_the_gold_set(project, contract, lab_admin, api_as):
    client = api_as(lab_admin)
    first = post_file(
        client, project, jsonl([{"item_id": "g1", "answer": "A"}, {"item_id": "g2", "answer": "B"}]),
        name="gold.jsonl", content_type="application/x-ndjson",
    )  # fmt: skip
    second = post_file(
        client, project, b"item_id,answer\ng1,A\ng2,tie\ng3,B\n", name="gold.csv", content_type="text/csv"
    )

    assert first.json() == {"created": 2, "updated": 0, "unchanged": 0}
    assert second.json() == {"created": 1, "updated": 1, "unchanged": 1}
    assert dict(GoldItem.objects.values_list("item_id", "answer")) == {"g1": "A", "g2": "tie", "g3": "B"}


def test_the_format_field_overrides_the_content_type(project, contract, lab_admin, api_as):
    response = post_file(
        api_as(lab_admin), project, b"item_id,answer\ng1,A\n", name="gold", content_type="text/plain", format="csv"
    )

    assert response.status_code == 200
    assert response.json()["created"] == 1


def test_bad_rows_are_named_and_nothing_is_stored(project, contract, lab_admin, api_as):
    response = post_file(
        api_as(lab_admin), project, b"item_id,answer\ng1,A\ng2,maybe\n,B\n", name="gold.csv", content_type="text/csv"
    )

    assert response.status_code == 400
    details = response.json()["error"]["details"]
    assert details["error_count"] == 2
    assert [(r["row"], r["field"]) for r in details["rows"]] == [(3, "answer"), (4, "item_id")]
    assert not GoldItem.objects.exists()


def test_a_json_body_that_is_not_a_list_is_a_400(project, contract, lab_admin, api_as):
    response = api_as(lab_admin).post(gold_url(project), {"item_id": "g1", "answer": "A"})

    assert response.status_code == 400
    assert not GoldItem.objects.exists()


def test_an_idempotency_key_replays_a_json_upload(project, contract, lab_admin, api_as):
    client = api_as(lab_admin)
    body = [{"item_id": "g1", "answer": "A"}]

    first = client.post(gold_url(project), body, headers={"Idempotency-Key": "gold-1"})
    again = client.post(gold_url(project), body, headers={"Idempotency-Key": "gold-1"})

    assert first.json() == again.json() == {"created": 1, "updated": 0, "unchanged": 0}
    assert again["Idempotent-Replayed"] == "true"


def test_a_lab_member_lists_but_cannot_upload(project, contract, lab_member, api_as):
    client = api_as(lab_member)

    assert client.get(gold_url(project)).status_code == 200
    response = client.post(gold_url(project), [{"item_id": "g1", "answer": "A"}])
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "role_not_allowed"


@pytest.mark.parametrize("who", ["vendor_manager", "expert", "outsider", "rival"])
def test_nobody_but_the_lab_reaches_the_gold_endpoints(project, contract, who, request, api_as):
    client = api_as(request.getfixturevalue(who))

    for response in (
        client.get(gold_url(project)),
        client.post(gold_url(project), [{"item_id": "g1", "answer": "A"}]),
        client.post(
            gold_url(project),
            {"file": SimpleUploadedFile("g.csv", b"item_id,answer\ng1,A\n", content_type="text/csv")},
            format="multipart",
        ),
    ):
        assert response.status_code == 404, (who, response.content)
    assert not GoldItem.objects.exists()


def test_the_vendors_api_key_gets_404(project, contract, vendor, vendor_manager, key_client):
    assert key_client(vendor_manager, vendor).get(gold_url(project)).status_code == 404


# --- gold never leaves through another endpoint --------------------------------------------------------------


@pytest.fixture
def gold_world(project, contract, annotators, lab_admin, vendor_manager, api_as, submit):
    """Gold items uploaded through the API (one shared with the batch, one only in the gold set); a batch
    accepted (datasheet), another rejected and appealed."""
    gold = [{"item_id": "item-0", "answer": "A"}, {"item_id": SECRET_ITEM, "answer": "tie"}]
    assert api_as(lab_admin).post(gold_url(project), gold).status_code == 200
    accepted = submit(jsonl(simple_rows(annotators)))
    services.batch_accept(actor=lab_admin, batch=accepted)
    rows = [judgment("item-0", a, "B") for a in annotators]
    appealed = submit(jsonl(rows), client_batch_key="batch-2", unit_count=3)
    services.batch_reject(actor=lab_admin, batch=appealed, reason="low_gold_accuracy", evidence="Missed items.")
    response = api_as(vendor_manager).post(batch_url(appealed, "appeal/"), {"reason": "The guideline allows B."})
    assert response.status_code == 201
    return accepted, appealed


def _bodies(client, project, contract, batches):
    urls = [
        gold_url(project),
        contract_url(contract, "batches/"),
        "/api/v1/appeals/",
        f"/api/v1/projects/{project.public_id}/",
    ]
    for batch in batches:
        urls += [batch_url(batch), batch_url(batch, "judgments/")]
        batch.refresh_from_db()
        if batch.status in batch.ACCEPTED_STATES:
            urls += [batch_url(batch, "datasheet/"), batch_url(batch, "datasheet/") + "?format=csv"]
    for url in urls:
        response = client.get(url)
        content = b"".join(response.streaming_content) if response.streaming else response.content
        yield url, response.status_code, content.decode()


@pytest.mark.parametrize("who", ["vendor_manager", "expert", "outsider", "rival"])
def test_no_endpoint_shows_gold_to_anyone_but_the_lab(gold_world, project, contract, who, request, api_as):
    client = api_as(request.getfixturevalue(who))

    for url, status_code, body in _bodies(client, project, contract, gold_world):
        assert SECRET_ITEM not in body, url
        if status_code == 200:
            assert '"answer"' not in body and "is_gold" not in body.lower(), url
        if url.startswith(gold_url(project)):
            assert status_code == 404, url
        elif who == "vendor_manager" and "/projects/" not in url:
            assert status_code == 200, url  # the supplier reads everything else: the scan is meaningful


def test_judgment_rows_of_a_gold_item_look_like_any_other(gold_world, vendor_manager, api_as):
    accepted, _ = gold_world

    rows = api_as(vendor_manager).get(batch_url(accepted, "judgments/")).json()["results"]

    gold_row = next(r for r in rows if r["item_id"] == "item-0")
    other_row = next(r for r in rows if r["item_id"] == "item-1")
    assert set(gold_row) == set(other_row)


def test_the_lab_sees_its_gold_and_the_marker_only_there(gold_world, project, contract, lab_admin, api_as):
    client = api_as(lab_admin)

    found = [url for url, _, body in _bodies(client, project, contract, gold_world) if SECRET_ITEM in body]

    assert found == [gold_url(project)]


def test_an_empty_upload_is_a_400(project, contract, lab_admin, api_as):
    client = api_as(lab_admin)

    as_list = client.post(gold_url(project), [])
    as_file = post_file(client, project, b"item_id,answer\n", name="gold.csv", content_type="text/csv")

    assert as_list.status_code == as_file.status_code == 400
    assert set(as_list.json()["error"]["details"]) == {"non_field_errors"}
    assert set(as_file.json()["error"]["details"]) == {"file"}
