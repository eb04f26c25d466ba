"""The supplier delivers a batch through the contract page: the batch appears on both sides; a bad
file lists every bad row and stores nothing."""

import json

import pytest
from django.urls import reverse

from apps.work.models import Judgment, WorkBatch
from tests.pages.conftest import text
from tests.pages.work.conftest import batch_url, good_rows, jsonl, judgment, post_upload, section, upload_url

pytestmark = pytest.mark.django_db


def contract_url(contract) -> str:
    return reverse("contracts:detail", args=[contract.public_id])


def test_the_supplier_uploads_jsonl_through_the_contract_page_and_sees_the_batch(
    as_user, vendor_manager, lab_admin, contract, annotators
):
    client = as_user(vendor_manager)
    page = text(client.get(contract_url(contract)))
    form = section(page, "upload-form")
    assert f'action="{upload_url(contract)}"' in form
    assert 'enctype="multipart/form-data"' in form
    assert 'name="client_batch_key"' in form and 'value="batch-' in form  # a fresh key, prefilled
    assert 'id="no-batches"' in page

    response = post_upload(client, contract, jsonl(good_rows(annotators)), key="week-10")

    batch = WorkBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == batch_url(batch)
    assert (batch.unit_count, batch.judgment_count, batch.client_batch_key) == (6, 6, "week-10")
    page = text(client.get(response["Location"]))
    assert "Batch delivered: 6 units, 6 judgments." in page
    assert "Awaiting review" in section(page, "batch-status")
    assert "Awaiting the lab's review" in section(page, "review")
    sample = section(page, "judgment-sample")
    assert "item-0" in sample and "ex-ann-0" in sample
    assert 'id="review-forms"' not in page  # the supplier does not review

    row = section(text(client.get(contract_url(contract))), f"batch-{batch.public_id}")
    row = row[: row.index("</tr>")]
    assert "1 Mar 2025 to 7 Mar 2025" in row and "Awaiting review" in row and "week-10" in row
    assert batch_url(batch) in row

    lab_page = text(as_user(lab_admin).get(contract_url(contract)))
    assert f'id="batch-{batch.public_id}"' in lab_page
    assert 'id="upload-form"' not in lab_page
    assert reverse("work:gold", args=[contract.project.public_id]) in lab_page


def test_the_same_upload_again_is_a_no_op(as_user, vendor_manager, contract, annotators):
    client = as_user(vendor_manager)
    content = jsonl(good_rows(annotators))
    post_upload(client, contract, content, key="week-10")
    response = post_upload(client, contract, content, key="week-10")

    assert response.status_code == 302
    assert WorkBatch.objects.count() == 1 and Judgment.objects.count() == 6
    assert "already delivered" in text(client.get(response["Location"]))


def test_a_csv_upload_is_read_by_its_file_name(as_user, vendor_manager, contract, annotators):
    lines = ["item_id,annotator,label,displayed_order,seconds_spent"]
    lines += [f"q-{i},{a.public_id},B,BA,12" for i in range(2) for a in annotators]
    response = post_upload(as_user(vendor_manager), contract, "\n".join(lines).encode(), name="week.csv")

    assert response.status_code == 302
    assert WorkBatch.objects.get().judgment_count == 6


def test_a_bad_row_at_the_end_names_the_row_and_stores_nothing(as_user, vendor_manager, contract, annotators):
    rows = good_rows(annotators) + [judgment("item-9", annotators[0], "maybe")]  # line 7
    response = post_upload(as_user(vendor_manager), contract, jsonl(rows), key="week-11")

    assert response.status_code == 400
    page = text(response)
    assert "1 row is invalid; nothing was stored." in section(page, "upload-error-summary")
    errors = section(page, "row-errors")
    errors = errors[: errors.index("</table>")]
    assert errors.count("<tr>") == 2  # the header and one bad row
    assert '<td class="num mono">7</td>' in errors
    assert "<code>label</code>" in errors
    assert "&#x27;maybe&#x27; is not in the label set (A, B, tie)." in errors
    assert WorkBatch.objects.count() == 0 and Judgment.objects.count() == 0
    # The form is refilled (but for the file) for another try.
    form = section(page, "upload-form")
    assert 'value="week-11"' in form and 'value="2025-03-01"' in form and 'value="6"' in form


