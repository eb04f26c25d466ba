"""Signing: an authorised member of each side signs the exact terms shown (by their hash); both
signatures put the version in force and make the contract active."""

import threading

import pytest
from django.db import connection

from apps.accounts.models import User
from apps.contracts import services
from apps.contracts.models import Contract, ContractVersion, Signature
from apps.contracts.selectors import terms_in_force
from apps.core.errors import DomainError, NotFound, PermissionDenied
from apps.core.models import AuditEvent
from apps.notifications.models import Notification
from apps.projects.models import Project
from tests.factories import BidFactory, DomainFactory, OrganizationFactory, ProjectFactory, member
from tests.projects.support import audit_actions, audit_rows, kinds_for

from .support import IP, award, proposed, sign, sign_both

C = Contract.Status
V = ContractVersion.Status


def stored(contract) -> tuple:
    return (
        Contract.objects.get(pk=contract.pk).status,
        Signature.objects.count(),
        AuditEvent.objects.count(),
        Notification.objects.count(),
    )


def test_lab_signature_records_who_when_where_and_the_hash_signed(contract, lab, lab_admin, vendor_manager):
    # given the terms as shown to the lab admin
    version = proposed(contract)
    shown = version.terms_hash

    # when the lab admin signs them
    result = services.contract_sign(
        actor=lab_admin, organization=lab, contract=contract, shown_terms_hash=shown, ip_address=IP
    )

    # then the signature says who, for which side, from where, when, and which terms
    (signature,) = version.signatures.all()
    assert (signature.side, signature.signed_by, signature.ip_address, signature.terms_hash) == (
        Signature.Side.LAB, lab_admin, IP, shown,
    )  # fmt: skip
    assert signature.created_at is not None
    assert shown == services.terms_hash(services.canonical_terms(version))
    # one side is not enough: the version awaits the supplier and the contract stays pending
    assert result == version and result.status == V.PROPOSED
    assert Contract.objects.get(pk=contract.pk).status == C.PENDING_SIGNATURE
    row = audit_rows(version).get(action="contract.signed")
    assert (row.actor, row.data) == (lab_admin, {"side": "lab", "version": 1, "terms_hash": shown})
    # and the other side hears of it
    assert kinds_for(vendor_manager)[-1] == "contract.signed"


def test_both_signatures_put_v1_in_force_and_activate_the_contract(
    contract, lab, vendor, lab_admin, vendor_manager, project, lab_owner
):
    # given the lab signed
    sign(contract, lab_admin, lab)

    # when the vendor's manager signs too
    version = sign(contract, vendor_manager, vendor)

    # then v1 is in force from today, the contract is active and the project is under way
    contract.refresh_from_db()
    assert version.status == V.EFFECTIVE and version.effective_from is not None
    assert (contract.status, contract.current_version) == (C.ACTIVE, version)
    assert terms_in_force(contract) == version
    assert Project.objects.get(pk=project.pk).status == Project.Status.IN_PROGRESS
    assert {s.side: s.signed_by for s in version.signatures.all()} == {"lab": lab_admin, "supplier": vendor_manager}
    # audited: each signature, the version taking effect, the activation
    assert audit_actions(version) == ["contract.signed", "contract.signed", "contractversion.effective"]
    assert audit_actions(contract) == ["contract.created", "contract.active"]
    assert audit_rows(project).filter(to_status=Project.Status.IN_PROGRESS).count() == 1
    # both sides are told the contract is active
    assert kinds_for(lab_owner)[-1] == kinds_for(vendor_manager)[-1] == "contract.activated"


def test_supplier_may_sign_first(solo_contract, lab, individual, lab_owner, independent):
    sign(solo_contract, independent, individual)
    assert Contract.objects.get(pk=solo_contract.pk).status == C.PENDING_SIGNATURE
    sign(solo_contract, lab_owner, lab)
    assert Contract.objects.get(pk=solo_contract.pk).status == C.ACTIVE


