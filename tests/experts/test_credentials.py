"""Credential review: verify, reject, revoke (operations only), duplicate-identifier flags."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import transaction

from apps.core.errors import DomainError, InvalidTransition, NotFound, ValidationFailed
from apps.experts import services
from apps.experts.models import Credential, CredentialFlag, CredentialType
from apps.notifications.models import Notification
from tests.experts.support import audit_actions, audit_rows, pdf
from tests.factories import CredentialFactory, ExpertProfileFactory, UserFactory

NOON = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
TODAY = NOON.date()

S = Credential.Status


@pytest.fixture
def pending(db):
    return CredentialFactory(profile=ExpertProfileFactory(user=UserFactory(email="dr.ray@example.test")))


@pytest.fixture
def verified(pending, operations):
    services.credential_verify(actor=operations, credential=pending)
    return pending


def notifications_for(user, kind):
    return Notification.objects.filter(recipient=user, kind=kind)


# --- credential_submit -----------------------------------------------------------------------------


def test_credential_submit_creates_a_pending_credential_with_an_audit_row(db):
    user = UserFactory()

    credential = services.credential_submit(
        actor=user,
        type=CredentialType.BOARD_CERTIFICATION,
        title=" Diagnostic radiology ",
        issuer=" American Board of Radiology ",
        identifier=" ABR 12-345 ",
        evidence=pdf(),
    )

    assert credential.status == S.PENDING
    assert credential.profile.user == user
    assert (credential.title, credential.issuer, credential.identifier) == (
        "Diagnostic radiology",
        "American Board of Radiology",
        "ABR 12-345",
    )
    assert (credential.issuer_key, credential.identifier_key) == ("americanboardofradiology", "abr12345")
    assert audit_actions(credential) == ["credential.submitted"]


# --- allowed and refused moves ----------------------------------------------------------------------


def test_credential_verify_moves_pending_to_verified_and_records_who_when_and_reverify_date(pending, operations):
    with time_machine.travel(NOON, tick=False):
        moved = services.credential_verify(actor=operations, credential=pending)

    assert moved is True
    pending.refresh_from_db()
    assert pending.status == S.VERIFIED
    assert pending.verified_by == operations
    assert pending.verified_at == NOON
    assert pending.reverify_on == TODAY + timedelta(days=365)
    row = audit_rows(pending).get(action="credential.verified")
    assert (row.actor, row.from_status, row.to_status) == (operations, S.PENDING, S.VERIFIED)


def test_credential_verify_sets_reverify_on_to_the_expiry_date_when_that_comes_first(db, operations):
    credential = CredentialFactory(expires_on=TODAY + timedelta(days=90))

    with time_machine.travel(NOON, tick=False):
        services.credential_verify(actor=operations, credential=credential)

    assert credential.reverify_on == TODAY + timedelta(days=90)


def test_credential_verify_uses_an_explicit_reverify_date(pending, operations):
    with time_machine.travel(NOON, tick=False):
        services.credential_verify(actor=operations, credential=pending, reverify_on=TODAY + timedelta(days=30))

    assert pending.reverify_on == TODAY + timedelta(days=30)


def test_credential_verify_refuses_a_reverify_date_that_is_not_in_the_future(pending, operations):
    with time_machine.travel(NOON, tick=False), pytest.raises(ValidationFailed) as exc:
        services.credential_verify(actor=operations, credential=pending, reverify_on=TODAY)

    assert "reverify_on" in exc.value.details
    pending.refresh_from_db()
    assert pending.status == S.PENDING


def test_credential_verify_refuses_a_pending_credential_already_past_its_expiry(db, operations):
    # given a pending credential whose expiry passed before the daily task ran
    with time_machine.travel(NOON, tick=False):
        credential = CredentialFactory(expires_on=TODAY + timedelta(days=5))
    with time_machine.travel(NOON + timedelta(days=5), tick=False), pytest.raises(DomainError) as exc:
        services.credential_verify(actor=operations, credential=credential)

    assert exc.value.code == "credential_expired"
    credential.refresh_from_db()
    assert credential.status == S.PENDING


def test_credential_verify_called_twice_is_a_no_op_with_one_audit_row(pending, operations):
    assert services.credential_verify(actor=operations, credential=pending) is True
    first_verified_at = pending.verified_at

    assert services.credential_verify(actor=operations, credential=pending) is False

    assert pending.verified_at == first_verified_at
    assert audit_actions(pending).count("credential.verified") == 1
    assert notifications_for(pending.profile.user, "credential.verified").count() == 1


def test_credential_reject_moves_pending_to_rejected_and_keeps_the_reason(pending, operations):
    moved = services.credential_reject(actor=operations, credential=pending, reason="  Scan is illegible. ")

    assert moved is True
    assert pending.status == S.REJECTED
    assert pending.status_reason == "Scan is illegible."
    row = audit_rows(pending).get(action="credential.rejected")
    assert (row.actor, row.reason, row.from_status) == (operations, "Scan is illegible.", S.PENDING)
    assert notifications_for(pending.profile.user, "credential.rejected").get().body == "Reason: Scan is illegible."


def test_credential_reject_called_twice_is_a_no_op_with_one_audit_row(pending, operations):
    assert services.credential_reject(actor=operations, credential=pending, reason="Illegible") is True
    assert services.credential_reject(actor=operations, credential=pending, reason="Other reason") is False

    assert pending.status_reason == "Illegible"
    assert audit_actions(pending).count("credential.rejected") == 1
    assert notifications_for(pending.profile.user, "credential.rejected").count() == 1


def test_credential_revoke_moves_verified_to_revoked_and_keeps_the_reason(verified, operations):
    moved = services.credential_revoke(actor=operations, credential=verified, reason="Licence suspended by the board")

    assert moved is True
    assert verified.status == S.REVOKED
    assert verified.status_reason == "Licence suspended by the board"
    row = audit_rows(verified).get(action="credential.revoked")
    assert (row.from_status, row.to_status, row.reason) == (S.VERIFIED, S.REVOKED, "Licence suspended by the board")
    assert notifications_for(verified.profile.user, "credential.revoked").count() == 1


def test_credential_revoke_called_twice_is_a_no_op_with_one_audit_row(verified, operations):
    assert services.credential_revoke(actor=operations, credential=verified, reason="Suspended") is True
    assert services.credential_revoke(actor=operations, credential=verified, reason="Suspended") is False

    assert audit_actions(verified).count("credential.revoked") == 1


@pytest.mark.parametrize("status", [S.PENDING, S.VERIFIED])
def test_credentials_expire_due_moves_pending_and_verified_to_expired(db, status):
    credential = CredentialFactory(
        status=status, verified_at=NOON if status == S.VERIFIED else None, expires_on=TODAY - timedelta(days=1)
    )

    with time_machine.travel(NOON, tick=False):
        assert services.credentials_expire_due() == 1

    credential.refresh_from_db()
    assert credential.status == S.EXPIRED
    row = audit_rows(credential).get(action="credential.expired")
    assert (row.actor, row.from_status, row.reason) == (None, status, "expiry date passed")


@pytest.mark.parametrize(
    ("status", "service", "kwargs", "code"),
    [
        (S.REJECTED, "credential_verify", {}, "credential_not_pending"),
        (S.REVOKED, "credential_verify", {}, "credential_not_pending"),
        (S.EXPIRED, "credential_verify", {}, "credential_not_pending"),
        (S.VERIFIED, "credential_reject", {"reason": "Changed my mind"}, "credential_not_pending"),
        (S.PENDING, "credential_revoke", {"reason": "Not verified yet"}, "credential_not_verified"),
        (S.REJECTED, "credential_revoke", {"reason": "Already rejected"}, "credential_not_verified"),
    ],
    ids=[
        "rejected-to-verified",
        "revoked-to-verified",
        "expired-to-verified",
        "verified-to-rejected",
        "pending-to-revoked",
        "rejected-to-revoked",
    ],
)
def test_forbidden_credential_moves_are_refused_with_an_invalid_transition_code(
    db, operations, status, service, kwargs, code
):
    # given a credential in a state the move does not start from
    credential = CredentialFactory(
        status=status,
        verified_at=NOON if status == S.VERIFIED else None,
        expires_on=date(2020, 1, 1) if status == S.EXPIRED else None,
    )

    # when operations try the move
    with pytest.raises(InvalidTransition) as exc:
        getattr(services, service)(actor=operations, credential=credential, **kwargs)

    # then nothing changes and nothing is recorded or sent
    assert exc.value.code == code
    assert exc.value.details["current_status"] == status
    credential.refresh_from_db()
    assert credential.status == status
    assert not audit_rows(credential).exists()
    assert not Notification.objects.exists()


@pytest.mark.parametrize(("service", "status"), [("credential_reject", S.PENDING), ("credential_revoke", S.VERIFIED)])
@pytest.mark.parametrize("reason", ["", "   ", None])
def test_reject_and_revoke_require_a_reason(db, operations, service, status, reason):
    credential = CredentialFactory(status=status, verified_at=NOON if status == S.VERIFIED else None)

    with pytest.raises(ValidationFailed) as exc:
        getattr(services, service)(actor=operations, credential=credential, reason=reason)

    assert "reason" in exc.value.details
    credential.refresh_from_db()
    assert credential.status == status
    assert not audit_rows(credential).exists()


@pytest.mark.parametrize("persona", ["lab_admin", "vendor_manager", "expert", "finance", "outsider"])
@pytest.mark.parametrize(
    ("service", "kwargs"),
    [("credential_verify", {}), ("credential_reject", {"reason": "No"}), ("credential_revoke", {"reason": "No"})],
)
def test_only_operations_may_review_credentials(request, db, persona, service, kwargs):
    # given a credential (verified for the revoke case) and someone who is not operations
    actor = request.getfixturevalue(persona)
    credential = CredentialFactory(
        profile=ExpertProfileFactory(user=actor) if persona == "expert" else ExpertProfileFactory(),
        **({"verified": True} if service == "credential_revoke" else {}),
    )
    before = credential.status

    with pytest.raises(NotFound):
        getattr(services, service)(actor=actor, credential=credential, **kwargs)

    credential.refresh_from_db()
    assert credential.status == before
    assert not audit_rows(credential).exists()


# --- side effects after commit ---------------------------------------------------------------------------


def test_credential_verify_notifies_the_expert_and_emails_only_after_commit(
    pending, operations, django_capture_on_commit_callbacks, mailoutbox
):
    expert = pending.profile.user

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.credential_verify(actor=operations, credential=pending)

    # the in-app notification exists inside the transaction, the e-mail waits for the commit
    note = notifications_for(expert, "credential.verified").get()
    assert note.title == f"Verified: {pending.title}"
    assert len(callbacks) == 1
    assert mailoutbox == []

    for callback in callbacks:
        callback()

    assert [m.to for m in mailoutbox] == [[expert.email]]
    assert mailoutbox[0].subject == f"Verified: {pending.title}"
    note.refresh_from_db()
    assert note.emailed_at is not None


@pytest.mark.parametrize(
    ("service", "kwargs", "kind"),
    [
        ("credential_verify", {}, "credential.verified"),
        ("credential_reject", {"reason": "Illegible"}, "credential.rejected"),
    ],
)
def test_credential_review_sends_nothing_when_the_transaction_rolls_back(
    pending, operations, django_capture_on_commit_callbacks, mailoutbox, service, kwargs, kind
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            getattr(services, service)(actor=operations, credential=pending, **kwargs)
            raise RuntimeError("the surrounding request failed")

    assert callbacks == []
    assert mailoutbox == []
    assert not Notification.objects.filter(kind=kind).exists()
    pending.refresh_from_db()
    assert pending.status == S.PENDING
    assert not audit_rows(pending).exists()


def test_credential_reject_emails_the_reason_after_commit(
    pending, operations, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        services.credential_reject(actor=operations, credential=pending, reason="Name does not match the account")

    assert len(mailoutbox) == 1
    assert "Name does not match the account" in mailoutbox[0].body


# --- duplicate identifiers ---------------------------------------------------------------------------


def submit_licence(user, issuer="State Medical Board", identifier="AB-123 45"):
    return services.credential_submit(
        actor=user,
        type=CredentialType.PROFESSIONAL_LICENCE,
        title="Medical licence",
        issuer=issuer,
        identifier=identifier,
        evidence=pdf(),
    )


def test_the_same_identifier_on_two_accounts_raises_a_flag_and_notifies_operations(
    db, operations, django_capture_on_commit_callbacks, mailoutbox
):
    # given one account holding a licence number
    first = submit_licence(UserFactory())
    second_ops = UserFactory(staff_role="operations")

    # when another account adds the same licence typed differently
    with django_capture_on_commit_callbacks(execute=True):
        second = submit_licence(UserFactory(), issuer="  state medical BOARD", identifier="ab12345")

    # then one flag points from the new credential to the existing one, and operations hear of it
    flag = CredentialFlag.objects.get()
    assert (flag.kind, flag.credential, flag.other_credential) == (
        CredentialFlag.Kind.DUPLICATE_IDENTIFIER,
        second,
        first,
    )
    assert flag.status == CredentialFlag.Status.OPEN
    recipients = set(Notification.objects.filter(kind="credential.flagged").values_list("recipient", flat=True))
    assert recipients == {operations.pk, second_ops.pk}
    assert sorted(m.to[0] for m in mailoutbox) == sorted([operations.email, second_ops.email])


def test_the_same_person_adding_an_identifier_twice_raises_no_flag(db, operations):
    user = UserFactory()
    submit_licence(user)

    submit_licence(user, identifier="AB 12345")

    assert not CredentialFlag.objects.exists()
    assert not Notification.objects.filter(kind="credential.flagged").exists()


@pytest.mark.parametrize("status", [S.REJECTED, S.REVOKED])
def test_rejected_or_revoked_credentials_do_not_count_as_duplicates(db, operations, status):
    CredentialFactory(
        issuer="State Medical Board",
        identifier="AB-12345",
        status=status,
        verified_at=NOON if status == S.REVOKED else None,
    )

    submit_licence(UserFactory())

    assert not CredentialFlag.objects.exists()


def test_a_credential_without_identifier_is_never_flagged(db, operations):
    submit_licence(UserFactory(), identifier="")
    submit_licence(UserFactory(), identifier="")

    assert not CredentialFlag.objects.exists()


@pytest.fixture
def flag(db, operations):
    submit_licence(UserFactory())
    submit_licence(UserFactory())
    return CredentialFlag.objects.get()


def test_credential_flag_resolve_records_the_resolution_once(flag, operations):
    assert services.credential_flag_resolve(actor=operations, flag=flag, resolution="Two clinicians at one practice")
    assert not services.credential_flag_resolve(actor=operations, flag=flag, resolution="Again")

    flag.refresh_from_db()
    assert (flag.status, flag.resolution) == (CredentialFlag.Status.RESOLVED, "Two clinicians at one practice")
    assert audit_actions(flag) == ["credentialflag.resolved"]


@pytest.mark.parametrize("resolution", ["", "  "])
def test_credential_flag_resolve_requires_a_resolution(flag, operations, resolution):
    with pytest.raises(ValidationFailed) as exc:
        services.credential_flag_resolve(actor=operations, flag=flag, resolution=resolution)

    assert "resolution" in exc.value.details
    flag.refresh_from_db()
    assert flag.status == CredentialFlag.Status.OPEN


def test_only_operations_may_resolve_a_flag(flag, finance):
    with pytest.raises(NotFound):
        services.credential_flag_resolve(actor=finance, flag=flag, resolution="Fine")
