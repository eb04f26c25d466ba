"""A batch's judgments through the API: cursor-paginated in upload order, labels as text, the
annotator by handle for the lab (and also by id for the supplier)."""

import pytest

from .conftest import batch_url


def test_the_lab_reads_labels_and_handles(batch, annotators, lab_member, api_as):
    response = api_as(lab_member).get(batch_url(batch, "judgments/"))

    assert response.status_code == 200
    rows = response.json()["results"]
    assert len(rows) == 12
    assert rows[0] == {
        "item_id": "item-0",
        "annotator_handle": annotators[0].expert_profile.handle,
        "annotator_id": None,
        "label": "A",
        "displayed_order": "AB",
        "started_at": "2025-03-02T09:00:00Z",
        "seconds_spent": 30,
        "comment": "",
    }
    assert [r["label"] for r in rows[:3]] == ["A", "B", "tie"]
    assert {r["annotator_id"] for r in rows} == {None}


def test_the_supplier_also_gets_the_expert_id(batch, annotators, vendor_manager, api_as):
    rows = api_as(vendor_manager).get(batch_url(batch, "judgments/")).json()["results"]

    assert [r["annotator_id"] for r in rows[:3]] == [str(a.public_id) for a in annotators]


def test_pages_follow_the_cursor_in_upload_order(batch, lab_member, api_as):
    client = api_as(lab_member)
    seen, url = [], batch_url(batch, "judgments/") + "?page_size=5"
    while url:
        page = client.get(url).json()
        seen += [(r["item_id"], r["annotator_handle"]) for r in page["results"]]
        url = page["next"]

    everything = client.get(batch_url(batch, "judgments/")).json()["results"]
    assert seen == [(r["item_id"], r["annotator_handle"]) for r in everything]
    assert len(seen) == 12


@pytest.mark.parametrize(("who", "status_code"), [("outsider", 404), ("rival", 404), ("expert", 403)])
def test_others_are_refused(batch, who, status_code, request, api_as):
    response = api_as(request.getfixturevalue(who)).get(batch_url(batch, "judgments/"))

    assert response.status_code == status_code
