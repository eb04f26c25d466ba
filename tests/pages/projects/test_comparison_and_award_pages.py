"""After the close: the sealed bids open to the lab as a comparison, then the award."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from apps.bidding import services as bidding_services
from apps.bidding.models import Award, Bid
from apps.projects.models import Project
from tests.pages.conftest import text

pytestmark = pytest.mark.django_db


def detail_url(project):
    return reverse("bidding:project_detail", args=[project.public_id])


@pytest.fixture
def contest(make_project, vendor, vendor_manager, roster_expert, rival, independent, place_bid):
    """An open project (deadline in two days, volume 1000, budget 5,000 USD, SLA 0.80) with three bids."""
    project = make_project(bid_deadline=timezone.now() + timedelta(days=2))
    bids = {
        "northwind": place_bid(
            actor=vendor_manager, organization=vendor, project=project, team=[str(roster_expert.public_id)],
            unit_price=Decimal("2.0000"), volume=600,
        ),
        "southwind": place_bid(
            actor=rival["manager"], organization=rival["org"], project=project, team=[str(rival["expert"].public_id)],
            unit_price=Decimal("2.4000"), volume=500,
        ),
        "solo": place_bid(
            actor=independent["user"], organization=independent["org"], project=project,
            unit_price=Decimal("3.1000"), volume=200,
        ),
    }  # fmt: skip
    return project, bids


def close(project):
    """Travel past the deadline and let the periodic job close bidding."""
    traveller = time_machine.travel(project.bid_deadline + timedelta(minutes=1), tick=False)
    traveller.start()
    bidding_services.projects_close_due()
    project.refresh_from_db()
    return traveller


def test_the_lab_sees_sealed_before_the_close_and_the_comparison_after(as_user, lab_owner, contest):
    project, bids = contest

    before = text(as_user(lab_owner).get(detail_url(project)))
    assert "Sealed until" in before
    assert "3 bids received" in before
    for bid in bids.values():
        assert str(bid.public_id) not in before
    assert "2.0000 USD" not in before and 'id="comparison"' not in before

    traveller = close(project)
    try:
        assert project.status == Project.Status.BIDDING_CLOSED
        after = text(as_user(lab_owner).get(detail_url(project)))
    finally:
        traveller.stop()

    table = after[after.index('id="comparison"') :]
    row = table[table.index(f'id="bid-{bids["northwind"].public_id}"') :]
    row = row[: row.index("</tr>")]
    assert "Northwind Annotation" in row
    assert "2.0000 USD" in row
    assert "no history" in row
    assert "0.8000" in row and "assumed: SLA minimum" in row
    assert '<strong class="cpqu">2.5000</strong>' in row  # 2.00 / 0.80
    assert "1 expert" in row
    assert '<strong class="cpqu">3.0000</strong>' in table  # 2.40 / 0.80
    assert '<strong class="cpqu">3.8750</strong>' in table  # 3.10 / 0.80
    # ranked: the cheapest quality-adjusted unit first
    assert table.index("Northwind Annotation") < table.index("Southwind Labelling") < table.index("Independent expert")
    start = after.index('id="cost-chart"')
    chart = after[start : after.index("</svg>", start)]
    assert chart.count('class="chart__bar"') == 3
    assert "2.5000 USD" in chart
    assert "style=" not in chart


def test_the_comparison_sorts_by_the_chosen_column(as_user, lab_owner, contest):
    project, _bids = contest
    traveller = close(project)
    try:
        page = text(as_user(lab_owner).get(detail_url(project) + "?sort=volume"))
    finally:
        traveller.stop()

    table = page[page.index('id="comparison"') :]
    assert table.index("Northwind Annotation") < table.index("Southwind Labelling") < table.index("Independent expert")
    assert 'aria-sort="descending"' in table
    assert "?sort=unit_price#bids" in table


def test_an_award_over_a_bids_volume_is_refused_naming_the_row_and_changes_nothing(as_user, lab_owner, contest):
    project, bids = contest
    traveller = close(project)
    try:
        client = as_user(lab_owner)
        page = text(client.get(detail_url(project)))
        assert 'name="allocations[0].volume"' in page
        response = client.post(
            reverse("bidding:award", args=[project.public_id]),
            {
                "allocations[0].bid": str(bids["northwind"].public_id),
                "allocations[0].volume": "300",
                "allocations[1].bid": str(bids["southwind"].public_id),
                "allocations[1].volume": "900",  # the bid offers 500
                "allocations[2].bid": str(bids["solo"].public_id),
                "allocations[2].volume": "",
            },
        )
    finally:
        traveller.stop()

    assert response.status_code == 400
    page = text(response)
    assert "allocations[1].volume: The bid offers 500 units." in page
    row = page[page.index('id="award-row-1"') :]
    row = row[: row.index("</tr>")]
    assert "The bid offers 500 units." in row
    assert not Award.objects.exists()
    project.refresh_from_db()
    assert project.status == Project.Status.BIDDING_CLOSED
    assert set(Bid.objects.values_list("status", flat=True)) == {Bid.Status.SUBMITTED}


def test_a_row_numbered_after_an_empty_one_is_still_named_by_its_form_row(as_user, lab_owner, contest):
    project, bids = contest
    traveller = close(project)
    try:
        response = as_user(lab_owner).post(
            reverse("bidding:award", args=[project.public_id]),
            {
                "allocations[0].bid": str(bids["northwind"].public_id),
                "allocations[0].volume": "",
                "allocations[1].bid": str(bids["southwind"].public_id),
                "allocations[1].volume": "",
                "allocations[2].bid": str(bids["solo"].public_id),
                "allocations[2].volume": "250",  # the bid offers 200
            },
        )
    finally:
        traveller.stop()

    assert response.status_code == 400
    assert "allocations[2].volume: The bid offers 200 units." in text(response)
    assert not Award.objects.exists()


def test_a_split_award_works_and_the_losing_bidder_sees_not_awarded(
    as_user, lab_owner, vendor_manager, rival, independent, contest
):
    project, bids = contest
    traveller = close(project)
    try:
        response = as_user(lab_owner).post(
            reverse("bidding:award", args=[project.public_id]),
            {
                "allocations[0].bid": str(bids["northwind"].public_id),
                "allocations[0].volume": "600",
                "allocations[1].bid": str(bids["southwind"].public_id),
                "allocations[1].volume": "400",
                "allocations[2].bid": str(bids["solo"].public_id),
                "allocations[2].volume": "",
                "note": "Split for redundancy.",
            },
        )
        assert response.status_code == 302
        lab_page = text(as_user(lab_owner).get(detail_url(project)))
        winner = text(as_user(vendor_manager).get(reverse("bidding:marketplace_detail", args=[project.public_id])))
        loser = text(as_user(independent["user"]).get(reverse("bidding:marketplace_detail", args=[project.public_id])))
        loser_list = text(as_user(independent["user"]).get(reverse("bidding:bid_list")))
    finally:
        traveller.stop()

    project.refresh_from_db()
    assert project.status == Project.Status.AWARDED
    award = Award.objects.get(project=project)
    assert award.total_minor == 600 * 200 + 400 * 240  # 1,200.00 + 960.00 USD
    statuses = dict(Bid.objects.values_list("bidder__name", "status"))
    assert statuses == {"Northwind Annotation": "awarded", "Southwind Labelling": "awarded", "Dr Ada Solo": "lost"}

    assert 'id="award"' in lab_page and "2,160.00 USD" in lab_page
    assert "Awarded 600 units for 1,200.00 USD" in winner
    assert "not awarded" in loser
    assert "Not awarded" in loser_list
    assert "2.0000" not in loser and "2.4000" not in loser


def test_shortlist_and_reject_with_a_reason_the_bidder_sees(as_user, lab_owner, rival, contest):
    project, bids = contest
    traveller = close(project)
    try:
        client = as_user(lab_owner)
        client.post(reverse("bidding:bid_shortlist", args=[project.public_id, bids["northwind"].public_id]))
        client.post(
            reverse("bidding:bid_reject", args=[project.public_id, bids["southwind"].public_id]),
            {"reason": "No radiologists on the team."},
        )
        seen = text(as_user(rival["manager"]).get(reverse("bidding:marketplace_detail", args=[project.public_id])))
    finally:
        traveller.stop()

    assert Bid.objects.get(pk=bids["northwind"].pk).status == Bid.Status.SHORTLISTED
    assert Bid.objects.get(pk=bids["southwind"].pk).status == Bid.Status.REJECTED
    assert "No radiologists on the team." in seen


def test_bids_cannot_be_touched_while_sealed(as_user, lab_owner, contest):
    project, bids = contest
    client = as_user(lab_owner)

    assert (
        client.post(reverse("bidding:bid_shortlist", args=[project.public_id, bids["northwind"].public_id])).status_code
        == 404
    )
    response = client.post(
        reverse("bidding:award", args=[project.public_id]),
        {"allocations[0].bid": str(bids["northwind"].public_id), "allocations[0].volume": "10"},
    )
    assert response.status_code == 302
    assert not Award.objects.exists()


def test_a_second_award_is_refused_with_a_message(as_user, lab_owner, contest):
    project, bids = contest
    data = {"allocations[0].bid": str(bids["northwind"].public_id), "allocations[0].volume": "100"}
    traveller = close(project)
    try:
        client = as_user(lab_owner)
        assert client.post(reverse("bidding:award", args=[project.public_id]), data).status_code == 302
        response = client.post(reverse("bidding:award", args=[project.public_id]), data, follow=True)
    finally:
        traveller.stop()

    assert "Not awarded: the project is awarded" in text(response)
    assert Award.objects.get(project=project).allocations.count() == 1


def test_an_independent_expert_bidder_is_named_to_the_lab_by_handle_never_by_name(
    as_user, lab_owner, contest, independent
):
    project, bids = contest
    traveller = close(project)
    try:
        bidding_services.bid_shortlist(actor=lab_owner, bid=bids["solo"])
        page = text(as_user(lab_owner).get(detail_url(project)))
    finally:
        traveller.stop()

    handle = independent["user"].expert_profile.handle
    assert f"Independent expert {handle}" in page
    assert "Ada Solo" not in page
    assert independent["user"].email not in page
