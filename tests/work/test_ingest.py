"""Delivery: a work batch's judgments streamed from JSONL or CSV, validated row by row, all or nothing."""

import io
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.db import connection

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.contracts.models import Assignment, Contract
from apps.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from apps.core.models import AuditEvent
from apps.notifications.models import Notification
from apps.projects.models import GuidelineVersion
from apps.work import ingest, services
from apps.work.models import Judgment, WorkBatch
from tests.factories import AssignmentFactory, ContractFactory, UserFactory, member
from tests.projects.support import audit_actions
from tests.work.conftest import PERIOD, csv_bytes, jsonl, judgment, simple_rows

NOW = datetime(2025, 3, 8, 12, 0, tzinfo=UTC)


def stored() -> tuple[int, int, int, int]:
    return WorkBatch.objects.count(), Judgment.objects.count(), AuditEvent.objects.count(), Notification.objects.count()


def refused(submit, content: bytes, **kwargs) -> ValidationFailed:
    before = stored()
    with pytest.raises(ValidationFailed) as caught:
        submit(content, **kwargs)
    assert stored() == before, "a refused batch stores nothing"
    return caught.value


# --- The happy path ----------------------------------------------------------------------------------------


def test_batch_submit_stores_one_row_per_judgment_with_label_codes(
    submit, contract, annotators, lab_owner, lab_admin, lab_member, vendor_manager,
    django_capture_on_commit_callbacks, mailoutbox,
):  # fmt: skip
    # given the project's guidelines are at v2
    GuidelineVersion.objects.create(project=contract.project, number=2, body_markdown="v2", body_html="<p>v2</p>")
    first, second, _ = annotators
    rows = [
        judgment("q-1", first, "A", displayed_order="AB", started_at="2025-03-02T09:00:00+01:00", seconds_spent=42),
        judgment("q-1", second, "tie", displayed_order="BA", comment="close call"),
        judgment("q-2", first, "B", displayed_order=1, seconds_spent="7"),
    ]

    # when the vendor manager submits them
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=False) as callbacks:
        batch = submit(jsonl(rows), unit_count=3)
    assert mailoutbox == []

    # then the batch records the delivery, the terms and the guideline version in force
    assert batch.status == WorkBatch.Status.SUBMITTED
    assert (batch.unit_count, batch.judgment_count, batch.submitted_by) == (3, 3, vendor_manager)
    assert batch.contract_version == contract.current_version
    assert batch.guideline_version.number == 2
    assert batch.review_due_at == NOW + timedelta(days=5)
    assert len(batch.content_sha256) == 64
    # and one row per answer, labels as codes into ["A", "B", "tie"]
    stored_rows = list(
        Judgment.objects.filter(batch=batch).order_by("id").values_list(
            "item_id", "annotator_id", "label", "displayed_order", "started_at", "seconds_spent", "comment"
        )
    )  # fmt: skip
    assert stored_rows == [
        ("q-1", first.pk, 0, 0, datetime(2025, 3, 2, 8, 0, tzinfo=UTC), 42, ""),
        ("q-1", second.pk, 2, 1, None, None, "close call"),
        ("q-2", first.pk, 1, 1, None, 7, ""),
    ]
    # audited, and the lab's reviewers (owner and admin, not a plain member) are told after commit
    assert audit_actions(batch) == ["workbatch.submitted"]
    told = Notification.objects.filter(kind="batch.submitted")
    assert sorted(n.recipient.email for n in told) == sorted([lab_owner.email, lab_admin.email])
    for callback in callbacks:
        callback()
    assert sorted(m.to[0] for m in mailoutbox) == sorted([lab_owner.email, lab_admin.email])


def test_csv_and_jsonl_uploads_store_the_same_rows(submit, annotators):
    rows = simple_rows(annotators)
    from_jsonl = submit(jsonl(rows), client_batch_key="json")
    from_csv = submit(csv_bytes(rows), client_batch_key="csv", fmt="csv")

    def content(batch):
        return list(
            Judgment.objects.filter(batch=batch).order_by("id").values_list(
                "item_id", "annotator_id", "label", "displayed_order", "started_at", "seconds_spent", "comment"
            )
        )  # fmt: skip

    assert from_jsonl.judgment_count == from_csv.judgment_count == 12
    assert content(from_jsonl) == content(from_csv)


