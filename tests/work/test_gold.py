"""Gold: the lab's hidden answers. Uploaded all or nothing; visible to the lab alone."""

import io
import json

import pytest

from apps.core.errors import NotFound, PermissionDenied, ValidationFailed
from apps.core.models import AuditEvent
from apps.work import selectors, services
from apps.work.datasheet import datasheet_get, render_csv, render_json
from apps.work.models import GoldItem
from tests.factories import AssignmentFactory, ContractFactory
from tests.projects.support import audit_rows
from tests.work.conftest import PERIOD, jsonl


def answers(project) -> dict[str, str]:
    return dict(GoldItem.objects.filter(project=project).values_list("item_id", "answer"))


def test_the_lab_uploads_gold_items(project, contract, lab_admin):
    result = services.gold_upload(
        actor=lab_admin, project=project, rows=[{"item_id": "g1", "answer": "A"}, {"item_id": "g2", "answer": "tie"}]
    )
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    assert answers(project) == {"g1": "A", "g2": "tie"}
    row = audit_rows(project).get(action="gold.uploaded")
    assert (row.actor, row.data) == (lab_admin, {"created": 2, "updated": 0, "unchanged": 0})


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_gold_uploads_as_jsonl_or_csv(project, contract, lab_admin, fmt):
    content = (
        jsonl([{"item_id": "g1", "answer": "B"}, {"item_id": 7, "answer": "A"}])
        if fmt == "jsonl"
        else b"answer,item_id\r\nB,g1\r\nA,7\r\n"
    )
    services.gold_upload(actor=lab_admin, project=project, rows=io.BytesIO(content), fmt=fmt)
    assert answers(project) == {"g1": "B", "7": "A"}


def test_a_re_upload_updates_answers_and_keeps_other_items(project, contract, lab_admin):
    services.gold_upload(
        actor=lab_admin, project=project, rows=[{"item_id": "g1", "answer": "A"}, {"item_id": "g2", "answer": "B"}]
    )
    result = services.gold_upload(
        actor=lab_admin,
        project=project,
        rows=[{"item_id": "g1", "answer": "tie"}, {"item_id": "g2", "answer": "B"}, {"item_id": "g3", "answer": "A"}],
    )
    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    assert answers(project) == {"g1": "tie", "g2": "B", "g3": "A"}


def test_a_bad_gold_row_refuses_the_upload_naming_every_bad_row(project, contract, lab_admin):
    rows = [
        {"item_id": "g1", "answer": "A"},
        {"item_id": "g2", "answer": "maybe"},
        {"item_id": "", "answer": "A"},
        {"item_id": "g1", "answer": "B"},
        {"item_id": "g5", "answer": "A", "note": "x"},
        "g6",
    ]
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        services.gold_upload(actor=lab_admin, project=project, rows=rows)
    assert [(r["row"], r["field"]) for r in caught.value.details["rows"]] == [
        (2, "answer"), (3, "item_id"), (4, "item_id"), (5, None), (6, None),
    ]  # fmt: skip
    assert "not in the label set (A, B, tie)" in caught.value.details["rows"][0]["reason"]
    assert GoldItem.objects.count() == 0 and AuditEvent.objects.count() == before


def test_gold_answers_must_suit_every_contract_on_the_project(project, contract, lab_admin):
    ContractFactory(project=project, terms={"label_set": ["A", "B"]})
    with pytest.raises(ValidationFailed) as caught:
        services.gold_upload(actor=lab_admin, project=project, rows=[{"item_id": "g1", "answer": "tie"}])
    assert "(A, B)" in caught.value.details["rows"][0]["reason"]


def test_without_a_contract_any_answer_is_accepted(project, lab_admin):
    services.gold_upload(actor=lab_admin, project=project, rows=[{"item_id": "g1", "answer": "Pneumothorax"}])
    assert answers(project) == {"g1": "Pneumothorax"}


