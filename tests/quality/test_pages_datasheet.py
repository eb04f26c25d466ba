"""The provenance datasheet's quality columns: consensus per item (the lab only), qualifications and
scores per annotator (both parties), through the provider registry of ``apps.work.datasheet``."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.assessments.models import Attempt, Qualification, Test
from apps.quality import datasheet as quality_datasheet
from apps.quality import services
from apps.work import datasheet
from apps.work import services as work_services
from tests.factories import OrganizationFactory

from .conftest import gold_rows, make_batch, set_gold

pytestmark = pytest.mark.django_db


def qualify(user, test, *, days_ago=10, valid_days=365):
    granted = timezone.now() - timedelta(days=days_ago)
    attempt = Attempt.objects.create(
        test=test, expert=user, number=1, status=Attempt.Status.GRADED, started_at=granted, deadline_at=granted,
        passed=True,
    )  # fmt: skip
    return Qualification.objects.create(
        expert=user, test=test, family=test.family, attempt=attempt, score="0.9100", granted_at=granted,
        expires_at=granted + timedelta(days=valid_days),
    )  # fmt: skip


def _rows(annotators):
    rows = []
    for i in range(12):
        for k, a in enumerate(annotators):
            label = "A" if i % 3 else "B"
            if k == 3 and i % 4 == 0:
                label = "tie"
            rows.append((f"it-{i}", a, label, i % 2, 30))
    return rows


@pytest.fixture
def accepted(contract, annotators, lab, lab_admin):
    """An accepted batch; the first annotator holds a platform qualification, the lab's own and another
    lab's (which the datasheet must not name)."""
    platform = Test.objects.create(title="Platform radiology", status=Test.Status.PUBLISHED)
    own = Test.objects.create(title="Acme chest X-ray", status=Test.Status.PUBLISHED, owner=lab, version=2)
    rival = OrganizationFactory(name="Rival Lab", slug="rival", kind="lab")
    secret = Test.objects.create(title="Rival secret pilot", status=Test.Status.PUBLISHED, owner=rival)
    for test in (platform, own, secret):
        qualify(annotators[0], test)
    qualify(annotators[1], platform, days_ago=400)  # expired before the batch
    g, gold = gold_rows(annotators[0], 9, 1)
    batch = make_batch(contract, _rows(annotators) + g)
    set_gold(contract.project, gold)
    work_services.batch_accept(actor=lab_admin, batch=batch)
    batch.refresh_from_db()
    return batch


def test_the_quality_provider_is_registered():
    assert quality_datasheet.provide in datasheet.registered_providers()


def test_before_scoring_there_are_no_consensus_columns_but_qualifications_are_listed(
    accepted, annotators, lab, lab_admin
):
    sheet = datasheet.datasheet_get(actor=lab_admin, organization=lab, public_id=accepted.public_id)
    assert sheet.extra_columns == ()
    first = next(iter(sheet.rows()))
    assert list(first) == list(datasheet.ROW_FIELDS)
    facts = {a["annotator"]: a for a in sheet.summary["annotators"]}
    mine = facts[annotators[0].expert_profile.handle]
    assert [(q["test"], q["version"], q["score"]) for q in mine["qualifications"]] == [
        ("Acme chest X-ray", 2, "0.9100"),
        ("Platform radiology", 1, "0.9100"),
    ]
    assert mine["measured_accuracy"] is None
    assert facts[annotators[1].expert_profile.handle]["qualifications"] == []  # expired before the batch
    assert "Rival secret pilot" not in json.dumps(sheet.summary)
    assert sheet.summary["quality_scored"] is False and sheet.summary["consensus_included"] is False


