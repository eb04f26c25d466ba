"""Vendor rosters through the API: the vendor's side (invite, list, suspend, reinstate, offboard) and the
expert's side (roster memberships: accept with a conflict-of-interest declaration, decline)."""

import pytest
from django.core import mail

from apps.accounts.models import Membership
from apps.accounts.roles import OrgKind, Role
from apps.core.models import AuditEvent
from apps.experts import services
from apps.experts.models import RosterEntry
from tests.factories import OrganizationFactory, UserFactory, member

from .conftest import verified_credential

ROSTER = "/api/v1/roster/"
INVITE = "/api/v1/roster/invitations/"
MINE = "/api/v1/roster-memberships/"


@pytest.fixture
def candidate(make_expert, operations):
    person = make_expert("candidate@x.test", full_name="Dr Cand Idate", weekly_hours=25)
    verified_credential(person, operations, identifier="HIDDEN-ID-1")
    return person


@pytest.fixture
def invited(vendor, vendor_manager, candidate):
    entry, _token = services.roster_invite(actor=vendor_manager, vendor=vendor, email=candidate.email)
    return entry


@pytest.fixture
def active(invited, candidate):
    return services.roster_accept(actor=candidate, entry=invited, conflict_of_interest="")


def act(client, entry, action, body=None):
    return client.post(f"{ROSTER}{entry.public_id}/{action}/", body or {})


# --- the vendor's side -----------------------------------------------------------------------------------


