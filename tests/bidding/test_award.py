"""The award: volume split between live bids after the close, within volume and budget; one per project."""

import threading
import uuid
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection

from apps.accounts.models import User
from apps.accounts.roles import OrgKind, Role
from apps.bidding import services
from apps.bidding.models import Award, AwardAllocation, Bid
from apps.core.errors import DomainError, PermissionDenied, ValidationFailed
from apps.core.models import AuditEvent
from apps.notifications.models import Notification
from apps.projects.models import Project
from tests.factories import BidFactory, DomainFactory, OrganizationFactory, ProjectFactory, member
from tests.projects.support import audit_actions, audit_rows, kinds_for

B = Bid.Status
S = Project.Status


@pytest.fixture
def bids(open_project, vendor, vendor_manager, rival, individual, independent, lab_admin):
    """On the persona lab's project (1,000 units, budget 2,500.00 USD), after the close: three live
    bids, one rejected and one withdrawn."""
    Project.objects.filter(pk=open_project.pk).update(budget_cap_minor=250_000)
    late = OrganizationFactory(kind=OrgKind.VENDOR, name="Late Vendor")
    b = SimpleNamespace(
        vendor=BidFactory(project=open_project, bidder=vendor, unit_price=Decimal("2.40"), volume=600),
        rival=BidFactory(project=open_project, bidder=rival.org, unit_price=Decimal("1.9055"), volume=1000),
        individual=BidFactory(project=open_project, bidder=individual, unit_price=Decimal("2.80"), volume=1000),
        rejected=BidFactory(project=open_project, bidder=late, unit_price=Decimal("1.00"), volume=1000),
        withdrawn=BidFactory(project=open_project, bidder=vendor, status=B.WITHDRAWN, volume=1000),
    )
    services.project_close_bidding(actor=lab_admin, project=open_project)
    services.bid_reject(actor=lab_admin, bid=b.rejected, reason="No references")
    return b


def alloc(*pairs) -> list[dict]:
    return [{"bid": str(bid.public_id) if isinstance(bid, Bid) else bid, "volume": volume} for bid, volume in pairs]


def snapshot(project) -> tuple:
    return (
        Project.objects.get(pk=project.pk).status,
        dict(Bid.objects.filter(project=project).values_list("pk", "status")),
        Award.objects.count(),
        AwardAllocation.objects.count(),
        AuditEvent.objects.count(),
        Notification.objects.count(),
    )


# --- award_create ---------------------------------------------------------------------------------------


def test_award_create_splits_the_volume_between_two_bids(
    bids, open_project, lab_admin, vendor_manager, rival, independent, django_capture_on_commit_callbacks, mailoutbox
):
    # when the lab gives 600 units to the vendor and 333 to the rival
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        award = services.award_create(
            actor=lab_admin, project=open_project, allocations=alloc((bids.vendor, 600), (bids.rival, 333)),
            note="  Split for resilience. ",
        )  # fmt: skip
    assert mailoutbox == []

    # then each allocation costs volume x the bid's price, rounded once to cents
    rows = {a.bid_id: (a.volume, a.unit_price, a.amount_minor) for a in award.allocations.all()}
    assert rows == {
        bids.vendor.pk: (600, Decimal("2.4000"), 144_000),  # 1,440.00
        bids.rival.pk: (333, Decimal("1.9055"), 63_453),  # 634.5315 -> 634.53
    }
    assert (award.total_minor, award.currency, award.note, award.awarded_by) == (
        207_453, "USD", "Split for resilience.", lab_admin,
    )  # fmt: skip
    # the project is awarded, winners won, the other live bid lost; decided bids stay as they were
    assert open_project.status == S.AWARDED
    assert dict(Bid.objects.values_list("pk", "status")) == {
        bids.vendor.pk: B.AWARDED, bids.rival.pk: B.AWARDED, bids.individual.pk: B.LOST,
        bids.rejected.pk: B.REJECTED, bids.withdrawn.pk: B.WITHDRAWN,
    }  # fmt: skip
    # audited: the project's move, the award itself, and each bid's move
    assert audit_actions(open_project) == ["project.bidding_closed", "project.awarded"]
    (row,) = audit_rows(award)
    assert (row.action, row.data) == ("award.created", {"volume": 933, "total_minor": 207_453, "bids": 2})
    assert audit_rows(bids.vendor).get(action="bid.awarded").data == {"volume": 600, "amount_minor": 144_000}
    assert audit_actions(bids.individual) == ["bid.lost"]
    # everyone hears, by e-mail once the award is committed
    assert "bid.awarded" in kinds_for(vendor_manager) and "bid.awarded" in kinds_for(rival.manager)
    # the award also makes each winner a contract to sign (the contracts capability, same transaction)
    assert kinds_for(vendor_manager)[-1] == kinds_for(rival.manager)[-1] == "contract.created"
    assert kinds_for(independent)[-1] == "bid.lost"
    for callback in callbacks:
        callback()
    subjects = {(m.to[0], m.subject) for m in mailoutbox}
    assert (vendor_manager.email, f"You won 600 units of {open_project.title}") in subjects
    assert (independent.email, f"Your bid on {open_project.title} was not awarded") in subjects


