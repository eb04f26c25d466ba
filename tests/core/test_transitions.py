"""transition(): allowed sources, compare-and-swap, one audit row, effects after commit, no-op repeats."""

import threading
import uuid
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.models import ApiKey, Invitation, User, hash_secret
from apps.accounts.roles import Role
from apps.core.errors import InvalidTransition
from apps.core.models import AuditEvent
from apps.core.transitions import transition
from tests.factories import OrganizationFactory, UserFactory


def make_invitation(org, **fields):
    defaults = {
        "email": f"{uuid.uuid4().hex[:8]}@invitee.test",
        "role": Role.MEMBER,
        "token_hash": hash_secret(uuid.uuid4().hex),
        "expires_at": timezone.now() + timedelta(days=7),
    }
    return Invitation.objects.create(organization=org, **{**defaults, **fields})


def audit_rows(obj):
    return AuditEvent.objects.filter(target_type=ContentType.objects.get_for_model(type(obj)), target_id=obj.pk)


@pytest.fixture
def org(db):
    return OrganizationFactory()


@pytest.fixture
def actor(db):
    return UserFactory()


def test_transition_moves_the_status_and_writes_one_audit_row(org, actor):
    invitation = make_invitation(org)

    moved = transition(invitation, Invitation.Status.ACCEPTED, actor=actor, organization_public_id=org.public_id)

    assert moved is True
    assert invitation.status == Invitation.Status.ACCEPTED
    assert Invitation.objects.get(pk=invitation.pk).status == Invitation.Status.ACCEPTED
    (row,) = audit_rows(invitation)
    assert (row.action, row.from_status, row.to_status) == ("invitation.accepted", "pending", "accepted")
    assert row.actor == actor
    assert row.organization_public_id == org.public_id


def test_transition_writes_extra_updates_in_the_same_update(org, actor):
    key = ApiKey.objects.create(organization=org, name="ci", prefix="hdk_t1", key_hash="h1", created_by=actor)
    revoked_at = timezone.now()

    assert transition(
        key, ApiKey.Status.REVOKED, actor=actor, reason="leaked", extra_updates={"revoked_at": revoked_at}
    )

    key.refresh_from_db()
    assert (key.status, key.revoked_at) == (ApiKey.Status.REVOKED, revoked_at)
    (row,) = audit_rows(key)
    assert (row.from_status, row.to_status, row.reason, row.actor) == ("active", "revoked", "leaked", actor)
    assert row.action.endswith(".revoked")


def test_transition_without_an_actor_records_the_system(org):
    invitation = make_invitation(org)

    transition(invitation, Invitation.Status.EXPIRED)

    assert audit_rows(invitation).get().actor is None


def test_transition_from_a_forbidden_source_is_refused_and_changes_nothing(org, actor):
    invitation = make_invitation(org, status=Invitation.Status.REVOKED)

    with pytest.raises(InvalidTransition) as exc:
        transition(invitation, Invitation.Status.ACCEPTED, actor=actor)

    assert exc.value.code == "invitation_not_pending"
    assert exc.value.details == {"current_status": "revoked", "requested_status": "accepted"}
    assert Invitation.objects.get(pk=invitation.pk).status == Invitation.Status.REVOKED
    assert not audit_rows(invitation).exists()


def test_transition_to_a_status_nothing_leads_to_is_refused(org, actor):
    invitation = make_invitation(org)

    with pytest.raises(InvalidTransition) as exc:
        transition(invitation, Invitation.Status.PENDING, actor=actor)

    assert exc.value.code == "invitation_invalid_transition"


def test_repeating_a_done_move_returns_false_and_writes_no_audit_row(org, actor):
    key = ApiKey.objects.create(organization=org, name="ci", prefix="hdk_t2", key_hash="h2", created_by=actor)
    assert transition(key, ApiKey.Status.REVOKED, actor=actor) is True
    effects = []

    assert transition(key, ApiKey.Status.REVOKED, actor=actor, on_commit=lambda: effects.append(1)) is False

    assert audit_rows(key).count() == 1
    assert effects == []


def test_side_effect_runs_only_after_commit(org, actor, django_capture_on_commit_callbacks):
    invitation = make_invitation(org)
    effects = []

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        transition(invitation, Invitation.Status.ACCEPTED, actor=actor, on_commit=lambda: effects.append("sent"))
        assert effects == []  # not before the commit

    assert len(callbacks) == 1
    assert effects == ["sent"]


def test_side_effect_and_audit_row_are_dropped_on_rollback(org, actor, django_capture_on_commit_callbacks):
    invitation = make_invitation(org)
    effects = []

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            transition(invitation, Invitation.Status.ACCEPTED, actor=actor, on_commit=lambda: effects.append("sent"))
            raise RuntimeError("a later step of the same service failed")

    assert callbacks == []
    assert effects == []
    assert Invitation.objects.get(pk=invitation.pk).status == Invitation.Status.PENDING
    assert not audit_rows(invitation).exists()


# --- Concurrency: two callers, one winner ----------------------------------------------------------


def _race(invitation_pk: int, targets: list[str], actor_pk: int) -> list[object]:
    """Run transition() towards each target in its own thread, all released at once."""
    barrier = threading.Barrier(len(targets))
    results: list[object] = [None] * len(targets)

    def worker(i: int, to: str) -> None:
        try:
            own = Invitation.objects.get(pk=invitation_pk)  # each thread its own instance and connection
            barrier.wait(timeout=10)
            results[i] = transition(own, to, actor=User.objects.get(pk=actor_pk))
        except Exception as exc:  # recorded and asserted by the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, to)) for i, to in enumerate(targets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    return results


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip(f"row locks need PostgreSQL; this run uses {connection.vendor} (set DATABASE_URL=postgres://...)")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_two_concurrent_accepts_move_the_invitation_once(postgres_only, round_):
    org = OrganizationFactory()
    actor = UserFactory()
    invitation = make_invitation(org)

    results = _race(invitation.pk, [Invitation.Status.ACCEPTED, Invitation.Status.ACCEPTED], actor.pk)

    assert sorted(results, key=repr) == [False, True], results
    assert audit_rows(invitation).count() == 1
    assert Invitation.objects.get(pk=invitation.pk).status == Invitation.Status.ACCEPTED


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_concurrent_accept_and_revoke_let_exactly_one_win(postgres_only, round_):
    org = OrganizationFactory()
    actor = UserFactory()
    invitation = make_invitation(org)

    results = _race(invitation.pk, [Invitation.Status.ACCEPTED, Invitation.Status.REVOKED], actor.pk)

    winners = [r for r in results if r is True]
    losers = [r for r in results if isinstance(r, InvalidTransition)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert losers[0].code == "invitation_not_pending"
    (row,) = audit_rows(invitation)
    assert Invitation.objects.get(pk=invitation.pk).status == row.to_status