def test_second_active_contract_leaves_the_project_in_progress(
    contract, solo_contract, lab_admin, vendor_manager, independent, project
):
    # given the vendor's contract made the project in progress
    sign_both(contract, lab_admin, vendor_manager)
    # when the independent expert's contract becomes active too
    sign_both(solo_contract, lab_admin, independent)
    # then the project moved once
    assert solo_contract.status == C.ACTIVE
    assert audit_rows(project).filter(to_status=Project.Status.IN_PROGRESS).count() == 1


def test_signing_twice_for_the_same_side_is_a_no_op(contract, lab, lab_admin, lab_owner):
    # given the lab admin signed
    sign(contract, lab_admin, lab)
    before = stored(contract)

    # when the admin signs again, and the lab owner signs for the same side
    sign(contract, lab_admin, lab, ip="198.51.100.1")
    version = sign(contract, lab_owner, lab)

    # then the first signature stands and nothing else was stored
    assert stored(contract) == before
    (signature,) = version.signatures.all()
    assert (signature.signed_by, signature.ip_address) == (lab_admin, IP)


def test_signing_terms_that_changed_since_shown_is_refused_and_stores_nothing(contract, lab, lab_admin):
    # given a hash of terms other than the ones awaiting signature
    before = stored(contract)

    # when the lab signs with it
    with pytest.raises(DomainError) as exc:
        sign(contract, lab_admin, lab, shown_hash="0" * 64)

    # then it is refused, naming the current hash, and nothing was stored
    assert exc.value.code == "terms_hash_mismatch"
    assert exc.value.details == {"terms_hash": proposed(contract).terms_hash}
    assert stored(contract) == before


def test_signing_an_amended_version_with_the_old_hash_is_refused(active, lab, vendor, lab_admin, vendor_manager):
    # given the vendor saw v2, then the lab replaced it with v3 before the vendor signed
    services.contract_amend(
        actor=lab_admin, organization=lab, contract=active, changes={"volume_cap": 700}, change_summary="More"
    )
    shown = proposed(active).terms_hash
    services.contract_amend(
        actor=lab_admin, organization=lab, contract=active, changes={"volume_cap": 650}, change_summary="Less"
    )

    # when the vendor signs what it saw
    with pytest.raises(DomainError) as exc:
        sign(active, vendor_manager, vendor, shown_hash=shown)

    # then it is refused: v3 awaits signatures, unsigned
    assert exc.value.code == "terms_hash_mismatch"
    assert proposed(active).number == 3 and not proposed(active).signatures.exists()


@pytest.mark.parametrize("who", ["lab_member", "expert"])
def test_members_without_the_sign_permission_are_refused(contract, lab, vendor, who, request):
    # given a lab member, or an expert of the vendor: they may not sign for their organisation
    user = request.getfixturevalue(who)
    org = lab if who == "lab_member" else vendor
    before = stored(contract)

    with pytest.raises(PermissionDenied) as exc:
        sign(contract, user, org)

    assert exc.value.code == "role_not_allowed"
    assert stored(contract) == before


def test_an_outsider_cannot_sign_for_a_party_or_for_its_own_organisation(contract, lab, outsider):
    before = stored(contract)
    # signing for the lab: not a member, the organisation is invisible
    with pytest.raises(NotFound):
        sign(contract, outsider, lab)
    # signing for its own lab, which is no party to the contract
    own = outsider.memberships.get().organization
    with pytest.raises(NotFound) as exc:
        sign(contract, outsider, own)
    assert exc.value.code == "contract_not_found"
    assert stored(contract) == before


def test_a_retried_signature_of_the_terms_in_force_is_a_no_op(active, lab, lab_admin):
    # given v1 is in force (both signed) and nothing is proposed
    before = Signature.objects.count()

    version = services.contract_sign(
        actor=lab_admin, organization=lab, contract=active, shown_terms_hash=active.current_version.terms_hash
    )

    assert version == active.current_version
    assert Signature.objects.count() == before