def test_award_create_to_one_bid_for_the_whole_volume(bids, open_project, lab_admin):
    award = services.award_create(actor=lab_admin, project=open_project, allocations=alloc((bids.rival, 1000)))

    assert award.total_minor == 190_550
    assert Bid.objects.filter(status=B.LOST).count() == 2


def test_award_create_rounds_in_a_currency_without_minor_units(lab, lab_admin, vendor, domains):
    project = ProjectFactory(lab=lab, domain=domains.radiology, published=True, currency="JPY",
                             budget_cap_minor=1_000_000)  # fmt: skip
    bid = BidFactory(project=project, bidder=vendor, unit_price=Decimal("333.5"), volume=3)
    services.project_close_bidding(actor=lab_admin, project=project)

    award = services.award_create(actor=lab_admin, project=project, allocations=alloc((bid, 3)))

    assert (award.currency, award.total_minor) == ("JPY", 1001)  # 1000.5 yen, rounded half up once


REFUSED = [
    pytest.param(lambda b: alloc((b.vendor, 600), (b.rival, 401)), "allocations", id="over-project-volume"),
    pytest.param(lambda b: alloc((b.vendor, 601)), "allocations[0].volume", id="over-the-bid-s-volume"),
    pytest.param(lambda b: alloc((b.individual, 900)), "allocations", id="over-budget"),  # 2,520.00 > 2,500.00
    pytest.param(lambda b: alloc((b.vendor, 10), (b.withdrawn, 10)), "allocations[1].bid", id="withdrawn-bid"),
    pytest.param(lambda b: alloc((b.rejected, 10)), "allocations[0].bid", id="rejected-bid"),
    pytest.param(lambda b: alloc((b.vendor, 10), (str(uuid.uuid4()), 10)), "allocations[1].bid", id="unknown-bid"),
    pytest.param(lambda b: alloc(("not-an-id", 10)), "allocations[0].bid", id="not-an-id"),
    pytest.param(lambda b: alloc((b.vendor, 10), (b.vendor, 20)), "allocations", id="duplicate-bid"),
    pytest.param(lambda b: alloc((b.vendor, 0)), "allocations[0].volume", id="zero-volume"),
    pytest.param(lambda b: alloc((b.vendor, 10), (b.rival, "many")), "allocations[1].volume", id="volume-not-int"),
    pytest.param(lambda b: [], "allocations", id="nothing-allocated"),
]


@pytest.mark.parametrize(("allocations", "named"), REFUSED)
def test_award_create_refuses_a_bad_allocation_naming_the_row_and_changes_nothing(
    bids, open_project, lab_admin, allocations, named
):
    before = snapshot(open_project)

    with pytest.raises(ValidationFailed) as exc:
        services.award_create(actor=lab_admin, project=open_project, allocations=allocations(bids))

    assert named in exc.value.details
    assert snapshot(open_project) == before


def test_award_create_over_the_budget_cap_says_so(bids, open_project, lab_admin):
    with pytest.raises(ValidationFailed) as exc:
        services.award_create(
            actor=lab_admin, project=open_project, allocations=alloc((bids.vendor, 600), (bids.individual, 400))
        )

    assert exc.value.details == {"allocations": ["The allocations cost more than the budget cap."]}
    assert not Award.objects.exists()


def test_award_create_over_the_project_volume_says_so(bids, open_project, lab_admin):
    with pytest.raises(ValidationFailed) as exc:
        services.award_create(
            actor=lab_admin, project=open_project, allocations=alloc((bids.vendor, 600), (bids.rival, 401))
        )

    assert exc.value.details == {"allocations": ["1001 units allocated; the project wants at most 1000."]}


def test_award_create_refuses_a_bid_of_another_project(bids, open_project, lab, lab_admin, domains, vendor):
    elsewhere = BidFactory(project=ProjectFactory(lab=lab, domain=domains.radiology, published=True), bidder=vendor)

    with pytest.raises(ValidationFailed) as exc:
        services.award_create(actor=lab_admin, project=open_project, allocations=alloc((elsewhere, 10)))

    assert list(exc.value.details) == ["allocations[0].bid"]
    assert not Award.objects.exists()


