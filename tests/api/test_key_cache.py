"""The per-process cache of verified API keys (``API_KEY_CACHE_SECONDS``): a repeat request costs no
key query; a changed key or user clears it; expiry is still checked on every request."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from apps.api import authentication

ME = "/api/v1/me/"


@pytest.fixture(autouse=True)
def cache_on(settings):
    settings.API_KEY_CACHE_SECONDS = 5
    authentication.clear_key_cache()
    yield
    authentication.clear_key_cache()


def bearer(raw):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def key_queries(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(ME).status_code == 200
    return [q["sql"] for q in queries.captured_queries if "accounts_apikey" in q["sql"]]


def test_a_repeat_request_does_not_look_the_key_up_again(lab, lab_admin, make_api_key):
    _key, raw = make_api_key(lab_admin, lab, name="etl")
    client = bearer(raw)

    assert key_queries(client)
    assert key_queries(client) == []


def test_saving_the_key_clears_the_cache(lab, lab_admin, make_api_key):
    key, raw = make_api_key(lab_admin, lab, name="etl")
    client = bearer(raw)
    key_queries(client)

    key.name = "renamed"
    key.save()

    assert key_queries(client)


def test_a_deactivated_owner_is_refused_at_once(lab, lab_admin, make_api_key):
    _key, raw = make_api_key(lab_admin, lab, name="etl")
    client = bearer(raw)
    key_queries(client)

    lab_admin.is_active = False
    lab_admin.save()

    assert client.get(ME).status_code == 401


def test_expiry_is_checked_on_every_request(lab, lab_admin, make_api_key, time_machine):
    key, raw = make_api_key(lab_admin, lab, name="etl")
    key.expires_at = timezone.now() + timedelta(minutes=1)
    key.save()
    client = bearer(raw)
    key_queries(client)

    time_machine.move_to(timezone.now() + timedelta(minutes=2))

    assert client.get(ME).status_code == 401


def test_a_membership_change_is_seen_by_the_next_request(lab, lab_admin, make_api_key):
    from apps.accounts.models import Membership

    _key, raw = make_api_key(lab_admin, lab, name="etl", scopes=["projects:read"])
    client = bearer(raw)
    assert client.get("/api/v1/projects/").status_code == 200

    Membership.objects.filter(user=lab_admin, organization=lab).delete()

    assert client.get("/api/v1/projects/").status_code in (403, 404)


def membership_queries(client, path="/api/v1/projects/"):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return [q["sql"] for q in queries.captured_queries if 'FROM "accounts_membership"' in q["sql"]]


def test_the_creators_membership_is_cached_with_the_key(lab, lab_admin, make_api_key):
    _key, raw = make_api_key(lab_admin, lab, name="etl", scopes=["projects:read"])
    client = bearer(raw)
    membership_queries(client)

    assert membership_queries(client) == []


def test_a_role_change_clears_the_cache(lab, lab_admin, make_api_key):
    from apps.accounts.models import Membership
    from apps.accounts.roles import Role

    _key, raw = make_api_key(lab_admin, lab, name="etl", scopes=["projects:read", "projects:write"])
    client = bearer(raw)
    assert client.get("/api/v1/projects/").status_code == 200

    membership = Membership.objects.get(user=lab_admin, organization=lab)
    membership.role = Role.MEMBER
    membership.save()

    response = client.post("/api/v1/projects/", {"title": "Not allowed now"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "role_not_allowed"
