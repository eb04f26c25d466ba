"""The quality API: scores with filters, audits, the contract summary, the consensus export (ties as
ties), the vendor benchmark and scoring runs."""

from __future__ import annotations

import json

import pytest

from apps.quality import services
from apps.quality.models import ScoreSnapshot

from .conftest import gold_rows, make_batch, set_gold

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(contract, annotators, project):
    a, b = annotators[0], annotators[1]
    rows, gold = gold_rows(a, 40, 10)
    rows += [("clear-1", a, "A"), ("clear-1", b, "A"), ("clear-1", annotators[2], "A")]
    set_gold(project, gold)
    batch = make_batch(contract, rows)
    run = services.score_contract(contract=contract)
    return {"batch": batch, "run": run}


def _url(path, org):
    return f"{path}{'&' if '?' in path else '?'}org={org.public_id}"


def test_contract_quality_summary_sla_and_multiplier(api_as, lab_admin, lab, contract, scored):
    response = api_as(lab_admin).get(_url(f"/api/v1/contracts/{contract.public_id}/quality/", lab))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["summary"]["n_gold"] == 50 and body["summary"]["gold_correct"] == 40
    assert body["sla"]["state"] == "insufficient_evidence"  # 0.80 observed, threshold 0.80
    assert body["sla"]["threshold"] == "0.8000"
    assert body["multiplier"] == {
        "multiplier": "0.90",
        "gold_accuracy": "0.8000",
        "n_gold": 50,
        "band": ["0.75", "0.90"],
        "snapshot": body["summary"]["id"],
        "basis": "contract",
    }
    assert body["running"] is None


def test_scores_filter_by_kind_expert_handle_and_window(api_as, lab_admin, lab, contract, annotators, scored):
    client = api_as(lab_admin)
    handle = annotators[0].expert_profile.handle

    experts = client.get(_url("/api/v1/quality/scores/?subject_kind=expert", lab)).json()["results"]
    assert len(experts) == 3  # annotators 0, 1, 2 judged
    assert all(row["expert_handle"] for row in experts)
    assert "full_name" not in json.dumps(experts) and annotators[0].email not in json.dumps(experts)

    one = client.get(_url(f"/api/v1/quality/scores/?expert={handle}", lab)).json()["results"]
    assert [row["expert_handle"] for row in one] == [handle]
    assert one[0]["n_gold"] == 50

    later = client.get(_url("/api/v1/quality/scores/?since=2100-01-01T00:00:00Z", lab)).json()["results"]
    assert later == []
    bad = client.get(_url("/api/v1/quality/scores/?since=yesterday", lab))
    assert bad.status_code == 400 and "since" in bad.json()["error"]["details"]


def test_the_vendor_expert_sees_only_their_own_scores(api_as, expert, vendor, contract, scored):
    rows = api_as(expert).get(_url("/api/v1/quality/scores/", vendor)).json()["results"]
    assert rows and {row["subject_kind"] for row in rows} == {"expert"}
    assert {row["expert_handle"] for row in rows} == {expert.expert_profile.handle}


def test_another_tenant_gets_404_and_empty_lists(api_as, outsider, contract, scored):
    client = api_as(outsider)
    assert client.get(f"/api/v1/contracts/{contract.public_id}/quality/").status_code == 404
    assert client.get(f"/api/v1/contracts/{contract.public_id}/consensus/").status_code == 404
    assert client.get(f"/api/v1/projects/{contract.project.public_id}/vendor-benchmark/").status_code == 404
    assert client.get(f"/api/v1/quality/runs/{scored['run'].public_id}/").status_code == 404
    assert client.get("/api/v1/quality/scores/").json()["results"] == []
    assert client.get("/api/v1/quality/audits/").json() == []


def test_consensus_export_reports_ties_as_ties(api_as, vendor_manager, vendor, contract, annotators):
    b, c = annotators[1], annotators[2]
    # Two experts disagreeing symmetrically (swapping A and B maps the data onto itself): a tie each time.
    make_batch(contract, [("tie-1", b, "A"), ("tie-1", c, "B"), ("tie-2", b, "B"), ("tie-2", c, "A")])
    services.score_contract(contract=contract)

    response = api_as(vendor_manager).get(_url(f"/api/v1/contracts/{contract.public_id}/consensus/", vendor))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    by_item = {row["item_id"]: row for row in lines}
    assert set(by_item) == {"tie-1", "tie-2"}
    assert set(by_item["tie-1"]) == {"item_id", "label", "tie", "probabilities", "confidence", "disagreement"}
    for item in ("tie-1", "tie-2"):
        assert by_item[item]["label"] is None and by_item[item]["tie"] is True
        assert by_item[item]["probabilities"]["A"] == pytest.approx(by_item[item]["probabilities"]["B"])
        assert set(by_item[item]["probabilities"]) == {"A", "B", "tie"}


