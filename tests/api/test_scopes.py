"""API key scopes: every operation of the schema needs a scope, a key without it gets 403 naming it,
a key with it is never refused for scope reasons; sessions ignore scopes; expired keys get 401."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from apps.accounts import api_scopes, services
from apps.accounts.models import ApiKey
from apps.api import scopes

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def _operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, item in schema["paths"].items():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is not None:
                yield pytest.param(method, path, operation, id=operation["operationId"])


OPERATIONS = list(_operations())


def _url(path: str, operation: dict) -> str:
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", str(uuid.uuid4()))
    return path


def _call(client, method, url):
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, {}, format="json")


def _client(user, organization, scope_list):
    _key, raw = services.api_key_create(actor=user, organization=organization, name="s", scopes=scope_list)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _unrelated_scope(required: str) -> str:
    resource = required.split(":")[0]
    return "notifications:read" if resource != "notifications" else "org:read"


def test_every_operation_names_a_known_scope_in_the_schema():
    assert len(OPERATIONS) >= 99
    for param in OPERATIONS:
        _method, path, operation = param.values
        scope = operation["x-required-scope"]
        assert scope is None or scope in api_scopes.ALL_SCOPES, (path, scope)
        assert "scope" in operation["description"], path


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS)
def test_a_key_without_the_scope_gets_403_naming_it_and_with_it_is_not_refused_for_scope(
    db, lab, lab_owner, method, path, operation
):
    required = operation["x-required-scope"]
    url = _url(path, operation)
    if required:
        lacking = _call(_client(lab_owner, lab, [_unrelated_scope(required)]), method, url)
        assert lacking.status_code == 403, (url, lacking.content[:300])
        error = lacking.json()["error"]
        assert error["code"] == "missing_scope"
        assert error["details"]["required_scope"] == required
        assert required in error["message"]
    holding = _call(_client(lab_owner, lab, [required] if required else ["org:read"]), method, url)
    assert holding.status_code < 500, (url, holding.content[:300])
    if holding.status_code == 403:
        assert holding.json()["error"]["code"] != "missing_scope", url


def test_resource_wildcard_and_full_access_grant_both_actions(db, lab, lab_owner):
    for granted in (["projects:*"], ["*"]):
        client = _client(lab_owner, lab, granted)
        assert client.get("/api/v1/projects/").status_code == 200
        assert client.post("/api/v1/projects/", {}, format="json").status_code == 400  # past the scope, into input


def test_write_does_not_imply_read(db, lab, lab_owner):
    client = _client(lab_owner, lab, ["projects:write"])

    response = client.get("/api/v1/projects/")

    assert response.status_code == 403
    assert response.json()["error"]["details"]["required_scope"] == "projects:read"


def test_sessions_are_not_subject_to_scopes(db, lab, lab_owner):
    client = APIClient()
    client.force_login(lab_owner)

    assert client.get("/api/v1/projects/").status_code == 200


def test_me_needs_no_scope(db, lab, lab_owner):
    response = _client(lab_owner, lab, ["bids:read"]).get("/api/v1/me/")

    assert response.status_code == 200
    assert response.json()["api_key"]["scopes"] == ["bids:read"]


def test_an_expired_key_gets_401_saying_it_expired(db, lab, lab_owner):
    key, raw = services.api_key_create(actor=lab_owner, organization=lab, name="old", scopes=["*"])
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = client.get("/api/v1/projects/")

    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


def test_keys_are_created_with_scopes_through_the_api_and_cannot_escalate(db, lab, lab_owner):
    limited = _client(lab_owner, lab, ["org:*", "projects:read"])
    url = f"/api/v1/organizations/{lab.public_id}/api-keys/"

    narrower = limited.post(url, {"name": "reader", "scopes": ["projects:read"]}, format="json")
    wider = limited.post(url, {"name": "writer", "scopes": ["projects:*"]}, format="json")
    unknown = limited.post(url, {"name": "bad", "scopes": ["root:*"]}, format="json")

    assert narrower.status_code == 201, narrower.content
    assert narrower.json()["scopes"] == ["projects:read"]
    assert wider.status_code == 403
    assert wider.json()["error"]["code"] == "scope_escalation"
    assert unknown.status_code == 400
    assert "scopes" in unknown.json()["error"]["details"]
    assert ApiKey.objects.filter(name="writer").count() == 0


def test_keys_created_without_scopes_have_full_access(db, lab, lab_owner):
    key, _raw = services.api_key_create(actor=lab_owner, organization=lab, name="legacy")

    assert key.scopes == ["*"]


@pytest.mark.parametrize(
    ("module", "name", "method", "expected"),
    [
        ("apps.api.v1.projects.views", "ProjectListView", "GET", "projects:read"),
        ("apps.api.v1.bidding.views", "BidCreateView", "POST", "bids:write"),
        ("apps.api.v1.integrations.views", "WebhookEndpointListView", "GET", "webhooks:read"),
        ("apps.api.v1.integrations.views", "EventListView", "GET", "events:read"),
        ("apps.api.v1.quality.views", "ScoreListView", "GET", "quality:read"),
        ("apps.api.v1.accounts.views", "MemberUpdateView", "PATCH", "org:write"),
    ],
)
def test_the_scope_is_derived_from_the_module_and_method(module, name, method, expected):
    view = type(name, (), {"__module__": module})

    assert scopes.required_scope(view, method) == expected


def test_a_view_overrides_the_derived_scope():
    resource = type("V", (), {"__module__": "apps.api.v1.integrations.views", "scope_resource": "events"})
    fixed = type("W", (), {"__module__": "apps.api.v1.work.views", "required_scope": "quality:read"})

    assert scopes.required_scope(resource, "POST") == "events:write"
    assert scopes.required_scope(fixed, "POST") == "quality:read"
