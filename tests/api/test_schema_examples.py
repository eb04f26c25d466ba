"""The schema's examples (apps/api/examples.py) are valid against the schema they illustrate, name
operations that exist, and the main one works when sent as it is."""

from __future__ import annotations

import copy

import jsonschema
import pytest

from apps.api import examples
from tests.factories import DomainFactory


@pytest.fixture
def schema(openapi_schema):
    return openapi_schema


def _plain(node, components, seen=()):
    """An OpenAPI 3.0 schema as JSON Schema: references inlined, ``nullable`` as a null alternative."""
    if isinstance(node, list):
        return [_plain(item, components, seen) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        assert name not in seen, f"recursive schema {name}"
        return _plain(components[name], components, (*seen, name))
    node = {key: _plain(value, components, seen) for key, value in node.items()}
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield f"{method.upper()} {path}", operation


def _validate(value, media_schema, components, where):
    try:
        jsonschema.validate(value, _plain(copy.deepcopy(media_schema), components))
    except jsonschema.ValidationError as exc:
        pytest.fail(f"{where}: example does not match the schema: {exc.message} at {list(exc.absolute_path)}")


def test_every_request_example_names_an_operation_with_a_json_body(schema):
    bodies = {op["operationId"]: op.get("requestBody", {}).get("content", {}) for _name, op in _operations(schema)}
    for operation_id in examples.REQUEST_EXAMPLES:
        assert operation_id in bodies, f"{operation_id}: no such operation"
        assert "application/json" in bodies[operation_id], f"{operation_id}: no JSON request body"


def test_every_example_matches_its_schema(schema):
    components = schema["components"]["schemas"]
    checked = 0
    for name, operation in _operations(schema):
        media = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
        for example in media.get("examples", {}).values():
            _validate(example["value"], media["schema"], components, f"{name} request")
            checked += 1
        for code, response in operation["responses"].items():
            media = response.get("content", {}).get("application/json", {})
            for example in media.get("examples", {}).values():
                _validate(example["value"], media["schema"], components, f"{name} {code}")
                checked += 1
    assert checked > 1000


def test_every_documented_error_status_has_an_example(schema):
    for name, operation in _operations(schema):
        for code, response in operation["responses"].items():
            if code in examples.ERROR_EXAMPLES and "application/json" in response.get("content", {}):
                assert response["content"]["application/json"].get("examples"), f"{name} {code}: no example"


@pytest.mark.django_db
def test_the_project_example_creates_that_project(lab, lab_admin, key_client):
    DomainFactory(slug="radiology", name="Radiology")
    _summary, body = examples.REQUEST_EXAMPLES["projects_create"]
    client = key_client(lab_admin, lab, name="pipeline", scopes=["projects:*"])

    response = client.post("/api/v1/projects/", body, format="json")

    assert response.status_code == 201, response.json()
    project = response.json()
    assert project["title"] == body["title"]
    assert project["budget_cap"] == body["budget_cap"]
    assert project["target_unit_price"] == body["target_unit_price"]
    assert project["domain"]["slug"] == "radiology"


@pytest.mark.django_db
def test_the_missing_scope_example_is_what_the_api_answers(lab, lab_admin, key_client):
    client = key_client(lab_admin, lab, name="reader", scopes=["projects:read"])

    response = client.post("/api/v1/projects/", {"title": "x"}, format="json")

    assert response.status_code == 403
    assert response.json() == examples.ERROR_EXAMPLES["403"][1]
