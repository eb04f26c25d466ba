"""Security review of the server-rendered pages: what a lab, a competing bidder and a supplier must
never see (expert names and e-mails, other bidders' prices, gold answers), and 404s outside scope."""

# ruff: noqa: F811  (the imported fixtures are arguments of the tests)

import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.bidding import services as bidding_services
from apps.projects import services as project_services
from apps.work import services as work_services
from tests.factories import AssignmentFactory, ContractFactory, ProjectFactory, UserFactory
from tests.pages.conftest import text
from tests.pages.projects.conftest import (  # noqa: F401  (fixtures)
    domains,
    independent,
    make_project,
    place_bid,
    rival,
    roster_expert,
)
from tests.pages.work.conftest import good_rows, jsonl

pytestmark = pytest.mark.django_db


def lab_page(project) -> str:
    return reverse("bidding:project_detail", args=[project.public_id])


def market_page(project) -> str:
    return reverse("bidding:marketplace_detail", args=[project.public_id])


# --- Invited-only projects: the lab sees an independent expert by handle, never by name -------------------


def test_the_project_form_lists_an_independent_expert_by_handle_never_by_name(
    as_user, lab_owner, domains, independent, vendor
):
    page = text(as_user(lab_owner).get(reverse("projects:create")))

    handle = independent["user"].expert_profile.handle
    assert f"Independent expert {handle}" in page
    assert "Ada Solo" not in page
    assert vendor.name in page  # a vendor is named as before


def test_the_lab_project_page_names_an_invited_independent_expert_by_handle_never_by_name(
    as_user, lab_owner, make_project, independent, vendor
):
    project = make_project(
        publish=False,
        visibility="invited",
        invited_organizations=[str(independent["org"].public_id), str(vendor.public_id)],
    )
    client = as_user(lab_owner)

    for url in (lab_page(project), reverse("projects:edit", args=[project.public_id])):
        page = text(client.get(url))
        assert f"Independent expert {independent['user'].expert_profile.handle}" in page, url
        assert "Ada Solo" not in page, url
        assert independent["user"].email not in page, url
        assert vendor.name in page, url


# --- Regression: bids, names and gold --------------------------------------------------------------------


@pytest.fixture
def closed_contest(make_project, lab_owner, vendor, vendor_manager, roster_expert, rival, independent, place_bid):
    project = make_project()
    place_bid(
        actor=vendor_manager,
        organization=vendor,
        project=project,
        team=[str(roster_expert.public_id)],
        unit_price=Decimal("2.1700"),
    )
    place_bid(
        actor=rival["manager"],
        organization=rival["org"],
        project=project,
        team=[str(rival["expert"].public_id)],
        unit_price=Decimal("2.9300"),
    )
    place_bid(actor=independent["user"], organization=independent["org"], project=project, unit_price=Decimal("3.4100"))
    bidding_services.project_close_bidding(actor=lab_owner, project=project)
    project.refresh_from_db()
    return project  # fmt: skip


def test_the_lab_sees_bids_but_no_expert_name_or_email(as_user, lab_owner, closed_contest, roster_expert, rival):
    page = text(as_user(lab_owner).get(lab_page(closed_contest)))

    assert "2.1700" in page and "2.9300" in page and "3.4100" in page
    for person in (roster_expert, rival["expert"]):
        assert person.full_name not in page
        assert person.email not in page
    assert "Ada Solo" not in page and "solo@expert.test" not in page


def test_a_competitor_never_sees_another_bidders_price(as_user, closed_contest, rival, vendor_manager):
    for user in (rival["manager"], vendor_manager):
        client = as_user(user)
        page = text(client.get(market_page(closed_contest)))
        mine, theirs = ("2.9300", "2.1700") if user == rival["manager"] else ("2.1700", "2.9300")
        assert mine in page
        assert theirs not in page and "3.4100" not in page
        bids = text(client.get(reverse("bidding:bid_list")))
        assert theirs not in bids and "3.4100" not in bids


