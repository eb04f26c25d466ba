"""Projects facts on the dashboards, the navigation each role gets, and no external URL anywhere."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from apps.bidding import services as bidding_services
from apps.projects.models import GuidelineVersion
from tests.pages.conftest import text
from tests.pages.test_no_external_urls import external_urls

pytestmark = pytest.mark.django_db


def nav(page: str) -> str:
    return page[page.index('<nav class="mainnav"') : page.index("</nav>")]


@pytest.mark.parametrize(
    ("persona", "present", "absent"),
    [
        ("lab_owner", [">Projects<"], [">Marketplace<", ">My bids<"]),
        ("lab_member", [">Projects<"], [">Marketplace<", ">My bids<"]),
        ("vendor_manager", [">Marketplace<", ">My bids<"], [">Projects<"]),
        ("expert", [">Marketplace<"], [">My bids<", ">Projects<"]),
        ("independent_expert", [">Marketplace<", ">My bids<"], [">Projects<"]),
        ("finance", [], [">Marketplace<", ">My bids<", ">Projects<"]),
    ],
)
def test_navigation_by_role(request, as_user, persona, present, absent):
    page = nav(text(as_user(request.getfixturevalue(persona)).get(reverse("home"))))

    for label in present:
        assert label in page, label
    for label in absent:
        assert label not in page, label


def test_lab_dashboard_shows_projects_by_status_open_questions_and_bids_to_review(
    as_user, lab_owner, vendor, vendor_manager, roster_expert, make_project, place_bid
):
    make_project(publish=False, title="Draft one")
    project = make_project(bid_deadline=timezone.now() + timedelta(days=1))
    place_bid(actor=vendor_manager, organization=vendor, project=project, team=[str(roster_expert.public_id)])
    bidding_services.question_ask(actor=vendor_manager, organization=vendor, project=project, text="Ties?")

    page = text(as_user(lab_owner).get(reverse("home")))
    assert "arrives with Projects" not in page
    assert '<span class="badge badge--draft">Draft</span><strong>1</strong>' in page
    assert '<span class="badge badge--open">Open for bids</span><strong>1</strong>' in page
    assert "1 open question" in page
    assert "0 bids to review" in page  # sealed until the close

    with time_machine.travel(project.bid_deadline + timedelta(minutes=1), tick=False):
        bidding_services.projects_close_due()
        page = text(as_user(lab_owner).get(reverse("home")))
    assert "1 bid to review" in page


def test_supplier_dashboards_show_open_projects_live_bids_and_outcomes(
    as_user, vendor, vendor_manager, roster_expert, independent_expert, make_project, place_bid
):
    project = make_project(title="Open radiology work")
    place_bid(actor=vendor_manager, organization=vendor, project=project, team=[str(roster_expert.public_id)])

    page = text(as_user(vendor_manager).get(reverse("home")))
    assert "arrives with Bidding" not in page
    assert '<strong id="market-open-count">1</strong>' in page
    assert '<strong id="live-bid-count">1</strong>' in page
    assert "Open radiology work" in page

    solo = text(as_user(independent_expert).get(reverse("home")))
    assert '<strong id="market-open-count">1</strong>' in solo
    assert '<strong id="live-bid-count">0</strong>' in solo


def test_no_project_or_bidding_page_has_an_external_url(
    as_user, lab_owner, vendor, vendor_manager, expert, roster_expert, make_project, place_bid
):
    project = make_project(
        guidelines='# Rules\n\nSee [the paper](https://example.com/paper) and <img src="https://cdn.example.com/x.png">.'
    )
    draft = make_project(publish=False, title="Draft")
    bid = place_bid(actor=vendor_manager, organization=vendor, project=project, team=[str(roster_expert.public_id)])
    bidding_services.question_ask(actor=vendor_manager, organization=vendor, project=project, text="Ties?")

    def clean(client, urls):
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            found = [u for u in external_urls(text(response)) if u != "https://example.com/paper"]
            assert found == [], url

    clean(
        as_user(lab_owner),
        [
            reverse("home"),
            reverse("projects:list"),
            reverse("projects:create"),
            reverse("projects:edit", args=[draft.public_id]),
            reverse("bidding:project_detail", args=[project.public_id]),
            reverse("bidding:project_detail", args=[draft.public_id]),
        ],
    )
    market = [reverse("projects:marketplace"), reverse("bidding:marketplace_detail", args=[project.public_id])]
    clean(as_user(vendor_manager), [reverse("home"), reverse("bidding:bid_list"), *market])
    clean(as_user(expert), market)
    with time_machine.travel(project.bid_deadline + timedelta(minutes=1), tick=False):
        bidding_services.projects_close_due()
        clean(as_user(lab_owner), [reverse("bidding:project_detail", args=[project.public_id])])
    assert bid.pk and GuidelineVersion.objects.filter(project=project).exists()
