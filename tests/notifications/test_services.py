"""notify(): an in-app row always, an e-mail after commit (once, unless turned off); reading them."""

import uuid

import pytest
from django.db import transaction

from apps.core.errors import NotFound, ValidationFailed
from apps.notifications import services
from apps.notifications.kinds import KINDS
from apps.notifications.models import Notification
from apps.notifications.selectors import notification_list, notification_preferences, notification_unread_count
from apps.notifications.tasks import send_notification_email
from tests.factories import UserFactory

KIND = "credential.verified"


@pytest.fixture
def person(db):
    return UserFactory(email="dr.ray@example.test")


def tell(recipient, kind=KIND, **fields):
    defaults = {
        "title": "Verified: Radiology licence",
        "body": "Your licence was verified.",
        "url": "/experts/credentials/",
    }
    return services.notify(recipient=recipient, kind=kind, **{**defaults, **fields})


# --- notify ---------------------------------------------------------------------------------------------


def test_notify_creates_the_row_and_emails_it_once_after_commit(
    person, settings, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        note = tell(person)

    # the row exists at once; the e-mail waits for the commit
    assert (note.recipient, note.kind, note.read_at, note.emailed_at) == (person, KIND, None, None)
    assert len(callbacks) == 1
    assert mailoutbox == []

    for callback in callbacks:  # the commit: the celery task runs (eagerly in tests)
        callback()

    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert (email.to, email.subject) == ([person.email], "Verified: Radiology licence")
    assert "Your licence was verified." in email.body
    assert f"{settings.SITE_URL}/experts/credentials/" in email.body
    note.refresh_from_db()
    assert note.emailed_at is not None


def test_notification_email_send_twice_sends_one_email(person, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        note = tell(person)

    assert services.notification_email_send(notification_id=note.pk) is False
    assert send_notification_email.delay(note.pk).get() is False

    assert len(mailoutbox) == 1


def test_notification_email_send_for_a_missing_notification_sends_nothing(db, mailoutbox):
    assert services.notification_email_send(notification_id=987654) is False
    assert mailoutbox == []


def test_notify_sends_nothing_when_the_transaction_rolls_back(person, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            tell(person)
            raise RuntimeError("the business change failed")

    assert callbacks == []
    assert mailoutbox == []
    assert not Notification.objects.exists()


def test_email_turned_off_for_a_kind_keeps_the_in_app_notification(
    person, django_capture_on_commit_callbacks, mailoutbox
):
    services.notification_preference_set(actor=person, kind=KIND, email_enabled=False)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        note = tell(person)
        other = tell(person, kind="credential.rejected", title="Not verified")

    assert Notification.objects.filter(pk__in=[note.pk, other.pk]).count() == 2
    assert len(callbacks) == 1
    assert [m.subject for m in mailoutbox] == ["Not verified"]


def test_email_turned_back_on_is_sent_again(person, django_capture_on_commit_callbacks, mailoutbox):
    services.notification_preference_set(actor=person, kind=KIND, email_enabled=False)
    services.notification_preference_set(actor=person, kind=KIND, email_enabled=True)

    with django_capture_on_commit_callbacks(execute=True):
        tell(person)

    assert len(mailoutbox) == 1


def test_a_caller_that_sends_its_own_email_suppresses_the_notification_email(
    person, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        note = tell(person, email=False)

    assert Notification.objects.filter(pk=note.pk).exists()
    assert callbacks == []
    assert mailoutbox == []


def test_a_deactivated_account_gets_no_email(db, django_capture_on_commit_callbacks, mailoutbox):
    gone = UserFactory(is_active=False)

    with django_capture_on_commit_callbacks(execute=True):
        tell(gone)

    assert Notification.objects.filter(recipient=gone).count() == 1
    assert mailoutbox == []


def test_notify_with_an_unknown_kind_raises_and_creates_nothing(person):
    with pytest.raises(ValueError, match="Unknown notification kind"):
        tell(person, kind="credential.teleported")

    assert not Notification.objects.exists()


def test_notify_many_tells_each_recipient(db, django_capture_on_commit_callbacks, mailoutbox):
    people = UserFactory.create_batch(3)

    with django_capture_on_commit_callbacks(execute=True):
        count = services.notify_many(recipients=people, kind="roster.joined", title="Someone joined")

    assert count == 3
    assert set(Notification.objects.values_list("recipient", flat=True)) == {p.pk for p in people}
    assert sorted(m.to[0] for m in mailoutbox) == sorted(p.email for p in people)


# --- preferences ------------------------------------------------------------------------------------------


def test_notification_preferences_list_every_kind_with_email_on_by_default(person):
    services.notification_preference_set(actor=person, kind=KIND, email_enabled=False)
    services.notification_preference_set(actor=person, kind=KIND, email_enabled=False)

    prefs = {p["kind"]: p["email_enabled"] for p in notification_preferences(actor=person)}

    assert set(prefs) == set(KINDS)
    assert [kind for kind, on in prefs.items() if not on] == [KIND]


def test_a_preference_for_an_unknown_kind_is_refused_naming_kind(person):
    with pytest.raises(ValidationFailed) as exc:
        services.notification_preference_set(actor=person, kind="nope", email_enabled=False)

    assert "kind" in exc.value.details


# --- reading --------------------------------------------------------------------------------------------------


def test_mark_read_marks_one_of_ones_own_notifications_once(person):
    note = tell(person)
    tell(person)

    first = services.notification_mark_read(actor=person, notification_public_id=note.public_id)
    read_at = first.read_at
    again = services.notification_mark_read(actor=person, notification_public_id=note.public_id)

    assert read_at is not None
    assert again.read_at == read_at
    assert notification_unread_count(actor=person) == 1


@pytest.mark.parametrize("whose", ["someone-else", "made-up"])
def test_mark_read_of_a_notification_that_is_not_ones_own_is_not_found(person, whose):
    other = tell(UserFactory())
    public_id = other.public_id if whose == "someone-else" else uuid.uuid4()

    with pytest.raises(NotFound) as exc:
        services.notification_mark_read(actor=person, notification_public_id=public_id)

    assert exc.value.code == "notification_not_found"
    other.refresh_from_db()
    assert other.read_at is None


def test_mark_all_read_marks_only_ones_own_unread_notifications(person):
    for _ in range(3):
        tell(person)
    already = tell(person)
    services.notification_mark_read(actor=person, notification_public_id=already.public_id)
    someone_else = UserFactory()
    tell(someone_else)

    assert notification_unread_count(actor=person) == 3
    assert services.notification_mark_all_read(actor=person) == 3
    assert services.notification_mark_all_read(actor=person) == 0

    assert notification_unread_count(actor=person) == 0
    assert notification_unread_count(actor=someone_else) == 1


def test_notification_list_shows_ones_own_newest_first_and_can_show_unread_only(person):
    first = tell(person, title="First")
    second = tell(person, title="Second")
    tell(UserFactory(), title="Not mine")
    services.notification_mark_read(actor=person, notification_public_id=second.public_id)

    assert [n.title for n in notification_list(actor=person)] == ["Second", "First"]
    assert [n.pk for n in notification_list(actor=person, unread_only=True)] == [first.pk]
