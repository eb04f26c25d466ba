"""What each role sees and may do on the organisation settings page."""

import pytest
from django.urls import reverse

from apps.accounts.models import Invitation, Membership
from apps.accounts.roles import Role
from tests.pages.conftest import text

pytestmark = pytest.mark.django_db


def settings_url(org):
    return reverse("accounts:org_settings", args=[org.slug])


def test_owner_sees_members_invitations_api_keys_and_role_controls(as_user, lab, lab_owner, lab_member):
    response = as_user(lab_owner).get(settings_url(lab))

    page = text(response)
    assert response.status_code == 200
    assert lab_member.email in page
    assert 'id="invite-form"' in page
    assert 'id="api-keys"' in page
    assert "Change role" in page
    assert "Remove" in page


def test_lab_member_sees_colleagues_but_no_invite_form_or_api_keys(as_user, lab, lab_member, lab_owner):
    response = as_user(lab_member).get(settings_url(lab))

    page = text(response)
    assert response.status_code == 200
    assert lab_owner.email in page
    assert 'id="invite-form"' not in page
    assert "Send invitation" not in page
    assert 'id="api-keys"' not in page
    assert "Change role" not in page


def test_lab_member_posting_an_invitation_gets_403_and_nothing_is_created(as_user, lab, lab_member):
    response = as_user(lab_member).post(
        reverse("accounts:invitation_create", args=[lab.slug]), {"email": "friend@acme.test", "role": Role.MEMBER}
    )

    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_lab_admin_can_invite_but_sees_no_role_controls(as_user, lab, lab_admin, lab_member):
    response = as_user(lab_admin).get(settings_url(lab))

    page = text(response)
    assert 'id="invite-form"' in page
    assert "Change role" not in page
    assert "Only owners change roles" in page


def test_lab_admin_cannot_change_roles(as_user, lab, lab_admin, lab_member):
    membership = Membership.objects.get(user=lab_member, organization=lab)

    response = as_user(lab_admin).post(
        reverse("accounts:member_change_role", args=[lab.slug, membership.public_id]), {"role": Role.ADMIN}
    )

    assert response.status_code == 403
    membership.refresh_from_db()
    assert membership.role == Role.MEMBER


def test_owner_changes_a_members_role(as_user, lab, lab_owner, lab_member):
    membership = Membership.objects.get(user=lab_member, organization=lab)
    client = as_user(lab_owner)

    response = client.post(
        reverse("accounts:member_change_role", args=[lab.slug, membership.public_id]), {"role": Role.ADMIN}
    )

    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN
    assert f"{lab_member.email} is now admin." in text(client.get(settings_url(lab)))


def test_last_owner_cannot_demote_themselves_and_is_told_why(as_user, lab, lab_owner):
    membership = Membership.objects.get(user=lab_owner, organization=lab)
    client = as_user(lab_owner)

    response = client.post(
        reverse("accounts:member_change_role", args=[lab.slug, membership.public_id]),
        {"role": Role.MEMBER},
        follow=True,
    )

    assert "is the last owner" in text(response)
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


def test_owner_removes_a_member(as_user, lab, lab_owner, lab_member):
    membership = Membership.objects.get(user=lab_member, organization=lab)

    response = as_user(lab_owner).post(reverse("accounts:member_remove", args=[lab.slug, membership.public_id]))

    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_admin_cannot_remove_a_member(as_user, lab, lab_admin, lab_member):
    membership = Membership.objects.get(user=lab_member, organization=lab)

    response = as_user(lab_admin).post(reverse("accounts:member_remove", args=[lab.slug, membership.public_id]))

    assert response.status_code == 403
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_owner_revokes_a_pending_invitation(as_user, lab, lab_owner):
    client = as_user(lab_owner)
    client.post(reverse("accounts:invitation_create", args=[lab.slug]), {"email": "x@acme.test", "role": "member"})
    invitation = Invitation.objects.get(email="x@acme.test")

    response = client.post(reverse("accounts:invitation_revoke", args=[lab.slug, invitation.public_id]))

    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.REVOKED


def test_vendor_expert_sees_only_the_leave_section(as_user, vendor, expert):
    response = as_user(expert).get(settings_url(vendor))

    page = text(response)
    assert response.status_code == 200
    assert 'id="members"' not in page
    assert 'id="invite-form"' not in page
    assert 'id="api-keys"' not in page
    assert "Leave organisation" in page


def test_member_leaves_the_organisation(as_user, lab, lab_member):
    client = as_user(lab_member)

    response = client.post(reverse("accounts:org_leave", args=[lab.slug]), follow=True)

    assert not Membership.objects.filter(user=lab_member, organization=lab).exists()
    assert f"You left {lab.name}." in text(response)
    assert client.get(settings_url(lab)).status_code == 404


def test_last_owner_cannot_leave(as_user, lab, lab_owner):
    response = as_user(lab_owner).post(reverse("accounts:org_leave", args=[lab.slug]), follow=True)

    assert "is the last owner" in text(response)
    assert Membership.objects.filter(user=lab_owner, organization=lab).exists()


def test_anonymous_visitor_is_sent_to_log_in(client, lab):
    response = client.get(settings_url(lab))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