def test_after_scoring_the_lab_gets_consensus_per_item_and_scores_per_annotator(
    accepted, contract, annotators, lab, lab_admin
):
    services.score_contract(contract=contract)
    sheet = datasheet.datasheet_get(actor=lab_admin, organization=lab, public_id=accepted.public_id)
    assert sheet.extra_columns == quality_datasheet.ITEM_COLUMNS
    rows = list(sheet.rows())
    assert len(rows) == accepted.judgment_count
    by_item = {row["item_id"]: row for row in rows}
    assert by_item["it-1"]["consensus_label"] == "A"  # every annotator said A
    assert by_item["it-1"]["consensus_confidence"] > 0.9
    assert by_item["it-0"]["consensus_label"] in ("B", None)
    assert all(set(quality_datasheet.ITEM_COLUMNS) <= set(row) for row in rows)
    # Gold items' consensus is their gold answer (clamped): it is left out, and nothing says "gold".
    reference = [row for row in rows if row["item_id"].startswith("g-")]
    assert reference and all(row["consensus_label"] is None for row in reference)
    assert "gold" not in json.dumps(sheet.summary).lower()
    # Paged rows carry the same columns as the whole sheet.
    assert list(sheet.rows(offset=3, limit=4)) == rows[3:7]

    facts = {a["annotator"]: a for a in sheet.summary["annotators"]}
    mine = facts[annotators[0].expert_profile.handle]
    assert mine["measured_answers"] == 10 and mine["measured_accuracy"] == 0.9
    assert mine["measured_accuracy_lower"] < 0.9 < mine["measured_accuracy_upper"]
    assert mine["agreement_loo"] is not None
    assert sheet.summary["quality_scored"] is True and sheet.summary["consensus_included"] is True

    header, *lines = list(csv.reader(io.StringIO("".join(datasheet.render_csv(sheet)))))
    assert header == list(datasheet.ROW_FIELDS) + list(quality_datasheet.ITEM_COLUMNS)
    assert len(lines) == len(rows)
    as_json = json.loads("".join(datasheet.render_json(sheet)))
    assert as_json["rows"][0]["consensus_label"] == rows[0]["consensus_label"]
    summary = dict(csv.reader(io.StringIO(datasheet.render_summary_csv(sheet))))
    handle = annotators[0].expert_profile.handle
    assert summary[f"annotator.{handle}.measured_accuracy"] == "0.9"
    assert "Acme chest X-ray" in summary[f"annotator.{handle}.qualifications"]


def test_the_supplier_gets_scores_but_no_consensus_which_would_reveal_gold(
    accepted, contract, annotators, vendor, vendor_manager
):
    services.score_contract(contract=contract)
    sheet = datasheet.datasheet_get(actor=vendor_manager, organization=vendor, public_id=accepted.public_id)
    assert sheet.extra_columns == ()
    assert all("consensus_label" not in row for row in sheet.rows())
    facts = {a["annotator"]: a for a in sheet.summary["annotators"]}
    assert facts[annotators[0].expert_profile.handle]["measured_accuracy"] == 0.9
    assert sheet.summary["consensus_included"] is False


def test_the_datasheet_downloads_carry_the_columns(client, accepted, contract, lab_admin):
    services.score_contract(contract=contract)
    client.force_login(lab_admin)
    response = client.get(reverse("work:datasheet_csv", args=[accepted.public_id]))
    assert response.status_code == 200
    header = next(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert header[-4:] == list(quality_datasheet.ITEM_COLUMNS)


def test_a_provider_returning_nothing_adds_nothing(accepted, lab, lab_admin, monkeypatch):
    monkeypatch.setattr(datasheet, "_PROVIDERS", [lambda batch, ids, for_lab: None])
    sheet = datasheet.datasheet_get(actor=lab_admin, organization=lab, public_id=accepted.public_id)
    assert "annotators" not in sheet.summary and sheet.extra_columns == ()


def test_item_values_are_looked_up_a_chunk_at_a_time(accepted, lab, lab_admin, monkeypatch):
    seen: list[list[str]] = []

    def provider(batch, ids, for_lab):
        def values(item_ids):
            seen.append(item_ids)
            return {item_id: {"shade": item_id.upper()} for item_id in item_ids}

        return datasheet.Contribution(item_columns=("shade",), item_values=values)

    monkeypatch.setattr(datasheet, "_PROVIDERS", [provider])
    monkeypatch.setattr(datasheet, "_CHUNK", 10)
    sheet = datasheet.datasheet_get(actor=lab_admin, organization=lab, public_id=accepted.public_id)
    rows = list(sheet.rows())
    assert all(row["shade"] == row["item_id"].upper() for row in rows)
    assert len(seen) == -(-len(rows) // 10)  # one lookup per chunk of judgments
    assert all(len(chunk) == len(set(chunk)) for chunk in seen)  # each item once per chunk


def test_the_batch_page_card_shows_consensus_and_scores_to_the_lab_only(
    client, accepted, contract, annotators, lab_admin, vendor_manager
):
    services.score_contract(contract=contract)
    url = reverse("work:batch_detail", args=[accepted.public_id])

    client.force_login(lab_admin)
    page = client.get(url).content.decode()
    table = page[page.index('id="datasheet-table"') :]
    assert "<th>Consensus</th>" in table and "Confidence" in table
    annotators_table = page[page.index('id="datasheet-annotators"') : page.index('id="datasheet-rows"')]
    assert "Measured accuracy" in annotators_table and "90%" in annotators_table  # 9 of 10 reference answers

    client.force_login(vendor_manager)
    page = client.get(url).content.decode()
    assert "<th>Consensus</th>" not in page  # the consensus (gold clamped) never reaches the supplier
    assert "Measured accuracy" in page