def test_malformed_gold_files_are_refused(project, contract, lab_admin):
    with pytest.raises(ValidationFailed) as caught:
        services.gold_upload(
            actor=lab_admin, project=project, rows=io.BytesIO(b'{"item_id": "g1", "answer": "A"}\n{oops\n'), fmt="jsonl"
        )
    assert caught.value.details["rows"][0]["row"] == 2
    with pytest.raises(ValidationFailed) as caught:
        services.gold_upload(actor=lab_admin, project=project, rows=io.BytesIO(b"item,answer\ng1,A\n"), fmt="csv")
    assert caught.value.details["rows"][0]["field"] == "header"
    with pytest.raises(ValidationFailed) as caught:
        services.gold_upload(actor=lab_admin, project=project, rows=[])
    assert caught.value.details == {"upload": ["No rows."]}
    assert GoldItem.objects.count() == 0


def test_only_the_labs_reviewers_upload_gold(project, lab_member, vendor_manager, expert, outsider):
    rows = [{"item_id": "g1", "answer": "A"}]
    with pytest.raises(PermissionDenied):
        services.gold_upload(actor=lab_member, project=project, rows=rows)
    for someone in (vendor_manager, expert, outsider):
        with pytest.raises(NotFound):
            services.gold_upload(actor=someone, project=project, rows=rows)
    assert GoldItem.objects.count() == 0


# --- Never visible to a supplier or an expert ---------------------------------------------------------------------


@pytest.fixture
def gold(project, contract, lab_admin):
    services.gold_upload(actor=lab_admin, project=project, rows=[{"item_id": "g1", "answer": "tie"}])
    return GoldItem.objects.get(item_id="g1")


def test_the_lab_reads_its_gold(gold, project, lab, lab_member):
    assert list(selectors.gold_list(actor=lab_member, organization=lab, project=project)) == [gold]
    assert selectors.gold_get(actor=lab_member, organization=lab, project=project, item_id="g1") == gold
    with pytest.raises(NotFound):
        selectors.gold_get(actor=lab_member, organization=lab, project=project, item_id="nope")


def test_gold_is_not_found_for_suppliers_experts_and_other_labs(
    gold, project, lab, vendor, vendor_manager, expert, outsider
):
    other_lab = outsider.memberships.get().organization
    for actor, organization in [
        (vendor_manager, vendor), (expert, vendor), (expert, None), (outsider, other_lab), (vendor_manager, lab),
    ]:  # fmt: skip
        with pytest.raises(NotFound):
            selectors.gold_list(actor=actor, organization=organization, project=project)
        with pytest.raises(NotFound):
            selectors.gold_get(actor=actor, organization=organization, project=project, item_id="g1")


def test_judgments_and_the_datasheet_carry_no_gold_answer(project, lab, lab_admin, vendor, vendor_manager):
    # given a contract whose labels are distinctive, gold on one item, and an accepted batch
    contract = ContractFactory(project=project, supplier=vendor, terms={"label_set": ["keep-xq", "drop-xq"]})
    annotator = AssignmentFactory(contract=contract).expert
    services.gold_upload(actor=lab_admin, project=project, rows=[{"item_id": "gold-1", "answer": "drop-xq"}])
    rows = [{"item_id": item, "annotator": str(annotator.public_id), "label": "keep-xq"} for item in ("gold-1", "i-2")]
    batch = services.batch_submit(
        actor=vendor_manager, organization=vendor, contract=contract, client_batch_key="k", unit_count=2,
        upload=jsonl(rows), fmt="jsonl", **PERIOD,
    )  # fmt: skip
    services.batch_accept(actor=lab_admin, batch=batch)

    # then what the supplier reads of the judgments has no answer, no gold mark, no gold label
    for actor, organization in ((vendor_manager, vendor), (lab_admin, lab)):
        judgments = list(selectors.judgment_list(actor=actor, organization=organization, batch=batch).values())
        assert judgments and all(set(j) & {"answer", "gold", "is_gold"} == set() for j in judgments)
        assert "drop-xq" not in json.dumps(judgments, default=str)
        sheet = datasheet_get(actor=actor, organization=organization, public_id=batch.public_id)
        text = "".join(render_json(sheet)) + "".join(render_csv(sheet))
        assert "drop-xq" not in text and "gold" not in json.dumps(sheet.summary).lower()
