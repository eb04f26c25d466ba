"""API keys through the API: the raw key is shown once, listing never shows it, revoking stops it."""

from datetime import timedelta

from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import ApiKey, hash_secret


def keys_url(org, key=None):
    base = f"/api/v1/organizations/{org.public_id}/api-keys/"
    return f"{base}{key.public_id}/revoke/" if key else base


def test_creating_a_key_returns_the_raw_key_once(lab, lab_admin, api_as):
    expires = (timezone.now() + timedelta(days=30)).replace(microsecond=0)

    response = api_as(lab_admin).post(keys_url(lab), {"name": "warehouse", "expires_at": expires.isoformat()})

    assert response.status_code == 201
    body = response.json()
    key = ApiKey.objects.get(public_id=body["id"])
    assert hash_secret(body["key"]) == key.key_hash
    assert body["key"].startswith(body["prefix"])
    assert body["name"] == "warehouse"
    assert body["status"] == "active"
    assert body["last_used_at"] is None
    assert body["expires_at"] is not None and key.expires_at == expires
    assert {"created_at", "created_by", "organization"} <= body.keys()


def test_the_new_key_works_and_the_list_never_shows_a_secret(lab, lab_admin, api_as):
    raw = api_as(lab_admin).post(keys_url(lab), {"name": "warehouse"}).json()["key"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    listing = client.get(keys_url(lab))

    assert listing.status_code == 200
    (item,) = listing.json()["results"]
    assert "key" not in item and "key_hash" not in item
    assert raw not in listing.content.decode()
    assert item["last_used_at"] is not None


def test_an_expiry_in_the_past_is_refused_naming_the_field(lab, lab_admin, api_as):
    past = (timezone.now() - timedelta(minutes=1)).isoformat()

    response = api_as(lab_admin).post(keys_url(lab), {"name": "old", "expires_at": past})

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["expires_at"]
    assert not ApiKey.objects.exists()


def test_a_missing_name_is_refused_naming_the_field(lab, lab_admin, api_as):
    response = api_as(lab_admin).post(keys_url(lab), {})

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"name": ["This field is required."]}


def test_a_lab_member_cannot_manage_keys(lab, lab_member, api_as):
    client = api_as(lab_member)

    assert client.get(keys_url(lab)).status_code == 403
    response = client.post(keys_url(lab), {"name": "mine"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "role_not_allowed"


def test_revoking_a_key_stops_it_and_is_idempotent(lab, lab_admin, api_as, make_api_key):
    key, raw = make_api_key(lab_admin, lab)
    client = api_as(lab_admin)

    first = client.post(keys_url(lab, key))
    second = client.post(keys_url(lab, key))

    assert first.status_code == second.status_code == 200
    assert first.json()["status"] == "revoked" and first.json()["revoked_at"] is not None
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert bearer.get("/api/v1/me/").status_code == 401


def test_api_keys_filter_by_status(lab, lab_admin, api_as, make_api_key):
    revoked, _ = make_api_key(lab_admin, lab, name="old")
    make_api_key(lab_admin, lab, name="new")
    api_as(lab_admin).post(keys_url(lab, revoked))

    response = api_as(lab_admin).get(keys_url(lab) + "?status=active")

    assert [k["name"] for k in response.json()["results"]] == ["new"]