def test_signing_other_terms_with_nothing_awaiting_signatures_is_refused(active, lab, lab_admin):
    with pytest.raises(DomainError) as exc:
        services.contract_sign(actor=lab_admin, organization=lab, contract=active, shown_terms_hash="0" * 64)
    assert exc.value.code == "nothing_to_sign"


def test_a_terminated_contract_refuses_signatures(contract, lab, vendor, lab_admin, vendor_manager):
    # given the lab signed, then the vendor terminated before signing
    sign(contract, lab_admin, lab)
    services.contract_terminate(actor=vendor_manager, organization=vendor, contract=contract, reason="Capacity gone")
    before = stored(contract)

    # when the vendor signs after all
    with pytest.raises(DomainError) as exc:
        sign(contract, vendor_manager, vendor)

    # then it is refused and the contract stays terminated
    assert exc.value.code == "contract_closed"
    assert stored(contract) == before
    assert proposed(contract).signatures.count() == 1


def test_activation_emails_go_only_after_commit(
    contract, lab, vendor, lab_admin, vendor_manager, django_capture_on_commit_callbacks, mailoutbox
):
    sign(contract, lab_admin, lab)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sign(contract, vendor_manager, vendor)
    assert mailoutbox == []
    for callback in callbacks:
        callback()
    assert (lab_admin.email, "Contract active: Radiology preferences") in {(m.to[0], m.subject) for m in mailoutbox}


# --- Concurrency (PostgreSQL) ---------------------------------------------------------------------------


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip(f"row locks need PostgreSQL; this run uses {connection.vendor} (set DATABASE_URL=postgres://...)")


def _race_signatures(contract_pk: int, signers: list[tuple[int, int]]) -> list[object]:
    """Each thread signs the contract for its side (user pk, organisation pk), all released at once."""
    barrier = threading.Barrier(len(signers))
    results: list[object] = [None] * len(signers)

    def worker(i: int, user_pk: int, org_pk: int) -> None:
        try:
            contract = Contract.objects.get(pk=contract_pk)  # own instance and connection
            actor = User.objects.get(pk=user_pk)
            organization = actor.memberships.get(organization_id=org_pk).organization
            shown = contract.versions.get(status=V.PROPOSED).terms_hash
            barrier.wait(timeout=10)
            results[i] = services.contract_sign(
                actor=actor, organization=organization, contract=contract, shown_terms_hash=shown
            )
        except Exception as exc:  # recorded and asserted by the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, u, o)) for i, (u, o) in enumerate(signers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_both_sides_signing_at_once_activate_the_contract_exactly_once(postgres_only, round_):
    # given a contract awaiting both signatures (committed: each thread has its own connection)
    lab = OrganizationFactory(kind="lab")
    admin = member(lab, "admin")
    vendor = OrganizationFactory(kind="vendor")
    manager = member(vendor, "manager")
    project = ProjectFactory(lab=lab, domain=DomainFactory(), published=True)
    bid = BidFactory(project=project, bidder=vendor)
    award(project, admin, (bid, 100))
    contract = Contract.objects.get()

    # when the lab admin and the vendor manager sign at the same moment
    results = _race_signatures(contract.pk, [(admin.pk, lab.pk), (manager.pk, vendor.pk)])

    # then both signatures stand, and the contract became active exactly once
    assert all(isinstance(r, ContractVersion) for r in results), results
    contract.refresh_from_db()
    version = contract.versions.get()
    assert (contract.status, contract.current_version, version.status) == (C.ACTIVE, version, V.EFFECTIVE)
    assert version.signatures.count() == 2
    assert audit_rows(contract).filter(action="contract.active").count() == 1
    assert audit_rows(version).filter(action="contractversion.effective").count() == 1
    assert audit_rows(project).filter(to_status=Project.Status.IN_PROGRESS).count() == 1
    assert Notification.objects.filter(recipient=admin, kind="contract.activated").count() == 1
