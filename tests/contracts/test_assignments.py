"""The NDA and assignments: the supplier assigns experts to an active contract only when every gate
holds (roster, credentials, NDA, current guidelines), naming each unmet gate; gates are checked
again when guidelines change or a credential lapses, suspending the assignment and telling everyone."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.contracts import selectors, services
from apps.contracts.models import Assignment, Contract, NdaAcceptance
from apps.contracts.tasks import recheck_assignments
from apps.core.errors import DomainError, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from apps.core.models import AuditEvent
from apps.experts import services as experts
from apps.experts.models import Credential, CredentialType, RosterEntry
from apps.notifications.models import Notification
from apps.projects import services as projects
from apps.projects.models import Project
from tests.factories import BidFactory, CredentialFactory, ProjectFactory
from tests.projects.support import audit_actions, audit_rows, kinds_for

from .support import IP, acknowledge_latest, award, gates_of, make_ready, profile_of, qualify, sign_both

A = Assignment.Status
BOARD = CredentialType.BOARD_CERTIFICATION


def assign(contract, expert, actor, organization):
    return services.assignment_create(
        actor=actor, organization=organization, contract=contract, expert_public_id=str(expert.public_id)
    )


def later(days: int):
    return time_machine.travel(timezone.now() + timedelta(days=days), tick=False)


def entry_of(user) -> RosterEntry:
    return RosterEntry.objects.get(user=user)


def publish_v2(project, lab_admin):
    return projects.guideline_publish(
        actor=lab_admin, project=project, body_markdown="# Guidelines v2\n\nTies are rare.", change_summary="Ties"
    )


# --- NDA ------------------------------------------------------------------------------------------------


def test_a_roster_expert_accepts_the_nda_in_force_once(active, workers):
    # when a roster expert accepts the NDA, twice
    first = services.nda_accept(actor=workers[0], contract=active, ip_address=IP)
    again = services.nda_accept(actor=workers[0], contract=active, ip_address="198.51.100.1")

    # then one acceptance of the version in force, from the first IP, audited once
    assert first == again
    assert (first.user, first.nda_version, first.ip_address) == (workers[0], "standard-nda-v1", IP)
    assert NdaAcceptance.objects.count() == 1
    assert audit_actions(active).count("nda.accepted") == 1
    assert audit_rows(active).get(action="nda.accepted").data == {"nda_version": "standard-nda-v1"}


def test_the_independent_expert_accepts_the_nda_of_their_contract(solo_contract, lab_admin, independent):
    sign_both(solo_contract, lab_admin, independent)
    assert services.nda_accept(actor=independent, contract=solo_contract).user == independent


@pytest.mark.parametrize("who", ["vendor_manager", "expert", "lab_admin", "independent", "suspended", "outsider"])
def test_only_the_suppliers_people_accept_its_nda(active, workers, lab_admin, vendor_manager, who, request):
    # the vendor's manager and a vendor member off the roster are not its experts; nor are the lab,
    # another supplier's expert, a suspended roster expert or an outsider
    if who == "suspended":
        experts.roster_suspend(actor=vendor_manager, entry=entry_of(workers[1]), reason="Quality")
        user = workers[1]
    else:
        user = request.getfixturevalue(who)
    with pytest.raises(NotFound):
        services.nda_accept(actor=user, contract=active)
    assert NdaAcceptance.objects.count() == 0


def test_the_nda_of_an_unsigned_contract_cannot_be_accepted(contract, workers):
    with pytest.raises(DomainError) as exc:
        services.nda_accept(actor=workers[0], contract=contract)
    assert exc.value.code == "contract_not_active"
    assert NdaAcceptance.objects.count() == 0


# --- Assigning ------------------------------------------------------------------------------------------


def test_an_expert_passing_every_gate_is_assigned(active, ready, vendor, vendor_manager):
    assert selectors.assignment_gates(active, ready) == []

    assignment = assign(active, ready, vendor_manager, vendor)

    assert (assignment.contract, assignment.expert, assignment.assigned_by, assignment.status) == (
        active, ready, vendor_manager, A.ACTIVE,
    )  # fmt: skip
    assert audit_rows(assignment).get(action="assignment.created").actor == vendor_manager
    assert kinds_for(ready)[-1] == "assignment.created"
    assert list(selectors.active_assignees(active)) == [ready]


def test_the_assignment_email_goes_after_commit(
    active, ready, vendor, vendor_manager, django_capture_on_commit_callbacks, mailoutbox
):
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assign(active, ready, vendor_manager, vendor)
    assert mailoutbox == []
    for callback in callbacks:
        callback()
    assert [m.to for m in mailoutbox] == [[ready.email]]


def test_assigning_the_same_expert_twice_is_refused(active, ready, vendor, vendor_manager):
    assign(active, ready, vendor_manager, vendor)
    before = (Assignment.objects.count(), AuditEvent.objects.count(), Notification.objects.count())

    with pytest.raises(DomainError) as exc:
        assign(active, ready, vendor_manager, vendor)

    assert exc.value.code == "already_assigned"
    assert (Assignment.objects.count(), AuditEvent.objects.count(), Notification.objects.count()) == before


def test_an_ended_assignment_ends_once_and_the_expert_may_be_assigned_again(active, ready, vendor, vendor_manager):
    assignment = assign(active, ready, vendor_manager, vendor)
    assert services.assignment_end(actor=vendor_manager, organization=vendor, assignment=assignment) is True
    assert services.assignment_end(actor=vendor_manager, organization=vendor, assignment=assignment) is False
    assert audit_rows(assignment).filter(action="assignment.ended").count() == 1
    assert list(selectors.active_assignees(active)) == []

    again = assign(active, ready, vendor_manager, vendor)
    assert again.pk != assignment.pk and again.status == A.ACTIVE


def test_the_independent_expert_assigns_themselves(solo_contract, lab_admin, individual, independent):
    sign_both(solo_contract, lab_admin, independent)
    make_ready(solo_contract, independent)
    assert assign(solo_contract, independent, independent, individual).expert == independent


@pytest.mark.parametrize("state", ["pending", "paused"])
def test_only_an_active_contract_takes_assignments(contract, workers, lab, lab_admin, vendor, vendor_manager, state):
    if state == "paused":
        sign_both(contract, lab_admin, vendor_manager)
        make_ready(contract, workers[0])
        services.contract_pause(actor=lab_admin, organization=lab, contract=contract)
    with pytest.raises(DomainError) as exc:
        assign(contract, workers[0], vendor_manager, vendor)
    assert exc.value.code == "contract_not_active"
    assert Assignment.objects.count() == 0


def test_only_the_supplier_assigns(active, ready, lab, lab_admin, vendor, rival, outsider):
    with pytest.raises(PermissionDenied):
        assign(active, ready, lab_admin, lab)  # the lab has no assignments permission
    with pytest.raises(PermissionDenied):
        assign(active, ready, ready, vendor)  # an expert of the vendor neither
    with pytest.raises(NotFound):
        assign(active, ready, rival.manager, rival.org)  # another supplier: not its contract
    with pytest.raises(NotFound):
        assign(active, ready, outsider, vendor)
    assert Assignment.objects.count() == 0


def test_an_unknown_expert_is_refused(active, vendor, vendor_manager):
    for bad in ("not-a-uuid", "00000000-0000-0000-0000-000000000000", None):
        with pytest.raises(ValidationFailed) as exc:
            services.assignment_create(actor=vendor_manager, organization=vendor, contract=active, expert_public_id=bad)
        assert exc.value.details == {"expert": ["No such expert."]}


# --- Each gate ------------------------------------------------------------------------------------------


def refused_gates(contract, user, actor, organization) -> list[dict]:
    with pytest.raises(DomainError) as exc:
        assign(contract, user, actor, organization)
    assert exc.value.code == "assignment_gates_unmet"
    assert Assignment.objects.count() == 0
    return exc.value.details["gates"]


def gates_of_assign(contract, user, actor, organization) -> list[str]:
    return [g["gate"] for g in refused_gates(contract, user, actor, organization)]


@pytest.mark.parametrize("how", ["suspended", "offboarded"])
def test_an_expert_off_the_active_roster_is_refused(active, ready, vendor, vendor_manager, how):
    entry = entry_of(ready)
    if how == "suspended":
        experts.roster_suspend(actor=vendor_manager, entry=entry, reason="Quality review")
    else:
        experts.roster_offboard(actor=vendor_manager, entry=entry, reason="Left")
    gates = refused_gates(active, ready, vendor_manager, vendor)
    assert [g["gate"] for g in gates] == ["roster"]
    assert gates[0]["message"] == "Not an active expert on the supplier's roster."


def test_another_suppliers_expert_is_refused_for_the_roster(active, rival, vendor, vendor_manager):
    # a rival's roster expert, qualified and acknowledged for the rival, is not on this vendor's roster
    qualify(rival.team[0])
    acknowledge_latest(rival.team[0], rival.org, active.project)
    assert gates_of_assign(active, rival.team[0], vendor_manager, vendor) == ["roster"]


def nda_and_guidelines(contract, user):
    services.nda_accept(actor=user, contract=contract)
    acknowledge_latest(user, contract.supplier, contract.project)


@pytest.mark.parametrize("credential", ["missing", "other_type", "pending", "rejected"])
def test_an_expert_without_a_verified_required_credential_is_refused(
    active, workers, vendor, vendor_manager, operations, credential
):
    user = workers[0]
    nda_and_guidelines(active, user)
    if credential == "other_type":
        qualify(user, types=[CredentialType.DEGREE])
    elif credential == "pending":
        CredentialFactory(profile=profile_of(user), type=BOARD)
    elif credential == "rejected":
        pending = CredentialFactory(profile=profile_of(user), type=BOARD)
        experts.credential_reject(actor=operations, credential=pending, reason="Illegible")

    gates = refused_gates(active, user, vendor_manager, vendor)

    assert gates == [
        {"gate": "credential", "message": "No verified, unexpired board certification.", "credential_type": BOARD}
    ]


def test_an_expert_whose_credential_expired_is_refused_even_before_the_expiry_job(
    active, workers, vendor, vendor_manager
):
    user = workers[0]
    make_ready(active, user, expires_on=timezone.localdate() + timedelta(days=10))
    with later(9):
        assert selectors.assignment_gates(active, user) == []
    with later(10):
        # the daily job has not marked it expired yet; the gate already refuses it
        assert Credential.objects.get(profile__user=user).status == Credential.Status.VERIFIED
        assert gates_of_assign(active, user, vendor_manager, vendor) == ["credential"]


def test_an_expert_whose_credential_was_revoked_is_refused(active, ready, vendor, vendor_manager, operations):
    credential = Credential.objects.get(profile__user=ready)
    experts.credential_revoke(actor=operations, credential=credential, reason="Licence suspended")
    assert gates_of_assign(active, ready, vendor_manager, vendor) == ["credential"]


def test_every_required_credential_type_is_a_gate_of_its_own(active, ready, vendor, vendor_manager):
    Project.objects.filter(pk=active.project_id).update(
        required_credential_types=[BOARD, CredentialType.PROFESSIONAL_LICENCE, CredentialType.DEGREE]
    )
    active.project.refresh_from_db()
    qualify(ready, types=[CredentialType.DEGREE])
    gates = refused_gates(active, ready, vendor_manager, vendor)
    assert [(g["gate"], g["credential_type"]) for g in gates] == [("credential", "professional_licence")]


def test_a_project_requiring_no_credentials_has_no_credential_gate(active, workers, vendor, vendor_manager):
    Project.objects.filter(pk=active.project_id).update(required_credential_types=[])
    active.project.refresh_from_db()
    nda_and_guidelines(active, workers[1])
    assert assign(active, workers[1], vendor_manager, vendor).status == A.ACTIVE


def test_an_expert_who_has_not_accepted_the_nda_is_refused(active, workers, vendor, vendor_manager):
    qualify(workers[0])
    acknowledge_latest(workers[0], vendor, active.project)
    gates = refused_gates(active, workers[0], vendor_manager, vendor)
    assert gates == [{"gate": "nda", "message": "Has not accepted the contract's NDA."}]


def test_an_nda_accepted_for_an_earlier_nda_version_does_not_count(
    active, ready, lab, lab_admin, vendor, vendor_manager
):
    services.contract_amend(
        actor=lab_admin, organization=lab, contract=active, changes={"nda_version": "nda-v2"}, change_summary="NDA"
    )
    sign_both(active, lab_admin, vendor_manager)
    assert gates_of_assign(active, ready, vendor_manager, vendor) == ["nda"]
    services.nda_accept(actor=ready, contract=active)
    assert assign(active, ready, vendor_manager, vendor).status == A.ACTIVE


def test_an_expert_who_has_not_acknowledged_the_guidelines_is_refused(active, workers, vendor, vendor_manager):
    qualify(workers[0])
    services.nda_accept(actor=workers[0], contract=active)
    gates = refused_gates(active, workers[0], vendor_manager, vendor)
    assert gates == [{"gate": "guidelines", "message": "Has not acknowledged guidelines v1."}]


def test_an_expert_who_acknowledged_only_an_earlier_guideline_version_is_refused(
    active, ready, lab_admin, vendor, vendor_manager
):
    publish_v2(active.project, lab_admin)
    gates = refused_gates(active, ready, vendor_manager, vendor)
    assert gates == [{"gate": "guidelines", "message": "Has not acknowledged guidelines v2."}]
    acknowledge_latest(ready, vendor, active.project)
    assert assign(active, ready, vendor_manager, vendor).status == A.ACTIVE


def test_every_unmet_gate_is_named_at_once(active, workers, vendor, vendor_manager):
    # given a roster expert who has done nothing yet
    with pytest.raises(DomainError) as exc:
        assign(active, workers[1], vendor_manager, vendor)

    assert gates_of(exc.value) == ["credential", "nda", "guidelines"]
    for gate in exc.value.details["gates"]:
        assert gate["message"] in exc.value.message


def test_someone_off_the_roster_is_refused_on_the_roster_alone(active, expert, vendor, vendor_manager):
    # a vendor member who is not on its roster: the other gates are not the supplier's to probe
    with pytest.raises(DomainError) as exc:
        assign(active, expert, vendor_manager, vendor)
    assert gates_of(exc.value) == ["roster"]


# --- Re-checks: guidelines, credentials, rosters ----------------------------------------------------------


@pytest.fixture
def assigned(active, solo_contract, ready, workers, lab_admin, vendor, vendor_manager, individual, independent):
    """Both workers on the vendor's contract and the independent expert on their own, all assigned."""
    make_ready(active, workers[1])
    sign_both(solo_contract, lab_admin, independent)
    make_ready(solo_contract, independent)
    return [
        assign(active, ready, vendor_manager, vendor),
        assign(active, workers[1], vendor_manager, vendor),
        assign(solo_contract, independent, independent, individual),
    ]


