"""``Idempotency-Key`` on API POSTs: replay the first answer, refuse a reused key, never store a 5xx."""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import Invitation
from apps.api import idempotency
from apps.api.models import IdempotencyRecord
from apps.api.tasks import purge_idempotency_records
from tests.api import urls_for_tests
from tests.factories import UserFactory


def invitations_url(org):
    return f"/api/v1/organizations/{org.public_id}/invitations/"


def post_json(client, url, body: bytes, key: str | None = "key-1"):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(url, data=body, content_type="application/json", headers=headers)


INVITE = json.dumps({"email": "newcomer@acme.test", "role": "member"}).encode()


def test_a_repeat_replays_the_first_response_and_creates_nothing_more(lab, lab_admin, api_as):
    client = api_as(lab_admin)

    first = post_json(client, invitations_url(lab), INVITE)
    second = post_json(client, invitations_url(lab), INVITE)

    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"] == "application/json"
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Invitation.objects.count() == 1
    record = IdempotencyRecord.objects.get()
    assert record.caller == f"user:{lab_admin.pk}"
    assert record.state == IdempotencyRecord.State.COMPLETED
    assert record.response_status == 201


def test_an_api_key_caller_is_scoped_to_its_key(lab, lab_admin, key_client):
    client = key_client(lab_admin, lab)

    first = post_json(client, invitations_url(lab), INVITE)
    second = post_json(client, invitations_url(lab), INVITE)

    assert first.status_code == 201 and second["Idempotent-Replayed"] == "true"
    assert IdempotencyRecord.objects.get().caller.startswith("key:")


def test_the_same_key_from_another_caller_is_independent(lab, lab_owner, lab_admin, api_as):
    post_json(api_as(lab_admin), invitations_url(lab), INVITE)
    other = json.dumps({"email": "second@acme.test", "role": "member"}).encode()

    response = post_json(api_as(lab_owner), invitations_url(lab), other)

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Invitation.objects.count() == 2


def test_the_same_key_with_a_different_body_is_422(lab, lab_admin, api_as):
    client = api_as(lab_admin)
    post_json(client, invitations_url(lab), INVITE)

    other = json.dumps({"email": "someone.else@acme.test", "role": "member"}).encode()
    response = post_json(client, invitations_url(lab), other)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert Invitation.objects.count() == 1


def test_the_same_key_on_another_path_is_422(lab, lab_admin, api_as):
    client = api_as(lab_admin)
    post_json(client, invitations_url(lab), INVITE)

    response = post_json(client, f"/api/v1/organizations/{lab.public_id}/api-keys/", INVITE)

    assert response.status_code == 422


def test_a_repeat_while_the_first_is_in_progress_is_409(lab, lab_admin, api_as):
    path = invitations_url(lab)
    IdempotencyRecord.objects.create(
        caller=f"user:{lab_admin.pk}",
        key="key-1",
        method="POST",
        path=path,
        request_hash=idempotency.request_fingerprint("POST", path, INVITE),
    )

    response = post_json(api_as(lab_admin), path, INVITE)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_request_in_progress"
    assert not Invitation.objects.exists()


def test_a_client_error_is_stored_and_replayed(lab, lab_member, api_as):
    client = api_as(lab_member)  # a member may not invite

    first = post_json(client, invitations_url(lab), INVITE)
    second = post_json(client, invitations_url(lab), INVITE)

    assert first.status_code == second.status_code == 403
    assert second.content == first.content and second["Idempotent-Replayed"] == "true"


def test_a_post_without_the_header_is_not_recorded(lab, lab_admin, api_as):
    post_json(api_as(lab_admin), invitations_url(lab), INVITE, key=None)

    assert not IdempotencyRecord.objects.exists()


def test_the_header_on_a_get_is_ignored(lab, lab_admin, api_as):
    response = api_as(lab_admin).get(invitations_url(lab), headers={"Idempotency-Key": "key-1"})

    assert response.status_code == 200
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize("key", ["", "x" * 256])
def test_an_invalid_key_is_a_400_naming_the_header(lab, lab_admin, api_as, key):
    response = post_json(api_as(lab_admin), invitations_url(lab), INVITE, key=key)

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["Idempotency-Key"]
    assert not Invitation.objects.exists()


def test_an_unauthenticated_post_is_refused_before_any_record(lab, api_client):
    response = post_json(api_client, invitations_url(lab), INVITE)

    assert response.status_code == 401
    assert not IdempotencyRecord.objects.exists()


