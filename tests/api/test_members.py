"""Members: who may list them, change their roles and remove them."""

from apps.accounts.models import Membership
from apps.accounts.roles import Role
from apps.core.models import AuditEvent


def members_url(org, member=None):
    base = f"/api/v1/organizations/{org.public_id}/members/"
    return f"{base}{member.public_id}/" if member else base


def membership(user, org):
    return Membership.objects.get(user=user, organization=org)


def test_a_lab_member_lists_the_members(lab, lab_owner, lab_member, api_as):
    response = api_as(lab_member).get(members_url(lab))

    assert response.status_code == 200
    results = response.json()["results"]
    assert {r["user"]["email"]: r["role"] for r in results} == {lab_owner.email: "owner", lab_member.email: "member"}
    assert results[0].keys() == {"id", "user", "organization", "role", "created_at"}
    assert results[0]["user"].keys() == {"id", "email", "full_name"}


def test_members_filter_by_role(lab, lab_owner, lab_admin, lab_member, api_as):
    response = api_as(lab_admin).get(members_url(lab) + "?role=admin")

    assert [r["user"]["email"] for r in response.json()["results"]] == [lab_admin.email]


def test_an_unknown_role_filter_is_a_400_naming_the_parameter(lab, lab_admin, api_as):
    response = api_as(lab_admin).get(members_url(lab) + "?role=emperor")

    assert response.status_code == 400
    assert "role" in response.json()["error"]["details"]


def test_members_are_paginated_with_a_cursor(lab, lab_owner, lab_admin, lab_member, api_as):
    client = api_as(lab_owner)

    first = client.get(members_url(lab) + "?page_size=2").json()
    second = client.get(first["next"]).json()

    assert len(first["results"]) == 2 and len(second["results"]) == 1
    assert "cursor=" in first["next"]
    seen = [r["id"] for r in first["results"] + second["results"]]
    assert len(set(seen)) == 3


def test_a_vendor_expert_cannot_list_members(vendor, expert, api_as):
    response = api_as(expert).get(members_url(vendor))

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "role_not_allowed"
    assert error["details"] == {"required_permission": "org.members.view", "role": "expert"}


def test_the_owner_changes_a_members_role(lab, lab_owner, lab_member, api_as):
    target = membership(lab_member, lab)

    response = api_as(lab_owner).patch(members_url(lab, target), {"role": "admin"})

    assert response.status_code == 200
    assert response.json()["role"] == "admin"
    target.refresh_from_db()
    assert target.role == Role.ADMIN
    assert AuditEvent.objects.filter(action="membership.role_changed", target_id=target.pk).count() == 1


def test_an_admin_cannot_change_roles(lab, lab_admin, lab_member, api_as):
    target = membership(lab_member, lab)

    response = api_as(lab_admin).patch(members_url(lab, target), {"role": "admin"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "role_not_allowed"
    target.refresh_from_db()
    assert target.role == Role.MEMBER


def test_the_last_owner_cannot_be_demoted(lab, lab_owner, api_as):
    response = api_as(lab_owner).patch(members_url(lab, membership(lab_owner, lab)), {"role": "admin"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "last_owner"
    assert membership(lab_owner, lab).role == Role.OWNER


def test_a_role_of_another_organisation_kind_is_refused_naming_the_field(lab, lab_owner, lab_member, api_as):
    response = api_as(lab_owner).patch(members_url(lab, membership(lab_member, lab)), {"role": "expert"})

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["role"]


def test_an_unknown_role_is_refused_naming_the_field(lab, lab_owner, lab_member, api_as):
    response = api_as(lab_owner).patch(members_url(lab, membership(lab_member, lab)), {"role": "emperor"})

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["role"]


def test_an_empty_patch_changes_nothing_but_still_needs_the_permission(lab, lab_owner, lab_admin, lab_member, api_as):
    target = membership(lab_member, lab)

    assert api_as(lab_owner).patch(members_url(lab, target), {}).json()["role"] == "member"
    assert api_as(lab_admin).patch(members_url(lab, target), {}).status_code == 403


def test_the_owner_removes_a_member(lab, lab_owner, lab_member, api_as):
    target = membership(lab_member, lab)

    response = api_as(lab_owner).delete(members_url(lab, target))

    assert response.status_code == 204
    assert not Membership.objects.filter(pk=target.pk).exists()


def test_a_member_leaves_by_removing_themself(lab, lab_member, api_as):
    response = api_as(lab_member).delete(members_url(lab, membership(lab_member, lab)))

    assert response.status_code == 204
    assert not Membership.objects.filter(user=lab_member, organization=lab).exists()


def test_a_member_cannot_remove_someone_else(lab, lab_owner, lab_member, api_as):
    response = api_as(lab_member).delete(members_url(lab, membership(lab_owner, lab)))

    assert response.status_code == 403
    assert Membership.objects.filter(user=lab_owner, organization=lab).exists()


def test_the_last_owner_cannot_be_removed(lab, lab_owner, api_as):
    response = api_as(lab_owner).delete(members_url(lab, membership(lab_owner, lab)))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "last_owner"
