"""Who sees the person behind a handle: never a lab; a vendor only for experts on its roster; operations."""

import pytest

from apps.accounts.roles import OrgKind, Role
from apps.experts import services
from tests.factories import MembershipFactory, OrganizationFactory, member

from .conftest import verified_credential

URL = "/api/v1/experts/"


@pytest.fixture
def rostered(vendor, vendor_manager, operations, make_expert, domains):
    """An expert on the vendor's roster, with an identifier on a verified credential."""
    person = make_expert("rostered@x.test", full_name="Dr Rosa Rostered", domains=["radiology"])
    verified_credential(person, operations, identifier="SECRET-LIC-998")
    entry, _token = services.roster_invite(actor=vendor_manager, vendor=vendor, email=person.email)
    services.roster_accept(actor=person, entry=entry)
    return person


@pytest.fixture
def independent(make_expert, operations, domains):
    person = make_expert("independent@x.test", full_name="Dr Ivan Independent", domains=["law"])
    verified_credential(person, operations, identifier="SECRET-LIC-777")
    return person


def bodies(client, *people):
    """The raw bytes of the search and of each person's detail."""
    yield client.get(URL).content
    for person in people:
        response = client.get(f"{URL}{person.expert_profile.public_id}/")
        assert response.status_code == 200
        yield response.content


def assert_never_mentions(raw: bytes, *people):
    for person in people:
        assert person.email.encode() not in raw
        assert person.full_name.encode() not in raw
        assert person.full_name.split()[-1].encode() not in raw


@pytest.mark.parametrize("persona", ["lab_owner", "lab_admin", "lab_member"])
def test_a_lab_never_receives_an_experts_name_or_email(persona, request, api_as, rostered, independent):
    client = api_as(request.getfixturevalue(persona))

    for raw in bodies(client, rostered, independent):
        assert_never_mentions(raw, rostered, independent)
        assert b"SECRET-LIC" not in raw
        assert b"evidence" not in raw


def test_a_lab_api_key_never_receives_an_experts_name_or_email(lab, lab_owner, key_client, rostered, independent):
    client = key_client(lab_owner, lab)

    for raw in bodies(client, rostered, independent):
        assert_never_mentions(raw, rostered, independent)


def test_the_name_and_email_keys_are_absent_when_not_visible(lab_member, api_as, independent):
    row = api_as(lab_member).get(URL).json()["results"][0]

    assert row["identity_visible"] is False
    assert "name" not in row and "email" not in row


def test_a_vendor_sees_name_and_email_only_for_experts_on_its_roster(vendor_manager, api_as, rostered, independent):
    rows = {row["handle"]: row for row in api_as(vendor_manager).get(URL).json()["results"]}

    mine = rows[rostered.expert_profile.handle]
    assert mine["identity_visible"] is True
    assert (mine["name"], mine["email"]) == ("Dr Rosa Rostered", "rostered@x.test")
    stranger = rows[independent.expert_profile.handle]
    assert stranger["identity_visible"] is False
    assert "name" not in stranger and "email" not in stranger
    for raw in bodies(api_as(vendor_manager), independent):
        assert_never_mentions(raw, independent)


def test_a_vendor_loses_sight_of_an_offboarded_expert(vendor, vendor_manager, api_as, rostered):
    entry = rostered.roster_entries.get(vendor=vendor)
    services.roster_offboard(actor=vendor_manager, entry=entry, reason="Contract ended")

    raw = api_as(vendor_manager).get(f"{URL}{rostered.expert_profile.public_id}/").content

    assert_never_mentions(raw, rostered)


def test_another_vendor_does_not_see_the_rostered_expert(api_as, rostered):
    rival = OrganizationFactory(kind=OrgKind.VENDOR, name="Rival")
    rival_manager = member(rival, Role.MANAGER, email="m@rival.test")

    for raw in bodies(api_as(rival_manager), rostered):
        assert_never_mentions(raw, rostered)


def test_a_vendor_manager_acting_for_their_lab_sees_no_names(lab, vendor, vendor_manager, api_as, rostered):
    MembershipFactory(user=vendor_manager, organization=lab, role=Role.MEMBER)
    client = api_as(vendor_manager)

    as_lab = client.get(f"{URL}?org={lab.public_id}")
    as_vendor = client.get(f"{URL}?org={vendor.public_id}")

    assert_never_mentions(as_lab.content, rostered)
    assert as_vendor.json()["results"][0]["email"] == rostered.email


def test_operations_see_who_every_expert_is(operations, api_as, rostered, independent):
    rows = api_as(operations).get(URL).json()["results"]

    assert {row["email"] for row in rows} == {rostered.email, independent.email}


def test_an_api_key_never_carries_staff_visibility(lab, operations, key_client, independent):
    # A platform operator who also belongs to a lab: the lab's key acts as a lab member, not as staff.
    MembershipFactory(user=operations, organization=lab, role=Role.OWNER)

    raw = key_client(operations, lab).get(URL).content

    assert_never_mentions(raw, independent)
