"""The daily credential job: expire what passed its expiry date, remind 30 days ahead, once."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from apps.experts import services
from apps.experts.models import Credential
from apps.experts.tasks import daily_credential_maintenance
from apps.notifications.models import Notification
from tests.experts.support import audit_actions
from tests.factories import CredentialFactory

S = Credential.Status
NOON = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
TODAY = NOON.date()


def verified(**fields):
    return CredentialFactory(verified=True, **fields)


def days(n: int) -> timedelta:
    return timedelta(days=n)


def test_credentials_expire_due_expires_pending_and_verified_credentials_past_expiry_and_notifies(
    db, django_capture_on_commit_callbacks, mailoutbox
):
    # given credentials that expired yesterday, expire today, expire tomorrow, or never expire
    with time_machine.travel(NOON - days(60), tick=False):
        past_pending = CredentialFactory(expires_on=TODAY - days(1))
        today_verified = verified(expires_on=TODAY)
        tomorrow = verified(expires_on=TODAY + days(1))
        never = verified(expires_on=None)
        rejected = CredentialFactory(status=S.REJECTED, expires_on=TODAY - days(1))

    # when the daily job runs
    with time_machine.travel(NOON, tick=False), django_capture_on_commit_callbacks(execute=True):
        expired = services.credentials_expire_due()

    # then exactly the due pending and verified credentials expired and their owners were told
    assert expired == 2
    statuses = {c.pk: Credential.objects.get(pk=c.pk).status for c in (past_pending, today_verified, tomorrow, never)}
    assert statuses == {
        past_pending.pk: S.EXPIRED,
        today_verified.pk: S.EXPIRED,
        tomorrow.pk: S.VERIFIED,
        never.pk: S.VERIFIED,
    }
    rejected.refresh_from_db()
    assert rejected.status == S.REJECTED
    owners = set(Notification.objects.filter(kind="credential.expired").values_list("recipient", flat=True))
    assert owners == {past_pending.profile.user_id, today_verified.profile.user_id}
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        [past_pending.profile.user.email, today_verified.profile.user.email]
    )
    assert audit_actions(today_verified) == ["credential.expired"]


def test_credentials_expire_due_run_twice_expires_and_notifies_once(db):
    credential = verified(expires_on=TODAY - days(1))

    with time_machine.travel(NOON, tick=False):
        assert services.credentials_expire_due() == 1
        assert services.credentials_expire_due() == 0

    assert audit_actions(credential) == ["credential.expired"]
    assert Notification.objects.filter(kind="credential.expired").count() == 1


def test_credentials_expire_due_sends_no_email_before_commit(db, django_capture_on_commit_callbacks, mailoutbox):
    verified(expires_on=TODAY - days(1))

    with time_machine.travel(NOON, tick=False), django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.credentials_expire_due()

    assert len(callbacks) == 1
    assert mailoutbox == []


def test_expiry_reminder_is_sent_30_days_ahead_exactly_once(db, django_capture_on_commit_callbacks, mailoutbox):
    # given a verified credential expiring in 30 days and one expiring in 31
    in_30 = verified(expires_on=TODAY + days(30), title="Radiology licence")
    in_31 = verified(expires_on=TODAY + days(31), title="Board certificate")

    # when the reminder job runs twice today
    with time_machine.travel(NOON, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert services.credential_expiry_reminders_send() == 1
        assert services.credential_expiry_reminders_send() == 0

    # then only the 30-day one was reminded, once, with the days left
    in_30.refresh_from_db()
    assert in_30.expiry_reminder_sent_on == TODAY
    note = Notification.objects.get(kind="credential.expiring")
    assert (note.recipient_id, note.title) == (in_30.profile.user_id, "Radiology licence expires in 30 days")
    assert [m.subject for m in mailoutbox] == ["Radiology licence expires in 30 days"]

    # when it runs again the next day
    with time_machine.travel(NOON + days(1), tick=False), django_capture_on_commit_callbacks(execute=True):
        assert services.credential_expiry_reminders_send() == 1

    # then the 31-day one (now 30 days out) is reminded and the first is not reminded again
    assert Notification.objects.filter(kind="credential.expiring", recipient=in_30.profile.user).count() == 1
    assert Notification.objects.filter(kind="credential.expiring", recipient=in_31.profile.user).count() == 1
    assert len(mailoutbox) == 2


@pytest.mark.parametrize(
    "fields",
    [
        {"status": S.PENDING, "expires_on": TODAY + days(10)},
        {"status": S.REVOKED, "verified_at": NOON, "expires_on": TODAY + days(10)},
        {"status": S.VERIFIED, "verified_at": NOON, "expires_on": None},
        {"status": S.VERIFIED, "verified_at": NOON, "expires_on": TODAY},
    ],
    ids=["pending", "revoked", "no-expiry", "expires-today"],
)
def test_expiry_reminders_skip_credentials_that_are_not_verified_and_upcoming(db, fields):
    CredentialFactory(**fields)

    with time_machine.travel(NOON, tick=False):
        assert services.credential_expiry_reminders_send() == 0

    assert not Notification.objects.exists()


def test_daily_credential_maintenance_task_returns_the_counts(db, django_capture_on_commit_callbacks, mailoutbox):
    # given one credential past expiry and two within the reminder window
    verified(expires_on=TODAY - days(2))
    verified(expires_on=TODAY + days(5))
    verified(expires_on=TODAY + days(29))

    # when celery beat fires the task (eager in tests)
    with time_machine.travel(NOON, tick=False), django_capture_on_commit_callbacks(execute=True):
        result = daily_credential_maintenance.delay().get()
        again = daily_credential_maintenance.delay().get()

    assert result == {"expired": 1, "reminded": 2}
    assert again == {"expired": 0, "reminded": 0}
    assert len(mailoutbox) == 3