def test_an_expired_key_counts_as_new(lab, lab_admin, api_as):
    client = api_as(lab_admin)
    post_json(client, invitations_url(lab), INVITE)
    later = timezone.now() + timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS, minutes=1)

    other = json.dumps({"email": "second@acme.test", "role": "member"}).encode()
    with time_machine.travel(later, tick=False):
        response = post_json(client, invitations_url(lab), other)

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert IdempotencyRecord.objects.get().request_hash == idempotency.request_fingerprint(
        "POST", invitations_url(lab), other
    )


def test_the_purge_task_deletes_only_expired_records(lab, lab_admin, api_as):
    client = api_as(lab_admin)
    post_json(client, invitations_url(lab), INVITE, key="old")
    with time_machine.travel(timezone.now() + timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS + 1)):
        post_json(client, invitations_url(lab), json.dumps({"email": "b@acme.test", "role": "member"}), key="new")

        result = purge_idempotency_records.apply()

    assert result.get() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


def test_the_fingerprint_covers_method_path_and_body():
    base = idempotency.request_fingerprint("POST", "/a/", b"{}")

    assert base == idempotency.request_fingerprint("post", "/a/", b"{}")
    assert base != idempotency.request_fingerprint("POST", "/a/?x=1", b"{}")
    assert base != idempotency.request_fingerprint("POST", "/a/", b"{ }")
    assert idempotency.request_fingerprint("POST", "/ab", b"") != idempotency.request_fingerprint("POST", "/a", b"b")


# --- server errors, crashes and races (test-only views on the real base class) -------------------


def closing_connections(fn, *args):
    """Run ``fn`` in a worker thread and close that thread's database connections afterwards."""
    try:
        return fn(*args)
    finally:
        connections.close_all()


@pytest.fixture
def test_views():
    urls_for_tests.reset()
    yield urls_for_tests
    urls_for_tests.Blocking.release.set()


@pytest.mark.urls("tests.api.urls_for_tests")
def test_a_5xx_is_not_stored_and_a_retry_runs_again(db, test_views, api_as):
    client = api_as(UserFactory())

    first = post_json(client, "/test-api/v1/unavailable/", b"{}")
    second = post_json(client, "/test-api/v1/unavailable/", b"{}")

    assert first.status_code == second.status_code == 503
    assert "Idempotent-Replayed" not in second
    assert test_views.Unavailable.calls == 2
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.urls("tests.api.urls_for_tests")
def test_an_unhandled_exception_releases_the_key(db, test_views, api_as):
    client = api_as(UserFactory())
    client.raise_request_exception = False

    first = post_json(client, "/test-api/v1/crashing/", b"{}")
    second = post_json(client, "/test-api/v1/crashing/", b"{}")

    assert first.status_code == second.status_code == 500
    assert test_views.Crashing.calls == 2
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.urls("tests.api.urls_for_tests")
@pytest.mark.django_db(transaction=True)
def test_a_repeat_during_the_first_request_is_409_then_replays(test_views):
    """Two real concurrent requests: the record is committed before the handler runs."""
    user = UserFactory()

    def client():
        c = APIClient()
        c.force_login(user)
        return c

    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(closing_connections, post_json, client(), "/test-api/v1/blocking/", b'{"n": 1}')
        try:
            assert test_views.Blocking.entered.wait(timeout=10)
            during = post_json(client(), "/test-api/v1/blocking/", b'{"n": 1}')
        finally:
            test_views.Blocking.release.set()
        first_response = first.result(timeout=10)
    after = post_json(client(), "/test-api/v1/blocking/", b'{"n": 1}')

    assert during.status_code == 409
    assert during.json()["error"]["code"] == "idempotency_request_in_progress"
    assert first_response.status_code == 201
    assert after.status_code == 201 and after["Idempotent-Replayed"] == "true"
    assert after.content == first_response.content
    assert test_views.Blocking.calls == 1


@pytest.mark.urls("tests.api.urls_for_tests")
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs real concurrent writers (PostgreSQL)")
def test_simultaneous_first_requests_run_the_handler_once(test_views):
    """N threads race to insert the same key: the unique constraint lets exactly one through."""
    user = UserFactory()
    threads = 8
    barrier = threading.Barrier(threads)

    def attempt():
        c = APIClient()
        c.force_login(user)
        barrier.wait(timeout=10)
        return post_json(c, "/test-api/v1/blocking/", b'{"n": 1}')

    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [pool.submit(closing_connections, attempt) for _ in range(threads)]
        try:
            assert test_views.Blocking.entered.wait(timeout=10)
            # Let the losers answer while the winner is still held, then release it.
            deadline = time.monotonic() + 10
            while sum(f.done() for f in futures) < threads - 1 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            test_views.Blocking.release.set()
        statuses = sorted(f.result(timeout=10).status_code for f in futures)

    assert statuses == [201] + [409] * (threads - 1)
    assert test_views.Blocking.calls == 1
