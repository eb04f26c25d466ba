"""Sealed bids through the API: submitting (with an Idempotency-Key), revising, withdrawing, the refusals
that change nothing, and sealing: no bidder ever receives a competitor's bid, and the lab receives none
before bidding closes."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.roles import OrgKind, Role
from apps.bidding.models import Bid, BidRevision
from apps.core.models import AuditEvent
from apps.experts.models import RosterEntry
from tests.factories import OrganizationFactory, member

from .conftest import close, roster_expert, submit, terms

BIDS = "/api/v1/bids/"


def bid_url(bid_id, action=""):
    return f"{BIDS}{bid_id}/" + (f"{action}/" if action else "")


def project_url(project, tail=""):
    return f"/api/v1/projects/{project.public_id}/{tail}"


def body(project, team=(), **overrides):
    return {"project": str(project.public_id), **terms(**overrides), "team": [str(u.public_id) for u in team]}


def snapshot():
    return (Bid.objects.count(), BidRevision.objects.count(), AuditEvent.objects.count())


# --- submitting -------------------------------------------------------------------------------------------


def test_a_vendor_submits_a_bid_with_its_roster_team(vendor, vendor_manager, team, api_as, project):
    response = api_as(vendor_manager).post(BIDS, body(project, team))

    assert response.status_code == 201, response.content
    bid = response.json()
    assert bid["status"] == "submitted" and bid["revision_number"] == 1
    assert (bid["unit_price"], bid["currency"]) == ("2.4000", "USD")
    assert bid["total"] == {"amount": "1440.00", "currency": "USD"}
    assert bid["bidder"] == {"id": str(vendor.public_id), "kind": "vendor", "name": vendor.name}
    assert bid["team"] == [{"id": str(u.public_id), "handle": u.expert_profile.handle} for u in team]
    assert [r["number"] for r in bid["revisions"]] == [1]
    assert bid["project"]["id"] == str(project.public_id)
    for person in team:
        assert person.email not in response.content.decode()
        assert person.full_name not in response.content.decode()
    stored = Bid.objects.get(public_id=bid["id"])
    assert (stored.bidder, stored.submitted_by) == (vendor, vendor_manager)
    assert AuditEvent.objects.filter(action="bid.submitted", target_id=stored.pk).exists()


def test_an_independent_expert_bids_as_themself(independent, api_as, project):
    response = api_as(independent).post(BIDS, body(project, unit_price="3.1"))

    assert response.status_code == 201, response.content
    bid = response.json()
    assert bid["team"] == [{"id": str(independent.public_id), "handle": independent.expert_profile.handle}]
    assert bid["bidder"]["kind"] == "individual" and bid["bidder"]["name"] is None
    assert "Dr Ida Secret" not in response.content.decode()


def test_the_same_idempotency_key_submits_once(vendor_manager, team, api_as, project):
    client = api_as(vendor_manager)
    payload = body(project, team)

    first = client.post(BIDS, payload, HTTP_IDEMPOTENCY_KEY="bid-1")
    second = client.post(BIDS, payload, HTTP_IDEMPOTENCY_KEY="bid-1")

    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert second.content == first.content
    assert Bid.objects.count() == 1 and BidRevision.objects.count() == 1


def test_without_a_key_a_second_bid_is_a_conflict(vendor_manager, team, api_as, project):
    client = api_as(vendor_manager)
    client.post(BIDS, body(project, team))

    response = client.post(BIDS, body(project, team, unit_price="1.00"))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "bid_already_live"
    assert Bid.objects.count() == 1


# --- bad input changes nothing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"unit_price": "0"}, "unit_price"),
        ({"unit_price": "-2.40"}, "unit_price"),
        ({"unit_price": 2.4}, "unit_price"),
        ({"unit_price": "2.123456"}, "unit_price"),
        ({"volume": 0}, "volume"),
        ({"volume": 5000}, "volume"),  # more than the project wants
        ({"weekly_capacity": -1}, "weekly_capacity"),
        ({"ends_on": "2020-01-01"}, "ends_on"),
        ({"starts_on": "soon"}, "starts_on"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_terms_are_named_and_nothing_is_saved(vendor_manager, team, api_as, project, overrides, field):
    before = snapshot()

    response = api_as(vendor_manager).post(BIDS, body(project, team, **overrides))

    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["details"]
    assert snapshot() == before


def test_experts_not_active_on_the_roster_are_named(vendor, vendor_manager, rival_team, team, api_as, project):
    suspended = roster_expert(vendor, "suspended@northwind.test")
    RosterEntry.objects.filter(user=suspended).update(status=RosterEntry.Status.SUSPENDED)
    client = api_as(vendor_manager)
    before = snapshot()

    for proposed in ([*team, rival_team[0]], [suspended], [vendor_manager], []):
        response = client.post(BIDS, body(project, proposed))
        assert response.status_code == 400, proposed
        assert list(response.json()["error"]["details"]) == ["team"]
    assert snapshot() == before


def test_a_bid_after_the_deadline_is_refused(vendor_manager, team, api_as, project):
    before = snapshot()

    with time_machine.travel(project.bid_deadline + timedelta(seconds=1)):
        response = api_as(vendor_manager).post(BIDS, body(project, team))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "bidding_closed"
    assert snapshot() == before


def test_a_bid_just_before_the_deadline_is_accepted(vendor_manager, team, api_as, project):
    with time_machine.travel(project.bid_deadline - timedelta(seconds=5)):
        response = api_as(vendor_manager).post(BIDS, body(project, team))

    assert response.status_code == 201


def test_a_bid_on_a_draft_is_a_404_naming_the_project(vendor_manager, team, api_as, make_project):
    draft = make_project(publish=False)
    before = snapshot()

    response = api_as(vendor_manager).post(BIDS, body(draft, team))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "project_not_found"
    assert list(response.json()["error"]["details"]) == ["project"]
    assert snapshot() == before


@pytest.mark.parametrize("who", ["rival_manager", "independent"])
def test_a_bid_on_an_invited_only_project_by_the_uninvited_is_a_404(who, request, vendor, api_as, make_project):
    project = make_project(invited=[vendor])
    before = snapshot()

    response = api_as(request.getfixturevalue(who)).post(BIDS, body(project))

    assert response.status_code == 404
    assert list(response.json()["error"]["details"]) == ["project"]
    assert snapshot() == before


def test_an_unknown_project_id_is_a_400_or_404_naming_project(vendor_manager, team, api_as, project):
    client = api_as(vendor_manager)

    malformed = client.post(BIDS, {**body(project, team), "project": "nope"})
    unknown = client.post(BIDS, {**body(project, team), "project": "00000000-0000-0000-0000-000000000000"})

    assert malformed.status_code == 400 and list(malformed.json()["error"]["details"]) == ["project"]
    assert unknown.status_code == 404 and list(unknown.json()["error"]["details"]) == ["project"]


def test_labs_and_vendor_experts_do_not_bid(lab_admin, expert, api_as, project):
    for user in (lab_admin, expert):
        response = api_as(user).post(BIDS, body(project))
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "role_not_allowed"
    assert not Bid.objects.exists()


# --- revising and withdrawing --------------------------------------------------------------------------------------


def test_a_revision_replaces_the_terms_and_keeps_the_history(vendor, vendor_manager, team, api_as, project):
    bid = submit(vendor_manager, vendor, project, team)
    client = api_as(vendor_manager)

    response = client.post(
        bid_url(bid.public_id, "revise"), {**terms(unit_price="2.2500"), "team": [str(team[0].public_id)]}
    )

    assert response.status_code == 200, response.content
    revised = response.json()
    assert (revised["revision_number"], revised["unit_price"]) == (2, "2.2500")
    assert [m["id"] for m in revised["team"]] == [str(team[0].public_id)]
    assert [(r["number"], r["unit_price"], len(r["team"])) for r in revised["revisions"]] == [
        (1, "2.4000", 2),
        (2, "2.2500", 1),
    ]


def test_a_bad_revision_changes_nothing(vendor, vendor_manager, team, api_as, project):
    bid = submit(vendor_manager, vendor, project, team)
    before = snapshot()

    response = api_as(vendor_manager).post(bid_url(bid.public_id, "revise"), {**terms(unit_price="0"), "team": []})

    assert response.status_code == 400
    assert "unit_price" in response.json()["error"]["details"]
    assert snapshot() == before
    bid.refresh_from_db()
    assert (bid.revision_number, str(bid.unit_price)) == (1, "2.4000")


def test_revising_after_the_deadline_is_refused(vendor, vendor_manager, team, api_as, project):
    bid = submit(vendor_manager, vendor, project, team)

    with time_machine.travel(project.bid_deadline + timedelta(minutes=1)):
        revise = api_as(vendor_manager).post(
            bid_url(bid.public_id, "revise"), {**terms(), "team": [str(team[0].public_id)]}
        )
        withdraw = api_as(vendor_manager).post(bid_url(bid.public_id, "withdraw"))

    assert (revise.status_code, withdraw.status_code) == (409, 409)
    bid.refresh_from_db()
    assert (bid.status, bid.revision_number) == (Bid.Status.SUBMITTED, 1)


def test_withdrawing_twice_changes_nothing_and_a_withdrawn_bid_cannot_be_revised(
    vendor, vendor_manager, team, api_as, project
):
    bid = submit(vendor_manager, vendor, project, team)
    client = api_as(vendor_manager)

    first = client.post(bid_url(bid.public_id, "withdraw"))
    second = client.post(bid_url(bid.public_id, "withdraw"))
    revise = client.post(bid_url(bid.public_id, "revise"), {**terms(), "team": [str(team[0].public_id)]})

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["status"] == "withdrawn"
    assert AuditEvent.objects.filter(action="bid.withdrawn").count() == 1
    assert revise.status_code == 409 and revise.json()["error"]["code"] == "bid_not_live"
    # A withdrawn bid makes room for a new one.
    assert client.post(BIDS, body(project, team)).status_code == 201


def test_the_bidder_lists_its_own_bids_with_filters(vendor, vendor_manager, team, api_as, make_project):
    first, second = make_project(title="A"), make_project(title="B")
    bid_a = submit(vendor_manager, vendor, first, team)
    submit(vendor_manager, vendor, second, team)
    client = api_as(vendor_manager)

    assert len(client.get(BIDS).json()["results"]) == 2
    only = client.get(f"{BIDS}?project={first.public_id}").json()["results"]
    assert [b["id"] for b in only] == [str(bid_a.public_id)]
    assert client.get(f"{BIDS}?status=withdrawn").json()["results"] == []


# --- sealing -------------------------------------------------------------------------------------------------


@pytest.fixture
def two_bids(vendor, vendor_manager, team, rival, rival_manager, rival_team, project):
    mine = submit(vendor_manager, vendor, project, team, unit_price="2.4000")
    theirs = submit(rival_manager, rival, project, rival_team, unit_price="1.9731")
    return mine, theirs


def assert_nothing_of(response, bid):
    text = response.content.decode()
    assert str(bid.public_id) not in text, response.request["PATH_INFO"]
    assert "1.9731" not in text, response.request["PATH_INFO"]


def every_bid_response(client, project, competitor, *, own=None):
    """Every endpoint that returns bids or could, as called by ``client``."""
    project_paths = ["", "bids/", "bid-comparison/", "questions/", "guidelines/"]
    responses = [client.get(project_url(project, p)) for p in project_paths]
    responses += [client.get(BIDS), client.get(f"{BIDS}?project={project.public_id}")]
    responses.append(client.get(bid_url(competitor.public_id)))
    responses.append(client.post(bid_url(competitor.public_id, "revise"), {**terms(), "team": []}))
    responses.append(client.post(bid_url(competitor.public_id, "withdraw")))
    responses.append(client.post(bid_url(competitor.public_id, "shortlist")))
    responses.append(client.post(bid_url(competitor.public_id, "reject"), {"reason": "x"}))
    responses.append(
        client.post(project_url(project, "award/"), {"allocations": [{"bid": str(competitor.public_id), "volume": 1}]})
    )
    if own is not None:
        responses.append(client.get(bid_url(own.public_id)))
    return responses


@pytest.mark.parametrize("stage", ["open", "closed"])
def test_no_bidder_ever_receives_a_competitors_bid(stage, vendor_manager, lab_admin, two_bids, api_as, project):
    mine, theirs = two_bids
    if stage == "closed":
        close(project, lab_admin)
    client = api_as(vendor_manager)

    responses = every_bid_response(client, project, theirs, own=mine)

    for response in responses:
        assert response.status_code != 500
        assert_nothing_of(response, theirs)
    detail = client.get(bid_url(theirs.public_id))
    assert detail.status_code == 404 and detail.json()["error"]["code"] == "bid_not_found"
    assert [b["id"] for b in client.get(BIDS).json()["results"]] == [str(mine.public_id)]
    theirs.refresh_from_db()
    assert theirs.status == Bid.Status.SUBMITTED


def test_a_vendor_key_never_reaches_a_competitors_bid(vendor, vendor_manager, two_bids, key_client, project):
    _mine, theirs = two_bids
    client = key_client(vendor_manager, vendor)

    for response in every_bid_response(client, project, theirs):
        assert_nothing_of(response, theirs)


def test_a_vendor_expert_sees_no_bids_at_all(expert, two_bids, api_as, project):
    mine, theirs = two_bids
    client = api_as(expert)

    for response in every_bid_response(client, project, theirs):
        assert_nothing_of(response, theirs)
    assert client.get(BIDS).status_code == 403
    assert client.get(bid_url(mine.public_id)).status_code == 403


def test_the_lab_gets_bids_sealed_before_bidding_closes(lab_admin, lab_member, two_bids, api_as, project):
    _mine, theirs = two_bids

    for user in (lab_admin, lab_member):
        client = api_as(user)
        for path in (project_url(project, "bids/"), project_url(project, "bid-comparison/"), bid_url(theirs.public_id)):
            response = client.get(path)
            assert response.status_code == 409, path
            assert response.json()["error"]["code"] == "bids_sealed"
            assert_nothing_of(response, theirs)
    client = api_as(lab_admin)
    for action, payload in (("shortlist", None), ("reject", {"reason": "too cheap"})):
        response = client.post(bid_url(theirs.public_id, action), payload)
        assert response.status_code == 409 and response.json()["error"]["code"] == "bids_sealed", action
    award = client.post(project_url(project, "award/"), {"allocations": [{"bid": str(theirs.public_id), "volume": 1}]})
    assert award.status_code == 409 and award.json()["error"]["code"] == "bids_sealed"
    assert client.get(project_url(project)).json()["bid_count"] == 2
    theirs.refresh_from_db()
    assert theirs.status == Bid.Status.SUBMITTED


def test_another_lab_never_reaches_the_bids(outsider, lab_admin, two_bids, api_as, project):
    _mine, theirs = two_bids
    close(project, lab_admin)
    client = api_as(outsider)

    for response in every_bid_response(client, project, theirs):
        assert response.status_code in (403, 404)  # 403: a lab has no bids of its own to list
        assert_nothing_of(response, theirs)


def test_after_the_close_the_lab_lists_reads_shortlists_and_rejects(
    rival, lab_admin, lab_member, two_bids, api_as, project
):
    mine, theirs = two_bids
    close(project, lab_admin)
    reader, manager = api_as(lab_member), api_as(lab_admin)

    listed = reader.get(project_url(project, "bids/"))
    assert listed.status_code == 200
    assert {b["id"] for b in listed.json()["results"]} == {str(mine.public_id), str(theirs.public_id)}
    detail = reader.get(bid_url(theirs.public_id))
    assert detail.status_code == 200 and detail.json()["unit_price"] == "1.9731"
    assert detail.json()["bidder"]["name"] == rival.name

    assert reader.post(bid_url(theirs.public_id, "shortlist")).status_code == 403
    shortlisted = manager.post(bid_url(theirs.public_id, "shortlist"))
    assert shortlisted.status_code == 200 and shortlisted.json()["status"] == "shortlisted"
    missing = manager.post(bid_url(mine.public_id, "reject"), {})
    assert missing.status_code == 400 and list(missing.json()["error"]["details"]) == ["reason"]
    rejected = manager.post(bid_url(mine.public_id, "reject"), {"reason": "Capacity too low"})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert reader.get(f"{project_url(project, 'bids/')}?status=rejected").json()["results"][0]["id"] == str(
        mine.public_id
    )


def test_the_bidder_sees_the_labs_rejection_reason(vendor_manager, lab_admin, two_bids, api_as, project):
    mine, _theirs = two_bids
    close(project, lab_admin)
    api_as(lab_admin).post(bid_url(mine.public_id, "reject"), {"reason": "Capacity too low"})

    seen = api_as(vendor_manager).get(bid_url(mine.public_id)).json()

    assert (seen["status"], seen["status_reason"]) == ("rejected", "Capacity too low")


def test_withdrawn_bids_stay_hidden_from_the_lab(vendor_manager, lab_admin, two_bids, api_as, project):
    mine, _theirs = two_bids
    api_as(vendor_manager).post(bid_url(mine.public_id, "withdraw"))
    close(project, lab_admin)
    client = api_as(lab_admin)

    assert str(mine.public_id) not in client.get(project_url(project, "bids/")).content.decode()
    assert client.get(bid_url(mine.public_id)).status_code == 404


# --- query counts ---------------------------------------------------------------------------------------------------


def test_the_bidders_list_takes_a_fixed_number_of_queries(
    vendor, vendor_manager, team, api_as, make_project, django_assert_max_num_queries
):
    for n in range(4):
        submit(vendor_manager, vendor, make_project(title=f"P{n}"), team)
    client = api_as(vendor_manager)
    client.get(BIDS + "?page_size=1")

    with CaptureQueriesContext(connection) as one:
        assert len(client.get(BIDS + "?page_size=1").json()["results"]) == 1
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert len(client.get(BIDS + "?page_size=20").json()["results"]) == 4


def test_the_labs_bid_list_takes_a_fixed_number_of_queries(lab_admin, project, api_as, django_assert_max_num_queries):
    for n in range(4):
        supplier = OrganizationFactory(kind=OrgKind.VENDOR)
        manager = member(supplier, Role.MANAGER)
        people = [roster_expert(supplier, f"e{n}-{i}@x.test") for i in range(2)]
        submit(manager, supplier, project, people, unit_price=f"2.{n}000")
    close(project, lab_admin)
    client = api_as(lab_admin)
    path = project_url(project, "bids/")
    client.get(path + "?page_size=1")

    with CaptureQueriesContext(connection) as one:
        assert len(client.get(path + "?page_size=1").json()["results"]) == 1
    with django_assert_max_num_queries(len(one.captured_queries)):
        results = client.get(path + "?page_size=20").json()["results"]
    assert len(results) == 4
    assert all(len(b["team"]) == 2 for b in results)
