"""Invitations through the API: invite, list, revoke, and accept with the link's token."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts import services
from apps.accounts.models import Invitation, Membership
from apps.accounts.roles import Role
from tests.factories import UserFactory

ACCEPT = "/api/v1/invitations/accept/"


def invitations_url(org, invitation=None):
    base = f"/api/v1/organizations/{org.public_id}/invitations/"
    return f"{base}{invitation.public_id}/revoke/" if invitation else base


def token_from_mail(message) -> str:
    return re.search(r"/invitations/([A-Za-z0-9_-]+)/", message.body).group(1)


@pytest.fixture
def invite(lab, lab_owner):
    """A pending invitation of ``email`` to the lab; returns (invitation, raw token)."""

    def make(email="newcomer@acme.test", role=Role.MEMBER):
        return services.invitation_create(actor=lab_owner, organization=lab, email=email, role=role)

    return make


def test_an_admin_invites_and_the_invitee_accepts_through_the_api(
    lab, lab_admin, api_as, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        created = api_as(lab_admin).post(invitations_url(lab), {"email": "Newcomer@Acme.test", "role": "member"})

    assert created.status_code == 201
    body = created.json()
    assert body["email"] == "newcomer@acme.test"
    assert body["status"] == "pending"
    assert body["role"] == "member"
    assert body["invited_by"]["email"] == lab_admin.email
    assert body["organization"]["id"] == str(lab.public_id)
    expires = timezone.datetime.fromisoformat(body["expires_at"])
    assert abs(expires - (timezone.now() + timedelta(hours=settings.INVITATION_TTL_HOURS))) < timedelta(minutes=1)
    (message,) = mail.outbox
    token = token_from_mail(message)
    assert token not in created.content.decode()
    assert "token" not in body and "token_hash" not in body

    invitee = UserFactory(email="newcomer@acme.test")
    accepted = api_as(invitee).post(ACCEPT, {"token": token})

    assert accepted.status_code == 200
    assert accepted.json()["organization"]["id"] == str(lab.public_id)
    assert accepted.json()["role"] == "member"
    assert accepted.json()["user"]["email"] == "newcomer@acme.test"
    assert Membership.objects.filter(user=invitee, organization=lab, role=Role.MEMBER).exists()
    assert Invitation.objects.get(public_id=body["id"]).status == Invitation.Status.ACCEPTED


def test_accepting_twice_is_idempotent_for_the_invitee(invite, lab, api_as):
    _invitation, token = invite()
    client = api_as(UserFactory(email="newcomer@acme.test"))

    first = client.post(ACCEPT, {"token": token})
    second = client.post(ACCEPT, {"token": token})

    assert first.status_code == second.status_code == 200
    assert first.json()["id"] == second.json()["id"]


def test_a_lab_member_cannot_invite(lab, lab_member, api_as):
    response = api_as(lab_member).post(invitations_url(lab), {"email": "x@acme.test", "role": "member"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "role_not_allowed"
    assert not Invitation.objects.exists()


def test_an_admin_cannot_invite_an_owner(lab, lab_admin, api_as):
    response = api_as(lab_admin).post(invitations_url(lab), {"email": "boss@acme.test", "role": "owner"})

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["role"]


def test_an_invalid_email_is_refused_naming_the_field(lab, lab_admin, api_as):
    response = api_as(lab_admin).post(invitations_url(lab), {"email": "not-an-email", "role": "member"})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["details"]) == ["email"]
    assert error["message"].startswith("email:")


def test_an_unknown_field_is_refused(lab, lab_admin, api_as):
    response = api_as(lab_admin).post(
        invitations_url(lab), {"email": "x@acme.test", "role": "member", "status": "accepted"}
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"status": ["Unknown field."]}
    assert not Invitation.objects.exists()


def test_a_second_pending_invitation_to_the_same_address_is_refused(invite, lab, lab_admin, api_as):
    invite(email="dup@acme.test")

    response = api_as(lab_admin).post(invitations_url(lab), {"email": "dup@acme.test", "role": "member"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invitation_already_pending"


def test_accepting_with_another_email_is_forbidden(invite, lab, lab_member, api_as):
    _invitation, token = invite(email="someone.else@acme.test")

    response = api_as(UserFactory(email="intruder@acme.test")).post(ACCEPT, {"token": token})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "invitation_email_mismatch"


def test_a_revoked_invitation_cannot_be_used(invite, lab, lab_admin, api_as):
    invitation, token = invite()
    revoked = api_as(lab_admin).post(invitations_url(lab, invitation))
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"

    response = api_as(UserFactory(email="newcomer@acme.test")).post(ACCEPT, {"token": token})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invitation_not_pending"


def test_an_expired_invitation_cannot_be_used(invite, lab, api_as):
    invitation, token = invite()
    invitee = UserFactory(email="newcomer@acme.test")

    with time_machine.travel(invitation.expires_at + timedelta(seconds=1), tick=False):
        response = api_as(invitee).post(ACCEPT, {"token": token})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invitation_expired"
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.EXPIRED
    assert not Membership.objects.filter(user=invitee, organization=lab).exists()


def test_an_unknown_token_is_404(db, api_as):
    response = api_as(UserFactory()).post(ACCEPT, {"token": "nope"})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "invitation_not_found"


def test_an_api_key_cannot_accept_an_invitation_to_another_organisation(invite, vendor, vendor_manager, make_api_key):
    _invitation, token = invite(email=vendor_manager.email)
    _key, raw = make_api_key(vendor_manager, vendor)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = client.post(ACCEPT, {"token": token})

    assert response.status_code == 404
    assert not Membership.objects.filter(user=vendor_manager, organization__slug="acme-lab").exists()


def test_invitations_are_listed_and_filtered_by_status(invite, lab, lab_admin, api_as):
    pending, _ = invite(email="a@acme.test")
    revoked, _ = invite(email="b@acme.test")
    api_as(lab_admin).post(invitations_url(lab, revoked))

    everything = api_as(lab_admin).get(invitations_url(lab)).json()["results"]
    only_pending = api_as(lab_admin).get(invitations_url(lab) + "?status=pending").json()["results"]

    assert {i["email"] for i in everything} == {"a@acme.test", "b@acme.test"}
    assert [i["id"] for i in only_pending] == [str(pending.public_id)]
    assert all("token" not in i and "token_hash" not in i for i in everything)


def test_a_lab_member_cannot_list_or_revoke_invitations(invite, lab, lab_member, api_as):
    invitation, _ = invite()

    assert api_as(lab_member).get(invitations_url(lab)).status_code == 403
    assert api_as(lab_member).post(invitations_url(lab, invitation)).status_code == 403
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.PENDING
