"""The supplier's side: the marketplace, a project's page, and sealed bids submitted through it."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.bidding.models import Bid
from tests.factories import OrganizationFactory, UserFactory, member
from tests.pages.conftest import text
from tests.pages.projects.conftest import bid_terms, main_html
from tests.pages.workforce.conftest import field_html

pytestmark = pytest.mark.django_db


def market_url(project):
    return reverse("bidding:marketplace_detail", args=[project.public_id])


def bid_form(project, **overrides):
    terms = bid_terms(project)
    data = {
        "unit_price": str(terms["unit_price"]),
        "volume": str(terms["volume"]),
        "weekly_capacity": str(terms["weekly_capacity"]),
        "starts_on": terms["starts_on"].isoformat(),
        "ends_on": terms["ends_on"].isoformat(),
        "proposal": terms["proposal"],
    }
    data.update(overrides)
    return data


def test_the_marketplace_lists_open_public_projects_with_filters(as_user, vendor_manager, make_project, domains):
    radiology = make_project(title="Radiology preferences")
    law = make_project(title="Contract red-teaming", domain="law", task_type="red_teaming", budget_cap="900.00")
    make_project(title="Still a draft", publish=False)
    client = as_user(vendor_manager)
    url = reverse("projects:marketplace")

    everything = main_html(text(client.get(url)))
    assert radiology.title in everything and law.title in everything
    assert "Still a draft" not in everything

    by_domain = main_html(text(client.get(url, {"domain": "medicine"})))
    assert radiology.title in by_domain and law.title not in by_domain
    by_task = main_html(text(client.get(url, {"task_type": "red_teaming"})))
    assert law.title in by_task and radiology.title not in by_task
    by_budget = main_html(text(client.get(url, {"min_budget": "1000"})))
    assert radiology.title in by_budget and law.title not in by_budget
    soon = (radiology.bid_deadline - timedelta(days=30)).date().isoformat()
    assert radiology.title not in main_html(text(client.get(url, {"deadline_before": soon})))


def test_an_invited_only_project_is_404_for_a_vendor_not_invited_and_visible_to_the_invited_one(
    as_user, vendor, vendor_manager, rival, make_project
):
    project = make_project(visibility="invited", invited_organizations=[str(rival["org"].public_id)])

    outsider = as_user(vendor_manager)
    assert outsider.get(market_url(project)).status_code == 404
    assert project.title not in text(outsider.get(reverse("projects:marketplace")))

    invited = as_user(rival["manager"])
    assert project.title in text(invited.get(reverse("projects:marketplace")))
    response = invited.get(market_url(project))
    assert response.status_code == 200
    assert project.title in text(response)


def test_a_lab_cannot_use_the_marketplace(as_user, lab_owner, make_project):
    project = make_project()
    client = as_user(lab_owner)

    assert client.get(reverse("projects:marketplace")).status_code == 404
    assert client.get(market_url(project)).status_code == 404


def test_a_vendor_submits_a_bid_with_a_team_through_the_page(
    as_user, vendor, vendor_manager, roster_expert, make_project
):
    project = make_project()
    client = as_user(vendor_manager)

    page = text(client.get(market_url(project)))
    team = field_html(page, "team")
    assert "Dr Amara Okafor" in team
    assert roster_expert.expert_profile.handle in team

    response = client.post(
        reverse("bidding:bid_submit", args=[project.public_id]),
        bid_form(project, team=[str(roster_expert.public_id)]),
    )

    assert response.status_code == 302
    bid = Bid.objects.get(project=project, bidder=vendor)
    assert bid.unit_price == Decimal("2.0000")
    assert list(bid.revisions.get().team.all()) == [roster_expert]
    page = text(client.get(market_url(project)))
    assert f'id="bid-{bid.public_id}"' in page
    assert "Revise your bid" in page
    assert 'value="2.0000"' in page  # the revise form is pre-filled


def test_proposing_someone_not_on_the_roster_is_refused_naming_the_team(
    as_user, vendor, vendor_manager, roster_expert, make_project
):
    project = make_project()
    stranger = UserFactory(email="stranger@example.test")

    response = as_user(vendor_manager).post(
        reverse("bidding:bid_submit", args=[project.public_id]),
        bid_form(project, team=[str(roster_expert.public_id), str(stranger.public_id)]),
    )

    assert response.status_code == 400
    team = field_html(text(response), "team")
    assert "field__error" in team
    assert "Not on your active roster" in team
    assert not Bid.objects.exists()


def test_a_bad_price_is_refused_naming_the_field(as_user, vendor_manager, roster_expert, make_project):
    project = make_project()

    response = as_user(vendor_manager).post(
        reverse("bidding:bid_submit", args=[project.public_id]),
        bid_form(project, unit_price="-1", team=[str(roster_expert.public_id)]),
    )

    assert response.status_code == 400
    assert "must be positive" in field_html(text(response), "unit_price")
    assert not Bid.objects.exists()


def test_an_independent_expert_bids_as_themself_without_a_team_field(as_user, independent, make_project):
    project = make_project()
    client = as_user(independent["user"])

    page = text(client.get(market_url(project)))
    assert 'id="field-team"' not in page

    response = client.post(reverse("bidding:bid_submit", args=[project.public_id]), bid_form(project))

    assert response.status_code == 302
    bid = Bid.objects.get(bidder=independent["org"])
    assert list(bid.revisions.get().team.all()) == [independent["user"]]


def test_revise_keeps_the_history_and_withdraw_ends_the_bid(
    as_user, vendor, vendor_manager, roster_expert, make_project, place_bid
):
    project = make_project()
    bid = place_bid(actor=vendor_manager, organization=vendor, project=project, team=[str(roster_expert.public_id)])
    client = as_user(vendor_manager)

    response = client.post(
        reverse("bidding:bid_revise", args=[bid.public_id]),
        bid_form(project, unit_price="1.9000", team=[str(roster_expert.public_id)]),
    )
    assert response.status_code == 302
    bid.refresh_from_db()
    assert bid.revision_number == 2 and bid.unit_price == Decimal("1.9000")
    page = text(client.get(market_url(project)))
    history = page[page.index("Revision history") :]
    assert "2.0000" in history and "1.9000" in history

    client.post(reverse("bidding:bid_withdraw", args=[bid.public_id]))
    bid.refresh_from_db()
    assert bid.status == Bid.Status.WITHDRAWN
    page = text(client.get(market_url(project)))
    assert "You withdrew this bid." in page
    assert 'id="bid-form"' in page  # a new bid may be submitted until the deadline


def test_a_bidders_pages_never_show_a_competitors_price_or_bid_id(
    as_user, vendor, vendor_manager, roster_expert, rival, make_project, place_bid
):
    project = make_project(show_bid_count=True)
    secret = place_bid(
        actor=vendor_manager,
        organization=vendor,
        project=project,
        team=[str(roster_expert.public_id)],
        unit_price=Decimal("2.3456"),
        volume=777,
    )
    place_bid(
        actor=rival["manager"],
        organization=rival["org"],
        project=project,
        team=[str(rival["expert"].public_id)],
        unit_price=Decimal("1.7500"),
    )
    client = as_user(rival["manager"])

    for url in (market_url(project), reverse("bidding:bid_list"), reverse("projects:marketplace")):
        page = text(client.get(url))
        assert "2.3456" not in page, url
        assert not re.search(r"\b777\b", page), url
        assert str(secret.public_id) not in page, url
        assert "Northwind" not in page, url
    assert "2 bids received" in text(client.get(market_url(project)))


def test_the_bid_count_is_shown_only_when_the_lab_chose_to(
    as_user, vendor, vendor_manager, roster_expert, rival, make_project, place_bid
):
    project = make_project()  # show_bid_count defaults to off
    place_bid(actor=vendor_manager, organization=vendor, project=project, team=[str(roster_expert.public_id)])

    assert "bid received" not in text(as_user(rival["manager"]).get(market_url(project)))
    assert "bids received" not in text(as_user(rival["manager"]).get(market_url(project)))


def test_a_vendor_expert_reads_the_guidelines_but_cannot_bid(as_user, expert, vendor, make_project):
    project = make_project()
    client = as_user(expert)

    page = text(client.get(market_url(project)))
    assert "clinically correct" in page
    assert 'id="bid-form"' not in page and 'id="ask-form"' not in page

    assert client.post(reverse("bidding:bid_submit", args=[project.public_id]), bid_form(project)).status_code == 403
    assert client.post(reverse("bidding:question_ask", args=[project.public_id]), {"text": "?"}).status_code == 403
    assert client.get(reverse("bidding:bid_list")).status_code == 403
    assert not Bid.objects.exists()


def test_the_bid_list_shows_the_organisations_bids(
    as_user, vendor, vendor_manager, roster_expert, make_project, place_bid
):
    project = make_project(title="First project")
    bid = place_bid(actor=vendor_manager, organization=vendor, project=project, team=[str(roster_expert.public_id)])

    page = text(as_user(vendor_manager).get(reverse("bidding:bid_list")))

    assert "First project" in page
    assert f'id="bid-{bid.public_id}"' in page
    assert "Sealed until the deadline" in page


def test_a_second_vendor_org_in_the_same_account_does_not_leak(as_user, vendor, vendor_manager, make_project):
    """The active organisation decides: a person who is also in another vendor sees that one's view."""
    project = make_project(visibility="invited", invited_organizations=[str(vendor.public_id)])
    other = OrganizationFactory(name="Elsewhere", slug="elsewhere", kind="vendor")
    person = member(other, "manager", email="two-hats@example.test")

    assert as_user(person).get(market_url(project)).status_code == 404
    assert as_user(vendor_manager).get(market_url(project)).status_code == 200
