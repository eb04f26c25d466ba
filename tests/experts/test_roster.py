"""Vendor rosters: invite, accept (with conflict of interest), decline, suspend, reinstate, offboard."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.db import transaction

from apps.accounts.models import Membership, User, hash_secret
from apps.accounts.roles import OrgKind, Role
from apps.core.errors import DomainError, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from apps.experts import services
from apps.experts.models import RosterEntry
from apps.notifications.models import Notification
from tests.experts.support import audit_actions, audit_rows
from tests.factories import PASSWORD, OrganizationFactory, RosterEntryFactory, UserFactory, member

R = RosterEntry.Status
NOON = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
NEW_PASSWORD = "a-long-fresh-passphrase-42"


@pytest.fixture
def person(db):
    """An expert with an account, not yet on any roster."""
    return UserFactory(email="dr.ray@example.test", full_name="Ray Diologist")


@pytest.fixture
def invited(vendor, vendor_manager, person):
    entry, token = services.roster_invite(actor=vendor_manager, vendor=vendor, email=person.email)
    entry.token = token
    return entry


@pytest.fixture
def active(invited, person):
    return services.roster_accept(actor=person, entry=invited, conflict_of_interest="")


@pytest.fixture
def suspended(active, vendor_manager):
    services.roster_suspend(actor=vendor_manager, entry=active, reason="Missed three deadlines")
    return active


def expert_membership(user, vendor):
    return Membership.objects.filter(user=user, organization=vendor, role=Role.EXPERT)


def kinds_for(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user).order_by("id").values_list("kind", flat=True))


# --- roster_invite -------------------------------------------------------------------------------------


def test_roster_invite_an_existing_user_notifies_in_app_and_emails_the_link(
    vendor, vendor_manager, person, django_capture_on_commit_callbacks, mailoutbox
):
    with time_machine.travel(NOON, tick=False), django_capture_on_commit_callbacks(execute=True):
        entry, token = services.roster_invite(actor=vendor_manager, vendor=vendor, email="  DR.RAY@example.test ")

    # the entry waits for the expert, holding only a hash of the link token
    assert (entry.vendor, entry.user, entry.status, entry.invited_by) == (vendor, person, R.INVITED, vendor_manager)
    assert entry.token_hash == hash_secret(token)
    assert entry.invite_expires_at == NOON + timedelta(hours=168)
    # one in-app notification that sends no e-mail of its own, and one invitation e-mail with the link
    note = Notification.objects.get(recipient=person)
    assert note.kind == "roster.invited"
    assert note.emailed_at is None
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [person.email]
    assert mailoutbox[0].subject == f"{vendor.name} invites you to its expert roster"
    assert services.roster_invitation_link(token) in mailoutbox[0].body
    assert "We created an account" not in mailoutbox[0].body
    assert not expert_membership(person, vendor).exists()
    row = audit_rows(entry).get()
    assert (row.action, row.actor, row.organization_public_id) == ("roster.invited", vendor_manager, vendor.public_id)
    assert row.data == {"email": person.email, "new_account": False}


def test_roster_invite_a_new_address_creates_an_account_with_an_unusable_password(
    vendor, vendor_manager, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        entry, token = services.roster_invite(actor=vendor_manager, vendor=vendor, email="New.Expert@Example.test")

    user = User.objects.get(email="new.expert@example.test")
    assert entry.user == user
    assert not user.has_usable_password()
    assert not Notification.objects.filter(recipient=user).exists()
    assert [m.to for m in mailoutbox] == [["new.expert@example.test"]]
    assert "We created an account for new.expert@example.test" in mailoutbox[0].body
    assert services.roster_invitation_link(token) in mailoutbox[0].body
    assert audit_rows(entry).get().data == {"email": "new.expert@example.test", "new_account": True}


def test_roster_invite_emails_only_after_commit(
    vendor, vendor_manager, person, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.roster_invite(actor=vendor_manager, vendor=vendor, email=person.email)

    assert len(callbacks) == 1
    assert mailoutbox == []


def test_roster_invite_rolled_back_leaves_no_entry_account_or_email(
    vendor, vendor_manager, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            services.roster_invite(actor=vendor_manager, vendor=vendor, email="ghost@example.test")
            raise RuntimeError("request failed")

    assert callbacks == []
    assert mailoutbox == []
    assert not RosterEntry.objects.exists()
    assert not User.objects.filter(email="ghost@example.test").exists()


@pytest.mark.parametrize("state", ["invited", "active", "suspended"])
def test_roster_invite_refuses_someone_already_invited_or_on_the_roster(
    request, vendor, vendor_manager, person, mailoutbox, state
):
    entry = request.getfixturevalue(state)

    with pytest.raises(ValidationFailed) as exc:
        services.roster_invite(actor=vendor_manager, vendor=vendor, email=person.email.upper())

    assert exc.value.code == "already_on_roster"
    assert "email" in exc.value.details
    assert list(RosterEntry.objects.values_list("pk", flat=True)) == [entry.pk]


@pytest.mark.parametrize("email", ["", "not-an-address", "two@@example.test"])
def test_roster_invite_refuses_an_invalid_address_naming_email(vendor, vendor_manager, email):
    with pytest.raises(ValidationFailed) as exc:
        services.roster_invite(actor=vendor_manager, vendor=vendor, email=email)

    assert "email" in exc.value.details
    assert not RosterEntry.objects.exists()


def test_a_vendor_owner_may_invite(vendor, vendor_manager, person):
    owner = User.objects.get(email="owner@northwind.test")

    entry, _ = services.roster_invite(actor=owner, vendor=vendor, email=person.email)

    assert entry.invited_by == owner


def test_a_lab_has_no_roster(lab, lab_owner, person):
    with pytest.raises(PermissionDenied):
        services.roster_invite(actor=lab_owner, vendor=lab, email=person.email)


# --- who may manage the roster ---------------------------------------------------------------------------

NOT_A_MEMBER = (NotFound, "organization_not_found")
WRONG_ROLE = (PermissionDenied, "role_not_allowed")


@pytest.mark.parametrize(
    ("persona", "refusal"),
    [
        ("lab_member", NOT_A_MEMBER),
        ("lab_owner", NOT_A_MEMBER),
        ("outsider", NOT_A_MEMBER),
        ("finance", NOT_A_MEMBER),
        ("operations", NOT_A_MEMBER),
        ("expert", WRONG_ROLE),
    ],
)
@pytest.mark.parametrize(
    ("service", "kwargs"),
    [
        ("roster_invite", {"email": "someone@example.test"}),
        ("roster_suspend", {"reason": "No"}),
        ("roster_reinstate", {}),
        ("roster_offboard", {"reason": "No"}),
    ],
)
def test_only_a_vendor_owner_or_manager_may_manage_the_roster(request, active, persona, refusal, service, kwargs):
    # given an active roster entry and someone who is not the vendor's owner or manager
    actor = request.getfixturevalue(persona)
    error, code = refusal
    args = {"vendor": active.vendor} if service == "roster_invite" else {"entry": active}

    with pytest.raises(error) as exc:
        getattr(services, service)(actor=actor, **args, **kwargs)

    assert exc.value.code == code
    active.refresh_from_db()
    assert active.status == R.ACTIVE
    assert RosterEntry.objects.count() == 1


# --- roster_accept -----------------------------------------------------------------------------------------


def test_roster_accept_joins_the_vendor_and_records_the_conflict_of_interest(
    invited, person, vendor, vendor_manager, django_capture_on_commit_callbacks, mailoutbox
):
    with time_machine.travel(NOON, tick=False), django_capture_on_commit_callbacks(execute=True):
        entry = services.roster_accept(
            actor=person, entry=invited, conflict_of_interest="  Consults for Radiant Imaging Inc.  "
        )

    assert entry.status == R.ACTIVE
    assert entry.conflict_of_interest == "Consults for Radiant Imaging Inc."
    assert entry.coi_declared_at == NOON
    assert entry.joined_at == NOON
    assert entry.token_hash is None
    assert expert_membership(person, vendor).count() == 1
    row = audit_rows(entry).get(action="rosterentry.active")
    assert (row.actor, row.from_status, row.organization_public_id) == (person, R.INVITED, vendor.public_id)
    # the owner and the manager hear about it, by e-mail after commit
    owner = User.objects.get(email="owner@northwind.test")
    joined = Notification.objects.filter(kind="roster.joined")
    assert set(joined.values_list("recipient", flat=True)) == {owner.pk, vendor_manager.pk}
    assert joined.first().body == "They declared a conflict of interest."
    assert sorted(m.to[0] for m in mailoutbox if "joined" in m.subject) == sorted([owner.email, vendor_manager.email])


def test_roster_accept_with_no_conflict_records_that_none_was_declared(invited, person):
    with time_machine.travel(NOON, tick=False):
        entry = services.roster_accept(actor=person, entry=invited)

    assert (entry.conflict_of_interest, entry.coi_declared_at) == ("", NOON)
    assert Notification.objects.filter(kind="roster.joined").first().body == "They declared no conflict of interest."


def test_roster_accept_twice_is_a_no_op(invited, person):
    services.roster_accept(actor=person, entry=invited, conflict_of_interest="None")
    rows_before = list(audit_rows(invited).values_list("pk", flat=True))
    notes_before = Notification.objects.count()

    again = services.roster_accept(actor=person, entry=invited, conflict_of_interest="Something else")

    assert again.status == R.ACTIVE
    assert again.conflict_of_interest == "None"
    assert list(audit_rows(invited).values_list("pk", flat=True)) == rows_before
    assert Notification.objects.count() == notes_before


def test_roster_accept_repeated_with_a_stale_copy_of_the_entry_is_a_no_op(invited, person, vendor):
    # given two copies of the invitation loaded before either request accepted (a double submit)
    first_copy = RosterEntry.objects.get(pk=invited.pk)
    second_copy = RosterEntry.objects.get(pk=invited.pk)
    services.roster_accept(actor=person, entry=first_copy, conflict_of_interest="None")
    notes_before = Notification.objects.count()

    services.roster_accept(actor=person, entry=second_copy, conflict_of_interest="Changed")

    assert Notification.objects.count() == notes_before
    assert RosterEntry.objects.get(pk=invited.pk).conflict_of_interest == "None"
    assert expert_membership(person, vendor).count() == 1


def test_roster_accept_by_someone_else_is_not_found(invited, outsider):
    with pytest.raises(NotFound):
        services.roster_accept(actor=outsider, entry=invited)

    invited.refresh_from_db()
    assert invited.status == R.INVITED


def test_roster_accept_of_a_declined_invitation_is_refused(invited, person):
    services.roster_decline(actor=person, entry=invited)

    with pytest.raises(DomainError) as exc:
        services.roster_accept(actor=person, entry=invited)

    assert exc.value.code == "roster_entry_not_invited"
    assert not Membership.objects.filter(user=person, organization=invited.vendor).exists()


# --- roster_accept_by_token --------------------------------------------------------------------------------


@pytest.fixture
def new_account_invite(vendor, vendor_manager):
    entry, token = services.roster_invite(actor=vendor_manager, vendor=vendor, email="fresh@example.test")
    entry.token = token
    return entry


def test_roster_accept_by_token_sets_the_new_accounts_password_and_verifies_its_email(new_account_invite, vendor):
    entry = services.roster_accept_by_token(
        token=new_account_invite.token, password=NEW_PASSWORD, conflict_of_interest="None"
    )

    user = User.objects.get(email="fresh@example.test")
    assert entry.status == R.ACTIVE
    assert user.check_password(NEW_PASSWORD)
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.verified, address.primary) == ("fresh@example.test", True, True)
    assert expert_membership(user, vendor).exists()


@pytest.mark.parametrize("password", [None, "", "short"])
def test_roster_accept_by_token_for_a_new_account_needs_a_good_password(new_account_invite, password):
    with pytest.raises(ValidationFailed) as exc:
        services.roster_accept_by_token(token=new_account_invite.token, password=password)

    assert "password" in exc.value.details
    user = User.objects.get(email="fresh@example.test")
    assert not user.has_usable_password()
    new_account_invite.refresh_from_db()
    assert new_account_invite.status == R.INVITED


@pytest.mark.parametrize("who", ["nobody", "outsider"])
def test_roster_accept_by_token_for_an_existing_account_needs_that_person_logged_in(request, invited, who):
    actor = None if who == "nobody" else request.getfixturevalue(who)

    with pytest.raises(PermissionDenied) as exc:
        services.roster_accept_by_token(token=invited.token, actor=actor, password=NEW_PASSWORD)

    assert exc.value.code == "roster_login_required"
    invited.refresh_from_db()
    assert invited.status == R.INVITED


def test_roster_accept_by_token_for_the_logged_in_invitee_keeps_their_password(invited, person):
    entry = services.roster_accept_by_token(token=invited.token, actor=person, password=NEW_PASSWORD)

    assert entry.status == R.ACTIVE
    person.refresh_from_db()
    assert person.check_password(PASSWORD)


def test_roster_accept_by_token_refuses_an_expired_link(vendor, vendor_manager, person):
    with time_machine.travel(NOON, tick=False):
        entry, token = services.roster_invite(actor=vendor_manager, vendor=vendor, email=person.email)

    with time_machine.travel(NOON + timedelta(hours=168), tick=False), pytest.raises(DomainError) as exc:
        services.roster_accept_by_token(token=token, actor=person)

    assert exc.value.code == "roster_invitation_expired"
    entry.refresh_from_db()
    assert entry.status == R.INVITED


@pytest.mark.parametrize("token", ["", "not-a-real-token"])
def test_roster_accept_by_token_with_an_unknown_token_is_not_found(invited, person, token):
    with pytest.raises(NotFound) as exc:
        services.roster_accept_by_token(token=token, actor=person)

    assert exc.value.code == "roster_invitation_not_found"


def test_a_used_roster_link_cannot_be_used_again(invited, person):
    services.roster_accept_by_token(token=invited.token, actor=person)

    with pytest.raises(NotFound):
        services.roster_accept_by_token(token=invited.token, actor=person)


# --- roster_decline ----------------------------------------------------------------------------------------


def test_roster_decline_closes_the_invitation_and_tells_the_managers(invited, person, vendor_manager):
    assert services.roster_decline(actor=person, entry=invited) is True

    assert invited.status == R.DECLINED
    assert invited.token_hash is None
    assert audit_actions(invited) == ["roster.invited", "rosterentry.declined"]
    assert Notification.objects.filter(kind="roster.declined", recipient=vendor_manager).count() == 1


def test_roster_decline_twice_is_a_no_op(invited, person):
    services.roster_decline(actor=person, entry=invited)

    assert services.roster_decline(actor=person, entry=invited) is False

    assert audit_actions(invited).count("rosterentry.declined") == 1
    assert Notification.objects.filter(kind="roster.declined").count() == 2  # owner and manager, once each


def test_roster_decline_by_someone_else_is_not_found(invited, outsider):
    with pytest.raises(NotFound):
        services.roster_decline(actor=outsider, entry=invited)


def test_roster_decline_of_an_active_entry_is_refused(active, person):
    with pytest.raises(InvalidTransition) as exc:
        services.roster_decline(actor=person, entry=active)

    assert exc.value.code == "rosterentry_not_invited"


def test_someone_who_declined_can_be_invited_again(invited, person, vendor, vendor_manager):
    services.roster_decline(actor=person, entry=invited)

    again, _ = services.roster_invite(actor=vendor_manager, vendor=vendor, email=person.email)

    assert again.pk != invited.pk
    assert again.status == R.INVITED


# --- roster_suspend / roster_reinstate ----------------------------------------------------------------------


def test_roster_suspend_keeps_the_reason_audits_and_notifies_the_expert(
    active, vendor_manager, person, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        moved = services.roster_suspend(actor=vendor_manager, entry=active, reason=" Missed three deadlines ")

    assert moved is True
    assert (active.status, active.status_reason) == (R.SUSPENDED, "Missed three deadlines")
    row = audit_rows(active).get(action="rosterentry.suspended")
    assert (row.actor, row.reason, row.from_status) == (vendor_manager, "Missed three deadlines", R.ACTIVE)
    assert kinds_for(person)[-1] == "roster.suspended"
    assert [m.to for m in mailoutbox] == [[person.email]]
    # a suspended expert stays on the roster and in the vendor
    assert expert_membership(person, active.vendor).exists()


def test_roster_suspend_twice_is_a_no_op(active, vendor_manager):
    assert services.roster_suspend(actor=vendor_manager, entry=active, reason="Late") is True
    assert services.roster_suspend(actor=vendor_manager, entry=active, reason="Late again") is False

    assert active.status_reason == "Late"
    assert audit_actions(active).count("rosterentry.suspended") == 1


@pytest.mark.parametrize("reason", ["", "  "])
def test_roster_suspend_requires_a_reason(active, vendor_manager, reason):
    with pytest.raises(ValidationFailed) as exc:
        services.roster_suspend(actor=vendor_manager, entry=active, reason=reason)

    assert "reason" in exc.value.details
    active.refresh_from_db()
    assert active.status == R.ACTIVE


def test_roster_suspend_of_an_invitation_is_refused(invited, vendor_manager):
    with pytest.raises(InvalidTransition) as exc:
        services.roster_suspend(actor=vendor_manager, entry=invited, reason="Not yet")

    assert exc.value.code == "rosterentry_not_active"


def test_roster_reinstate_makes_a_suspended_expert_active_again(suspended, vendor_manager, person):
    assert services.roster_reinstate(actor=vendor_manager, entry=suspended) is True

    assert (suspended.status, suspended.status_reason) == (R.ACTIVE, "")
    row = audit_rows(suspended).get(action="rosterentry.active", from_status=R.SUSPENDED)
    assert row.actor == vendor_manager
    assert kinds_for(person)[-1] == "roster.reinstated"


def test_roster_reinstate_twice_is_a_no_op(suspended, vendor_manager):
    services.roster_reinstate(actor=vendor_manager, entry=suspended)

    assert services.roster_reinstate(actor=vendor_manager, entry=suspended) is False

    assert audit_rows(suspended).filter(action="rosterentry.active", from_status=R.SUSPENDED).count() == 1


def test_roster_reinstate_cannot_activate_an_invitation_the_expert_has_not_accepted(invited, vendor_manager, person):
    # given an invitation the expert has not accepted (no conflict-of-interest declaration yet)
    with pytest.raises(InvalidTransition) as exc:
        services.roster_reinstate(actor=vendor_manager, entry=invited)

    assert exc.value.code == "rosterentry_not_suspended"
    invited.refresh_from_db()
    assert invited.status == R.INVITED
    assert not expert_membership(person, invited.vendor).exists()


# --- roster_offboard -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["active", "suspended"])
def test_roster_offboard_removes_the_membership_and_keeps_the_reason(request, vendor_manager, person, state):
    entry = request.getfixturevalue(state)

    assert services.roster_offboard(actor=vendor_manager, entry=entry, reason="Contract ended") is True

    assert (entry.status, entry.status_reason) == (R.OFFBOARDED, "Contract ended")
    assert not Membership.objects.filter(user=person, organization=entry.vendor).exists()
    row = audit_rows(entry).get(action="rosterentry.offboarded")
    assert (row.actor, row.reason, row.from_status) == (vendor_manager, "Contract ended", state)
    assert kinds_for(person)[-1] == "roster.offboarded"


def test_roster_offboard_twice_is_a_no_op(active, vendor_manager, person):
    services.roster_offboard(actor=vendor_manager, entry=active, reason="Contract ended")

    assert services.roster_offboard(actor=vendor_manager, entry=active, reason="Again") is False

    assert active.status_reason == "Contract ended"
    assert audit_actions(active).count("rosterentry.offboarded") == 1
    assert kinds_for(person).count("roster.offboarded") == 1


def test_roster_offboard_requires_a_reason(active, vendor_manager):
    with pytest.raises(ValidationFailed) as exc:
        services.roster_offboard(actor=vendor_manager, entry=active, reason="")

    assert "reason" in exc.value.details
    assert expert_membership(active.user, active.vendor).exists()


def test_roster_offboard_of_an_invitation_withdraws_it_and_kills_the_link(invited, vendor_manager, person):
    services.roster_offboard(actor=vendor_manager, entry=invited, reason="Position filled")

    assert invited.status == R.OFFBOARDED
    assert invited.token_hash is None
    with pytest.raises(NotFound):
        services.roster_accept_by_token(token=invited.token, actor=person)


def test_roster_offboard_of_a_declined_invitation_is_refused(invited, vendor_manager, person):
    services.roster_decline(actor=person, entry=invited)

    with pytest.raises(InvalidTransition):
        services.roster_offboard(actor=vendor_manager, entry=invited, reason="Tidy up")


def test_an_offboarded_expert_can_be_invited_again_and_the_old_entry_stays(active, vendor, vendor_manager, person):
    services.roster_offboard(actor=vendor_manager, entry=active, reason="Contract ended")

    again, token = services.roster_invite(actor=vendor_manager, vendor=vendor, email=person.email)
    services.roster_accept_by_token(token=token, actor=person, conflict_of_interest="None")

    entries = dict(RosterEntry.objects.filter(user=person).values_list("pk", "status"))
    assert entries == {active.pk: R.OFFBOARDED, again.pk: R.ACTIVE}
    assert RosterEntry.objects.get(pk=active.pk).status_reason == "Contract ended"
    assert expert_membership(person, vendor).count() == 1


# --- several vendors ---------------------------------------------------------------------------------------


def test_an_expert_can_be_on_two_vendors_rosters_at_once(active, person, vendor):
    # given a second vendor whose manager invites the same expert
    other_vendor = OrganizationFactory(name="Southwind Data", slug="southwind", kind=OrgKind.VENDOR)
    other_manager = member(other_vendor, Role.MANAGER, email="manager@southwind.test")

    entry, _ = services.roster_invite(actor=other_manager, vendor=other_vendor, email=person.email)
    services.roster_accept(actor=person, entry=entry, conflict_of_interest="Also on Northwind's roster")

    assert set(RosterEntry.objects.filter(user=person).values_list("vendor__slug", "status")) == {
        ("northwind", R.ACTIVE),
        ("southwind", R.ACTIVE),
    }
    assert expert_membership(person, vendor).exists()
    assert expert_membership(person, other_vendor).exists()


def test_roster_entry_factory_active_entries_come_with_a_membership(db):
    entry = RosterEntryFactory(status=R.ACTIVE)

    assert expert_membership(entry.user, entry.vendor).exists()
