"""Provenance datasheet of an accepted batch, and the scoped batch reads behind it."""

import csv
import io
import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.core.errors import DomainError, NotFound, PermissionDenied
from apps.projects.models import GuidelineAcknowledgement, GuidelineVersion
from apps.work import selectors, services
from apps.work.datasheet import ROW_FIELDS, datasheet_get, render_csv, render_json, render_summary_csv
from tests.work.conftest import jsonl, judgment

T0 = timezone.now().replace(microsecond=0) - timedelta(days=1)


@pytest.fixture
def known(project, credentialed, submit, lab_admin):
    """Two items, three annotators (6 judgments), accepted. Guidelines v1 and v2: the first annotator
    acknowledged both before the submission, the second v1 before and v2 only after, the third none."""
    first, second, third = credentialed
    v1 = project.guideline_versions.get(number=1)
    v2 = GuidelineVersion.objects.create(project=project, number=2, body_markdown="v2", body_html="<p>v2</p>")
    with time_machine.travel(T0, tick=False):
        for user, version in ((first, v1), (first, v2), (second, v1)):
            GuidelineAcknowledgement.objects.create(version=version, user=user)
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
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        GuidelineAcknowledgement.objects.create(version=v2, user=second)  # after the submission
        services.batch_accept(actor=lab_admin, batch=batch)
    batch.refresh_from_db()
    return batch


def test_the_datasheet_of_a_known_batch(known, credentialed, lab, lab_member):
    first, second, third = (a.expert_profile.handle for a in credentialed)
    sheet = datasheet_get(actor=lab_member, organization=lab, public_id=known.public_id)

    assert list(sheet.rows()) == [
        {"item_id": "=item-1", "annotator": first, "credential_types": ["board_certification", "degree"],
         "guideline_version": 2, "started_at": "2025-03-02T09:00:00+00:00", "seconds_spent": 30,
         "review_outcome": "accepted"},
        {"item_id": "=item-1", "annotator": second, "credential_types": ["degree"], "guideline_version": 1,
         "started_at": None, "seconds_spent": 45, "review_outcome": "accepted"},
        {"item_id": "=item-1", "annotator": third, "credential_types": [], "guideline_version": None,
         "started_at": None, "seconds_spent": None, "review_outcome": "accepted"},
        {"item_id": "item-2", "annotator": first, "credential_types": ["board_certification", "degree"],
         "guideline_version": 2, "started_at": None, "seconds_spent": 20, "review_outcome": "accepted"},
        {"item_id": "item-2", "annotator": second, "credential_types": ["degree"], "guideline_version": 1,
         "started_at": None, "seconds_spent": 25, "review_outcome": "accepted"},
        {"item_id": "item-2", "annotator": third, "credential_types": [], "guideline_version": None,
         "started_at": None, "seconds_spent": 60, "review_outcome": "accepted"},
    ]  # fmt: skip
    summary = sheet.summary
    assert {k: summary[k] for k in (
        "batch", "supplier", "unit_count", "accepted_units", "judgment_count", "item_count", "annotator_count",
        "seconds_spent_total", "judgments_with_time", "review_outcome", "review_outcome_label", "auto_accepted",
        "guideline_version_at_submission", "annotators_without_verified_credential",
    )} == {
        "batch": str(known.public_id), "supplier": "Northwind Annotation", "unit_count": 6, "accepted_units": 6,
        "judgment_count": 6, "item_count": 2, "annotator_count": 3, "seconds_spent_total": 180,
        "judgments_with_time": 5, "review_outcome": "accepted", "review_outcome_label": "Accepted",
        "auto_accepted": False, "guideline_version_at_submission": 2, "annotators_without_verified_credential": 1,
    }  # fmt: skip
    assert summary["credential_mix"] == [
        {"type": "board_certification", "label": "Board certification", "annotators": 1, "judgments": 2},
        {"type": "degree", "label": "Degree", "annotators": 2, "judgments": 4},
    ]
    assert summary["guideline_versions_acknowledged"] == [
        {"version": 1, "judgments": 2}, {"version": 2, "judgments": 2}, {"version": None, "judgments": 2},
    ]  # fmt: skip


@pytest.mark.parametrize(("offset", "limit"), [(0, 2), (2, 2), (4, 10), (5, 1), (6, 3), (0, 0), (3, None)])
def test_paged_rows_are_the_slice_of_all_rows(known, lab, lab_member, offset, limit):
    sheet = datasheet_get(actor=lab_member, organization=lab, public_id=known.public_id)
    everything = list(sheet.rows())
    end = None if limit is None else offset + limit
    assert list(sheet.rows(offset=offset, limit=limit)) == everything[offset:end]


def test_paged_rows_of_a_large_batch_cover_every_row_once(batch, lab, lab_admin):
    services.batch_accept(actor=lab_admin, batch=batch)
    sheet = datasheet_get(actor=lab_admin, organization=lab, public_id=batch.public_id)
    everything = list(sheet.rows())
    pages = [list(sheet.rows(offset=start, limit=5)) for start in range(0, len(everything), 5)]
    assert [len(page) for page in pages] == [5, 5, 2]
    assert [row for page in pages for row in page] == everything


