"""Account services: organisations, sign-up, invitations, memberships and API keys."""

from datetime import timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.utils import timezone

from apps.accounts import services
from apps.accounts.models import ApiKey, Invitation, Membership, Organization, User
from apps.accounts.roles import OrgKind, Role
from apps.accounts.services import AccountType
from apps.accounts.tasks import expire_invitations
from apps.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from apps.core.models import AuditEvent
from tests.factories import UserFactory


def audit_actions(obj) -> list[str]:
    rows = AuditEvent.objects.filter(target_type=ContentType.objects.get_for_model(type(obj)), target_id=obj.pk)
    return list(rows.values_list("action", flat=True))


def audit_verbs(obj) -> list[str]:
    """Actions without their subject: API-key rows say "api_key.created" but "apikey.revoked"."""
    return [action.rsplit(".", 1)[-1] for action in audit_actions(obj)]


def fresh(user: User) -> User:
    """The same person as a new request would see them (no per-request membership cache)."""
    return User.objects.get(pk=user.pk)


def invite(actor, org, email="new@invitee.test", role=Role.MEMBER):
    return services.invitation_create(actor=actor, organization=org, email=email, role=role)


# --- organization_create / signup_complete ------------------------------------------------------------


def test_organization_create_makes_the_actor_owner_and_audits(db):
    user = UserFactory()

    org = services.organization_create(actor=user, name="  Helix Lab ", kind=OrgKind.LAB)

    assert (org.name, org.slug, org.kind, org.created_by) == ("Helix Lab", "helix-lab", OrgKind.LAB, user)
    assert Membership.objects.get(organization=org).role == Role.OWNER
    assert Membership.objects.get(organization=org).user == user
    assert audit_actions(org) == ["organization.created"]


def test_organization_create_gives_a_repeated_name_its_own_slug(db):
    first = services.organization_create(actor=UserFactory(), name="Helix Lab", kind=OrgKind.LAB)
    second = services.organization_create(actor=UserFactory(), name="Helix Lab", kind=OrgKind.LAB)

    assert (first.slug, second.slug) == ("helix-lab", "helix-lab-2")


@pytest.mark.parametrize(("name", "kind", "field"), [("", OrgKind.LAB, "name"), ("X", "guild", "kind")])
def test_organization_create_refuses_bad_input_naming_the_field(db, name, kind, field):
    with pytest.raises(ValidationFailed) as exc:
        services.organization_create(actor=UserFactory(), name=name, kind=kind)

    assert field in exc.value.details
    assert not Organization.objects.exists()


@pytest.mark.parametrize(
    ("account_type", "kind"), [(AccountType.LAB, OrgKind.LAB), (AccountType.VENDOR, OrgKind.VENDOR)]
)
def test_signup_as_a_lab_or_vendor_creates_that_organisation(db, account_type, kind):
    user = UserFactory(full_name="")

    org = services.signup_complete(
        user=user, account_type=account_type, organization_name="Quanta", full_name="Ada Lovelace"
    )

    assert (org.kind, org.name) == (kind, "Quanta")
    assert fresh(user).full_name == "Ada Lovelace"
    assert list(Membership.objects.filter(user=user).values_list("organization", "role")) == [(org.pk, Role.OWNER)]


def test_signup_as_an_independent_expert_creates_a_single_member_individual_org(db):
    user = UserFactory(full_name="")

    org = services.signup_complete(user=user, account_type=AccountType.EXPERT, full_name="Dr. Mei Tanaka")

    assert (org.kind, org.name) == (OrgKind.INDIVIDUAL, "Dr. Mei Tanaka")
    assert org.memberships.count() == 1
    with pytest.raises(PermissionDenied):
        services.invitation_create(actor=fresh(user), organization=org, email="helper@x.test", role=Role.OWNER)
    assert not Invitation.objects.exists()