def test_a_bidder_cannot_open_the_labs_project_page_or_another_bidders_bid(
    as_user, closed_contest, rival, vendor_manager
):
    assert as_user(rival["manager"]).get(lab_page(closed_contest)).status_code == 404
    vendor_bid = closed_contest.bids.get(bidder__slug="northwind")
    response = as_user(rival["manager"]).post(reverse("bidding:bid_withdraw", args=[vendor_bid.public_id]))
    assert response.status_code == 404


def test_the_acknowledgements_show_the_lab_a_handle_not_a_name(as_user, lab_owner, make_project, vendor, roster_expert):
    project = make_project()
    version = project.guideline_versions.get()
    project_services.guideline_acknowledge(actor=roster_expert, organization=vendor, version=version)

    page = text(as_user(lab_owner).get(lab_page(project)))
    assert roster_expert.expert_profile.handle in page
    assert roster_expert.full_name not in page and roster_expert.email not in page


# --- Batch and contract pages --------------------------------------------------------------------------------


@pytest.fixture
def delivered(lab, lab_owner, vendor, vendor_manager, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    project = ProjectFactory(lab=lab, created_by=lab_owner, status="in_progress", title="Radiology preferences")
    contract = ContractFactory(project=project, lab=lab, supplier=vendor)
    experts = []
    for i in range(3):
        user = UserFactory(email=f"person{i}@northwind.test", full_name=f"Secret Person{i}")
        AssignmentFactory(contract=contract, expert=user)
        experts.append(user)
    work_services.gold_upload(
        actor=lab_owner, project=project, rows=io.BytesIO(b"item_id,answer\ngold-only-item-42,tie\n"), fmt="csv"
    )
    batch = work_services.batch_submit(
        actor=vendor_manager, organization=vendor, contract=contract, client_batch_key="sec-1",
        period_start=date(2025, 3, 1), period_end=date(2025, 3, 7), unit_count=6,
        upload=io.BytesIO(jsonl(good_rows(experts))), fmt="jsonl",
    )  # fmt: skip
    return contract, batch, experts


def test_the_lab_sees_annotators_by_handle_on_batch_and_contract_pages(as_user, lab_owner, delivered):
    contract, batch, experts = delivered
    client = as_user(lab_owner)
    pages = [
        text(client.get(f"/work/batches/{batch.public_id}/")),
        text(client.get(reverse("contracts:detail", args=[contract.public_id]))),
    ]
    work_services.batch_accept(actor=lab_owner, batch=batch)
    pages.append(text(client.get(f"/work/batches/{batch.public_id}/")))
    for page in pages:
        for person in experts:
            assert person.expert_profile.handle in page
            assert person.full_name not in page and person.email not in page


def test_the_supplier_never_sees_gold_answers_on_batch_pages(as_user, lab_owner, vendor_manager, delivered):
    contract, batch, _experts = delivered
    client = as_user(vendor_manager)
    assert "gold-only-item-42" not in text(client.get(f"/work/batches/{batch.public_id}/"))
    assert client.get(reverse("work:gold", args=[contract.project.public_id])).status_code == 404
    work_services.batch_accept(actor=lab_owner, batch=batch)
    assert "gold-only-item-42" not in text(client.get(f"/work/batches/{batch.public_id}/"))
    # the lab, on its gold page, does see it
    assert "gold-only-item-42" in text(as_user(lab_owner).get(reverse("work:gold", args=[contract.project.public_id])))


def test_an_outsider_gets_404_on_every_page_of_the_contract(as_user, outsider, delivered):
    contract, batch, _experts = delivered
    client = as_user(outsider)
    for url in (
        reverse("contracts:detail", args=[contract.public_id]),
        reverse("work:contract_batches", args=[contract.public_id]),
        f"/work/batches/{batch.public_id}/",
        reverse("work:gold", args=[contract.project.public_id]),
    ):
        assert client.get(url).status_code == 404, url
    response = client.post(f"/work/batches/{batch.public_id}/review/", {"decision": "accept"})
    assert response.status_code == 404
    batch.refresh_from_db()
    assert batch.status == "submitted"