def test_a_manager_invites_an_expert_by_email(
    vendor, vendor_manager, candidate, api_as, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(vendor_manager).post(INVITE, {"email": "Candidate@X.test"})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "invited"
    assert body["expert"]["email"] == candidate.email
    assert "token" not in response.content.decode().lower()
    entry = RosterEntry.objects.get(public_id=body["id"])
    assert (entry.vendor, entry.user) == (vendor, candidate)
    assert len(mail.outbox) == 1
    link = mail.outbox[0].body.split("/roster/join/")[1].split("/")[0]
    assert link not in response.content.decode()


def test_inviting_an_unknown_address_creates_an_account_without_a_password(vendor_manager, api_as):
    response = api_as(vendor_manager).post(INVITE, {"email": "newcomer@x.test"})

    assert response.status_code == 201
    assert response.json()["expert"]["handle"] is None
    assert response.json()["expert"]["verified_credentials"] == []


def test_inviting_someone_already_on_the_roster_is_a_400_naming_email(vendor_manager, active, candidate, api_as):
    response = api_as(vendor_manager).post(INVITE, {"email": candidate.email})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "already_on_roster"
    assert list(error["details"]) == ["email"]
    assert RosterEntry.objects.count() == 1


def test_a_malformed_email_is_a_400_naming_email(vendor_manager, api_as):
    response = api_as(vendor_manager).post(INVITE, {"email": "not-an-address"})

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["email"]


def test_a_lab_has_no_roster(lab_admin, api_as):
    client = api_as(lab_admin)

    assert client.get(ROSTER).status_code == 403
    response = client.post(INVITE, {"email": "someone@x.test"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "role_not_allowed"
    assert not RosterEntry.objects.exists()


def test_a_vendor_expert_may_not_manage_the_roster(expert, active, api_as):
    client = api_as(expert)

    assert client.get(ROSTER).status_code == 403
    assert client.post(INVITE, {"email": "someone@x.test"}).status_code == 403
    assert act(client, active, "suspend", {"reason": "x"}).status_code == 403


def test_an_outsider_naming_the_vendor_gets_404(vendor, outsider, active, api_as):
    client = api_as(outsider)
    org = f"?org={vendor.public_id}"

    assert client.get(ROSTER + org).status_code == 404
    assert client.post(INVITE + org, {"email": "someone@x.test"}).status_code == 404
    response = client.post(f"{ROSTER}{active.public_id}/suspend/{org}", {"reason": "x"})
    assert response.status_code == 404
    active.refresh_from_db()
    assert active.status == RosterEntry.Status.ACTIVE


def test_another_vendors_entry_is_not_found(active, api_as):
    rival = OrganizationFactory(kind=OrgKind.VENDOR)
    rival_manager = member(rival, Role.MANAGER, email="m@rival.test")

    response = act(api_as(rival_manager), active, "suspend", {"reason": "x"})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "roster_entry_not_found"


def test_the_roster_lists_entries_with_the_expert(vendor_manager, active, candidate, api_as):
    rows = api_as(vendor_manager).get(ROSTER).json()["results"]

    assert len(rows) == 1
    row = rows[0]
    assert set(row) == {
        "id",
        "status",
        "status_reason",
        "conflict_of_interest",
        "coi_declared_at",
        "invite_expires_at",
        "joined_at",
        "created_at",
        "expert",
    }
    assert row["status"] == "active" and row["joined_at"]
    expert = row["expert"]
    assert (expert["handle"], expert["name"], expert["email"], expert["weekly_hours"]) == (
        candidate.expert_profile.handle,
        "Dr Cand Idate",
        candidate.email,
        25,
    )
    assert [c["title"] for c in expert["verified_credentials"]] == ["Board certified"]
    assert "HIDDEN-ID-1" not in str(rows)


def test_the_roster_filters_by_status(vendor, vendor_manager, active, api_as):
    services.roster_invite(actor=vendor_manager, vendor=vendor, email="second@x.test")
    client = api_as(vendor_manager)

    assert [r["status"] for r in client.get(ROSTER + "?status=invited").json()["results"]] == ["invited"]
    assert [r["status"] for r in client.get(ROSTER + "?status=active").json()["results"]] == ["active"]
    response = client.get(ROSTER + "?status=retired")
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["status"]


def test_suspend_reinstate_and_offboard(vendor, vendor_manager, active, candidate, api_as):
    client = api_as(vendor_manager)

    suspended = act(client, active, "suspend", {"reason": "Quality review"})
    assert suspended.status_code == 200, suspended.content
    assert (suspended.json()["status"], suspended.json()["status_reason"]) == ("suspended", "Quality review")

    reinstated = act(client, active, "reinstate")
    assert (reinstated.json()["status"], reinstated.json()["status_reason"]) == ("active", "")

    offboarded = act(client, active, "offboard", {"reason": "Project ended"})
    assert (offboarded.json()["status"], offboarded.json()["status_reason"]) == ("offboarded", "Project ended")
    assert not Membership.objects.filter(user=candidate, organization=vendor).exists()
    assert AuditEvent.objects.filter(target_id=active.pk, action__startswith="rosterentry.").count() == 4


def test_a_suspension_needs_a_reason(vendor_manager, active, api_as):
    response = act(api_as(vendor_manager), active, "suspend")

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["reason"]


def test_suspending_an_invitation_is_a_conflict(vendor_manager, invited, api_as):
    response = act(api_as(vendor_manager), invited, "suspend", {"reason": "x"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "rosterentry_not_active"


def test_reinstating_an_offboarded_expert_is_a_conflict(vendor_manager, active, api_as):
    client = api_as(vendor_manager)
    act(client, active, "offboard", {"reason": "Gone"})

    response = act(client, active, "reinstate")

    assert response.status_code == 409


def test_a_manager_with_a_vendor_api_key_manages_the_roster(vendor, vendor_manager, candidate, key_client):
    client = key_client(vendor_manager, vendor)

    response = client.post(INVITE, {"email": candidate.email})

    assert response.status_code == 201
    assert len(client.get(ROSTER).json()["results"]) == 1


# --- the expert's side ----------------------------------------------------------------------------------------


def test_the_expert_lists_their_own_roster_entries(vendor, invited, candidate, api_as):
    rows = api_as(candidate).get(MINE).json()["results"]

    assert len(rows) == 1
    assert rows[0]["vendor"]["name"] == vendor.name
    assert rows[0]["status"] == "invited"
    assert rows[0]["id"] == str(invited.public_id)


def test_nobody_else_sees_someones_roster_entries(invited, vendor_manager, api_as):
    assert api_as(vendor_manager).get(MINE).json()["results"] == []


def test_the_expert_accepts_declaring_a_conflict_of_interest(vendor, invited, candidate, api_as):
    response = api_as(candidate).post(
        f"{MINE}{invited.public_id}/accept/", {"conflict_of_interest": "I consult for a competitor lab."}
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "active"
    assert response.json()["conflict_of_interest"] == "I consult for a competitor lab."
    assert Membership.objects.get(user=candidate, organization=vendor).role == Role.EXPERT


def test_accepting_needs_an_explicit_declaration(invited, candidate, api_as):
    response = api_as(candidate).post(f"{MINE}{invited.public_id}/accept/", {})

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["conflict_of_interest"]


def test_accepting_twice_changes_nothing(invited, candidate, api_as):
    client = api_as(candidate)
    client.post(f"{MINE}{invited.public_id}/accept/", {"conflict_of_interest": ""})

    response = client.post(f"{MINE}{invited.public_id}/accept/", {"conflict_of_interest": ""})

    assert response.status_code == 200
    assert AuditEvent.objects.filter(target_id=invited.pk, action="rosterentry.active").count() == 1


def test_the_expert_declines(invited, candidate, vendor, api_as):
    response = api_as(candidate).post(f"{MINE}{invited.public_id}/decline/")

    assert response.status_code == 200
    assert response.json()["status"] == "declined"
    assert not Membership.objects.filter(user=candidate, organization=vendor).exists()


def test_declining_after_accepting_is_a_conflict(active, candidate, api_as):
    response = api_as(candidate).post(f"{MINE}{active.public_id}/decline/")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "rosterentry_not_invited"


def test_accepting_a_declined_invitation_is_a_conflict(invited, candidate, api_as):
    client = api_as(candidate)
    client.post(f"{MINE}{invited.public_id}/decline/")

    response = client.post(f"{MINE}{invited.public_id}/accept/", {"conflict_of_interest": ""})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "roster_entry_not_invited"


def test_someone_elses_invitation_is_not_found(invited, api_as):
    stranger = UserFactory(email="stranger@x.test")

    for action in ("accept", "decline"):
        response = api_as(stranger).post(f"{MINE}{invited.public_id}/{action}/", {"conflict_of_interest": ""})
        assert response.status_code == 404
    invited.refresh_from_db()
    assert invited.status == RosterEntry.Status.INVITED
