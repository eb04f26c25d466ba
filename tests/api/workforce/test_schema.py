"""Every Workforce endpoint is in the OpenAPI schema, with its request and response bodies."""

import pytest
from rest_framework.test import APIClient

WORKFORCE = {
    ("get", "/api/v1/experts/"),
    ("get", "/api/v1/experts/{expert_id}/"),
    ("get", "/api/v1/profile/"),
    ("patch", "/api/v1/profile/"),
    ("get", "/api/v1/credentials/"),
    ("post", "/api/v1/credentials/"),
    ("get", "/api/v1/credentials/queue/"),
    ("get", "/api/v1/credentials/{credential_id}/"),
    ("get", "/api/v1/credentials/{credential_id}/evidence/"),
    ("post", "/api/v1/credentials/{credential_id}/verify/"),
    ("post", "/api/v1/credentials/{credential_id}/reject/"),
    ("post", "/api/v1/credentials/{credential_id}/revoke/"),
    ("get", "/api/v1/credential-flags/"),
    ("post", "/api/v1/credential-flags/{flag_id}/resolve/"),
    ("get", "/api/v1/roster/"),
    ("post", "/api/v1/roster/invitations/"),
    ("post", "/api/v1/roster/{entry_id}/suspend/"),
    ("post", "/api/v1/roster/{entry_id}/reinstate/"),
    ("post", "/api/v1/roster/{entry_id}/offboard/"),
    ("get", "/api/v1/roster-memberships/"),
    ("post", "/api/v1/roster-memberships/{entry_id}/accept/"),
    ("post", "/api/v1/roster-memberships/{entry_id}/decline/"),
    ("get", "/api/v1/notifications/"),
    ("post", "/api/v1/notifications/{notification_id}/read/"),
    ("post", "/api/v1/notifications/read-all/"),
    ("get", "/api/v1/notifications/unread-count/"),
    ("get", "/api/v1/notification-preferences/"),
    ("put", "/api/v1/notification-preferences/"),
}
# Bodiless transitions.
NO_REQUEST_BODY = {
    "/api/v1/roster/{entry_id}/reinstate/",
    "/api/v1/roster-memberships/{entry_id}/decline/",
    "/api/v1/notifications/{notification_id}/read/",
    "/api/v1/notifications/read-all/",
}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def operation(schema, method, path):
    return schema["paths"][path][method]


@pytest.mark.parametrize(("method", "path"), sorted(WORKFORCE))
def test_the_endpoint_is_documented_with_its_bodies(schema, method, path):
    op = operation(schema, method, path)

    success = next(code for code in op["responses"] if code.startswith("2"))
    assert op["responses"][success].get("content"), (method, path)
    if method in ("post", "put", "patch") and path not in NO_REQUEST_BODY:
        assert op["requestBody"]["content"], (method, path)
    assert op["tags"]


def test_the_credential_upload_is_documented_as_multipart(schema):
    body = operation(schema, "post", "/api/v1/credentials/")["requestBody"]["content"]

    assert list(body) == ["multipart/form-data"]
    component = body["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert schema["components"]["schemas"][component]["properties"]["evidence"]["format"] == "binary"


def test_the_expert_schema_never_requires_name_or_email(schema):
    expert = schema["components"]["schemas"]["Expert"]

    assert {"name", "email"} <= set(expert["properties"])
    assert not {"name", "email"} & set(expert["required"])
    assert not {"identifier", "evidence"} & set(schema["components"]["schemas"]["VerifiedCredential"]["properties"])


def test_the_evidence_download_is_documented_as_a_file(schema):
    content = operation(schema, "get", "/api/v1/credentials/{credential_id}/evidence/")["responses"]["200"]["content"]

    assert set(content) == {"application/pdf", "image/png", "image/jpeg"}
