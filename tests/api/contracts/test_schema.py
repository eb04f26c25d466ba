"""Every Contracts endpoint is in the OpenAPI schema with its bodies; money is a Money object, rates
and fractions strings; audience-specific values are documented as nullable."""

import pytest
from rest_framework.test import APIClient

from tests.api.test_schema import ENDPOINTS

# The contracts module's own operations (batches under a contract belong to the work module; its quality
# and consensus to the quality module).
CONTRACTS = {
    (m, p)
    for m, p in ENDPOINTS
    if p.startswith("/api/v1/contracts/") and not any(part in p for part in ("/batches/", "/quality/", "/consensus/"))
}
NO_REQUEST_BODY = {
    "/api/v1/contracts/{contract_id}/pause/",
    "/api/v1/contracts/{contract_id}/resume/",
    "/api/v1/contracts/{contract_id}/complete/",
    "/api/v1/contracts/{contract_id}/nda/accept/",
    "/api/v1/contracts/{contract_id}/assignments/{assignment_id}/end/",
    "/api/v1/contracts/{contract_id}/assignments/{assignment_id}/resume/",
}
PERSONAL = {"/api/v1/contracts/{contract_id}/nda/accept/"}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def component(schema, name):
    return schema["components"]["schemas"][name]


def test_the_module_covers_18_operations():
    assert len(CONTRACTS) == 18


@pytest.mark.parametrize(("method", "path"), sorted(CONTRACTS))
def test_the_endpoint_is_documented_with_its_bodies(schema, method, path):
    op = schema["paths"][path][method]

    success = next(code for code in op["responses"] if code.startswith("2"))
    assert op["responses"][success].get("content"), (method, path)
    if method == "post" and path not in NO_REQUEST_BODY:
        assert op["requestBody"]["content"], (method, path)
    assert op["tags"] and op["description"]
    names = {p["name"] for p in op.get("parameters", [])}
    assert ("org" in names) == (path not in PERSONAL), (method, path)


def test_creating_amendments_and_assignments_answers_201(schema):
    assert "201" in schema["paths"]["/api/v1/contracts/{contract_id}/amendments/"]["post"]["responses"]
    assert "201" in schema["paths"]["/api/v1/contracts/{contract_id}/assignments/"]["post"]["responses"]


def test_money_is_an_object_and_rates_are_strings(schema):
    terms = component(schema, "Terms")["properties"]
    assert terms["budget_cap"]["properties"]["amount"]["type"] == "string"
    assert terms["unit_rate"] == {**terms["unit_rate"], "type": "string", "format": "decimal"}
    assert terms["sla_min_gold_accuracy"]["type"] == "string"
    milestone = component(schema, "Milestone")["properties"]
    assert milestone["amount"]["properties"]["currency"]["type"] == "string"
    changes = component(schema, "AmendmentChangesRequest")["properties"]
    assert changes["budget_cap"]["properties"]["amount"]["type"] == "string"
    assert changes["quality_pay"]["items"]["items"] == {"type": "string"}
    assert "currency" not in changes and "effective_from" not in changes


def test_privacy_dependent_values_are_nullable(schema):
    signature = component(schema, "Signature")["properties"]
    assert signature["ip_address"]["nullable"] is True and signature["signed_by"]["nullable"] is True
    assert component(schema, "AssignedExpert")["properties"]["name"]["nullable"] is True
    assert component(schema, "Supplier")["properties"]["name"]["nullable"] is True


def test_the_gate_and_status_enums_are_named(schema):
    assert component(schema, "ContractStatus")["enum"] == [
        "pending_signature",
        "active",
        "paused",
        "completed",
        "terminated",
    ]
    assert component(schema, "ContractSide")["enum"] == ["lab", "supplier"]
    assert set(component(schema, "AssignmentGate")["enum"]) == {"roster", "credential", "nda", "guidelines"}
