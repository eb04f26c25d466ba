"""The caller's notifications and e-mail preferences through the API."""

import pytest

from apps.notifications.kinds import KINDS
from apps.notifications.models import Notification, NotificationPreference
from apps.notifications.services import notify
from tests.factories import UserFactory

URL = "/api/v1/notifications/"
PREFS = "/api/v1/notification-preferences/"


@pytest.fixture
def person(db):
    return UserFactory(email="bell@x.test")


@pytest.fixture
def inbox(person):
    """Three notifications for ``person`` (oldest first) and one for someone else."""
    mine = [
        notify(recipient=person, kind="credential.verified", title=f"Verified {n}", url="/experts/credentials/")
        for n in range(3)
    ]
    notify(recipient=UserFactory(), kind="credential.verified", title="Not yours")
    return mine


def titles(response):
    assert response.status_code == 200, response.content
    return [row["title"] for row in response.json()["results"]]


def test_the_list_shows_the_callers_notifications_newest_first(person, inbox, api_as):
    response = api_as(person).get(URL)

    assert titles(response) == ["Verified 2", "Verified 1", "Verified 0"]
    assert set(response.json()["results"][0]) == {"id", "kind", "title", "body", "url", "data", "read_at", "created_at"}


def test_marking_one_read_and_filtering_unread(person, inbox, api_as):
    client = api_as(person)

    response = client.post(f"{URL}{inbox[1].public_id}/read/")

    assert response.status_code == 200
    assert response.json()["read_at"] is not None
    assert titles(client.get(URL + "?unread=true")) == ["Verified 2", "Verified 0"]
    assert client.get(URL + "unread-count/").json() == {"unread_count": 2}


def test_marking_read_twice_keeps_the_first_time(person, inbox, api_as):
    client = api_as(person)
    first = client.post(f"{URL}{inbox[0].public_id}/read/").json()["read_at"]

    second = client.post(f"{URL}{inbox[0].public_id}/read/").json()["read_at"]

    assert first == second


def test_someone_elses_notification_is_not_found(person, inbox, api_as):
    theirs = Notification.objects.exclude(recipient=person).get()

    response = api_as(person).post(f"{URL}{theirs.public_id}/read/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "notification_not_found"
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_read_all_marks_only_the_callers(person, inbox, api_as):
    client = api_as(person)

    response = client.post(URL + "read-all/")

    assert response.json() == {"marked_read": 3}
    assert client.get(URL + "unread-count/").json() == {"unread_count": 0}
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


def test_a_malformed_unread_filter_is_a_400_naming_it(person, api_as):
    response = api_as(person).get(URL + "?unread=perhaps")

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["unread"]


def test_preferences_list_every_kind_with_email_on_by_default(person, api_as):
    body = api_as(person).get(PREFS).json()

    assert [p["kind"] for p in body] == list(KINDS)
    assert all(p["email_enabled"] for p in body)
    assert body[0]["label"] == KINDS[body[0]["kind"]]


def test_turning_email_off_for_one_kind(person, api_as):
    client = api_as(person)

    response = client.put(PREFS, {"kind": "roster.invited", "email_enabled": False})

    assert response.status_code == 200
    assert response.json() == {"kind": "roster.invited", "label": KINDS["roster.invited"], "email_enabled": False}
    prefs = {p["kind"]: p["email_enabled"] for p in client.get(PREFS).json()}
    assert prefs["roster.invited"] is False
    assert sum(not enabled for enabled in prefs.values()) == 1


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"kind": "weather.report", "email_enabled": False}, {"kind"}),
        ({"kind": "roster.invited"}, {"email_enabled"}),
        ({"kind": "roster.invited", "email_enabled": False, "sms": True}, {"sms"}),
    ],
)
def test_a_bad_preference_is_a_400_naming_the_field(person, api_as, body, fields):
    response = api_as(person).put(PREFS, body)

    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == fields
    assert not NotificationPreference.objects.exists()


def test_a_lab_api_key_cannot_read_a_members_notifications(lab, lab_owner, key_client):
    notify(recipient=lab_owner, kind="credential.verified", title="Private")
    client = key_client(lab_owner, lab)

    for response in (client.get(URL), client.get(URL + "unread-count/"), client.get(PREFS)):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "api_key_out_of_scope"
