"""Every Projects and Bidding endpoint is in the OpenAPI schema with its bodies; money and rates are
strings; audience-specific keys are optional."""

import pytest
from rest_framework.test import APIClient

from tests.api.test_schema import ENDPOINTS

PREFIXES = ("/api/v1/projects/", "/api/v1/guidelines/", "/api/v1/marketplace/", "/api/v1/questions/", "/api/v1/bids/")
# Gold items under a project belong to the work module, its qualification test to assessments.
PROJECTS_AND_BIDDING = {
    (m, p)
    for m, p in ENDPOINTS
    if p.startswith(PREFIXES)
    and not any(part in p for part in ("/gold/", "/qualification-test/", "/vendor-benchmark/"))
}
NO_REQUEST_BODY = {
    "/api/v1/projects/{project_id}/publish/",
    "/api/v1/projects/{project_id}/close-bidding/",
    "/api/v1/projects/{project_id}/start/",
    "/api/v1/projects/{project_id}/complete/",
    "/api/v1/guidelines/{guideline_id}/acknowledge/",
    "/api/v1/bids/{bid_id}/withdraw/",
    "/api/v1/bids/{bid_id}/shortlist/",
}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def component(schema, name):
    return schema["components"]["schemas"][name]


def test_the_module_covers_27_operations():
    assert len(PROJECTS_AND_BIDDING) == 27


@pytest.mark.parametrize(("method", "path"), sorted(PROJECTS_AND_BIDDING))
def test_the_endpoint_is_documented_with_its_bodies(schema, method, path):
    op = schema["paths"][path][method]

    success = next(code for code in op["responses"] if code.startswith("2"))
    assert op["responses"][success].get("content"), (method, path)
    if method in ("post", "put", "patch") and path not in NO_REQUEST_BODY:
        assert op["requestBody"]["content"], (method, path)
    assert op["tags"]
    assert "org" in {p["name"] for p in op.get("parameters", [])}


def test_creating_bids_and_awards_answers_201(schema):
    assert "201" in schema["paths"]["/api/v1/bids/"]["post"]["responses"]
    assert "201" in schema["paths"]["/api/v1/projects/{project_id}/award/"]["post"]["responses"]


def test_prices_are_strings_and_totals_are_money(schema):
    bid = component(schema, "BidDetail")["properties"]
    assert bid["unit_price"]["type"] == "string"
    assert set(bid["total"]["properties"]) == {"amount", "currency"}
    request = component(schema, "BidCreateRequest")["properties"]
    assert request["unit_price"]["type"] == "string"
    project = component(schema, "Project")["properties"]
    assert set(project["budget_cap"]["properties"]) == {"amount", "currency"}


def test_audience_specific_keys_are_optional(schema):
    assert "invited_organizations" not in component(schema, "Project")["required"]
    question = component(schema, "Question")
    assert not {"asker_organization", "mine"} & set(question["required"])


def test_no_bid_or_acknowledgement_component_names_a_person(schema):
    for name in ("Bid", "BidDetail", "TeamMember", "AcknowledgementList", "Question", "ComparisonRow"):
        properties = set(component(schema, name)["properties"])
        assert not properties & {"email", "full_name", "submitted_by", "asked_by"}, name