def statuses(assignments) -> list[str]:
    return [Assignment.objects.get(pk=a.pk).status for a in assignments]


def test_new_guidelines_suspend_every_assignment_on_the_project_and_tell_everyone(
    assigned, project, lab_admin, lab_owner, vendor_manager, workers, independent, lab, domains, vendor
):
    # given an assignment on another project of the lab, by the same vendor
    other = ProjectFactory(
        lab=lab, created_by=lab_admin, domain=domains.law, published=True, required_credential_types=[]
    )
    award(other, lab_admin, (BidFactory(project=other, bidder=vendor, team=[workers[0]]), 100))
    other_contract = Contract.objects.get(project=other)
    sign_both(other_contract, lab_admin, vendor_manager)
    services.nda_accept(actor=workers[0], contract=other_contract)
    acknowledge_latest(workers[0], vendor, other)
    untouched = assign(other_contract, workers[0], vendor_manager, vendor)

    # when the lab publishes guidelines v2 on the first project
    publish_v2(project, lab_admin)

    # then every assignment on it is suspended (nobody has acknowledged v2 yet); the other stays
    assert statuses(assigned) == [A.SUSPENDED] * 3
    assert statuses([untouched]) == [A.ACTIVE]
    suspended = Assignment.objects.get(pk=assigned[0].pk)
    assert suspended.status_reason == "Has not acknowledged guidelines v2."
    row = audit_rows(suspended).get(action="assignment.suspended")
    assert (row.actor, row.data) == (None, {"gates": [{"gate": "guidelines", "message": suspended.status_reason}]})
    # both sides and each expert are told
    for person in (lab_admin, lab_owner, vendor_manager, workers[0], workers[1], independent):
        assert "assignment.suspended" in kinds_for(person), person
    assert Notification.objects.filter(recipient=workers[0], kind="assignment.suspended").count() == 1
    assert list(selectors.active_assignees(assigned[0].contract)) == []


