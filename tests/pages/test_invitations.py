"""Invitations through the pages: sending, accepting, and every way a link can be refused."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from apps.accounts import services
from apps.accounts.middleware import SESSION_KEY
from apps.accounts.models import Invitation, Membership
from apps.accounts.roles import Role
from tests.factories import UserFactory
from tests.pages.conftest import text

pytestmark = pytest.mark.django_db

LINK = re.compile(r"/invitations/([A-Za-z0-9_-]+)/")


def invite(actor, org, email, role=Role.MEMBER) -> str:
    _invitation, token = services.invitation_create(actor=actor, organization=org, email=email, role=role)
    return reverse("accounts:invitation_accept", args=[token])


def test_owner_invites_through_the_settings_page_and_the_email_carries_the_link(
    django_capture_on_commit_callbacks, as_user, lab, lab_owner
):
    client = as_user(lab_owner)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:invitation_create", args=[lab.slug]), {"email": "new@acme.test", "role": Role.ADMIN}
        )

    assert response.status_code == 302
    invitation = Invitation.objects.get(organization=lab, email="new@acme.test")
    assert invitation.role == Role.ADMIN
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert lab.name in body
    assert f"{settings.SITE_URL}/invitations/" in body
    settings_page = text(client.get(reverse("accounts:org_settings", args=[lab.slug])))
    assert "new@acme.test" in settings_page


def test_invitation_to_an_existing_member_is_a_form_error(as_user, lab, lab_owner, lab_member):
    response = as_user(lab_owner).post(
        reverse("accounts:invitation_create", args=[lab.slug]), {"email": lab_member.email, "role": Role.MEMBER}
    )

    assert response.status_code == 400
    assert "Already a member." in text(response)


def test_invitee_with_matching_email_accepts_and_lands_in_the_new_organisation(
    django_capture_on_commit_callbacks, as_user, client, lab, lab_owner
):
    with django_capture_on_commit_callbacks(execute=True):
        as_user(lab_owner).post(
            reverse("accounts:invitation_create", args=[lab.slug]), {"email": "joiner@acme.test", "role": "member"}
        )
    path = LINK.search(mail.outbox[0].body).group(0)
    client.logout()
    joiner = UserFactory(email="joiner@acme.test")
    client = as_user(joiner)

    page = client.get(path)
    assert page.status_code == 200
    assert lab.name in text(page)
    assert "Accept and join" in text(page)

    response = client.post(path)

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert Membership.objects.get(user=joiner, organization=lab).role == Role.MEMBER
    assert client.session[SESSION_KEY] == str(lab.public_id)
    dashboard = text(client.get(reverse("home")))
    assert f"Welcome to {lab.name}" in dashboard
    assert lab.name in dashboard


def test_anonymous_visitor_sees_the_invitation_and_is_asked_to_log_in(client, lab, lab_owner):
    path = invite(lab_owner, lab, "someone@acme.test")

    response = client.get(path)

    page = text(response)
    assert response.status_code == 200
    assert lab.name in page
    assert "Member" in page
    assert reverse("account_login") in page
    assert reverse("account_signup") in page
    assert client.session["pending_invitation_url"] == path


def test_expired_link_shows_the_expiry_message_and_creates_no_membership(as_user, lab, lab_owner):
    path = invite(lab_owner, lab, "late@acme.test")
    late = UserFactory(email="late@acme.test")
    client = as_user(late)

    with time_machine.travel(timezone.now() + timedelta(hours=settings.INVITATION_TTL_HOURS + 1)):
        shown = client.get(path)
        response = client.post(path)

    assert "This invitation has expired" in text(shown)
    assert "Accept and join" not in text(shown)
    assert response.status_code == 409
    assert "This invitation has expired; ask for a new one." in text(response)
    assert not Membership.objects.filter(user=late, organization=lab).exists()
    assert Invitation.objects.get(email="late@acme.test").status == Invitation.Status.EXPIRED


def test_accepting_twice_keeps_one_membership(as_user, lab, lab_owner):
    path = invite(lab_owner, lab, "twice@acme.test")
    client = as_user(UserFactory(email="twice@acme.test"))

    client.post(path)
    again = client.get(path)

    assert "You already accepted this invitation." in text(again)
    assert Membership.objects.filter(organization=lab, user__email="twice@acme.test").count() == 1


def test_reusing_a_link_after_leaving_is_refused(as_user, lab, lab_owner):
    path = invite(lab_owner, lab, "leaver@acme.test")
    leaver = UserFactory(email="leaver@acme.test")
    client = as_user(leaver)
    client.post(path)
    client.post(reverse("accounts:org_leave", args=[lab.slug]))

    shown = client.get(path)
    response = client.post(path)

    assert "already been used" in text(shown)
    assert response.status_code == 409
    assert "already been used" in text(response)
    assert not Membership.objects.filter(user=leaver, organization=lab).exists()


def test_used_link_is_refused_to_anyone_else(as_user, client, lab, lab_owner):
    path = invite(lab_owner, lab, "first@acme.test")
    as_user(UserFactory(email="first@acme.test")).post(path)
    client.logout()
    other = UserFactory(email="other@elsewhere.test")

    anonymous = client.get(path)
    response = as_user(other).post(path)

    assert "already been used" in text(anonymous)
    assert response.status_code == 403
    assert not Membership.objects.filter(user=other, organization=lab).exists()


def test_mismatched_email_is_explained_and_refused(as_user, lab, lab_owner, outsider):
    path = invite(lab_owner, lab, "intended@acme.test")
    client = as_user(outsider)

    shown = client.get(path)
    response = client.post(path)

    assert "This invitation was sent to intended@acme.test" in text(shown)
    assert "Accept and join" not in text(shown)
    assert response.status_code == 403
    assert "intended@acme.test" in text(response)
    assert not Membership.objects.filter(user=outsider, organization=lab).exists()


def test_revoked_link_is_refused(as_user, lab, lab_owner):
    path = invite(lab_owner, lab, "revoked@acme.test")
    invitation = Invitation.objects.get(email="revoked@acme.test")
    as_user(lab_owner).post(reverse("accounts:invitation_revoke", args=[lab.slug, invitation.public_id]))
    client = as_user(UserFactory(email="revoked@acme.test"))

    response = client.post(path)

    assert response.status_code == 409
    assert "revoked" in text(response)
    assert not Membership.objects.filter(user__email="revoked@acme.test", organization=lab).exists()


def test_unknown_link_is_404(client):
    response = client.get(reverse("accounts:invitation_accept", args=["not-a-real-token"]))

    assert response.status_code == 404
    assert "This invitation link is not valid." in text(response)
