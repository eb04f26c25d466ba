"""Sealed bids: submit, revise (every revision kept), withdraw, shortlist, reject; who may see them."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine

from apps.bidding import selectors, services
from apps.bidding.models import Bid, BidRevision
from apps.core.errors import DomainError, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from apps.experts.models import RosterEntry
from apps.notifications.models import Notification
from tests.factories import BidFactory, ProjectFactory, RosterEntryFactory, UserFactory
from tests.projects.support import audit_actions, audit_rows, bid_terms, kinds_for

B = Bid.Status


def submit(actor, organization, project, team=None, **overrides):
    return services.bid_submit(
        actor=actor, organization=organization, project=project, team=team, **bid_terms(project, **overrides)
    )


def ids(users) -> list[str]:
    return [str(u.public_id) for u in users]


def after_deadline(project):
    return time_machine.travel(project.bid_deadline + timedelta(seconds=1), tick=False)


@pytest.fixture
def bid(open_project, vendor, vendor_manager, team):
    return submit(vendor_manager, vendor, open_project, ids(team), unit_price="2.40", volume=600)


@pytest.fixture
def closed(bid, open_project, lab_admin):
    services.project_close_bidding(actor=lab_admin, project=open_project)
    return open_project


# --- bid_submit -----------------------------------------------------------------------------------------


def test_bid_submit_by_a_vendor_keeps_revision_one_with_its_team(
    open_project, vendor, vendor_manager, team, lab_owner, lab_admin, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        bid = submit(vendor_manager, vendor, open_project, ids(team), unit_price="2.40", volume=600)
    assert mailoutbox == []
    for callback in callbacks:
        callback()

    bid.refresh_from_db()
    assert (bid.project, bid.bidder, bid.submitted_by, bid.status) == (
        open_project,
        vendor,
        vendor_manager,
        B.SUBMITTED,
    )
    assert (bid.unit_price, bid.currency, bid.volume, bid.weekly_capacity, bid.revision_number) == (
        Decimal("2.4000"), "USD", 600, 250, 1,
    )  # fmt: skip
    (revision,) = bid.revisions.all()
    assert (revision.number, revision.unit_price, revision.submitted_by) == (1, Decimal("2.4000"), vendor_manager)
    assert set(revision.team.all()) == set(team)
    (row,) = audit_rows(bid)
    assert (row.action, row.actor, row.data) == ("bid.submitted", vendor_manager, {"revision": 1})
    assert kinds_for(lab_owner) == kinds_for(lab_admin) == ["bid.received"]
    assert sorted(m.to[0] for m in mailoutbox) == sorted([lab_owner.email, lab_admin.email])


def test_an_independent_expert_bids_as_itself(open_project, individual, independent):
    bid = submit(independent, individual, open_project, team=["ignored"])

    assert bid.bidder == individual
    assert list(bid.revisions.get().team.all()) == [independent]


@pytest.mark.parametrize("team_value", [None, []])
def test_a_vendor_bid_without_a_team_is_refused(open_project, vendor, vendor_manager, team_value):
    with pytest.raises(ValidationFailed) as exc:
        submit(vendor_manager, vendor, open_project, team_value)

    assert list(exc.value.details) == ["team"]
    assert not Bid.objects.exists()


@pytest.mark.parametrize("who", ["not-on-roster", "suspended", "invited", "other-vendor", "member-not-rostered"])
def test_a_team_member_not_active_on_the_roster_is_refused_naming_team(
    open_project, vendor, vendor_manager, expert, team, rival, who
):
    outsider = {
        "not-on-roster": lambda: UserFactory(),
        "suspended": lambda: RosterEntryFactory(vendor=vendor, status=RosterEntry.Status.SUSPENDED).user,
        "invited": lambda: RosterEntryFactory(vendor=vendor, status=RosterEntry.Status.INVITED).user,
        "other-vendor": lambda: rival.team[0],
        "member-not-rostered": lambda: expert,  # an expert membership but no roster entry
    }[who]()

    with pytest.raises(ValidationFailed) as exc:
        submit(vendor_manager, vendor, open_project, ids([*team, outsider]))

    (message,) = exc.value.details["team"]
    assert str(outsider.public_id) in message
    assert not any(str(u.public_id) in message for u in team)
    assert not Bid.objects.exists() and not BidRevision.objects.exists()


def test_a_team_id_that_is_not_an_id_is_refused(open_project, vendor, vendor_manager):
    with pytest.raises(ValidationFailed) as exc:
        submit(vendor_manager, vendor, open_project, ["robert'); drop table"])

    assert list(exc.value.details) == ["team"]


BAD_TERMS = [
    pytest.param({"unit_price": "0"}, {"unit_price"}, id="price-zero"),
    pytest.param({"unit_price": "-2"}, {"unit_price"}, id="price-negative"),
    pytest.param({"unit_price": "2.12345"}, {"unit_price"}, id="price-five-decimals"),
    pytest.param({"unit_price": "two"}, {"unit_price"}, id="price-not-a-number"),
    pytest.param({"unit_price": "NaN"}, {"unit_price"}, id="price-nan"),
    pytest.param({"unit_price": None}, {"unit_price"}, id="price-missing"),
    pytest.param({"volume": 1001}, {"volume"}, id="volume-above-project"),
    pytest.param({"volume": 0}, {"volume"}, id="volume-zero"),
    pytest.param({"weekly_capacity": -5}, {"weekly_capacity"}, id="capacity-negative"),
    pytest.param({"starts_on": "soon"}, {"starts_on"}, id="start-not-a-date"),
    pytest.param({"proposal": "x" * 20001}, {"proposal"}, id="proposal-too-long"),
    pytest.param({"unit_price": "0", "volume": 5000}, {"unit_price", "volume"}, id="several-at-once"),
    # too large to store: refused by name rather than failing in the database
    pytest.param({"unit_price": "1e40"}, {"unit_price"}, id="price-huge-exponent"),
    pytest.param({"unit_price": "100000000"}, {"unit_price"}, id="price-beyond-storage"),
    pytest.param({"weekly_capacity": 3_000_000_000}, {"weekly_capacity"}, id="capacity-beyond-storage"),
]


@pytest.mark.parametrize(("overrides", "named"), BAD_TERMS)
def test_bid_submit_refuses_bad_terms_naming_them_and_saves_nothing(
    open_project, vendor, vendor_manager, team, lab_admin, overrides, named
):
    with pytest.raises(ValidationFailed) as exc:
        submit(vendor_manager, vendor, open_project, ids(team), **overrides)

    assert set(exc.value.details) == named
    assert not Bid.objects.exists() and not BidRevision.objects.exists()
    assert not Notification.objects.exists()


def test_bid_submit_refuses_an_end_before_the_start(open_project, vendor, vendor_manager, team):
    terms = bid_terms(open_project)

    with pytest.raises(ValidationFailed) as exc:
        submit(vendor_manager, vendor, open_project, ids(team), ends_on=terms["starts_on"] - timedelta(days=1))

    assert list(exc.value.details) == ["ends_on"]
    assert not Bid.objects.exists()


def test_a_second_live_bid_from_the_same_bidder_is_refused(bid, open_project, vendor, vendor_manager, team):
    with pytest.raises(DomainError) as exc:
        submit(vendor_manager, vendor, open_project, ids(team), unit_price="1.00")

    assert exc.value.code == "bid_already_live"
    assert list(Bid.objects.values_list("pk", flat=True)) == [bid.pk]
    assert BidRevision.objects.count() == 1


def test_bid_submit_after_the_deadline_is_refused(open_project, vendor, vendor_manager, team):
    with after_deadline(open_project), pytest.raises(DomainError) as exc:
        submit(vendor_manager, vendor, open_project, ids(team))

    assert exc.value.code == "bidding_closed"
    assert not Bid.objects.exists()


@pytest.mark.parametrize("status", ["bidding_closed", "awarded", "cancelled"])
def test_bid_submit_on_a_project_no_longer_open_is_refused(lab, domains, vendor, vendor_manager, team, status):
    project = ProjectFactory(lab=lab, domain=domains.radiology, status=status)

    with pytest.raises(DomainError) as exc:
        submit(vendor_manager, vendor, project, ids(team))

    assert exc.value.code == "bidding_closed"
    assert not Bid.objects.exists()


def test_bid_submit_on_a_draft_or_a_project_it_was_not_invited_to_is_not_found(
    lab, domains, draft, vendor, vendor_manager, team, individual
):
    invited = ProjectFactory(lab=lab, domain=domains.radiology, published=True, visibility="invited",
                             invited=[individual])  # fmt: skip

    for project in (draft, invited):
        with pytest.raises(NotFound):
            submit(vendor_manager, vendor, project, ids(team))

    assert not Bid.objects.exists()


def test_only_a_supplier_s_owner_or_manager_may_bid(open_project, vendor, expert, team, lab, lab_admin):
    with pytest.raises(PermissionDenied):
        submit(expert, vendor, open_project, ids(team))
    with pytest.raises(PermissionDenied):
        submit(lab_admin, lab, open_project, ids(team))

    assert not Bid.objects.exists()


# --- bid_revise -----------------------------------------------------------------------------------------


def test_bid_revise_keeps_every_revision_with_its_team(bid, vendor, vendor_manager, team):
    third_expert = RosterEntryFactory(vendor=vendor, status=RosterEntry.Status.ACTIVE).user

    services.bid_revise(actor=vendor_manager, bid=bid, team=ids(team[:1]), **bid_terms(bid.project, unit_price="2.20"))
    revised = services.bid_revise(
        actor=vendor_manager, bid=bid, team=ids([third_expert]), **bid_terms(bid.project, unit_price="2.10", volume=900)
    )

    assert (revised.revision_number, revised.unit_price, revised.volume) == (3, Decimal("2.1000"), 900)
    stored = Bid.objects.get(pk=bid.pk)
    assert (stored.revision_number, stored.unit_price) == (3, Decimal("2.1000"))
    revisions = list(selectors.bid_revisions(stored))
    assert [(r.number, r.unit_price, r.volume) for r in revisions] == [
        (1, Decimal("2.4000"), 600), (2, Decimal("2.2000"), 1000), (3, Decimal("2.1000"), 900),
    ]  # fmt: skip
    assert [set(r.team.all()) for r in revisions] == [set(team), {team[0]}, {third_expert}]
    assert audit_actions(bid) == ["bid.submitted", "bid.revised", "bid.revised"]
    assert [r.data for r in audit_rows(bid).order_by("id")][1:] == [{"revision": 2}, {"revision": 3}]


def test_bid_revise_after_the_deadline_is_refused(bid, vendor_manager, team):
    with after_deadline(bid.project), pytest.raises(DomainError) as exc:
        services.bid_revise(actor=vendor_manager, bid=bid, team=ids(team), **bid_terms(bid.project, unit_price="1"))

    assert exc.value.code == "bidding_closed"
    assert Bid.objects.get(pk=bid.pk).unit_price == Decimal("2.4000")
    assert bid.revisions.count() == 1


def test_bid_revise_of_a_withdrawn_bid_is_refused(bid, vendor_manager, team):
    services.bid_withdraw(actor=vendor_manager, bid=bid)

    with pytest.raises(DomainError) as exc:
        services.bid_revise(actor=vendor_manager, bid=bid, team=ids(team), **bid_terms(bid.project, unit_price="1"))

    assert exc.value.code == "bid_not_live"
    assert bid.revisions.count() == 1


def test_bid_revise_refuses_bad_terms_and_keeps_the_bid(bid, vendor_manager, team):
    with pytest.raises(ValidationFailed) as exc:
        services.bid_revise(actor=vendor_manager, bid=bid, team=[], **bid_terms(bid.project, volume=10_000))

    assert set(exc.value.details) == {"volume"}
    assert (Bid.objects.get(pk=bid.pk).volume, bid.revisions.count()) == (600, 1)


def test_another_supplier_may_not_revise_or_withdraw_a_bid(bid, rival):
    with pytest.raises(NotFound):
        services.bid_revise(actor=rival.manager, bid=bid, team=ids(rival.team), **bid_terms(bid.project))
    with pytest.raises(NotFound):
        services.bid_withdraw(actor=rival.manager, bid=bid)

    assert Bid.objects.get(pk=bid.pk).status == B.SUBMITTED


# --- bid_withdraw ---------------------------------------------------------------------------------------


def test_bid_withdraw_before_the_deadline(bid, vendor_manager):
    moved = services.bid_withdraw(actor=vendor_manager, bid=bid)

    assert moved is True
    assert bid.status == B.WITHDRAWN
    row = audit_rows(bid).get(action="bid.withdrawn")
    assert (row.actor, row.from_status) == (vendor_manager, B.SUBMITTED)


def test_bid_withdraw_twice_is_a_no_op(bid, vendor_manager):
    services.bid_withdraw(actor=vendor_manager, bid=bid)

    assert services.bid_withdraw(actor=vendor_manager, bid=bid) is False
    with after_deadline(bid.project):
        assert services.bid_withdraw(actor=vendor_manager, bid=bid) is False
    assert audit_actions(bid) == ["bid.submitted", "bid.withdrawn"]


def test_bid_withdraw_after_the_deadline_is_refused(bid, vendor_manager):
    with after_deadline(bid.project), pytest.raises(DomainError) as exc:
        services.bid_withdraw(actor=vendor_manager, bid=bid)

    assert exc.value.code == "bidding_closed"
    assert Bid.objects.get(pk=bid.pk).status == B.SUBMITTED


def test_a_withdrawn_bidder_may_bid_again(bid, open_project, vendor, vendor_manager, team):
    services.bid_withdraw(actor=vendor_manager, bid=bid)

    again = submit(vendor_manager, vendor, open_project, ids(team), unit_price="2.30")

    assert again.pk != bid.pk
    assert dict(Bid.objects.values_list("pk", "status")) == {bid.pk: B.WITHDRAWN, again.pk: B.SUBMITTED}


# --- shortlist and reject -------------------------------------------------------------------------------


def test_shortlist_and_reject_are_refused_while_bids_are_sealed(bid, lab_admin):
    for call in (
        lambda: services.bid_shortlist(actor=lab_admin, bid=bid),
        lambda: services.bid_reject(actor=lab_admin, bid=bid, reason="Too dear"),
    ):
        with pytest.raises(DomainError) as exc:
            call()
        assert exc.value.code == "bids_sealed"
    assert Bid.objects.get(pk=bid.pk).status == B.SUBMITTED


def test_bid_shortlist_after_the_close_twice_moves_once(closed, bid, lab_admin):
    assert services.bid_shortlist(actor=lab_admin, bid=bid) is True
    assert services.bid_shortlist(actor=lab_admin, bid=bid) is False

    assert Bid.objects.get(pk=bid.pk).status == B.SHORTLISTED
    assert audit_actions(bid) == ["bid.submitted", "bid.shortlisted"]


def test_bid_reject_keeps_the_reason_and_tells_the_bidder_on_commit(
    closed, bid, lab_admin, vendor_manager, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = services.bid_reject(actor=lab_admin, bid=bid, reason="  No radiologists on the team. ")
    second = services.bid_reject(actor=lab_admin, bid=bid, reason="Another reason")

    assert (first, second) == (True, False)
    bid.refresh_from_db()
    assert (bid.status, bid.status_reason) == (B.REJECTED, "No radiologists on the team.")
    row = audit_rows(bid).get(action="bid.rejected")
    assert (row.actor, row.reason) == (lab_admin, "No radiologists on the team.")
    assert kinds_for(vendor_manager) == ["project.bidding_closed", "bid.rejected"]
    assert callbacks and "Reason: No radiologists on the team." in mailoutbox[-1].body


@pytest.mark.parametrize("reason", ["", "  "])
def test_bid_reject_needs_a_reason(closed, bid, lab_admin, reason):
    with pytest.raises(ValidationFailed) as exc:
        services.bid_reject(actor=lab_admin, bid=bid, reason=reason)

    assert list(exc.value.details) == ["reason"]
    assert Bid.objects.get(pk=bid.pk).status == B.SUBMITTED


def test_a_withdrawn_bid_cannot_be_shortlisted(open_project, vendor, lab_admin):
    withdrawn = BidFactory(project=open_project, bidder=vendor, status=B.WITHDRAWN)
    services.project_close_bidding(actor=lab_admin, project=open_project)

    with pytest.raises(InvalidTransition):
        services.bid_shortlist(actor=lab_admin, bid=withdrawn)


def test_a_lab_member_may_not_shortlist_or_reject(closed, bid, lab_member):
    with pytest.raises(PermissionDenied):
        services.bid_shortlist(actor=lab_member, bid=bid)
    with pytest.raises(PermissionDenied):
        services.bid_reject(actor=lab_member, bid=bid, reason="No")

    assert Bid.objects.get(pk=bid.pk).status == B.SUBMITTED


# --- sealed reads ---------------------------------------------------------------------------------------


def test_bid_list_for_project_is_sealed_while_open(bid, open_project, draft, lab_member):
    for project in (open_project, draft):
        with pytest.raises(DomainError) as exc:
            selectors.bid_list_for_project(actor=lab_member, project=project)
        assert exc.value.code == "bids_sealed"


def test_bid_list_for_project_after_the_close_shows_every_bid_but_withdrawn_ones_cheapest_first(
    open_project, bid, lab_admin, lab_member, rival, individual
):
    cheap = BidFactory(project=open_project, bidder=rival.org, unit_price=Decimal("1.90"))
    gone = BidFactory(project=open_project, bidder=individual, status=B.WITHDRAWN, unit_price=Decimal("1.00"))
    services.project_close_bidding(actor=lab_admin, project=open_project)
    services.bid_reject(actor=lab_admin, bid=cheap, reason="No references")

    listed = list(selectors.bid_list_for_project(actor=lab_member, project=open_project))

    assert listed == [cheap, bid]
    assert gone not in listed


def test_bid_get_shows_a_bidder_only_its_own_bids(bid, vendor, vendor_manager, rival):
    assert selectors.bid_get(actor=vendor_manager, organization=vendor, public_id=bid.public_id) == bid
    with pytest.raises(NotFound):
        selectors.bid_get(actor=rival.manager, organization=rival.org, public_id=bid.public_id)
    with pytest.raises(NotFound):
        selectors.bid_get(actor=vendor_manager, organization=None, public_id=bid.public_id)


def test_bid_get_shows_the_lab_a_bid_only_after_the_close(bid, open_project, lab, lab_admin, lab_member, outsider):
    with pytest.raises(NotFound):
        selectors.bid_get(actor=lab_member, organization=lab, public_id=bid.public_id)

    services.project_close_bidding(actor=lab_admin, project=open_project)

    assert selectors.bid_get(actor=lab_member, organization=lab, public_id=bid.public_id) == bid
    other_lab = outsider.memberships.get().organization
    with pytest.raises(NotFound):
        selectors.bid_get(actor=outsider, organization=other_lab, public_id=bid.public_id)


def test_the_lab_never_sees_a_withdrawn_bid(bid, open_project, vendor_manager, lab, lab_admin, lab_member):
    services.bid_withdraw(actor=vendor_manager, bid=bid)
    services.project_close_bidding(actor=lab_admin, project=open_project)

    with pytest.raises(NotFound):
        selectors.bid_get(actor=lab_member, organization=lab, public_id=bid.public_id)


def test_bid_list_for_bidder_lists_only_its_own_bids(bid, open_project, vendor, vendor_manager, rival):
    BidFactory(project=open_project, bidder=rival.org)

    assert list(selectors.bid_list_for_bidder(actor=vendor_manager, organization=vendor)) == [bid]
    assert list(selectors.bid_list_for_bidder(actor=vendor_manager, organization=vendor, project=open_project)) == [bid]


def test_bidders_see_the_bid_count_only_where_the_lab_shows_it(bid, open_project, rival):
    BidFactory(project=open_project, bidder=rival.org, status=B.WITHDRAWN)

    assert selectors.bid_count(open_project) == 1
    assert selectors.bid_count_visible_to_bidders(open_project) is None
    open_project.show_bid_count = True
    assert selectors.bid_count_visible_to_bidders(open_project) == 1