def test_a_suspended_assignment_resumes_only_once_every_gate_holds(
    assigned, project, lab_admin, vendor, vendor_manager
):
    publish_v2(project, lab_admin)
    assignment = assigned[0]

    # while v2 is not acknowledged the supplier cannot resume it
    with pytest.raises(DomainError) as exc:
        services.assignment_resume(actor=vendor_manager, organization=vendor, assignment=assignment)
    assert exc.value.code == "assignment_gates_unmet" and gates_of(exc.value) == ["guidelines"]
    assert statuses([assignment]) == [A.SUSPENDED]

    # once the expert acknowledges v2, it resumes, once
    acknowledge_latest(assignment.expert, vendor, project)
    assert services.assignment_resume(actor=vendor_manager, organization=vendor, assignment=assignment) is True
    assert services.assignment_resume(actor=vendor_manager, organization=vendor, assignment=assignment) is False
    assignment.refresh_from_db()
    assert (assignment.status, assignment.status_reason) == (A.ACTIVE, "")
    assert audit_actions(assignment) == ["assignment.created", "assignment.suspended", "assignment.active"]


def test_only_the_supplier_resumes_an_assignment(assigned, project, lab, lab_admin, rival):
    publish_v2(project, lab_admin)
    with pytest.raises(PermissionDenied):
        services.assignment_resume(actor=lab_admin, organization=lab, assignment=assigned[0])
    with pytest.raises(NotFound):
        services.assignment_resume(actor=rival.manager, organization=rival.org, assignment=assigned[0])