def test_csv_with_a_bom_a_value_column_and_columns_in_any_order(submit, annotators):
    body = "\ufeffvalue,annotator,item_id,displayed_order\r\n" + "".join(
        f"B,{a.public_id},x-{i},BA\r\n" for i, a in enumerate(annotators)
    )
    batch = submit(body.encode(), fmt="csv")
    assert list(Judgment.objects.filter(batch=batch).values_list("label", "displayed_order").distinct()) == [(1, 1)]


def test_a_rating_contract_takes_numbers_as_labels_and_needs_no_displayed_order(
    project, vendor, vendor_manager
):  # fmt: skip
    contract = ContractFactory(project=project, supplier=vendor, terms={"label_set": ["1", "2", "3", "4", "5"]})
    rater = AssignmentFactory(contract=contract).expert
    rows = [
        {"item_id": 17, "annotator": str(rater.public_id), "value": 4},
        {"item_id": "18", "annotator": str(rater.public_id), "label": "5"},
    ]
    batch = services.batch_submit(
        actor=vendor_manager, organization=vendor, contract=contract, client_batch_key="r", unit_count=2,
        upload=jsonl(rows), fmt="jsonl", **PERIOD,
    )  # fmt: skip
    assert list(
        Judgment.objects.filter(batch=batch).order_by("id").values_list("item_id", "label", "displayed_order")
    ) == [
        ("17", 3, None),
        ("18", 4, None),
    ]


def test_blank_lines_are_skipped_and_row_numbers_stay_line_numbers(submit, annotators):
    a = annotators[0]
    content = b"\n" + jsonl([judgment("i1", a)]) + b"   \n" + jsonl([judgment("i2", a, label="C")])
    error = refused(submit, content)
    assert error.details["rows"] == [{"row": 4, "field": "label", "reason": "'C' is not in the label set (A, B, tie)."}]


# --- Bad input: every kind named with its row number, nothing stored ----------------------------------------


def _bad_rows(annotators, other_expert, suspended):
    a = annotators[0]
    stranger = str(uuid.uuid4())
    return {
        "malformed JSON": ('{"item_id": "x", ', None, "Malformed JSON"),
        "not an object": ("[1, 2]", None, "Each line must be a JSON object."),
        "unknown field": (judgment("x", a, extra=1), None, "Unknown field(s): extra."),
        "label and value": (judgment("x", a, value="B"), "label", "Give either label or value, not both."),
        "missing item id": (judgment("", a), "item_id", "Required: 1 to 200 characters"),
        "item id too long": (judgment("x" * 201, a), "item_id", "Required: 1 to 200 characters"),
        "item id not unicode": (judgment("x\ud800", a), "item_id", "characters of text"),
        "comment with a NUL": (judgment("x", a, comment="a\x00b"), "comment", "at most 5000"),
        "missing annotator": ({"item_id": "x", "label": "A", "displayed_order": "AB"}, "annotator", "Required"),
        "annotator not an id": ({**judgment("x", a), "annotator": "dr-house"}, "annotator", "is not an expert id"),
        "unknown annotator": (
            {**judgment("x", a), "annotator": stranger},
            "annotator",
            f"No expert has the id {stranger}",
        ),
        "annotator not assigned": (judgment("x", other_expert), "annotator", "has no active assignment"),
        "assignment suspended": (judgment("x", suspended), "annotator", "has no active assignment"),
        "label outside the set": (judgment("x", a, "C"), "label", "'C' is not in the label set (A, B, tie)."),
        "label missing": ({**judgment("x", a), "label": None}, "label", "Required."),
        "displayed order missing": ({**judgment("x", a), "displayed_order": None}, "displayed_order", "Required"),
        "displayed order invalid": (judgment("x", a, displayed_order="AC"), "displayed_order", '"AB" or "BA"'),
        "started_at malformed": (judgment("x", a, started_at="yesterday"), "started_at", "ISO 8601"),
        "started_at without offset": (judgment("x", a, started_at="2025-03-01T09:00:00"), "started_at", "offset"),
        "seconds negative": (judgment("x", a, seconds_spent=-1), "seconds_spent", "whole number"),
        "seconds fractional": (judgment("x", a, seconds_spent=2.5), "seconds_spent", "whole number"),
        "comment too long": (judgment("x", a, comment="c" * 5001), "comment", "at most 5000"),
        "duplicate pair": (judgment("good-1", a), "item_id", "appears earlier in the file"),
    }