def test_the_datasheet_renders_as_json_and_csv(known, lab, lab_admin):
    sheet = datasheet_get(actor=lab_admin, organization=lab, public_id=known.public_id)
    as_json = json.loads("".join(render_json(sheet)))
    assert as_json["batch"]["judgment_count"] == 6 and len(as_json["rows"]) == 6
    assert as_json["rows"][0]["credential_types"] == ["board_certification", "degree"]

    lines = list(csv.reader(io.StringIO("".join(render_csv(sheet)))))
    assert lines[0] == list(ROW_FIELDS)
    assert len(lines) == 7
    # a supplier's item id that looks like a formula is defused for spreadsheets
    assert lines[1][:4] == ["'=item-1", as_json["rows"][0]["annotator"], "board_certification;degree", "2"]
    summary = dict(csv.reader(io.StringIO(render_summary_csv(sheet))))
    assert (summary["judgment_count"], summary["credential_mix.degree.annotators"]) == ("6", "2")


def test_the_supplier_may_read_its_own_datasheet(known, vendor, vendor_manager):
    sheet = datasheet_get(actor=vendor_manager, organization=vendor, public_id=known.public_id)
    assert sheet.summary["judgment_count"] == 6


def test_the_datasheet_is_scoped_to_the_parties(known, vendor, expert, outsider, operations):
    with pytest.raises(PermissionDenied):
        datasheet_get(actor=expert, organization=vendor, public_id=known.public_id)
    with pytest.raises(NotFound):
        datasheet_get(actor=outsider, organization=outsider.memberships.get().organization, public_id=known.public_id)
    with pytest.raises(NotFound):
        datasheet_get(actor=operations, organization=None, public_id=known.public_id)


def test_there_is_no_datasheet_before_acceptance(batch, lab, lab_admin):
    with pytest.raises(DomainError) as caught:
        datasheet_get(actor=lab_admin, organization=lab, public_id=batch.public_id)
    assert caught.value.code == "batch_not_accepted"
    services.batch_reject(actor=lab_admin, batch=batch, reason="other", evidence="Wrong items")
    with pytest.raises(DomainError):
        datasheet_get(actor=lab_admin, organization=lab, public_id=batch.public_id)


def test_partially_accepted_and_overturned_batches_have_datasheets(
    batch, submit, annotators, lab, lab_admin, vendor, vendor_manager, operations
):  # fmt: skip
    from tests.work.conftest import simple_rows

    services.batch_partially_accept(actor=lab_admin, batch=batch, accepted_units=5, reason="other", evidence="Half")
    sheet = datasheet_get(actor=lab_admin, organization=lab, public_id=batch.public_id)
    assert sheet.summary["accepted_units"] == 5
    assert {row["review_outcome"] for row in sheet.rows()} == {"partially_accepted"}

    second = submit(jsonl(simple_rows(annotators)), client_batch_key="second", unit_count=12)
    services.batch_reject(actor=lab_admin, batch=second, reason="other", evidence="Wrong")
    appeal = services.appeal_open(actor=vendor_manager, organization=vendor, batch=second, reason="It was right")
    services.appeal_decide(actor=operations, appeal=appeal, outcome="overturn", reason="It was right")
    sheet = datasheet_get(actor=lab_admin, organization=lab, public_id=second.public_id)
    assert sheet.summary["review_outcome_label"] == "Accepted on appeal"


# --- Batch reads -----------------------------------------------------------------------------------------------------


def test_batches_are_listed_for_both_parties_only(batch, lab, lab_member, vendor, vendor_manager, expert, outsider):
    assert list(selectors.batch_list(actor=lab_member, organization=lab)) == [batch]
    assert list(selectors.batch_list(actor=vendor_manager, organization=vendor)) == [batch]
    assert selectors.batch_get(actor=vendor_manager, organization=vendor, public_id=batch.public_id) == batch
    with pytest.raises(PermissionDenied):
        selectors.batch_list(actor=expert, organization=vendor)
    other = outsider.memberships.get().organization
    assert list(selectors.batch_list(actor=outsider, organization=other)) == []
    for bad_id in (batch.public_id, "not-a-uuid"):
        with pytest.raises(NotFound):
            selectors.batch_get(actor=outsider, organization=other, public_id=bad_id)


def test_judgments_read_with_pseudonymous_handles_and_decoded_labels(batch, annotators, lab, lab_member):
    rows = list(selectors.judgment_list(actor=lab_member, organization=lab, batch=batch))
    assert len(rows) == 12
    assert rows[0].annotator_handle == annotators[0].expert_profile.handle
    assert [selectors.judgment_label(batch, r.label) for r in rows[:3]] == ["A", "B", "tie"]


def test_annotator_handles_by_user(annotators, lab_admin):
    first, second, _ = annotators
    assert selectors.annotator_handles([first.pk, second.pk, lab_admin.pk]) == {
        first.pk: first.expert_profile.handle,
        second.pk: second.expert_profile.handle,
    }  # someone without an expert profile is absent
    assert selectors.annotator_handles([]) == {}


def test_batch_status_counts(batch, submit, annotators, lab, lab_admin, lab_member):
    from tests.work.conftest import simple_rows

    second = submit(jsonl(simple_rows(annotators)), client_batch_key="second", unit_count=12)
    submit(jsonl(simple_rows(annotators)), client_batch_key="third", unit_count=12)
    services.batch_accept(actor=lab_admin, batch=second)
    batches = selectors.batch_list(actor=lab_member, organization=lab)
    assert selectors.batch_status_counts(batches) == {"submitted": 2, "accepted": 1}
