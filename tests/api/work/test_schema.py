"""Every Work endpoint is in the OpenAPI schema with its bodies: uploads as multipart, the datasheet
as JSON and CSV, named enums."""

import pytest
from rest_framework.test import APIClient

from tests.api.test_schema import ENDPOINTS

WORK = {
    (m, p)
    for m, p in ENDPOINTS
    if p.startswith(("/api/v1/batches/", "/api/v1/appeals/")) or p.endswith(("/gold/", "/batches/"))
}
NO_REQUEST_BODY = {"/api/v1/batches/{batch_id}/accept/"}
SESSION_ONLY = {"/api/v1/appeals/{appeal_id}/decide/"}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def component(schema, name):
    return schema["components"]["schemas"][name]


def test_the_module_covers_13_operations():
    assert len(WORK) == 13


@pytest.mark.parametrize(("method", "path"), sorted(WORK))
def test_the_endpoint_is_documented_with_its_bodies(schema, method, path):
    op = schema["paths"][path][method]

    success = next(code for code in op["responses"] if code.startswith("2"))
    assert op["responses"][success].get("content"), (method, path)
    if method == "post" and path not in NO_REQUEST_BODY:
        assert op["requestBody"]["content"], (method, path)
    assert op["tags"] and op["description"] and op["summary"]
    names = {p["name"] for p in op.get("parameters", [])}
    assert ("org" in names) == (path not in SESSION_ONLY), (method, path)


def test_uploads_are_multipart(schema):
    batches = schema["paths"]["/api/v1/contracts/{contract_id}/batches/"]["post"]
    assert set(batches["requestBody"]["content"]) == {"multipart/form-data"}
    assert {"201", "200"} <= set(batches["responses"])
    upload = component(schema, "BatchUploadRequest")
    assert upload["properties"]["file"] == {**upload["properties"]["file"], "type": "string", "format": "binary"}
    assert set(upload["required"]) == {"file", "client_batch_key", "period_start", "period_end", "unit_count"}
    gold = schema["paths"]["/api/v1/projects/{project_id}/gold/"]["post"]
    assert set(gold["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    assert gold["requestBody"]["content"]["application/json"]["schema"]["type"] == "array"


def test_the_idempotency_key_is_documented_as_the_upload_uses_it(schema):
    batches = schema["paths"]["/api/v1/contracts/{contract_id}/batches/"]["post"]
    header = next(p for p in batches["parameters"] if p["name"] == "Idempotency-Key")
    assert "client_batch_key" in header["description"]
    assert "headers" not in batches["responses"]["201"]  # never a stored replay


def test_the_datasheet_is_documented_as_json_and_csv(schema):
    op = schema["paths"]["/api/v1/batches/{batch_id}/datasheet/"]["get"]
    content = op["responses"]["200"]["content"]
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/Datasheet"}
    assert content["text/csv"]["schema"]["type"] == "string"
    fmt = next(p for p in op["parameters"] if p["name"] == "format")
    assert set(fmt["schema"]["enum"]) == {"json", "csv"}


def test_enums_are_named(schema):
    assert component(schema, "BatchStatus")["enum"] == [
        "submitted",
        "accepted",
        "partially_accepted",
        "rejected",
        "appealed",
        "overturned",
        "upheld",
    ]
    assert set(component(schema, "RejectionReason")["enum"]) == {
        "guideline_violation",
        "low_gold_accuracy",
        "incomplete",
        "suspected_ai_generated",
        "other",
    }
    assert component(schema, "AppealOutcome")["enum"] == ["overturn", "uphold"]
    assert component(schema, "AppealStatus")["enum"] == ["open", "overturned", "upheld"]


def test_no_judgment_or_batch_schema_mentions_gold_answers(schema):
    for name in ("Judgment", "Batch", "Appeal", "DatasheetRow", "DatasheetSummary"):
        assert "answer" not in component(schema, name)["properties"], name