def test_consensus_export_labels_and_gold_clamping(api_as, lab_admin, lab, contract, scored):
    response = api_as(lab_admin).get(_url(f"/api/v1/contracts/{contract.public_id}/consensus/", lab))
    by_item = {
        row["item_id"]: row
        for row in (json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines())
    }
    assert len(by_item) == 51
    assert by_item["clear-1"]["label"] == "A" and by_item["clear-1"]["tie"] is False
    assert by_item["g-45"]["label"] == "A" and by_item["g-45"]["confidence"] == pytest.approx(1.0)  # gold clamped


def _export(client, contract, org) -> dict[str, dict]:
    response = client.get(_url(f"/api/v1/contracts/{contract.public_id}/consensus/", org))
    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode().splitlines()
    return {row["item_id"]: row for row in (json.loads(line) for line in lines)}


def test_the_supplier_export_has_no_gold_item_and_no_gold_answer(
    api_as, lab_admin, lab, vendor_manager, expert, vendor, contract, scored
):
    gold_ids = {f"g-{i}" for i in range(50)}
    lab_rows = _export(api_as(lab_admin), contract, lab)
    assert gold_ids <= set(lab_rows)  # the lab sees its gold items, marked, with the clamped label
    assert all(lab_rows[g]["gold"] is True and lab_rows[g]["label"] == "A" for g in gold_ids)
    assert lab_rows["clear-1"]["gold"] is False

    rows = _export(api_as(vendor_manager), contract, vendor)
    assert set(rows) == {"clear-1"}  # every gold item left out
    assert all("gold" not in row for row in rows.values())
    assert "g-" not in json.dumps(rows)
    # An expert of the supplier cannot read the export at all.
    response = api_as(expert).get(_url(f"/api/v1/contracts/{contract.public_id}/consensus/", vendor))
    assert response.status_code == 404

    from apps.quality import selectors

    supplier_ids = {
        row["item_id"]
        for row in selectors.consensus_rows(
            actor=vendor_manager, organization=vendor, contract_public_id=contract.public_id
        )
    }
    assert supplier_ids.isdisjoint(gold_ids)


def test_audits_and_runs(api_as, lab_admin, lab, contract, scored):
    client = api_as(lab_admin)
    audits = client.get(_url(f"/api/v1/quality/audits/?contract={contract.public_id}", lab))
    assert audits.status_code == 200
    for row in audits.json():
        assert row["explanation"] and row["test"]
    runs = client.get(_url(f"/api/v1/quality/runs/?contract={contract.public_id}", lab)).json()["results"]
    assert [r["id"] for r in runs] == [str(scored["run"].public_id)]
    detail = client.get(_url(f"/api/v1/quality/runs/{scored['run'].public_id}/", lab)).json()
    assert (detail["status"], detail["progress"], detail["kind"]) == ("succeeded", 100, "full")


def test_recompute_is_accepted_and_runs_after_commit(
    api_as, vendor_manager, vendor, contract, scored, django_capture_on_commit_callbacks
):
    before = ScoreSnapshot.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(vendor_manager).post(
            _url(f"/api/v1/contracts/{contract.public_id}/quality/recompute/", vendor)
        )
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "running"
    assert ScoreSnapshot.objects.count() > before


def test_vendor_benchmark_endpoint(api_as, lab_admin, lab, contract, annotators, scored):
    rows = api_as(lab_admin).get(_url(f"/api/v1/projects/{contract.project.public_id}/vendor-benchmark/", lab)).json()
    assert len(rows) == 1
    assert rows[0]["supplier_label"] == "Northwind Annotation" and rows[0]["rank"] == 1
    assert rows[0]["n_gold"] == 50 and rows[0]["guideline_version"] == 1
    assert {e["label"] for e in rows[0]["experts"]} <= {a.expert_profile.handle for a in annotators}


def test_scores_ordering_allowed_fields_and_cursor(api_as, lab_admin, lab, contract, scored):
    client = api_as(lab_admin)
    rows = client.get(_url("/api/v1/quality/scores/?subject_kind=expert&ordering=-n_gold", lab)).json()["results"]
    assert [r["n_gold"] for r in rows] == sorted((r["n_gold"] for r in rows), reverse=True)
    assert rows[0]["n_gold"] == 50
    up = client.get(_url("/api/v1/quality/scores/?subject_kind=expert&ordering=n_judgments", lab)).json()
    assert [r["n_judgments"] for r in up["results"]] == sorted(r["n_judgments"] for r in up["results"])
    # Paging with a cursor keeps the chosen order and loses no row.
    first = client.get(_url("/api/v1/quality/scores/?ordering=-n_judgments&page_size=2", lab)).json()
    second = client.get(first["next"]).json()
    everything = client.get(_url("/api/v1/quality/scores/?ordering=-n_judgments", lab)).json()["results"]
    assert [r["id"] for r in first["results"] + second["results"]] == [r["id"] for r in everything][:4]

    bad = client.get(_url("/api/v1/quality/scores/?ordering=gold_accuracy", lab))
    assert bad.status_code == 400 and "ordering" in bad.json()["error"]["details"]
