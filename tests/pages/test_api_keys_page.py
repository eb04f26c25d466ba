"""API keys in the organisation settings: the raw key is shown once, in the creating response only."""

import pytest
from django.urls import reverse

from apps.accounts.models import ApiKey
from tests.pages.conftest import RAW_API_KEY, text

pytestmark = pytest.mark.django_db


def test_created_key_is_shown_once_and_never_again(as_user, lab, lab_admin):
    client = as_user(lab_admin)

    response = client.post(
        reverse("accounts:api_key_create", args=[lab.slug]), {"name": "labelling pipeline", "scopes": "*"}
    )

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    match = RAW_API_KEY.search(text(response))
    assert match is not None
    raw = match.group(0)
    key = ApiKey.objects.get(organization=lab)
    assert raw.startswith(key.prefix)
    for later in (reverse("accounts:org_settings", args=[lab.slug]), reverse("home")):
        page = text(client.get(later))
        assert raw not in page
        assert RAW_API_KEY.search(page) is None
    assert key.prefix in text(client.get(reverse("accounts:org_settings", args=[lab.slug])))
    assert all(raw not in str(value) for value in client.session.values())


def test_key_with_an_expiry_lists_its_creator_and_status(as_user, lab, lab_owner):
    client = as_user(lab_owner)

    client.post(
        reverse("accounts:api_key_create", args=[lab.slug]),
        {"name": "nightly", "expires_at": "2099-12-31T23:59", "scopes": "*"},
    )

    page = text(client.get(reverse("accounts:org_settings", args=[lab.slug])))
    key = ApiKey.objects.get(organization=lab)
    assert key.expires_at is not None and key.expires_at.year == 2099
    assert "nightly" in page
    assert lab_owner.email in page
    assert "Never" in page
    assert "Active" in page


def test_key_expiring_in_the_past_is_a_form_error(as_user, lab, lab_owner):
    response = as_user(lab_owner).post(
        reverse("accounts:api_key_create", args=[lab.slug]),
        {"name": "old", "expires_at": "2001-01-01T00:00", "scopes": "*"},
    )

    assert response.status_code == 400
    assert "Must be in the future." in text(response)
    assert not ApiKey.objects.exists()


def test_revoking_a_key_through_the_page(as_user, lab, lab_owner):
    client = as_user(lab_owner)
    client.post(reverse("accounts:api_key_create", args=[lab.slug]), {"name": "ci", "scopes": "*"})
    key = ApiKey.objects.get()

    response = client.post(reverse("accounts:api_key_revoke", args=[lab.slug, key.public_id]), follow=True)

    key.refresh_from_db()
    assert key.status == ApiKey.Status.REVOKED
    assert "is revoked" in text(response)


def test_lab_member_cannot_create_keys(as_user, lab, lab_member):
    response = as_user(lab_member).post(reverse("accounts:api_key_create", args=[lab.slug]), {"name": "mine"})

    assert response.status_code == 403
    assert not ApiKey.objects.exists()


def test_key_with_picked_scopes_and_expiry(as_user, lab, lab_owner):
    client = as_user(lab_owner)

    response = client.post(
        reverse("accounts:api_key_create", args=[lab.slug]),
        {"name": "pipeline", "expires_at": "2099-01-01T00:00", "scopes": ["projects:*", "bids:read"]},
    )

    assert response.status_code == 200
    key = ApiKey.objects.get(organization=lab)
    assert key.scopes == ["bids:read", "projects:*"]
    page = text(client.get(reverse("accounts:org_settings", args=[lab.slug])))
    assert "projects:*" in page and "bids:read" in page


def test_key_without_scopes_or_with_an_unknown_one_is_a_form_error(as_user, lab, lab_owner):
    client = as_user(lab_owner)

    none = client.post(reverse("accounts:api_key_create", args=[lab.slug]), {"name": "x"})
    unknown = client.post(reverse("accounts:api_key_create", args=[lab.slug]), {"name": "x", "scopes": "root:*"})

    assert none.status_code == 400 and unknown.status_code == 400
    assert "root:*" in text(unknown)
    assert not ApiKey.objects.exists()