_STUB = SimpleNamespace(public_id=uuid.uuid4())


@pytest.mark.parametrize("kind", list(_bad_rows([_STUB], _STUB, _STUB)))
def test_each_kind_of_bad_row_is_named_with_its_row_number_and_nothing_is_stored(
    kind, submit, contract, annotators
):  # fmt: skip
    # given two good rows and the bad one third (an expert not assigned; one whose assignment is suspended)
    other = UserFactory()
    suspended = AssignmentFactory(contract=contract, status=Assignment.Status.SUSPENDED).expert
    bad, field, reason = _bad_rows(annotators, other, suspended)[kind]
    content = jsonl([judgment("good-1", annotators[0]), judgment("good-2", annotators[1]), bad])

    error = refused(submit, content)

    (row,) = error.details["rows"]
    assert (row["row"], row["field"]) == (3, field)
    assert reason.lower() in row["reason"].lower()
    assert error.details["error_count"] == 1


def test_every_bad_row_is_listed_in_file_order(submit, annotators):
    a, b, _ = annotators
    rows = [judgment(f"i{i}", a) for i in range(10)]
    rows[1] = judgment("i1", a, "Z")
    rows[4] = {**judgment("i4", b), "annotator": str(uuid.uuid4())}
    rows[8] = judgment("i8", a, started_at="noon", seconds_spent=-3)
    error = refused(submit, jsonl(rows))
    assert [(r["row"], r["field"]) for r in error.details["rows"]] == [
        (2, "label"), (5, "annotator"), (9, "started_at"), (9, "seconds_spent"),
    ]  # fmt: skip
    assert error.details["error_count"] == 4
    assert "4 rows are invalid" in error.message


def test_the_list_of_bad_rows_is_capped_and_the_total_counted(submit, annotators):
    rows = [judgment(f"i{i}", annotators[0], "nope") for i in range(1500)]
    error = refused(submit, jsonl(rows))
    assert len(error.details["rows"]) == ingest.MAX_REPORTED_ERRORS
    assert error.details["rows"][-1]["row"] == 1000
    assert error.details["error_count"] == 1500


def test_a_bad_row_at_the_end_of_a_large_file_stores_nothing(submit, annotators):
    # given 20,000 rows of which only the last is bad (an earlier item again by the same annotator)
    rows = [judgment(f"item-{i // 3}", annotators[i % 3]) for i in range(19_999)]
    rows.append(judgment("item-0", annotators[0]))
    # when submitted, then the batch is refused naming row 20,000, and nothing was kept
    error = refused(submit, jsonl(rows), unit_count=6_667)
    assert error.details["rows"] == [
        {"row": 20_000, "field": "item_id", "reason": "Item 'item-0' by this annotator appears earlier in the file."}
    ]


def test_malformed_csv_is_refused_with_the_row(submit, annotators):
    a = str(annotators[0].public_id)
    missing = refused(submit, b"item_id,label\nx,A\n", fmt="csv").details["rows"]
    assert missing == [{"row": 1, "field": "header", "reason": missing[0]["reason"]}]
    assert "missing column(s): annotator" in missing[0]["reason"]
    unknown = refused(submit, f"item_id,annotator,label,score\nx,{a},A,1\n".encode(), fmt="csv").details["rows"]
    assert "unknown column(s): score" in unknown[0]["reason"]
    ragged = f"item_id,annotator,label,displayed_order\nx,{a},A,AB\ny,{a},A\n".encode()
    assert refused(submit, ragged, fmt="csv").details["rows"] == [
        {"row": 3, "field": None, "reason": "Expected 4 values, found 3."}
    ]
    not_utf8 = f"item_id,annotator,label,displayed_order\nx,{a},A,AB\n".encode() + b"y\xff\xfe,1,A,AB\n"
    assert refused(submit, not_utf8, fmt="csv").details["rows"][0]["reason"].startswith("Not UTF-8")


