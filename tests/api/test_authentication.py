"""API keys authenticate with ``Authorization: Bearer <key>``; anything else gets a 401 envelope."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import resolve, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts import services
from apps.accounts.models import ApiKey

ME = "/api/v1/me/"


def bearer(raw):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_a_valid_api_key_authenticates_as_its_creator(lab, lab_admin, make_api_key):
    key, raw = make_api_key(lab_admin, lab, name="etl")

    response = bearer(raw).get(ME)

    assert response.status_code == 200
    assert response.json()["user"]["email"] == lab_admin.email
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_an_anonymous_request_gets_401_with_the_envelope(db, api_client):
    response = api_client.get(ME)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_revoked_key_gets_401_with_the_envelope(lab, lab_admin, make_api_key):
    key, raw = make_api_key(lab_admin, lab)
    services.api_key_revoke(actor=lab_admin, api_key=key)

    response = bearer(raw).get(ME)

    assert response.status_code == 401
    body = response.json()
    assert body["error"]["code"] == "authentication_failed"
    assert set(body["error"]) == {"code", "message", "details"}


def test_an_expired_key_gets_401(lab, lab_admin, make_api_key):
    _key, raw = make_api_key(lab_admin, lab, expires_at=timezone.now() + timedelta(hours=1))
    assert bearer(raw).get(ME).status_code == 200

    with time_machine.travel(timezone.now() + timedelta(hours=1, seconds=1), tick=False):
        response = bearer(raw).get(ME)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_an_unknown_key_gets_401(db):
    response = bearer("hdk_00000000_not-a-real-key").get(ME)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


@pytest.mark.parametrize("header", ["Token abc", "Basic dXNlcjpwYXNz", "hdk_abc"])
def test_a_wrong_scheme_is_not_authenticated(db, lab, lab_admin, make_api_key, header):
    _key, raw = make_api_key(lab_admin, lab)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header.replace("hdk_abc", raw))

    response = client.get(ME)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_malformed_bearer_header_gets_401(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer two parts")

    response = client.get(ME)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_a_key_of_a_deactivated_user_gets_401(lab, lab_admin, make_api_key):
    _key, raw = make_api_key(lab_admin, lab)
    lab_admin.is_active = False
    lab_admin.save(update_fields=["is_active"])

    assert bearer(raw).get(ME).status_code == 401


def test_a_key_whose_creator_left_the_organisation_stops_working(lab, lab_owner, lab_admin, make_api_key):
    key, raw = make_api_key(lab_admin, lab)
    membership = lab_admin.memberships.get(organization=lab)

    services.membership_remove(actor=lab_owner, membership=membership)

    key.refresh_from_db()
    assert key.status == ApiKey.Status.REVOKED
    assert bearer(raw).get(ME).status_code == 401


def test_v1_routes_carry_the_version(db):
    match = resolve(ME)

    assert match.kwargs == {"version": "v1"}
    assert match.namespace == "api-v1"
    assert reverse("api-v1:me") == ME


@pytest.mark.urls("tests.api.urls_for_tests")
def test_the_request_version_is_v1(lab_admin, api_as):
    response = api_as(lab_admin).get("/test-api/v1/version/")

    assert response.json() == {"version": "v1"}


def test_an_unknown_version_is_not_routed(lab_admin, api_as):
    assert api_as(lab_admin).get("/api/v2/me/").status_code == 404
