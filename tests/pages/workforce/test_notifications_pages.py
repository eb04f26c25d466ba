"""The bell in the header, the notification list, marking read and e-mail settings per kind."""

import pytest
from django.urls import reverse

from apps.notifications.kinds import KINDS
from apps.notifications.models import Notification, NotificationPreference
from apps.notifications.services import notify
from tests.pages.conftest import text

pytestmark = pytest.mark.django_db


def bell(page: str) -> str:
    start = page.index('id="notification-bell"')
    return page[start : page.index("</a>", start)]


@pytest.fixture
def two_unread(independent_expert):
    return [
        notify(
            recipient=independent_expert,
            kind="credential.verified",
            title="Verified: Board certified radiologist",
            url="/experts/credentials/",
            email=False,
        ),
        notify(recipient=independent_expert, kind="roster.invited", title="Northwind invited you", email=False),
    ]


def test_bell_shows_the_unread_count(as_user, independent_expert, two_unread):
    page = text(as_user(independent_expert).get(reverse("home")))

    assert '<span class="bell__count" aria-hidden="true">2</span>' in bell(page)
    assert "2 unread" in bell(page)


def test_bell_has_no_count_when_everything_is_read(as_user, independent_expert):
    page = text(as_user(independent_expert).get(reverse("home")))

    assert "bell__count" not in bell(page)


def test_the_count_costs_one_query(rf, independent_expert, two_unread, django_assert_num_queries):
    from apps.notifications.context_processors import unread_notifications

    request = rf.get("/")
    request.user = independent_expert
    with django_assert_num_queries(1):
        assert unread_notifications(request) == {"unread_notification_count": 2}


def test_list_shows_notifications_and_marks_one_read(as_user, independent_expert, two_unread):
    client = as_user(independent_expert)
    first = two_unread[0]
    page = text(client.get(reverse("notifications:list")))
    assert "Verified: Board certified radiologist" in page
    assert "Northwind invited you" in page

    response = client.post(reverse("notifications:mark_read", args=[first.public_id]))

    assert response.status_code == 302
    first.refresh_from_db()
    assert first.read_at is not None
    assert '<span class="bell__count" aria-hidden="true">1</span>' in bell(text(client.get(response["Location"])))


def test_opening_a_notification_marks_it_read_and_goes_to_its_page(as_user, independent_expert, two_unread):
    first = two_unread[0]

    response = as_user(independent_expert).post(
        reverse("notifications:mark_read", args=[first.public_id]), {"open": "1"}
    )

    assert response["Location"] == "/experts/credentials/"
    first.refresh_from_db()
    assert first.read_at is not None


def test_mark_all_read_clears_the_bell(as_user, independent_expert, two_unread):
    client = as_user(independent_expert)

    response = client.post(reverse("notifications:mark_all_read"))

    assert not Notification.objects.filter(recipient=independent_expert, read_at__isnull=True).exists()
    assert "bell__count" not in bell(text(client.get(response["Location"])))


def test_someone_elses_notification_is_404(as_user, outsider, two_unread):
    response = as_user(outsider).post(reverse("notifications:mark_read", args=[two_unread[0].public_id]))

    assert response.status_code == 404
    two_unread[0].refresh_from_db()
    assert two_unread[0].read_at is None


def test_settings_turn_email_off_for_one_kind(as_user, independent_expert):
    client = as_user(independent_expert)
    page = text(client.get(reverse("notifications:settings")))
    assert "A credential of yours was verified" in page
    assert 'name="credential.verified" id="id_credential.verified" checked' in page

    everything_but_verified = {kind: "on" for kind in KINDS if kind != "credential.verified"}

    client.post(reverse("notifications:settings"), everything_but_verified)

    prefs = NotificationPreference.objects.filter(user=independent_expert)
    assert [(p.kind, p.email_enabled) for p in prefs] == [("credential.verified", False)]
    page = text(client.get(reverse("notifications:settings")))
    assert 'name="credential.verified" id="id_credential.verified" checked' not in page
