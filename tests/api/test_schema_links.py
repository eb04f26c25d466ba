"""OpenAPI links from each create to the operations on what it created (apps/api/schema.py,
``link_created_resources``): they name real operations with their path parameters, and followed with
a real response they reach the created resource."""

from __future__ import annotations

import re

import pytest
from drf_spectacular.validation import validate_schema

from apps.api import examples
from tests.factories import DomainFactory

_METHODS = ("get", "put", "patch", "post", "delete")


@pytest.fixture
def schema(openapi_schema):
    return openapi_schema


def _by_operation_id(schema):
    return {
        operation["operationId"]: (path, method)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in _METHODS
    }


def _links(schema):
    for path, item in schema["paths"].items():
        response = item.get("post", {}).get("responses", {}).get("201", {})
        for name, link in response.get("links", {}).items():
            yield path, name, link


def test_every_link_fills_the_path_parameters_of_an_operation_under_the_create(schema):
    operations = _by_operation_id(schema)
    links = list(_links(schema))
    assert len(links) > 40
    for create_path, name, link in links:
        assert name == link["operationId"]
        target_path, _method = operations[link["operationId"]]
        assert target_path.startswith(create_path + "{"), (create_path, target_path)
        created = target_path[len(create_path) + 1 : target_path.index("}", len(create_path))]
        assert link["parameters"][created] == "$response.body#/id"
        # Every other parameter the link fills is one of the create's own, carried over.
        carried = set(re.findall(r"{(\w+)}", create_path))
        assert {key: value for key, value in link["parameters"].items() if key != created} == {
            key: f"$request.path.{key}" for key in carried
        }
        assert set(link["parameters"]) <= set(re.findall(r"{(\w+)}", target_path))


def test_the_schema_with_its_links_is_valid_openapi(schema):
    validate_schema(schema)  # drf-spectacular's bundled OpenAPI 3.0 JSON Schema; raises on any error


def test_the_project_create_links_to_reading_and_publishing_it(schema):
    links = schema["paths"]["/api/v1/projects/"]["post"]["responses"]["201"]["links"]
    assert {"projects_retrieve", "projects_publish"} <= set(links)
    assert links["projects_retrieve"]["parameters"] == {"project_id": "$response.body#/id"}
    # A create whose answer has no id gets no links.
    award = schema["paths"]["/api/v1/projects/{project_id}/award/"]["post"]["responses"]["201"]
    assert "links" not in award


@pytest.mark.django_db
def test_following_the_link_from_a_real_create_reaches_the_new_project(schema, lab, lab_admin, key_client):
    DomainFactory(slug="radiology", name="Radiology")
    client = key_client(lab_admin, lab, name="pipeline", scopes=["projects:*"])
    created = client.post("/api/v1/projects/", examples.REQUEST_EXAMPLES["projects_create"][1], format="json")
    assert created.status_code == 201

    link = schema["paths"]["/api/v1/projects/"]["post"]["responses"]["201"]["links"]["projects_retrieve"]
    path, _method = _by_operation_id(schema)[link["operationId"]]
    assert link["parameters"]["project_id"] == "$response.body#/id"
    response = client.get(path.replace("{project_id}", created.json()["id"]))

    assert response.status_code == 200
    assert response.json()["title"] == created.json()["title"]