def test_an_ended_assignment_cannot_be_resumed(assigned, vendor, vendor_manager):
    services.assignment_end(actor=vendor_manager, organization=vendor, assignment=assigned[0])
    with pytest.raises(InvalidTransition):
        services.assignment_resume(actor=vendor_manager, organization=vendor, assignment=assigned[0])


def test_a_revoked_credential_suspends_only_that_experts_assignments(
    assigned, operations, ready, lab_admin, vendor_manager
):
    # when operations revoke the first worker's board certification
    credential = Credential.objects.get(profile__user=ready)
    experts.credential_revoke(actor=operations, credential=credential, reason="Licence suspended")

    # then that worker's assignment is suspended, the others carry on, and everyone concerned hears
    assert statuses(assigned) == [A.SUSPENDED, A.ACTIVE, A.ACTIVE]
    assert Assignment.objects.get(pk=assigned[0].pk).status_reason == "No verified, unexpired board certification."
    for person in (lab_admin, vendor_manager, ready):
        assert kinds_for(person)[-1] == "assignment.suspended"


def test_an_expired_credential_suspends_the_assignment_when_the_expiry_job_runs(
    active, workers, vendor, vendor_manager, lab_admin
):
    # given an assignment whose expert's certification expires in ten days
    user = workers[0]
    make_ready(active, user, expires_on=timezone.localdate() + timedelta(days=10))
    assignment = assign(active, user, vendor_manager, vendor)

    with later(9):
        assert experts.credentials_expire_due() == 0
        assert statuses([assignment]) == [A.ACTIVE]
    with later(10):
        # when the daily job expires it
        assert experts.credentials_expire_due() == 1
        # then the assignment is suspended and both sides and the expert are told
        assert statuses([assignment]) == [A.SUSPENDED]
        for person in (lab_admin, vendor_manager, user):
            assert "assignment.suspended" in kinds_for(person)

        # a renewed certification lets the supplier resume it
        qualify(user, expires_on=timezone.localdate() + timedelta(days=365))
        assert services.assignment_resume(actor=vendor_manager, organization=vendor, assignment=assignment) is True