def test_signup_as_invited_creates_no_organisation(db):
    user = UserFactory()

    assert services.signup_complete(user=user, account_type=AccountType.INVITED) is None
    assert not Membership.objects.filter(user=user).exists()


def test_signup_with_an_unknown_account_type_is_refused_naming_the_field(db):
    with pytest.raises(ValidationFailed) as exc:
        services.signup_complete(user=UserFactory(), account_type="pirate")

    assert "account_type" in exc.value.details


# --- invitation_create -------------------------------------------------------------------------------------


def test_invitation_create_emails_the_link_after_commit(lab, lab_admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        invitation, token = services.invitation_create(
            actor=lab_admin, organization=lab, email=" New@Invitee.TEST ", role=Role.MEMBER
        )
        assert mail.outbox == []  # nothing leaves before the commit

    assert len(callbacks) == 1
    assert (invitation.email, invitation.role, invitation.status) == ("new@invitee.test", Role.MEMBER, "pending")
    assert invitation.token_hash != token and len(token) >= 32  # only the hash is stored
    assert invitation.expires_at == pytest.approx(
        timezone.now() + timedelta(hours=settings.INVITATION_TTL_HOURS), abs=timedelta(seconds=30)
    )
    (message,) = mail.outbox
    assert message.to == ["new@invitee.test"]
    assert lab.name in message.subject
    assert services.invitation_link(token) in message.body
    assert audit_actions(invitation) == ["invitation.created"]


def test_invitation_create_refuses_a_second_pending_invitation_naming_email(lab, lab_admin):
    invite(lab_admin, lab)

    with pytest.raises(ValidationFailed) as exc:
        invite(lab_admin, lab, email="NEW@invitee.test")

    assert exc.value.code == "invitation_already_pending"
    assert "email" in exc.value.details
    assert Invitation.objects.count() == 1


def test_invitation_create_refuses_an_existing_member(lab, lab_admin, lab_member):
    with pytest.raises(ValidationFailed) as exc:
        invite(lab_admin, lab, email=lab_member.email)

    assert exc.value.code == "already_member"
    assert "email" in exc.value.details


def test_invitation_create_refuses_an_invalid_email(lab, lab_admin):
    with pytest.raises(ValidationFailed) as exc:
        invite(lab_admin, lab, email="not-an-address")

    assert "email" in exc.value.details


def test_invitation_create_refuses_a_role_the_kind_does_not_have(lab, lab_owner):
    with pytest.raises(ValidationFailed) as exc:
        invite(lab_owner, lab, role=Role.EXPERT)

    assert "role" in exc.value.details
    assert not Invitation.objects.exists()


def test_an_admin_cannot_invite_an_owner_but_an_owner_can(lab, lab_owner, lab_admin):
    with pytest.raises(ValidationFailed) as exc:
        invite(lab_admin, lab, role=Role.OWNER)
    assert "role" in exc.value.details

    invitation, _ = invite(lab_owner, lab, role=Role.OWNER)
    assert invitation.role == Role.OWNER


def test_a_lab_member_cannot_invite_and_an_outsider_cannot_see_the_org(lab, lab_member, outsider):
    with pytest.raises(PermissionDenied):
        invite(lab_member, lab)
    with pytest.raises(NotFound):
        invite(outsider, lab)
    assert not Invitation.objects.exists()


def test_a_vendor_manager_invites_another_manager(vendor, vendor_manager):
    invitation, _ = invite(vendor_manager, vendor, role=Role.MANAGER)

    assert invitation.role == Role.MANAGER


def test_vendor_experts_join_through_the_roster_not_an_organisation_invitation(vendor, vendor_manager):
    with pytest.raises(ValidationFailed) as refused:
        invite(vendor_manager, vendor, role=Role.EXPERT)

    assert "role" in refused.value.details
    assert not Invitation.objects.filter(organization=vendor).exists()


# --- membership_add --------------------------------------------------------------------------------------


def test_membership_add_by_an_owner_adds_the_member_once_with_an_audit_row(lab, lab_owner):
    newcomer = UserFactory()

    first = services.membership_add(actor=lab_owner, organization=lab, user=newcomer, role=Role.MEMBER)
    again = services.membership_add(actor=lab_owner, organization=lab, user=newcomer, role=Role.ADMIN)

    assert first == again and again.role == Role.MEMBER
    assert AuditEvent.objects.filter(action="membership.created", target_id=first.pk).count() == 1


def test_membership_add_is_refused_to_a_non_owner_and_for_an_individual_org(lab, lab_admin, db):
    with pytest.raises(PermissionDenied):
        services.membership_add(actor=lab_admin, organization=lab, user=UserFactory(), role=Role.MEMBER)
    solo_owner = UserFactory()
    solo = services.signup_complete(user=solo_owner, account_type=AccountType.EXPERT)
    with pytest.raises(DomainError):
        services.membership_add(actor=None, organization=solo, user=UserFactory(), role=Role.OWNER)
    assert solo.memberships.count() == 1


# --- invitation_accept ---------------------------------------------------------------------------------


def test_invitation_accept_adds_the_member_with_the_invited_role(lab, lab_admin):
    invitation, token = invite(lab_admin, lab, email="joiner@invitee.test", role=Role.ADMIN)
    joiner = UserFactory(email="joiner@invitee.test")

    membership = services.invitation_accept(actor=joiner, token=token)

    assert (membership.user, membership.organization, membership.role) == (joiner, lab, Role.ADMIN)
    invitation.refresh_from_db()
    assert (invitation.status, invitation.accepted_by) == (Invitation.Status.ACCEPTED, joiner)
    assert invitation.accepted_at is not None
    assert audit_actions(invitation) == ["invitation.created", "invitation.accepted"]
    assert audit_actions(membership) == ["membership.created"]


def test_accepting_twice_is_a_no_op_returning_the_membership(lab, lab_admin):
    _, token = invite(lab_admin, lab, email="joiner@invitee.test")
    joiner = UserFactory(email="joiner@invitee.test")
    first = services.invitation_accept(actor=joiner, token=token)
    audit_count = AuditEvent.objects.count()

    second = services.invitation_accept(actor=fresh(joiner), token=token)

    assert second == first
    assert AuditEvent.objects.count() == audit_count
    assert Membership.objects.filter(user=joiner).count() == 1


def test_an_expired_invitation_is_refused_and_marked_expired(lab, lab_admin):
    invitation, token = invite(lab_admin, lab, email="late@invitee.test")
    late = UserFactory(email="late@invitee.test")

    with time_machine.travel(timezone.now() + timedelta(hours=settings.INVITATION_TTL_HOURS, seconds=1)):
        with pytest.raises(DomainError) as exc:
            services.invitation_accept(actor=late, token=token)

    assert exc.value.code == "invitation_expired"
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.EXPIRED
    assert not Membership.objects.filter(user=late).exists()


def test_an_accepted_invitation_cannot_be_reused_by_someone_else(lab, lab_admin):
    _, token = invite(lab_admin, lab, email="first@invitee.test")
    first = UserFactory(email="first@invitee.test")
    services.invitation_accept(actor=first, token=token)
    # The first person changes address and a second account takes the invited one.
    User.objects.filter(pk=first.pk).update(email="first-renamed@invitee.test")
    EmailAddress.objects.filter(user=first).update(email="first-renamed@invitee.test")
    second = UserFactory(email="first@invitee.test")

    with pytest.raises(DomainError) as exc:
        services.invitation_accept(actor=second, token=token)

    assert exc.value.code == "invitation_not_pending"
    assert not Membership.objects.filter(user=second).exists()


def test_an_invitation_for_another_address_is_refused(lab, lab_admin):
    invitation, token = invite(lab_admin, lab, email="intended@invitee.test")
    someone_else = UserFactory(email="other@invitee.test")

    with pytest.raises(PermissionDenied) as exc:
        services.invitation_accept(actor=someone_else, token=token)

    assert exc.value.code == "invitation_email_mismatch"
    assert Invitation.objects.get(pk=invitation.pk).status == Invitation.Status.PENDING
    assert not Membership.objects.filter(user=someone_else).exists()


def test_an_unknown_token_is_not_found(db):
    with pytest.raises(NotFound) as exc:
        services.invitation_accept(actor=UserFactory(), token="no-such-token")

    assert exc.value.code == "invitation_not_found"


# --- invitation_revoke / expiry ---------------------------------------------------------------------------


def test_invitation_revoke_stops_the_link_and_is_idempotent(lab, lab_admin):
    invitation, token = invite(lab_admin, lab, email="gone@invitee.test")

    assert services.invitation_revoke(actor=lab_admin, invitation=invitation) is True
    assert services.invitation_revoke(actor=lab_admin, invitation=invitation) is False

    assert invitation.status == Invitation.Status.REVOKED
    assert audit_actions(invitation) == ["invitation.created", "invitation.revoked"]
    with pytest.raises(DomainError) as exc:
        services.invitation_accept(actor=UserFactory(email="gone@invitee.test"), token=token)
    assert exc.value.code == "invitation_not_pending"


def test_a_lab_member_cannot_revoke_an_invitation(lab, lab_admin, lab_member):
    invitation, _ = invite(lab_admin, lab)

    with pytest.raises(PermissionDenied):
        services.invitation_revoke(actor=lab_member, invitation=invitation)

    assert Invitation.objects.get(pk=invitation.pk).status == Invitation.Status.PENDING


def test_invitations_expire_due_expires_only_the_overdue_ones(lab, lab_admin):
    with time_machine.travel(timezone.now() - timedelta(days=30)):
        old_a, _ = invite(lab_admin, lab, email="a@invitee.test")
        old_b, _ = invite(lab_admin, lab, email="b@invitee.test")
    current, _ = invite(lab_admin, lab, email="c@invitee.test")

    assert services.invitations_expire_due() == 2
    assert services.invitations_expire_due() == 0  # resumable: a rerun finds nothing left

    statuses = dict(Invitation.objects.values_list("email", "status"))
    assert statuses == {"a@invitee.test": "expired", "b@invitee.test": "expired", "c@invitee.test": "pending"}
    assert audit_actions(old_a) == ["invitation.created", "invitation.expired"]


def test_the_expire_invitations_task_runs_the_service(lab, lab_admin):
    with time_machine.travel(timezone.now() - timedelta(days=30)):
        invitation, _ = invite(lab_admin, lab)

    result = expire_invitations.delay()

    assert expire_invitations.name == "accounts.expire_invitations"
    assert result.get(timeout=5) == 1
    assert Invitation.objects.get(pk=invitation.pk).status == Invitation.Status.EXPIRED


# --- memberships ---------------------------------------------------------------------------------------------


def test_an_owner_changes_a_members_role_with_an_audit_row(lab, lab_owner, lab_member):
    membership = Membership.objects.get(organization=lab, user=lab_member)

    changed = services.membership_change_role(actor=lab_owner, membership=membership, role=Role.ADMIN)

    assert Membership.objects.get(pk=membership.pk).role == Role.ADMIN == changed.role
    assert audit_actions(membership) == ["membership.role_changed"]
    row = AuditEvent.objects.get(action="membership.role_changed")
    assert (row.actor, row.data["from"], row.data["to"]) == (lab_owner, Role.MEMBER, Role.ADMIN)


def test_changing_to_the_same_role_writes_nothing(lab, lab_owner, lab_member):
    membership = Membership.objects.get(organization=lab, user=lab_member)

    services.membership_change_role(actor=lab_owner, membership=membership, role=Role.MEMBER)

    assert audit_actions(membership) == []


def test_only_owners_change_roles(lab, lab_admin, lab_member):
    membership = Membership.objects.get(organization=lab, user=lab_member)

    with pytest.raises(PermissionDenied):
        services.membership_change_role(actor=lab_admin, membership=membership, role=Role.ADMIN)

    assert Membership.objects.get(pk=membership.pk).role == Role.MEMBER


def test_a_role_of_another_kind_is_refused_naming_role(lab, lab_owner, lab_member):
    membership = Membership.objects.get(organization=lab, user=lab_member)

    with pytest.raises(ValidationFailed) as exc:
        services.membership_change_role(actor=lab_owner, membership=membership, role=Role.EXPERT)

    assert "role" in exc.value.details


def test_the_last_owner_cannot_be_demoted_until_there_is_another(lab, lab_owner, lab_admin):
    own = Membership.objects.get(organization=lab, user=lab_owner)

    with pytest.raises(DomainError) as exc:
        services.membership_change_role(actor=lab_owner, membership=own, role=Role.ADMIN)
    assert exc.value.code == "last_owner"
    assert Membership.objects.get(pk=own.pk).role == Role.OWNER

    admin_membership = Membership.objects.get(organization=lab, user=lab_admin)
    services.membership_change_role(actor=lab_owner, membership=admin_membership, role=Role.OWNER)
    services.membership_change_role(actor=fresh(lab_owner), membership=own, role=Role.ADMIN)
    assert Membership.objects.get(pk=own.pk).role == Role.ADMIN


def test_removing_a_member_revokes_their_keys_in_that_org_only(lab, lab_owner, lab_admin, outsider):
    own_key, _ = services.api_key_create(actor=lab_admin, organization=lab, name="pipeline")
    colleague_key, _ = services.api_key_create(actor=lab_owner, organization=lab, name="owner's")
    elsewhere = services.organization_create(actor=lab_admin, name="Side Project", kind=OrgKind.LAB)
    other_org_key, _ = services.api_key_create(actor=fresh(lab_admin), organization=elsewhere, name="side")
    membership = Membership.objects.get(organization=lab, user=lab_admin)

    services.membership_remove(actor=lab_owner, membership=membership)

    assert not Membership.objects.filter(pk=membership.pk).exists()
    own_key.refresh_from_db()
    assert (own_key.status, own_key.revoked_at is not None) == (ApiKey.Status.REVOKED, True)
    assert ApiKey.objects.get(pk=colleague_key.pk).status == ApiKey.Status.ACTIVE
    assert ApiKey.objects.get(pk=other_org_key.pk).status == ApiKey.Status.ACTIVE
    assert audit_verbs(own_key) == ["created", "revoked"]
    assert AuditEvent.objects.filter(action="membership.removed", actor=lab_owner).count() == 1


def test_a_member_may_leave_by_themselves(lab, lab_member):
    membership = Membership.objects.get(organization=lab, user=lab_member)

    services.membership_remove(actor=lab_member, membership=membership)

    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_a_non_owner_cannot_remove_someone_else(lab, lab_admin, lab_member):
    membership = Membership.objects.get(organization=lab, user=lab_member)

    with pytest.raises(PermissionDenied):
        services.membership_remove(actor=lab_admin, membership=membership)

    assert Membership.objects.filter(pk=membership.pk).exists()


def test_the_last_owner_cannot_leave_or_be_removed(lab, lab_owner):
    own = Membership.objects.get(organization=lab, user=lab_owner)

    with pytest.raises(DomainError) as exc:
        services.membership_remove(actor=lab_owner, membership=own)

    assert exc.value.code == "last_owner"
    assert Membership.objects.filter(pk=own.pk).exists()


# --- API keys -------------------------------------------------------------------------------------------------


def test_api_key_create_returns_the_raw_key_once_and_stores_its_hash(lab, lab_admin):
    key, raw = services.api_key_create(actor=lab_admin, organization=lab, name=" pipeline ")

    assert raw.startswith(f"{key.prefix}_") and key.prefix.startswith("hdk_")
    assert key.name == "pipeline"
    assert raw not in (key.key_hash, key.prefix)
    assert (key.status, key.created_by, key.expires_at) == (ApiKey.Status.ACTIVE, lab_admin, None)
    assert audit_actions(key) == ["api_key.created"]
    assert raw not in str(AuditEvent.objects.get(action="api_key.created").data)


def test_api_key_create_refuses_a_blank_name_or_past_expiry(lab, lab_admin):
    with pytest.raises(ValidationFailed) as exc:
        services.api_key_create(actor=lab_admin, organization=lab, name="  ")
    assert "name" in exc.value.details
    with pytest.raises(ValidationFailed) as exc:
        services.api_key_create(
            actor=lab_admin, organization=lab, name="x", expires_at=timezone.now() - timedelta(seconds=1)
        )
    assert "expires_at" in exc.value.details
    assert not ApiKey.objects.exists()


def test_api_key_create_needs_the_permission(lab, lab_member, vendor, expert, outsider):
    with pytest.raises(PermissionDenied):
        services.api_key_create(actor=lab_member, organization=lab, name="x")
    with pytest.raises(PermissionDenied):
        services.api_key_create(actor=expert, organization=vendor, name="x")
    with pytest.raises(NotFound):
        services.api_key_create(actor=outsider, organization=lab, name="x")
    assert not ApiKey.objects.exists()


def test_api_key_authenticate_finds_the_active_key(lab, lab_admin):
    key, raw = services.api_key_create(actor=lab_admin, organization=lab, name="pipeline")

    assert services.api_key_authenticate(raw) == key
    assert services.api_key_authenticate(raw + "x") is None
    assert services.api_key_authenticate(raw.replace("hdk_", "xyz_", 1)) is None
    assert services.api_key_authenticate("") is None


def test_a_revoked_key_no_longer_authenticates_and_revoking_twice_is_a_no_op(lab, lab_admin):
    key, raw = services.api_key_create(actor=lab_admin, organization=lab, name="pipeline")

    assert services.api_key_revoke(actor=lab_admin, api_key=key) is True
    assert services.api_key_revoke(actor=lab_admin, api_key=key) is False

    assert services.api_key_authenticate(raw) is None
    assert audit_verbs(key) == ["created", "revoked"]


def test_a_lab_member_cannot_revoke_a_key(lab, lab_admin, lab_member):
    key, raw = services.api_key_create(actor=lab_admin, organization=lab, name="pipeline")

    with pytest.raises(PermissionDenied):
        services.api_key_revoke(actor=lab_member, api_key=key)

    assert services.api_key_authenticate(raw) == key


def test_an_expired_key_no_longer_authenticates(lab, lab_admin):
    expires_at = timezone.now() + timedelta(days=1)
    _, raw = services.api_key_create(actor=lab_admin, organization=lab, name="pipeline", expires_at=expires_at)

    with time_machine.travel(expires_at - timedelta(seconds=1), tick=False):
        assert services.api_key_authenticate(raw) is not None
    with time_machine.travel(expires_at, tick=False):
        assert services.api_key_authenticate(raw) is None


def test_last_used_at_is_written_at_most_once_a_minute(lab, lab_admin):
    key, raw = services.api_key_create(actor=lab_admin, organization=lab, name="pipeline")
    start = timezone.now() + timedelta(hours=1)

    def last_used():
        return ApiKey.objects.get(pk=key.pk).last_used_at

    with time_machine.travel(start, tick=False):
        services.api_key_authenticate(raw)
    assert last_used() == start
    with time_machine.travel(start + timedelta(seconds=59), tick=False):
        services.api_key_authenticate(raw)
    assert last_used() == start
    with time_machine.travel(start + timedelta(seconds=60), tick=False):
        services.api_key_authenticate(raw)
    assert last_used() == start + timedelta(seconds=60)