def test_a_jsonl_line_that_is_not_utf8_is_named(submit, annotators):
    content = jsonl([judgment("x", annotators[0])]) + b'{"item_id": "\xff"}\n'
    assert refused(submit, content).details["rows"] == [{"row": 2, "field": None, "reason": "Not UTF-8 text."}]


def test_an_empty_file_is_refused(submit):
    error = refused(submit, b"\n\n")
    assert error.details == {"upload": ["No rows."]}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"period_end": PERIOD["period_start"] - timedelta(days=1)}, "period_end"),
        ({"period_start": "March"}, "period_start"),
        ({"unit_count": 0}, "unit_count"),
        ({"unit_count": "12"}, "unit_count"),
        ({"fmt": "xml"}, "fmt"),
        ({"client_batch_key": "  "}, "client_batch_key"),
        ({"client_batch_key": "k" * 201}, "client_batch_key"),
    ],
)
def test_bad_batch_fields_are_named(submit, annotators, overrides, field):
    error = refused(submit, jsonl(simple_rows(annotators)), **overrides)
    assert field in error.details


# --- Idempotency -------------------------------------------------------------------------------------------------


def test_a_retried_upload_with_the_same_key_and_content_returns_the_batch(submit, annotators):
    content = jsonl(simple_rows(annotators))
    first = submit(content, unit_count=12)
    before = stored()
    again = submit(content, unit_count=12)
    assert again.pk == first.pk
    assert stored() == before


@pytest.mark.parametrize("change", ["content", "unit_count"])
def test_the_same_key_for_a_different_batch_is_refused(submit, annotators, change):
    rows = simple_rows(annotators)
    submit(jsonl(rows), unit_count=12)
    before = stored()
    with pytest.raises(DomainError) as caught:
        if change == "content":
            submit(jsonl(rows[:-1]), unit_count=12)
        else:
            submit(jsonl(rows), unit_count=11)
    assert caught.value.code == "batch_key_reused"
    assert "client_batch_key" in caught.value.details
    assert stored() == before


def test_a_key_whose_upload_was_refused_can_be_used_again(submit, annotators):
    refused(submit, jsonl([judgment("x", annotators[0], "Z")]))
    batch = submit(jsonl([judgment("x", annotators[0])]), unit_count=1)
    assert batch.client_batch_key == "batch-1"


# --- Volume, contract state, permissions ----------------------------------------------------------------------


def test_units_over_the_contracts_remaining_volume_are_refused(
    project, vendor, vendor_manager, lab_admin
):  # fmt: skip
    contract = ContractFactory(project=project, supplier=vendor, terms={"volume_cap": 30})
    a = AssignmentFactory(contract=contract).expert

    def send(key, units):
        return services.batch_submit(
            actor=vendor_manager, organization=vendor, contract=contract, client_batch_key=key, unit_count=units,
            upload=jsonl([judgment(key, a)]), fmt="jsonl", **PERIOD,
        )  # fmt: skip

    first = send("one", 20)
    with pytest.raises(ValidationFailed) as caught:
        send("two", 11)
    assert caught.value.code == "volume_exceeded"
    assert caught.value.details == {"unit_count": ["At most 10 (the contract's remaining volume)."]}
    # a partial acceptance releases the units it did not accept
    services.batch_partially_accept(
        actor=lab_admin, batch=first, accepted_units=15, reason="incomplete", evidence="5 items blank"
    )
    assert send("three", 15).unit_count == 15
    assert services.units_committed(contract) == 30


def test_a_rejected_batch_releases_its_units(project, vendor, vendor_manager, lab_admin):
    contract = ContractFactory(project=project, supplier=vendor, terms={"volume_cap": 10})
    a = AssignmentFactory(contract=contract).expert
    kwargs = dict(actor=vendor_manager, organization=vendor, contract=contract, unit_count=10, fmt="jsonl", **PERIOD)
    first = services.batch_submit(client_batch_key="a", upload=jsonl([judgment("x", a)]), **kwargs)
    services.batch_reject(actor=lab_admin, batch=first, reason="other", evidence="Wrong task")
    assert services.batch_submit(client_batch_key="b", upload=jsonl([judgment("x", a)]), **kwargs).unit_count == 10


