"""Delivering a batch through the API: real multipart uploads (JSONL and CSV), row-numbered refusals
that store nothing, idempotent retries by client batch key, and the batch reads."""

import pytest
from django.core.files.uploadedfile import UploadedFile

from apps.api.models import IdempotencyRecord
from apps.work import services
from apps.work.models import Judgment, WorkBatch

from .conftest import batch_url, contract_url, csv_bytes, jsonl, judgment, simple_rows, upload


def test_a_jsonl_upload_creates_the_batch(contract, annotators, vendor_manager, api_as):
    response = upload(api_as(vendor_manager), contract, jsonl(simple_rows(annotators)))

    assert response.status_code == 201, response.content
    body = response.json()
    batch = WorkBatch.objects.get()
    assert body["id"] == str(batch.public_id)
    assert body["contract"] == {"id": str(contract.public_id)}
    assert (body["status"], body["unit_count"], body["judgment_count"]) == ("submitted", 12, 12)
    assert (body["period_start"], body["period_end"], body["client_batch_key"]) == (
        "2025-03-01",
        "2025-03-07",
        "batch-1",
    )
    assert body["contract_version"] == 1 and body["review_due_at"] and body["appeal_due_at"] is None
    assert body["content_sha256"] == batch.content_sha256 and body["appeal"] is None
    assert Judgment.objects.filter(batch=batch).count() == 12


def test_a_csv_upload_creates_the_batch(contract, annotators, vendor_manager, api_as):
    content = csv_bytes(simple_rows(annotators))

    response = upload(api_as(vendor_manager), contract, content, name="batch.csv", content_type="text/csv")

    assert response.status_code == 201, response.content
    assert response.json()["judgment_count"] == 12
    labels = list(Judgment.objects.order_by("id").values_list("item_id", "label")[:3])
    assert labels == [("item-0", 0), ("item-0", 1), ("item-0", 2)]


@pytest.mark.parametrize(
    ("name", "content_type", "fmt"),
    [
        ("upload.bin", "application/octet-stream", "csv"),  # the field decides
        ("judgments.csv", "application/octet-stream", None),  # the file name
        ("judgments", "text/csv", None),  # the file part's content type
    ],
)
def test_the_format_comes_from_the_field_the_content_type_or_the_name(
    contract, annotators, vendor_manager, api_as, name, content_type, fmt
):
    content = csv_bytes(simple_rows(annotators))

    response = upload(api_as(vendor_manager), contract, content, name=name, content_type=content_type, format=fmt)

    assert response.status_code == 201, response.content


def test_a_format_that_cannot_be_told_is_a_400(contract, annotators, vendor_manager, api_as):
    response = upload(
        api_as(vendor_manager), contract, jsonl(simple_rows(annotators)), name="x", content_type="text/plain"
    )

    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == {"format"}
    assert not WorkBatch.objects.exists()


def test_the_file_object_is_streamed_to_the_service(contract, annotators, vendor_manager, api_as, monkeypatch):
    seen = []
    real = services.batch_submit

    def spy(**kwargs):
        seen.append(kwargs["upload"])
        return real(**kwargs)

    monkeypatch.setattr(services, "batch_submit", spy)

    response = upload(api_as(vendor_manager), contract, jsonl(simple_rows(annotators)))

    assert response.status_code == 201
    assert isinstance(seen[0], UploadedFile)  # the uploaded file itself, not its bytes


def test_a_bad_row_at_the_end_of_a_large_file_refuses_it_and_stores_nothing(
    contract, annotators, vendor_manager, api_as
):
    rows = [judgment(f"item-{i}", annotators[i % 3], "A") for i in range(4999)]
    rows.append(judgment("item-last", annotators[0], "maybe"))

    response = upload(api_as(vendor_manager), contract, jsonl(rows), unit_count="5000")

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["details"]["error_count"] == 1
    assert error["details"]["rows"] == [
        {"row": 5000, "field": "label", "reason": "'maybe' is not in the label set (A, B, tie)."}
    ]
    assert not WorkBatch.objects.exists() and not Judgment.objects.exists()


def test_every_bad_row_of_a_csv_is_named_by_its_record_number(contract, annotators, vendor_manager, api_as):
    rows = simple_rows(annotators)
    rows[2]["label"] = "C"
    rows[5]["annotator"] = "not-an-id"
    content = csv_bytes(rows)

    response = upload(api_as(vendor_manager), contract, content, name="b.csv", content_type="text/csv")

    assert response.status_code == 400
    details = response.json()["error"]["details"]
    assert details["error_count"] == 2
    assert [(r["row"], r["field"]) for r in details["rows"]] == [(4, "label"), (7, "annotator")]
    assert not WorkBatch.objects.exists()


