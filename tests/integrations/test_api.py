"""The webhook API: endpoints (secret shown once), rotation, test events, the delivery log with
redelivery, and the event log (cursor-paginated, filtered, tenant-scoped)."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts import services as account_services
from apps.core.events import emit
from apps.integrations.models import Delivery, WebhookEndpoint

BASE = "/api/v1/webhook-endpoints/"


def _emit(orgs, event_type="batch.submitted", **data):
    with transaction.atomic():
        emit(event_type, obj=orgs[0], organization_ids=[o.pk for o in orgs], data=data)


def test_an_admin_registers_an_endpoint_and_sees_the_secret_once(api_as, lab, lab_admin, receiver):
    client = api_as(lab_admin)

    response = client.post(
        BASE, {"url": receiver.url, "event_types": ["batch.accepted", "batch.submitted"], "description": "ci"}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert body["event_types"] == ["batch.accepted", "batch.submitted"]
    assert body["status"] == "active"
    listed = client.get(BASE).json()["results"]
    assert [e["id"] for e in listed] == [body["id"]]
    assert "secret" not in listed[0]
    detail = client.get(f"{BASE}{body['id']}/").json()
    assert "secret" not in detail and body["secret"] not in str(detail)


def test_bad_input_names_the_field_and_stores_nothing(api_as, lab, lab_admin, settings):
    settings.WEBHOOK_REQUIRE_HTTPS = True

    response = api_as(lab_admin).post(
        BASE, {"url": "http://127.0.0.1:8000/x", "event_types": ["batch.exploded"]}, format="json"
    )

    assert response.status_code == 400
    details = response.json()["error"]["details"]
    assert set(details) == {"url", "event_types"}
    assert "batch.exploded" in details["event_types"][0]
    assert not WebhookEndpoint.objects.exists()


def test_a_lab_member_may_not_manage_webhooks(api_as, lab, lab_member, receiver):
    client = api_as(lab_member)

    assert client.post(BASE, {"url": receiver.url, "event_types": ["*"]}).status_code == 403
    assert client.get(BASE).status_code == 403
    assert client.get("/api/v1/events/").status_code == 403


def test_update_disable_enable_and_delete(api_as, lab, lab_admin, make_endpoint):
    endpoint, _secret = make_endpoint(lab_admin, lab)
    client = api_as(lab_admin)
    url = f"{BASE}{endpoint.public_id}/"

    response = client.patch(url, {"event_types": ["bid.submitted"], "description": "new", "active": False})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "disabled"
    assert response.json()["event_types"] == ["bid.submitted"]
    assert client.patch(url, {"active": True}).json()["status"] == "active"
    assert client.patch(url, {"secret": "mine"}).status_code == 400  # unknown field

    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404


def test_rotate_secret_returns_a_new_secret_once(api_as, lab, lab_admin, make_endpoint):
    endpoint, old = make_endpoint(lab_admin, lab)

    response = api_as(lab_admin).post(f"{BASE}{endpoint.public_id}/rotate-secret/")

    assert response.status_code == 200
    body = response.json()
    assert body["secret"] != old and body["secret_rotation_ends_at"] is not None


def test_the_test_endpoint_delivers_a_webhook_test_event(
    api_as, lab, lab_admin, make_endpoint, receiver, django_capture_on_commit_callbacks
):
    endpoint, _secret = make_endpoint(lab_admin, lab)

    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(lab_admin).post(f"{BASE}{endpoint.public_id}/test/")

    assert response.status_code == 202
    assert response.json()["event"]["type"] == "webhook.test"
    assert len(receiver.requests) == 1


def test_the_delivery_log_filters_and_redelivers(
    api_as, lab, lab_admin, make_endpoint, receiver, django_capture_on_commit_callbacks
):
    first, _ = make_endpoint(lab_admin, lab, event_types=["batch.submitted"])
    second, _ = make_endpoint(lab_admin, lab, event_types=["*"])
    receiver.answer(500)
    with django_capture_on_commit_callbacks(execute=True):
        _emit([lab], "batch.submitted", batch="b-1")
        _emit([lab], "batch.accepted", batch="b-1")
    client = api_as(lab_admin)

    everything = client.get("/api/v1/webhook-deliveries/").json()["results"]
    assert len(everything) == 3
    only_first = client.get(f"/api/v1/webhook-deliveries/?endpoint={first.public_id}").json()["results"]
    assert [d["event"]["type"] for d in only_first] == ["batch.submitted"]
    accepted = client.get("/api/v1/webhook-deliveries/?event_type=batch.accepted").json()["results"]
    assert [d["endpoint"] for d in accepted] == [str(second.public_id)]
    pending = client.get("/api/v1/webhook-deliveries/?status=pending").json()["results"]
    assert len(pending) == 3
    assert pending[0]["attempts"][0]["status_code"] == 500
    assert pending[0]["next_attempt_at"] is not None
    assert client.get("/api/v1/webhook-deliveries/?status=lost").status_code == 400

    receiver.answer(200)
    delivery_id = accepted[0]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/webhook-deliveries/{delivery_id}/redeliver/")
    assert response.status_code == 202
    assert Delivery.objects.get(public_id=delivery_id).status == "succeeded"


def test_the_event_log_is_cursor_paginated_oldest_first_and_filtered(api_as, lab, lab_admin):
    start = timezone.now()
    for minute in range(5):
        with time_machine.travel(start + timedelta(minutes=minute), tick=False):
            _emit([lab], "batch.submitted" if minute % 2 == 0 else "batch.accepted", n=minute)
    client = api_as(lab_admin)

    page = client.get("/api/v1/events/?page_size=2").json()
    assert [e["data"]["n"] for e in page["results"]] == [0, 1]
    page = client.get(page["next"]).json()
    assert [e["data"]["n"] for e in page["results"]] == [2, 3]
    typed = client.get("/api/v1/events/?type=batch.accepted").json()["results"]
    assert [e["data"]["n"] for e in typed] == [1, 3]
    after = (start + timedelta(minutes=2, seconds=30)).isoformat().replace("+00:00", "Z")
    caught_up = client.get("/api/v1/events/", {"created_after": after}).json()["results"]
    assert [e["data"]["n"] for e in caught_up] == [3, 4]
    assert set(caught_up[0]) == {"id", "type", "created", "data"}


def test_an_organisation_never_sees_another_s_events_endpoints_or_deliveries(
    api_as,
    lab,
    lab_admin,
    vendor,
    vendor_manager,
    outsider,
    make_endpoint,
    receiver,
    django_capture_on_commit_callbacks,
):
    endpoint, _ = make_endpoint(lab_admin, lab)
    vendor_endpoint, _ = make_endpoint(vendor_manager, vendor)
    with django_capture_on_commit_callbacks(execute=True):
        _emit([vendor], "batch.submitted", who="vendor-only")
        _emit([lab, vendor], "batch.accepted", who="both")
    lab_client, outsider_client = api_as(lab_admin), api_as(outsider)

    assert [e["data"]["who"] for e in lab_client.get("/api/v1/events/").json()["results"]] == ["both"]
    assert {d["endpoint"] for d in lab_client.get("/api/v1/webhook-deliveries/").json()["results"]} == {
        str(endpoint.public_id)
    }
    assert outsider_client.get("/api/v1/events/").json()["results"] == []
    assert outsider_client.get(f"{BASE}{endpoint.public_id}/").status_code == 404
    assert lab_client.get(f"{BASE}{vendor_endpoint.public_id}/").status_code == 404
    vendor_delivery = Delivery.objects.filter(endpoint=vendor_endpoint).first()
    assert lab_client.post(f"/api/v1/webhook-deliveries/{vendor_delivery.public_id}/redeliver/").status_code == 404
    # The receiver got the vendor-only event once (the vendor's endpoint) and the shared one twice.
    assert sorted(r.body.count(b"vendor-only") for r in receiver.requests) == [0, 0, 1]


def test_an_api_key_acts_for_its_own_organisation(lab, lab_admin, vendor, vendor_manager, make_endpoint):
    make_endpoint(vendor_manager, vendor)
    _key, raw = account_services.api_key_create(actor=lab_admin, organization=lab, name="ci")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert client.get(BASE).json()["results"] == []
    assert client.get(f"{BASE}?org={vendor.public_id}").status_code == 404