def test_the_recheck_task_suspends_what_no_hook_announced(assigned, workers, vendor_manager, lab_admin):
    # given the vendor suspends a worker on its roster (no hook fires for that)
    experts.roster_suspend(actor=vendor_manager, entry=entry_of(workers[1]), reason="Quality review")
    assert statuses(assigned) == [A.ACTIVE] * 3

    # when the periodic recheck runs (eagerly here), twice
    assert recheck_assignments.delay().get() == 1
    notifications = Notification.objects.count()
    assert recheck_assignments.delay().get() == 0

    # then that one assignment is suspended, once, naming the roster gate
    assert statuses(assigned) == [A.ACTIVE, A.SUSPENDED, A.ACTIVE]
    suspended = Assignment.objects.get(pk=assigned[1].pk)
    assert suspended.status_reason == "Not an active expert on the supplier's roster."
    assert audit_rows(suspended).filter(action="assignment.suspended").count() == 1
    assert Notification.objects.count() == notifications
    assert kinds_for(lab_admin)[-1] == "assignment.suspended"


def test_the_recheck_task_catches_an_expiry_before_the_expiry_job(active, workers, vendor, vendor_manager):
    make_ready(active, workers[0], expires_on=timezone.localdate() + timedelta(days=3))
    assignment = assign(active, workers[0], vendor_manager, vendor)
    with later(3):
        assert services.assignments_recheck() == 1
    assert statuses([assignment]) == [A.SUSPENDED]


def test_a_recheck_with_every_gate_holding_changes_nothing(assigned):
    before = (AuditEvent.objects.count(), Notification.objects.count())
    assert services.assignments_recheck() == 0
    assert statuses(assigned) == [A.ACTIVE] * 3
    assert (AuditEvent.objects.count(), Notification.objects.count()) == before


def test_suspension_emails_go_only_after_the_guidelines_commit(
    assigned, project, lab_admin, workers, django_capture_on_commit_callbacks, mailoutbox
):
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        publish_v2(project, lab_admin)
    assert mailoutbox == []
    for callback in callbacks:
        callback()
    assert workers[0].email in {m.to[0] for m in mailoutbox}
