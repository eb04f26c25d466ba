"""Bid list pages rendered from rows equal the serializer's rendering (being converted; see apps/api/rows.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from apps.accounts.roles import OrgKind
from tests.factories import BidFactory, OrganizationFactory, ProjectFactory

pytestmark = pytest.mark.django_db


# --- bids ---------------------------------------------------------------------------------------------------


def _bids():
    from apps.api.v1.bidding.views import with_team
    from apps.bidding.models import Award, AwardAllocation, Bid
    from apps.bidding.selectors import _bid_relations
    from tests.factories import UserFactory

    project = ProjectFactory(published=True, currency="EUR", volume=777)
    awarded = BidFactory(project=project, unit_price=Decimal("2.3333"), status="awarded")
    award = Award.objects.create(project=project, total_minor=181297, currency="EUR")
    AwardAllocation.objects.create(
        award=award, bid=awarded, volume=777, unit_price=Decimal("2.3333"), amount_minor=181297
    )
    person = OrganizationFactory(kind=OrgKind.INDIVIDUAL, name="Dr Jane Doe")
    BidFactory(project=project, bidder=person, team=[UserFactory()], status_reason="", proposal="")
    BidFactory(project=project, team=[], status="withdrawn", status_reason="Too busy.")
    return list(with_team(_bid_relations(Bid.objects.filter(project=project))))


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata"])
def test_bid_fast_path_renders_the_same_json(zone):
    from apps.api.v1.bidding.serializers import BidSerializer

    rows = _bids()
    assert len(rows) == 3
    with timezone.override(zone):
        many = BidSerializer(rows, many=True)
        reference = [many.child.declared_representation(row) for row in rows]
        fast = many.data
    assert JSONRenderer().render(fast) == JSONRenderer().render(reference)
    assert {row["allocation"] is None for row in reference} == {True, False}


def test_bid_detail_keeps_its_revisions():
    from apps.api.v1.bidding.serializers import BidDetailSerializer
    from apps.bidding.models import Bid

    bid = _bids()[0]
    revisions = list(bid.revisions.all())
    serializer = BidDetailSerializer(Bid.objects.get(pk=bid.pk), context={"revisions": revisions})
    assert serializer.data == serializer.declared_representation(Bid.objects.get(pk=bid.pk))
    assert list(serializer.data)[-1] == "revisions" and len(serializer.data["revisions"]) == len(revisions)
