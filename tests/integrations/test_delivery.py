"""Deliveries against a real receiver on 127.0.0.1: the body, the signature (verified with the snippet
of docs/webhooks.md), retries with backoff, disabling after 24 hours, rotation, redelivery."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.errors import DomainError
from apps.core.events import emit
from apps.core.models import AuditEvent
from apps.integrations import services
from apps.integrations.models import Delivery, Event, WebhookEndpoint
from apps.notifications.models import Notification

DOC = Path(settings.BASE_DIR, "docs", "webhooks.md")


def documented_verifier():
    """The ```python block of docs/webhooks.md, executed verbatim."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) == 1
    namespace: dict = {}
    exec(compile(blocks[0], str(DOC), "exec"), namespace)  # noqa: S102
    return namespace["verify_webhook"]


def fire(lab, django_capture_on_commit_callbacks, event_type="batch.submitted", orgs=None, data=None):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            emit(event_type, obj=lab, organization_ids=orgs or [lab.pk], data=data or {"batch": "b-1"})
    return Event.objects.latest("id")


def test_an_event_is_posted_signed_and_verifies_with_the_documented_snippet(
    lab, lab_admin, receiver, make_endpoint, django_capture_on_commit_callbacks
):
    endpoint, secret = make_endpoint(lab_admin, lab, event_types=["batch.submitted"])

    event = fire(lab, django_capture_on_commit_callbacks, data={"batch": "b-1", "unit_count": 5})

    [request] = receiver.requests
    body = json.loads(request.body)
    assert body == {
        "id": str(event.public_id),
        "type": "batch.submitted",
        "created": event.created_at.isoformat().replace("+00:00", "Z"),
        "data": {"batch": "b-1", "unit_count": 5},
    }
    assert request.headers["Webhook-Id"] == str(event.public_id)
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"].startswith("ExpertDataMarketplace-Webhooks/")
    verify = documented_verifier()
    assert verify(secret, request.headers, request.body)
    assert not verify(secret, request.headers, request.body + b" ")
    assert not verify("whsec_wrong", request.headers, request.body)
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert (delivery.status, delivery.attempt_count, delivery.last_status_code) == ("succeeded", 1, 200)
    attempt = delivery.attempts.get()
    assert attempt.succeeded and attempt.status_code == 200 and attempt.response_snippet == "answer 200"
    assert attempt.latency_ms >= 0


def test_a_stale_timestamp_does_not_verify(lab, lab_admin, receiver, make_endpoint, django_capture_on_commit_callbacks):
    _endpoint, secret = make_endpoint(lab_admin, lab)
    fire(lab, django_capture_on_commit_callbacks)
    [request] = receiver.requests

    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        assert not documented_verifier()(secret, request.headers, request.body)


def test_only_subscribed_types_are_delivered(
    lab, lab_admin, receiver, make_endpoint, django_capture_on_commit_callbacks
):
    make_endpoint(lab_admin, lab, event_types=["batch.accepted"])

    fire(lab, django_capture_on_commit_callbacks, event_type="batch.submitted")

    assert receiver.requests == []
    assert Delivery.objects.count() == 0
    assert Event.objects.filter(type="batch.submitted").count() == 1  # still in the event log


def test_a_rolled_back_transaction_stores_and_delivers_nothing(
    lab, lab_admin, receiver, make_endpoint, django_capture_on_commit_callbacks
):
    make_endpoint(lab_admin, lab)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                emit("batch.submitted", obj=lab, organization_ids=[lab.pk], data={})
                raise RuntimeError("the service failed after emitting")

    assert callbacks == []
    assert receiver.requests == []
    assert not Event.objects.exists() and not Delivery.objects.exists()


def test_another_organisations_event_is_never_delivered(
    lab, lab_admin, vendor, receiver, make_endpoint, django_capture_on_commit_callbacks
):
    make_endpoint(lab_admin, lab)

    fire(lab, django_capture_on_commit_callbacks, orgs=[vendor.pk])

    assert receiver.requests == []
    assert not Delivery.objects.exists()


def test_a_failure_is_retried_with_backoff_until_it_succeeds(
    lab, lab_admin, receiver, make_endpoint, django_capture_on_commit_callbacks
):
    receiver.answer(500, 503, 200)
    endpoint, _secret = make_endpoint(lab_admin, lab)
    start = timezone.now()

    with time_machine.travel(start, tick=False):
        fire(lab, django_capture_on_commit_callbacks)
        delivery = Delivery.objects.get()
        assert (delivery.status, delivery.attempt_count) == ("pending", 1)
        first_retry = delivery.next_attempt_at - start
        assert timedelta(seconds=54) <= first_retry <= timedelta(seconds=66)
        assert services.deliveries_send_due() == 0  # not due yet
        endpoint.refresh_from_db()
        assert endpoint.failing_since == start

    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        assert services.deliveries_send_due() == 1
        delivery.refresh_from_db()
        second_retry = delivery.next_attempt_at - (start + timedelta(minutes=2))
        assert timedelta(seconds=270) <= second_retry <= timedelta(seconds=330)

    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        assert services.deliveries_send_due() == 1

    delivery.refresh_from_db()
    endpoint.refresh_from_db()
    assert (delivery.status, delivery.attempt_count, delivery.next_attempt_at) == ("succeeded", 3, None)
    assert [a.status_code for a in delivery.attempts.order_by("number")] == [500, 503, 200]
    assert len(receiver.requests) == 3
    assert len({r.headers["Webhook-Id"] for r in receiver.requests}) == 1  # the same event id each time
    assert endpoint.failing_since is None
    assert AuditEvent.objects.filter(action="delivery.succeeded", target_id=delivery.pk).count() == 1


def test_a_redirect_is_not_followed(lab, lab_admin, receiver, make_endpoint, django_capture_on_commit_callbacks):
    receiver.answer(302)
    make_endpoint(lab_admin, lab)

    fire(lab, django_capture_on_commit_callbacks)

    attempt = Delivery.objects.get().attempts.get()
    assert attempt.status_code == 302 and not attempt.succeeded
    assert "not followed" in attempt.error
    assert len(receiver.requests) == 1


def test_an_endpoint_failing_for_24_hours_is_disabled_and_its_admins_told(
    lab, lab_owner, lab_admin, lab_member, receiver, make_endpoint, django_capture_on_commit_callbacks
):
    receiver.answer(500)
    endpoint, _secret = make_endpoint(lab_admin, lab)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fire(lab, django_capture_on_commit_callbacks)

    for hours in range(1, 24):
        with time_machine.travel(start + timedelta(hours=hours), tick=False):
            services.deliveries_send_due()
    endpoint.refresh_from_db()
    assert endpoint.status == "active"  # not yet 24 hours

    with time_machine.travel(start + timedelta(hours=24, minutes=1), tick=False):
        services.deliveries_send_due()

    endpoint.refresh_from_db()
    delivery = Delivery.objects.get()
    assert endpoint.status == "disabled" and "failed" in endpoint.disabled_reason
    assert delivery.status == "failed" and delivery.next_attempt_at is None
    told = set(Notification.objects.filter(kind="webhook.disabled").values_list("recipient__email", flat=True))
    assert told == {lab_owner.email, lab_admin.email}  # not the plain member
    # Disabled: a new event is logged but not delivered.
    count = len(receiver.requests)
    with time_machine.travel(start + timedelta(hours=25), tick=False):
        fire(lab, django_capture_on_commit_callbacks)
        assert services.deliveries_send_due() == 0
    assert len(receiver.requests) == count


def test_the_backoff_schedule_spans_24_hours_then_gives_up(
    lab, lab_admin, receiver, make_endpoint, django_capture_on_commit_callbacks
):
    receiver.answer(500)
    make_endpoint(lab_admin, lab)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fire(lab, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get()
    times = [start]
    while delivery.status == "pending":
        now = delivery.next_attempt_at
        times.append(now)
        with time_machine.travel(now, tick=False):
            services.delivery_send(delivery_id=delivery.pk)
        delivery.refresh_from_db()

    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    assert 54 <= gaps[0] <= 66 and 270 <= gaps[1] <= 330 and 1620 <= gaps[2] <= 1980
    assert times[-1] - start == timedelta(hours=24)  # the last attempt when the window closes
    assert delivery.status == "failed" and delivery.attempt_count == len(times)


def test_after_a_rotation_both_secrets_sign_until_the_grace_period_ends(
    lab, lab_admin, receiver, make_endpoint, django_capture_on_commit_callbacks
):
    endpoint, old = make_endpoint(lab_admin, lab)
    start = timezone.now()
    verify = documented_verifier()
    with time_machine.travel(start, tick=False):
        new = services.endpoint_rotate_secret(actor=lab_admin, endpoint=endpoint)
    assert new != old and new.startswith("whsec_")

    with time_machine.travel(start + timedelta(hours=23), tick=False):
        fire(lab, django_capture_on_commit_callbacks)
        request = receiver.requests[-1]
        assert len(request.headers["Webhook-Signature"].split()) == 2
        assert verify(new, request.headers, request.body)
        assert verify(old, request.headers, request.body)

    with time_machine.travel(start + timedelta(hours=24, seconds=1), tick=False):
        fire(lab, django_capture_on_commit_callbacks)
        request = receiver.requests[-1]
        assert len(request.headers["Webhook-Signature"].split()) == 1
        assert verify(new, request.headers, request.body)
        assert not verify(old, request.headers, request.body)


def test_the_secret_is_stored_encrypted(lab, lab_admin, make_endpoint):
    endpoint, secret = make_endpoint(lab_admin, lab)

    stored = WebhookEndpoint.objects.values_list("secret_encrypted", flat=True).get(pk=endpoint.pk)
    assert secret not in stored
    assert services.endpoint_secrets(endpoint) == [secret]


def test_redeliver_sends_the_same_event_again(
    lab, lab_admin, receiver, make_endpoint, django_capture_on_commit_callbacks
):
    make_endpoint(lab_admin, lab)
    fire(lab, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_redeliver(actor=lab_admin, delivery=delivery)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == ("succeeded", 2)
    assert len(receiver.requests) == 2
    assert receiver.requests[0].body == receiver.requests[1].body
    assert AuditEvent.objects.filter(action="delivery.pending", target_id=delivery.pk, actor=lab_admin).exists()


def test_redelivery_and_test_events_need_an_active_endpoint(lab, lab_admin, make_endpoint):
    endpoint, _secret = make_endpoint(lab_admin, lab)
    services.endpoint_update(actor=lab_admin, endpoint=endpoint, active=False)

    with pytest.raises(DomainError) as exc:
        services.endpoint_send_test(actor=lab_admin, endpoint=endpoint)
    assert exc.value.code == "endpoint_disabled"


def test_a_test_event_reaches_one_endpoint_only(
    lab, lab_admin, receiver, make_endpoint, django_capture_on_commit_callbacks
):
    endpoint, secret = make_endpoint(lab_admin, lab, event_types=["batch.accepted"])
    make_endpoint(lab_admin, lab, event_types=["*"])

    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.endpoint_send_test(actor=lab_admin, endpoint=endpoint)

    [request] = receiver.requests
    assert json.loads(request.body)["type"] == "webhook.test"
    assert documented_verifier()(secret, request.headers, request.body)
    assert Delivery.objects.get(pk=delivery.pk).status == "succeeded"


def test_the_send_time_check_refuses_a_host_that_now_resolves_privately(
    lab, lab_admin, receiver, make_endpoint, settings, django_capture_on_commit_callbacks
):
    make_endpoint(lab_admin, lab)
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False  # e.g. the name was re-pointed after registration

    fire(lab, django_capture_on_commit_callbacks)

    attempt = Delivery.objects.get().attempts.get()
    assert attempt.status_code is None and attempt.error.startswith("Refused:")
    assert receiver.requests == []


def test_a_claimed_delivery_is_not_sent_twice_and_is_retried_after_its_lease(lab, lab_admin, receiver, make_endpoint):
    make_endpoint(lab_admin, lab)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        with transaction.atomic():
            emit("batch.submitted", obj=lab, organization_ids=[lab.pk], data={})  # on_commit not run: a lost task
        delivery = Delivery.objects.get()
        # A worker claims it and dies before recording anything.
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=start + services.LEASE)
        assert services.deliveries_send_due() == 0

    with time_machine.travel(start + services.LEASE + timedelta(seconds=1), tick=False):
        assert services.deliveries_send_due() == 1
        assert services.delivery_send(delivery_id=delivery.pk) is False  # done: a second call is a no-op

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count, len(receiver.requests)) == ("succeeded", 1, 1)
