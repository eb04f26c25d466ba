"""Bid list pages rendered from ``.values()`` rows (``BidRows``, ``apps/api/rows.py``) equal ``BidSerializer``'s
field-by-field rendering, byte for byte: an awarded bid with its allocation, a withdrawn one, a rejected one
with a reason, an individual bidder (name null), teams of several members with and without expert profiles
and an empty team, a revised bid (the current revision's team only), both lists' querysets (the bidder's own
bids, the lab's view of a project's bids) and two time zones."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from apps.accounts.roles import OrgKind, Role
from apps.api.v1.bidding.serializers import BidDetailSerializer, BidRows, BidSerializer
from apps.bidding import selectors
from apps.bidding.models import Award, AwardAllocation, Bid, BidRevision
from apps.projects.models import Project
from tests.api.row_checks import assert_rows_render_as_serializer
from tests.factories import (
    BidFactory,
    ExpertProfileFactory,
    OrganizationFactory,
    ProjectFactory,
    UserFactory,
    member,
)

pytestmark = pytest.mark.django_db

ZONES = ["UTC", "America/St_Johns"]


@pytest.fixture
def world():
    """Bids on two projects (one in EUR, closed and awarded), and a vendor bidding on both."""
    vendor = OrganizationFactory(kind=OrgKind.VENDOR, name="Acme Labelling")
    person = OrganizationFactory(kind=OrgKind.INDIVIDUAL, name="Dr Jane Doe")
    project = ProjectFactory(published=True, currency="EUR", volume=777)
    awarded = BidFactory(
        project=project,
        bidder=vendor,
        unit_price=Decimal("2.3333"),
        status="awarded",
        team=[ExpertProfileFactory().user, UserFactory(), ExpertProfileFactory().user],
    )
    award = Award.objects.create(project=project, total_minor=181297, currency="EUR")
    AwardAllocation.objects.create(
        award=award, bid=awarded, volume=777, unit_price=Decimal("2.3333"), amount_minor=181297
    )
    BidFactory(project=project, bidder=person, team=[ExpertProfileFactory().user], status_reason="", proposal="")
    BidFactory(project=project, team=[], status="withdrawn", status_reason="Too busy.")
    BidFactory(project=project, status="rejected", status_reason="Over budget.", unit_price=Decimal("0.0001"))
    revised = BidFactory(project=project, status="lost", revision_number=1, team=[UserFactory()])
    _revise(revised, team=[ExpertProfileFactory().user, ExpertProfileFactory().user])
    Project.objects.filter(pk=project.pk).update(status=Project.Status.AWARDED)

    other = ProjectFactory(published=True)
    BidFactory(project=other, bidder=vendor, volume=3, unit_price=Decimal("1234.5678"))
    Project.objects.filter(pk=other.pk).update(bid_deadline=None, title="")
    return {"project": Project.objects.get(pk=project.pk), "vendor": vendor, "person": person}


def _revise(bid: Bid, *, team) -> None:
    """A second revision with another team: only the current revision's team is shown."""
    revision = BidRevision.objects.create(
        bid=bid, number=2, unit_price=Decimal("1.5000"), volume=bid.volume, weekly_capacity=bid.weekly_capacity,
        starts_on=bid.starts_on, ends_on=bid.ends_on, proposal="Revised.",
    )  # fmt: skip
    revision.team.set(team)
    Bid.objects.filter(pk=bid.pk).update(revision_number=2, unit_price=Decimal("1.5000"), proposal="Revised.")


def _page(queryset):
    """As the list views order it (the cursor pagination's ordering)."""
    return queryset.order_by("-created_at", "-id")


@pytest.mark.parametrize("zone", ZONES)
def test_the_bidders_list_renders_as_the_serializer(world, zone):
    vendor = world["vendor"]
    owner = member(vendor, Role.OWNER)
    queryset = _page(selectors.bid_list_for_bidder(actor=owner, organization=vendor))
    with timezone.override(zone):
        reference = assert_rows_render_as_serializer(BidRows(), queryset, BidSerializer, {})
    assert len(reference) == 2
    awarded = reference[1]
    assert awarded["allocation"] == {
        "volume": 777,
        "unit_price": "2.3333",
        "amount": {"amount": "1812.97", "currency": "EUR"},
    }
    assert [member["handle"] is None for member in awarded["team"]].count(True) == 1 and len(awarded["team"]) == 3
    assert reference[0]["project"]["bid_deadline"] is None and reference[0]["allocation"] is None
    assert reference[0]["submitted_at"].endswith("Z") is (zone == "UTC")


@pytest.mark.parametrize("zone", ZONES)
def test_the_labs_list_renders_as_the_serializer(world, zone):
    project = world["project"]
    lab_owner = member(project.lab, Role.OWNER)
    queryset = _page(selectors.bid_list_for_project(actor=lab_owner, project=project))
    with timezone.override(zone):
        reference = assert_rows_render_as_serializer(BidRows(), queryset, BidSerializer, {})
    assert len(reference) == 4  # the withdrawn bid is not shown
    assert {bid["status"] for bid in reference} == {"awarded", "submitted", "rejected", "lost"}
    individual = next(bid for bid in reference if bid["bidder"]["kind"] == OrgKind.INDIVIDUAL)
    assert individual["bidder"]["name"] is None and individual["team"][0]["handle"]
    revised = next(bid for bid in reference if bid["status"] == "lost")
    assert revised["revision_number"] == 2 and len(revised["team"]) == 2
    assert reference[0]["project"]["bid_deadline"].endswith("Z") is (zone == "UTC")


def test_every_bid_with_its_withdrawn_and_empty_team_renders_as_the_serializer(world):
    reference = assert_rows_render_as_serializer(BidRows(), _page(Bid.objects.all()), BidSerializer, {})
    withdrawn = next(bid for bid in reference if bid["status"] == "withdrawn")
    assert withdrawn["team"] == [] and withdrawn["status_reason"] == "Too busy."


def test_an_empty_page_renders_nothing():
    assert BidRows().render_page([], BidRows().page_context({})) == []


def test_bid_detail_keeps_its_revisions(world):
    bid = Bid.objects.get(status="lost")
    revisions = list(selectors.bid_revisions(bid))
    data = BidDetailSerializer(Bid.objects.get(pk=bid.pk), context={"revisions": revisions}).data
    assert list(data)[-1] == "revisions" and [r["number"] for r in data["revisions"]] == [1, 2]
    assert list(data)[:-1] == BidSerializer.Meta.fields
    assert data["team"] == [
        {"id": str(u.public_id), "handle": u.expert_profile.handle} for u in revisions[1].team.order_by("id")
    ]