def test_award_create_while_bids_are_sealed_is_refused(open_project, lab_admin, vendor):
    bid = BidFactory(project=open_project, bidder=vendor)

    with pytest.raises(DomainError) as exc:
        services.award_create(actor=lab_admin, project=open_project, allocations=alloc((bid, 10)))

    assert exc.value.code == "bids_sealed"
    assert (Project.objects.get(pk=open_project.pk).status, Award.objects.count()) == (S.OPEN, 0)


@pytest.mark.parametrize("status", [S.DRAFT, S.CANCELLED])
def test_award_create_outside_bidding_closed_is_refused(lab, lab_admin, domains, vendor, status):
    project = ProjectFactory(lab=lab, domain=domains.radiology, status=status)
    bid = BidFactory(project=project, bidder=vendor)

    with pytest.raises(DomainError) as exc:
        services.award_create(actor=lab_admin, project=project, allocations=alloc((bid, 10)))

    assert exc.value.code == "project_not_bidding_closed"
    assert not Award.objects.exists()


def test_a_second_award_is_refused(bids, open_project, lab_admin):
    services.award_create(actor=lab_admin, project=open_project, allocations=alloc((bids.vendor, 600)))
    before = snapshot(open_project)

    with pytest.raises(DomainError) as exc:
        services.award_create(actor=lab_admin, project=open_project, allocations=alloc((bids.rival, 400)))

    assert exc.value.code == "project_already_awarded"
    assert snapshot(open_project) == before


def test_an_award_is_refused_once_the_work_has_started(bids, open_project, lab_admin):
    from apps.projects.services import project_start

    services.award_create(actor=lab_admin, project=open_project, allocations=alloc((bids.vendor, 600)))
    project_start(actor=lab_admin, project=open_project)

    with pytest.raises(DomainError) as exc:
        services.award_create(actor=lab_admin, project=open_project, allocations=alloc((bids.rival, 400)))

    assert exc.value.code == "project_already_awarded"
    assert Award.objects.count() == 1


def test_a_lab_member_may_not_award(bids, open_project, lab_member):
    with pytest.raises(PermissionDenied):
        services.award_create(actor=lab_member, project=open_project, allocations=alloc((bids.vendor, 600)))

    assert not Award.objects.exists()


# --- concurrency ----------------------------------------------------------------------------------------


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip(f"row locks need PostgreSQL; this run uses {connection.vendor} (set DATABASE_URL=postgres://...)")


def _race_awards(project_pk: int, actor_pk: int, allocation_sets: list[list[dict]]) -> list[object]:
    """Each thread awards the same project with its own allocations, all released at once."""
    barrier = threading.Barrier(len(allocation_sets))
    results: list[object] = [None] * len(allocation_sets)

    def worker(i: int, allocations: list[dict]) -> None:
        try:
            project = Project.objects.select_related("lab").get(pk=project_pk)  # own instance and connection
            actor = User.objects.get(pk=actor_pk)
            barrier.wait(timeout=10)
            results[i] = services.award_create(actor=actor, project=project, allocations=allocations)
        except Exception as exc:  # recorded and asserted by the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, a)) for i, a in enumerate(allocation_sets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_two_concurrent_awards_make_exactly_one(postgres_only, round_):
    # given a closed project with two live bids (committed: each thread has its own connection)
    lab = OrganizationFactory(kind=OrgKind.LAB)
    admin = member(lab, Role.ADMIN)
    project = ProjectFactory(lab=lab, domain=DomainFactory(), status=S.BIDDING_CLOSED, volume=1000)
    first = BidFactory(project=project, unit_price=Decimal("2.00"), volume=1000)
    second = BidFactory(project=project, unit_price=Decimal("2.10"), volume=1000)

    # when two lab admins' requests award it at the same moment, to different bids
    results = _race_awards(project.pk, admin.pk, [alloc((first, 1000)), alloc((second, 1000))])

    # then exactly one award exists; the other request was refused and changed nothing
    awards = [r for r in results if isinstance(r, Award)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(awards) == 1 and len(refused) == 1, results
    assert refused[0].code == "project_already_awarded"
    (award,) = Award.objects.all()
    (allocation,) = award.allocations.all()
    assert sorted(Bid.objects.values_list("status", flat=True)) == [B.AWARDED, B.LOST]
    assert Bid.objects.get(pk=allocation.bid_id).status == B.AWARDED
    assert audit_rows(project).filter(to_status=S.AWARDED).count() == 1
    assert audit_rows(award).count() == 1
    for bid in (first, second):
        assert audit_rows(bid).count() == 1  # awarded or lost, once
