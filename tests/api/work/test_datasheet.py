"""The datasheet of an accepted batch through the API: JSON by default, CSV on request (streamed),
for the two parties only."""

import csv
import io
import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.api.v1.work.serializers import DatasheetRowSerializer, DatasheetSummarySerializer
from apps.experts.models import CredentialType
from apps.projects.models import GuidelineAcknowledgement
from apps.work import services
from apps.work.datasheet import ROW_FIELDS
from tests.factories import CredentialFactory

from .conftest import batch_url, jsonl, judgment

T0 = timezone.now().replace(microsecond=0) - timedelta(days=1)


@pytest.fixture
def known(project, annotators, submit, lab_admin):
    """Two items by three annotators (6 judgments), accepted. The first annotator has a verified board
    certification and acknowledged guidelines v1 before the submission; the others neither."""
    first, second, third = annotators
    CredentialFactory(profile=first.expert_profile, type=CredentialType.BOARD_CERTIFICATION, verified=True)
    with time_machine.travel(T0, tick=False):
        GuidelineAcknowledgement.objects.create(version=project.guideline_versions.get(number=1), user=first)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        rows = [
            judgment("=item-1", first, "A", seconds_spent=30, started_at="2025-03-02T09:00:00Z"),
            judgment("=item-1", second, "B", seconds_spent=45),
            judgment("=item-1", third, "A"),
            judgment("item-2", first, "tie", seconds_spent=20),
            judgment("item-2", second, "tie", seconds_spent=25),
            judgment("item-2", third, "B", seconds_spent=60),
        ]
        batch = submit(jsonl(rows), unit_count=6)
    services.batch_accept(actor=lab_admin, batch=batch)
    return batch


def content(response) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode()


def handles(annotators):
    return [a.expert_profile.handle for a in annotators]


def test_the_json_datasheet(known, annotators, lab_member, api_as):
    first, second, third = handles(annotators)

    response = api_as(lab_member).get(batch_url(known, "datasheet/"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    sheet = json.loads(content(response))
    assert [(r["item_id"], r["annotator"], r["credential_types"], r["guideline_version"], r["seconds_spent"])
            for r in sheet["rows"]] == [
        ("=item-1", first, ["board_certification"], 1, 30),
        ("=item-1", second, [], None, 45),
        ("=item-1", third, [], None, None),
        ("item-2", first, ["board_certification"], 1, 20),
        ("item-2", second, [], None, 25),
        ("item-2", third, [], None, 60),
    ]  # fmt: skip
    assert sheet["rows"][0]["started_at"] == "2025-03-02T09:00:00+00:00"
    assert {r["review_outcome"] for r in sheet["rows"]} == {"accepted"}
    summary = sheet["batch"]
    assert {k: summary[k] for k in ("batch", "supplier", "judgment_count", "item_count", "annotator_count",
                                    "seconds_spent_total", "judgments_with_time", "accepted_units")} == {
        "batch": str(known.public_id), "supplier": "Northwind Annotation", "judgment_count": 6, "item_count": 2,
        "annotator_count": 3, "seconds_spent_total": 180, "judgments_with_time": 5, "accepted_units": 6,
    }  # fmt: skip
    assert summary["credential_mix"] == [
        {"type": "board_certification", "label": "Board certification", "annotators": 1, "judgments": 2}
    ]
    assert summary["guideline_versions_acknowledged"] == [
        {"version": 1, "judgments": 2},
        {"version": None, "judgments": 4},
    ]


def test_the_documented_json_shape_is_the_served_one(known, lab_member, api_as):
    sheet = json.loads(content(api_as(lab_member).get(batch_url(known, "datasheet/"))))

    documented = DatasheetSummarySerializer().fields
    assert set(sheet["batch"]) <= set(documented)
    assert {name for name, field in documented.items() if field.required} <= set(sheet["batch"])
    assert tuple(sheet["rows"][0]) == ROW_FIELDS == tuple(DatasheetRowSerializer().fields)[: len(ROW_FIELDS)]


@pytest.mark.parametrize(("query", "headers"), [("?format=csv", {}), ("", {"Accept": "text/csv"})])
def test_the_csv_datasheet(known, annotators, vendor_manager, api_as, query, headers):
    first, second, third = handles(annotators)

    response = api_as(vendor_manager).get(batch_url(known, "datasheet/") + query, headers=headers)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="datasheet-{known.public_id}.csv"'
    rows = list(csv.reader(io.StringIO(content(response))))
    assert rows[0] == list(ROW_FIELDS)
    assert rows[1:] == [
        ["'=item-1", first, "board_certification", "1", "2025-03-02T09:00:00+00:00", "30", "accepted"],
        ["'=item-1", second, "", "", "", "45", "accepted"],
        ["'=item-1", third, "", "", "", "", "accepted"],
        ["item-2", first, "board_certification", "1", "", "20", "accepted"],
        ["item-2", second, "", "", "", "25", "accepted"],
        ["item-2", third, "", "", "", "60", "accepted"],
    ]


def test_an_explicit_format_wins_over_accept(known, lab_member, api_as):
    response = api_as(lab_member).get(batch_url(known, "datasheet/") + "?format=json", headers={"Accept": "text/csv"})

    assert response["Content-Type"] == "application/json"
    json.loads(content(response))


def test_an_unknown_format_is_a_400(known, lab_member, api_as):
    response = api_as(lab_member).get(batch_url(known, "datasheet/") + "?format=xlsx")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"format": ["One of: json, csv."]}


def test_a_batch_not_accepted_has_no_datasheet(batch, lab_member, api_as):
    for query in ("", "?format=csv"):
        response = api_as(lab_member).get(batch_url(batch, "datasheet/") + query, headers={"Accept": "text/csv"})

        assert response.status_code == 409
        assert response["Content-Type"] == "application/json"
        assert response.json()["error"]["code"] == "batch_not_accepted"


@pytest.mark.parametrize("who", ["outsider", "rival"])
def test_others_get_404(known, who, request, api_as):
    response = api_as(request.getfixturevalue(who)).get(batch_url(known, "datasheet/") + "?format=csv")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "batch_not_found"
