"""An outsider gets 404 for every page and action of an organisation they are not in."""

import pytest
from django.urls import reverse

from apps.accounts import services
from apps.accounts.models import ApiKey, Invitation, Membership
from apps.accounts.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def lab_objects(lab, lab_owner, lab_member):
    invitation, _ = services.invitation_create(actor=lab_owner, organization=lab, email="p@acme.test", role="member")
    key, _ = services.api_key_create(actor=lab_owner, organization=lab, name="pipeline")
    membership = Membership.objects.get(user=lab_member, organization=lab)
    return {"invitation": invitation, "key": key, "membership": membership}


ACTIONS = [
    ("accounts:invitation_create", None, {"email": "spy@other.test", "role": Role.MEMBER}),
    ("accounts:invitation_revoke", "invitation", {}),
    ("accounts:member_change_role", "membership", {"role": Role.OWNER}),
    ("accounts:member_remove", "membership", {}),
    ("accounts:api_key_create", None, {"name": "stolen"}),
    ("accounts:api_key_revoke", "key", {}),
    ("accounts:org_leave", None, {}),
]


def test_outsider_gets_404_for_another_organisations_settings(as_user, lab, outsider):
    assert as_user(outsider).get(reverse("accounts:org_settings", args=[lab.slug])).status_code == 404


def test_unknown_organisation_is_404_like_a_foreign_one(as_user, outsider):
    assert as_user(outsider).get(reverse("accounts:org_settings", args=["no-such-org"])).status_code == 404


@pytest.mark.parametrize(("name", "target", "data"), ACTIONS, ids=[a[0].split(":")[1] for a in ACTIONS])
def test_outsider_gets_404_for_every_action_and_nothing_changes(
    as_user, lab, outsider, lab_objects, name, target, data
):
    args = [lab.slug] + ([lab_objects[target].public_id] if target else [])

    response = as_user(outsider).post(reverse(name, args=args), data)

    assert response.status_code == 404
    assert Invitation.objects.filter(status=Invitation.Status.PENDING).count() == 1
    assert ApiKey.objects.filter(status=ApiKey.Status.ACTIVE).count() == 1
    assert Membership.objects.get(pk=lab_objects["membership"].pk).role == Role.MEMBER
    assert not Membership.objects.filter(user=outsider, organization=lab).exists()


def test_ids_from_another_organisation_are_404_inside_your_own(as_user, lab_objects, outsider):
    own = outsider.memberships.get().organization
    key = lab_objects["key"]

    response = as_user(outsider).post(reverse("accounts:api_key_revoke", args=[own.slug, key.public_id]))

    assert response.status_code == 404
    key.refresh_from_db()
    assert key.status == ApiKey.Status.ACTIVE
