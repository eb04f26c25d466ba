"""The lab's bid comparison and the award through the API: ranking by cost per quality-adjusted unit,
split awards, refusals that change nothing, Idempotency-Key replays and one award under a race."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from apps.bidding.models import Award, AwardAllocation, Bid
from apps.core.models import AuditEvent
from apps.projects.models import Project

from .conftest import close, submit


def project_url(project, tail=""):
    return f"/api/v1/projects/{project.public_id}/{tail}"


def allocation(bid, volume):
    return {"bid": str(bid.public_id), "volume": volume}


@pytest.fixture
def bids(vendor, vendor_manager, team, rival, rival_manager, rival_team, independent, project, lab_admin):
    """Three bids on a closed project (volume 1000, budget 5000.00 USD)."""
    northwind = submit(vendor_manager, vendor, project, team, unit_price="2.4000", volume=600, weekly_capacity=100)
    rival_bid = submit(rival_manager, rival, project, rival_team, unit_price="2.1000", volume=600, weekly_capacity=200)
    ida = submit(independent, independent.memberships.get().organization, project, unit_price="3.0000", volume=100)
    close(project, lab_admin)
    return {"northwind": northwind, "rival": rival_bid, "ida": ida}


def state():
    return (
        Award.objects.count(),
        AwardAllocation.objects.count(),
        sorted(Bid.objects.values_list("status", flat=True)),
        sorted(Project.objects.values_list("status", flat=True)),
        AuditEvent.objects.count(),
    )


# --- comparison ----------------------------------------------------------------------------------------


def test_the_comparison_ranks_by_cost_per_quality_unit_with_the_sla_as_a_flagged_assumption(
    lab_member, bids, api_as, project
):
    response = api_as(lab_member).get(project_url(project, "bid-comparison/"))

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["sort"], body["currency"]) == ("cost_per_quality_unit", "USD")
    rows = body["results"]
    assert [r["bid"]["id"] for r in rows] == [str(bids[k].public_id) for k in ("rival", "northwind", "ida")]
    assert [r["rank"] for r in rows] == [1, 2, 3]
    first = rows[0]
    assert first["unit_price"] == "2.1000"
    assert first["total"] == {"amount": "1260.00", "currency": "USD"}
    assert first["expected_accuracy"] == "0.8500"
    assert (first["accuracy_source"], first["accuracy_is_assumption"]) == ("sla_assumption", True)
    assert first["cost_per_quality_unit"] == str((Decimal("2.1") / Decimal("0.85")).quantize(Decimal("0.0001")))
    assert first["weeks_to_finish"] == "3.0"
    assert first["team_size"] == 1
    assert first["quality_history"] is None


def test_the_comparison_sorts_on_request_and_names_a_bad_sort(lab_member, bids, api_as, project):
    client = api_as(lab_member)

    by_capacity = client.get(project_url(project, "bid-comparison/") + "?sort=weekly_capacity").json()["results"]
    assert by_capacity[0]["bid"]["id"] == str(bids["rival"].public_id)
    bad = client.get(project_url(project, "bid-comparison/") + "?sort=vibes")
    assert bad.status_code == 400 and list(bad.json()["error"]["details"]) == ["sort"]


def test_suppliers_have_no_comparison(vendor_manager, bids, api_as, project):
    response = api_as(vendor_manager).get(project_url(project, "bid-comparison/"))

    assert response.status_code == 403
    assert "2.1000" not in response.content.decode()


# --- award -----------------------------------------------------------------------------------------------


def test_a_split_award_allocates_volume_and_the_others_lose(lab_admin, bids, vendor_manager, api_as, project):
    response = api_as(lab_admin).post(
        project_url(project, "award/"),
        {"allocations": [allocation(bids["rival"], 600), allocation(bids["northwind"], 400)], "note": "Split"},
    )

    assert response.status_code == 201, response.content
    award = response.json()
    assert award["total"] == {"amount": "2220.00", "currency": "USD"}  # 600 x 2.10 + 400 x 2.40
    assert [(a["bid"], a["volume"], a["unit_price"], a["amount"]["amount"]) for a in award["allocations"]] == [
        (str(bids["rival"].public_id), 600, "2.1000", "1260.00"),
        (str(bids["northwind"].public_id), 400, "2.4000", "960.00"),
    ]
    assert award["note"] == "Split"
    project.refresh_from_db()
    assert project.status == Project.Status.AWARDED
    statuses = {key: Bid.objects.get(pk=bid.pk).status for key, bid in bids.items()}
    assert statuses == {"rival": "awarded", "northwind": "awarded", "ida": "lost"}
    mine = api_as(vendor_manager).get(f"/api/v1/bids/{bids['northwind'].public_id}/").json()
    assert mine["allocation"] == {
        "volume": 400,
        "unit_price": "2.4000",
        "amount": {"amount": "960.00", "currency": "USD"},
    }
    assert AuditEvent.objects.filter(action="award.created", data__total_minor=222000).count() == 1


@pytest.mark.parametrize(
    ("make_allocations", "field"),
    [
        (lambda b: [allocation(b["rival"], 600), allocation(b["northwind"], 500)], "allocations"),  # over volume
        (lambda b: [allocation(b["rival"], 700)], "allocations[0].volume"),  # more than the bid offers
        (lambda b: [allocation(b["rival"], 0)], "allocations[0].volume"),
        (lambda b: [allocation(b["rival"], 10), allocation(b["rival"], 10)], "allocations"),
        (lambda b: [{"bid": "00000000-0000-0000-0000-000000000000", "volume": 1}], "allocations[0].bid"),
        (lambda b: [], "allocations"),
    ],
)
def test_bad_awards_are_named_and_change_nothing(lab_admin, bids, api_as, project, make_allocations, field):
    before = state()

    response = api_as(lab_admin).post(project_url(project, "award/"), {"allocations": make_allocations(bids)})

    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["details"]
    assert state() == before


def test_an_award_over_the_budget_is_refused(lab_admin, api_as, make_project, vendor, vendor_manager, team):
    project = make_project(budget_cap=Decimal("1000.00"))
    bid = submit(vendor_manager, vendor, project, team, unit_price="2.4000", volume=600)
    close(project, lab_admin)
    before = state()

    response = api_as(lab_admin).post(project_url(project, "award/"), {"allocations": [allocation(bid, 500)]})

    assert response.status_code == 400
    error = response.json()["error"]
    assert "allocations" in error["details"] and "budget" in error["details"]["allocations"][0]
    assert state() == before


def test_a_withdrawn_or_rejected_bid_cannot_be_awarded(
    lab_admin, vendor_manager, api_as, make_project, vendor, team, rival, rival_manager, rival_team
):
    project = make_project()
    withdrawn = submit(vendor_manager, vendor, project, team)
    api_as(vendor_manager).post(f"/api/v1/bids/{withdrawn.public_id}/withdraw/")
    rejected = submit(rival_manager, rival, project, rival_team)
    close(project, lab_admin)
    api_as(lab_admin).post(f"/api/v1/bids/{rejected.public_id}/reject/", {"reason": "No"})
    before = state()

    for bid in (withdrawn, rejected):
        response = api_as(lab_admin).post(project_url(project, "award/"), {"allocations": [allocation(bid, 10)]})
        assert response.status_code == 400
        assert list(response.json()["error"]["details"]) == ["allocations[0].bid"]
    assert state() == before


def test_a_second_award_is_a_conflict_and_a_replayed_key_answers_the_first(lab_admin, bids, api_as, project):
    client = api_as(lab_admin)
    payload = {"allocations": [allocation(bids["rival"], 600)]}

    first = client.post(project_url(project, "award/"), payload, HTTP_IDEMPOTENCY_KEY="award-1")
    replay = client.post(project_url(project, "award/"), payload, HTTP_IDEMPOTENCY_KEY="award-1")
    again = client.post(
        project_url(project, "award/"),
        {"allocations": [allocation(bids["northwind"], 100)]},
        HTTP_IDEMPOTENCY_KEY="award-2",
    )

    assert first.status_code == 201
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true" and replay.content == first.content
    assert again.status_code == 409 and again.json()["error"]["code"] == "project_already_awarded"
    assert Award.objects.count() == 1 and AwardAllocation.objects.count() == 1


def test_only_lab_managers_award(lab_member, vendor_manager, bids, api_as, project):
    before = state()
    payload = {"allocations": [allocation(bids["rival"], 600)]}

    assert api_as(lab_member).post(project_url(project, "award/"), payload).status_code == 403
    assert api_as(vendor_manager).post(project_url(project, "award/"), payload).status_code == 403
    assert state() == before


# --- a race ------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs real concurrent writers (PostgreSQL)")
def test_two_simultaneous_awards_make_exactly_one(lab_admin, bids, project):
    barrier = threading.Barrier(2)

    def attempt(bid):
        try:
            client = APIClient()
            client.force_login(lab_admin)
            barrier.wait(timeout=10)
            return client.post(project_url(project, "award/"), {"allocations": [allocation(bid, 100)]}, format="json")
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(attempt, bids[key]) for key in ("rival", "northwind")]
        responses = [f.result(timeout=30) for f in futures]

    assert sorted(r.status_code for r in responses) == [201, 409]
    loser = next(r for r in responses if r.status_code == 409)
    assert loser.json()["error"]["code"] == "project_already_awarded"
    assert Award.objects.count() == 1
    assert AwardAllocation.objects.count() == 1
    assert Bid.objects.filter(status=Bid.Status.AWARDED).count() == 1