def test_every_bad_row_is_named_and_the_list_is_capped_with_the_total(as_user, vendor_manager, contract, annotators):
    rows = [judgment(f"item-{i}", annotators[i % 3], "nope") for i in range(240)]
    rows.insert(3, "{not json")
    response = post_upload(as_user(vendor_manager), contract, jsonl(rows), units=240)

    page = text(response)
    assert response.status_code == 400
    assert "241 rows are invalid; nothing was stored." in page
    assert "The first 200 of 241 errors are listed." in page
    errors = section(page, "row-errors")
    errors = errors[: errors.index("</table>")]
    assert errors.count("<tr>") == 201
    assert "Malformed JSON" in errors and '<span class="muted">whole row</span>' in errors
    assert WorkBatch.objects.count() == 0


def test_an_unassigned_annotator_is_named(as_user, vendor_manager, contract, annotators, expert):
    rows = good_rows(annotators) + [judgment("item-5", expert, "A")]
    page = text(post_upload(as_user(vendor_manager), contract, jsonl(rows)))
    assert f"Expert {expert.public_id} has no active assignment on this contract." in page


def test_field_errors_show_on_the_form(as_user, vendor_manager, contract, annotators):
    client = as_user(vendor_manager)
    response = post_upload(
        client, contract, jsonl(good_rows(annotators)), name="batch.txt", units=20_000, period_end="2025-02-01"
    )
    assert response.status_code == 400
    assert "Choose JSONL or CSV" in section(text(response), "field-fmt")

    response = post_upload(client, contract, jsonl(good_rows(annotators)), units=20_000, period_end="2025-02-01")
    page = text(response)
    assert "The period must not end before it starts." in section(page, "field-period_end")
    assert WorkBatch.objects.count() == 0


def test_the_upload_page_lists_the_annotator_ids_and_the_label_set(as_user, vendor_manager, contract, annotators):
    page = text(as_user(vendor_manager).get(upload_url(contract)))
    ids = section(page, "annotator-ids")
    for person in annotators:
        assert str(person.public_id) in ids
    assert "ex-ann-1" in ids
    assert '<li class="tag mono">tie</li>' in page
    assert 'value="batch-' in section(page, "upload-form")


def test_only_the_suppliers_submitters_upload(as_user, lab_admin, contract, annotators):
    response = post_upload(as_user(lab_admin), contract, jsonl(good_rows(annotators)))
    assert response.status_code == 404
    assert as_user(lab_admin).get(upload_url(contract)).status_code == 404
    assert WorkBatch.objects.count() == 0


def test_no_upload_form_once_the_contract_is_paused(as_user, vendor_manager, contract):
    contract.status = "paused"
    contract.save(update_fields=["status"])
    page = text(as_user(vendor_manager).get(contract_url(contract)))
    assert 'id="upload-form"' not in page and 'id="upload-closed"' in page


def test_the_contract_batch_list(as_user, vendor_manager, lab_member, contract, batch):
    for user in (vendor_manager, lab_member):
        page = text(as_user(user).get(reverse("work:contract_batches", args=[contract.public_id])))
        assert f'id="batch-{batch.public_id}"' in page
    page = text(
        as_user(lab_member).get(reverse("work:contract_batches", args=[contract.public_id]) + "?status=rejected")
    )
    assert 'id="no-batches"' in page


def test_json_upload_of_a_value_field_and_numbers(as_user, vendor_manager, contract, annotators):
    rows = [{"item_id": 17, "annotator": str(a.public_id), "value": "A", "displayed_order": 0} for a in annotators]
    response = post_upload(as_user(vendor_manager), contract, "\n".join(json.dumps(r) for r in rows).encode(), units=3)
    assert response.status_code == 302
    assert set(Judgment.objects.values_list("item_id", flat=True)) == {"17"}