def test_an_empty_file_is_refused_naming_the_file(contract, annotators, vendor_manager, api_as):
    response = upload(api_as(vendor_manager), contract, b"\n")

    assert response.status_code == 400
    assert "file" in response.json()["error"]["details"]


def test_missing_and_bad_form_fields_are_named(contract, annotators, vendor_manager, api_as):
    response = upload(
        api_as(vendor_manager), contract, jsonl(simple_rows(annotators)), unit_count="0", period_start="March"
    )

    assert response.status_code == 400
    assert {"unit_count", "period_start"} <= set(response.json()["error"]["details"])


def test_a_retry_with_the_same_key_and_content_returns_the_same_batch(contract, annotators, vendor_manager, api_as):
    client = api_as(vendor_manager)
    content = jsonl(simple_rows(annotators))
    first = upload(client, contract, content)

    again = upload(client, contract, content)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert WorkBatch.objects.count() == 1 and Judgment.objects.count() == 12


def test_the_key_with_other_content_is_a_409(contract, annotators, vendor_manager, api_as):
    client = api_as(vendor_manager)
    upload(client, contract, jsonl(simple_rows(annotators)))

    response = upload(client, contract, jsonl(simple_rows(annotators, items=2)), unit_count="6")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "batch_key_reused"
    assert WorkBatch.objects.count() == 1


def test_an_idempotency_key_is_not_used_for_a_streamed_upload(contract, annotators, vendor_manager, api_as):
    client = api_as(vendor_manager)
    content = jsonl(simple_rows(annotators))

    first = upload(client, contract, content, headers={"Idempotency-Key": "k-1"})
    again = upload(client, contract, content, headers={"Idempotency-Key": "k-1"})

    assert (first.status_code, again.status_code) == (201, 200)
    assert "Idempotent-Replayed" not in again
    assert not IdempotencyRecord.objects.exists()


def test_the_lab_cannot_deliver(contract, annotators, lab_admin, api_as):
    response = upload(api_as(lab_admin), contract, jsonl(simple_rows(annotators)))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "role_not_allowed"


def test_a_paused_contract_refuses_a_delivery(contract, annotators, vendor_manager, api_as):
    contract.status = "paused"
    contract.save(update_fields=["status"])

    response = upload(api_as(vendor_manager), contract, jsonl(simple_rows(annotators)))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "contract_not_active"


def test_units_beyond_the_volume_are_refused(contract, annotators, vendor_manager, api_as):
    response = upload(api_as(vendor_manager), contract, jsonl(simple_rows(annotators)), unit_count="10001")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "volume_exceeded"


def test_an_api_key_of_the_vendor_delivers(contract, annotators, vendor, vendor_manager, key_client):
    response = upload(key_client(vendor_manager, vendor), contract, jsonl(simple_rows(annotators)))

    assert response.status_code == 201


# --- reads ----------------------------------------------------------------------------------------------


def test_both_parties_list_the_contracts_batches(batch, submit, annotators, lab_member, vendor_manager, api_as):
    second = submit(jsonl(simple_rows(annotators, items=1)), client_batch_key="batch-2", unit_count=3)

    for user in (lab_member, vendor_manager):
        response = api_as(user).get(contract_url(batch.contract, "batches/"))
        assert response.status_code == 200
        assert [b["id"] for b in response.json()["results"]] == [str(second.public_id), str(batch.public_id)]


def test_the_batch_list_filters_by_status(batch, submit, annotators, lab_admin, api_as):
    services.batch_accept(actor=lab_admin, batch=batch)
    submit(jsonl(simple_rows(annotators, items=1)), client_batch_key="batch-2", unit_count=3)

    response = api_as(lab_admin).get(contract_url(batch.contract, "batches/") + "?status=accepted")

    assert [b["id"] for b in response.json()["results"]] == [str(batch.public_id)]


def test_the_batch_detail(batch, lab, lab_member, api_as):
    response = api_as(lab_member).get(batch_url(batch))

    assert response.status_code == 200
    body = response.json()
    assert body["lab"] == {"id": str(lab.public_id), "name": "Acme AI Lab"}
    assert body["supplier"]["name"] == "Northwind Annotation"
    assert body["project"]["title"] == "Radiology preferences"
    assert body["guideline_version"] == 1 and body["contract_version"] == 1
    assert body["rejection_reason"] is None and body["accepted_units"] is None
