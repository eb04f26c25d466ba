"""A real Celery worker consumes a real task from Redis and changes the database.

Everything else runs tasks in-process (eager); this is the one test that proves the broker
wiring, the task's registered name, JSON serialisation and the worker's database access.
"""

import os
import time
import uuid
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from celery.result import EagerResult
from celery.signals import task_postrun
from django.db import connections
from django.utils import timezone

from apps.accounts.models import Invitation, hash_secret
from apps.accounts.roles import Role
from apps.accounts.tasks import expire_invitations
from marketplace.celery import app as celery_app
from tests.factories import OrganizationFactory

BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
WAIT_SECONDS = 30

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(
        not BROKER_URL.startswith("redis://"),
        reason="needs a Redis broker: set CELERY_BROKER_URL=redis://127.0.0.1:6379/5 (CI does)",
    ),
]


def _close_worker_connections(**kwargs):
    # The worker thread's own connection would outlive the test and block the test database's flush/drop.
    connections.close_all()


@pytest.fixture
def live_worker():
    """A worker thread consuming from the configured Redis broker, with eager mode switched off."""
    conf = celery_app.conf
    saved = {"task_always_eager": conf.task_always_eager}
    conf.task_always_eager = False
    task_postrun.connect(_close_worker_connections, weak=False)
    try:
        celery_app.control.purge()  # leftovers of earlier runs must not be what the worker reports on
        with start_worker(
            celery_app, pool="solo", concurrency=1, perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10
        ) as worker:
            yield worker
    finally:
        task_postrun.disconnect(_close_worker_connections)
        conf.update(saved)


@pytest.mark.django_db(transaction=True)
def test_worker_expires_due_invitations_sent_through_the_broker(live_worker):
    org = OrganizationFactory()
    invitation = Invitation.objects.create(
        organization=org,
        email="late@invitee.test",
        role=Role.MEMBER,
        token_hash=hash_secret(uuid.uuid4().hex),
        expires_at=timezone.now() - timedelta(minutes=1),
    )

    result = expire_invitations.apply_async()

    assert not isinstance(result, EagerResult), "the task ran in-process, not through the broker"
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        invitation.refresh_from_db()
        if invitation.status != Invitation.Status.PENDING:
            break
        time.sleep(0.2)
    assert invitation.status == Invitation.Status.EXPIRED, f"the worker did not run the task within {WAIT_SECONDS}s"
