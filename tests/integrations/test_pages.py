"""The webhook pages: admins register an endpoint (secret shown once), see the delivery log, redeliver,
rotate, test, disable and enable; members and other organisations cannot."""

from __future__ import annotations

from django.db import transaction
from django.test import Client

from apps.core.events import emit
from apps.integrations.models import Delivery, WebhookEndpoint


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(lab, lab_admin, receiver):
    client = _client(lab_admin)
    settings_page = client.get(f"/orgs/{lab.slug}/settings/")
    assert f"/orgs/{lab.slug}/webhooks/" in settings_page.content.decode()

    response = client.post(
        f"/orgs/{lab.slug}/webhooks/", {"url": receiver.url, "description": "pipeline", "event_types": ["*"]}
    )

    assert response.status_code == 201
    endpoint = WebhookEndpoint.objects.get()
    body = response.content.decode()
    assert "whsec_" in body and response["Cache-Control"] == "no-store, private"
    detail = client.get(f"/orgs/{lab.slug}/webhooks/{endpoint.public_id}/").content.decode()
    assert "whsec_" not in detail and receiver.url in detail


def test_a_bad_url_is_shown_on_the_form_and_nothing_is_stored(lab, lab_admin, settings):
    settings.WEBHOOK_REQUIRE_HTTPS = True

    response = _client(lab_admin).post(
        f"/orgs/{lab.slug}/webhooks/", {"url": "http://127.0.0.1:1/x", "event_types": ["*"]}
    )

    assert response.status_code == 400
    assert "must use https" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_the_delivery_log_shows_attempts_and_redelivers(
    lab, lab_admin, receiver, make_endpoint, django_capture_on_commit_callbacks
):
    endpoint, _ = make_endpoint(lab_admin, lab)
    receiver.answer(500, 200)
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            emit("batch.submitted", obj=lab, organization_ids=[lab.pk], data={"batch": "b"})
    client = _client(lab_admin)
    url = f"/orgs/{lab.slug}/webhooks/{endpoint.public_id}/"

    page = client.get(url).content.decode()
    assert "batch.submitted" in page and "HTTP 500" in page and "Next retry" in page

    delivery = Delivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{url}deliveries/{delivery.public_id}/redeliver/")
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"


def test_rotate_test_disable_enable_and_delete(
    lab, lab_admin, receiver, make_endpoint, django_capture_on_commit_callbacks
):
    endpoint, old = make_endpoint(lab_admin, lab)
    client = _client(lab_admin)
    url = f"/orgs/{lab.slug}/webhooks/{endpoint.public_id}/"

    rotated = client.post(f"{url}rotate-secret/")
    assert rotated.status_code == 200 and "whsec_" in rotated.content.decode() and old not in rotated.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"{url}test/").status_code == 302
    assert len(receiver.requests) == 1
    client.post(f"{url}toggle/")
    endpoint.refresh_from_db()
    assert endpoint.status == "disabled"
    client.post(f"{url}toggle/")
    endpoint.refresh_from_db()
    assert endpoint.status == "active"
    assert client.post(f"{url}delete/").status_code == 302
    assert not WebhookEndpoint.objects.exists()


def test_members_and_other_organisations_are_kept_out(lab, lab_admin, lab_member, outsider, make_endpoint):
    endpoint, _ = make_endpoint(lab_admin, lab)
    url = f"/orgs/{lab.slug}/webhooks/"

    assert _client(lab_member).get(url).status_code == 403
    assert _client(outsider).get(url).status_code == 404
    assert _client(outsider).get(f"{url}{endpoint.public_id}/").status_code == 404
    assert _client(outsider).post(f"{url}{endpoint.public_id}/delete/").status_code == 404
    assert WebhookEndpoint.objects.exists()