@pytest.mark.parametrize("status", ["paused", "completed", "terminated", "pending_signature"])
def test_a_contract_that_is_not_active_takes_no_delivery(submit, contract, annotators, status):
    Contract.objects.filter(pk=contract.pk).update(status=status)
    contract.refresh_from_db()
    with pytest.raises(DomainError) as caught:
        submit(jsonl(simple_rows(annotators)))
    assert caught.value.code == "contract_not_active"
    assert WorkBatch.objects.count() == 0


def test_only_the_suppliers_workers_may_deliver(submit, contract, annotators, lab, lab_admin, expert, outsider, vendor):
    content = jsonl(simple_rows(annotators))
    with pytest.raises(PermissionDenied):
        submit(content, actor=expert)  # a vendor expert does not deliver batches
    with pytest.raises(PermissionDenied):
        submit(content, actor=lab_admin, organization=lab)  # a lab never delivers
    with pytest.raises(NotFound):
        submit(content, actor=outsider)  # not a member of the vendor
    other_vendor = ContractFactory().supplier
    manager = member(other_vendor, Role.MANAGER)
    with pytest.raises(NotFound):
        submit(content, actor=manager, organization=other_vendor)
    assert WorkBatch.objects.count() == 0


# --- Concurrency (PostgreSQL) --------------------------------------------------------------------------------------


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip(f"row locks need PostgreSQL; this run uses {connection.vendor} (set DATABASE_URL=postgres://...)")


def _race(contract_pk: int, actor_pk: int, calls: list[dict]) -> list[object]:
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def worker(i: int, call: dict) -> None:
        try:
            contract = Contract.objects.select_related("supplier", "project", "lab").get(pk=contract_pk)
            actor = User.objects.get(pk=actor_pk)
            barrier.wait(timeout=10)
            results[i] = services.batch_submit(
                actor=actor, organization=contract.supplier, contract=contract, fmt="jsonl", **PERIOD,
                upload=io.BytesIO(call["content"]), client_batch_key=call["key"], unit_count=call["units"],
            )  # fmt: skip
        except Exception as exc:  # recorded and asserted by the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(2))
def test_two_concurrent_uploads_with_one_key_make_one_batch(postgres_only, round_):
    contract = ContractFactory()
    manager = member(contract.supplier, Role.MANAGER)
    experts = [AssignmentFactory(contract=contract).expert for _ in range(3)]
    content = jsonl(simple_rows(experts, items=300))
    results = _race(contract.pk, manager.pk, [{"content": content, "key": "k", "units": 900}] * 2)
    assert all(isinstance(r, WorkBatch) for r in results), results
    assert results[0].pk == results[1].pk
    assert WorkBatch.objects.count() == 1 and Judgment.objects.count() == 900


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(2))
def test_two_concurrent_uploads_cannot_overrun_the_volume(postgres_only, round_):
    contract = ContractFactory(terms={"volume_cap": 1000})
    manager = member(contract.supplier, Role.MANAGER)
    experts = [AssignmentFactory(contract=contract).expert for _ in range(3)]
    content = jsonl(simple_rows(experts, items=200))
    calls = [{"content": content, "key": "a", "units": 600}, {"content": content, "key": "b", "units": 600}]
    results = _race(contract.pk, manager.pk, calls)
    batches = [r for r in results if isinstance(r, WorkBatch)]
    refusals = [r for r in results if isinstance(r, ValidationFailed)]
    assert len(batches) == 1 and len(refusals) == 1, results
    assert refusals[0].code == "volume_exceeded"
    assert Judgment.objects.count() == 600


def test_json_numbers_and_bools_are_not_confused(submit, annotators):
    # True == 1 in Python: a boolean must not pass as displayed order 1 or label code
    bad = [judgment("x", annotators[0], displayed_order=True), judgment("y", annotators[0], label=True)]
    rows = refused(submit, jsonl(bad)).details["rows"]
    assert [(r["row"], r["field"]) for r in rows] == [(1, "displayed_order"), (2, "label")]
    assert json.dumps(rows)  # details are plain JSON
