"""Projects through the API: drafting, editing, publishing (with the missing fields named), the lab's
transitions, the marketplace and who may see which project."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.roles import OrgKind, Role
from apps.core.models import AuditEvent
from apps.projects.models import Project
from tests.factories import DomainFactory, MembershipFactory, OrganizationFactory, UserFactory

from .conftest import close, submit

LIST = "/api/v1/projects/"
MARKET = "/api/v1/marketplace/"


def url(project, action=""):
    return f"{LIST}{project.public_id}/" + (f"{action}/" if action else "")


def complete_body(domain, **overrides):
    deadline = timezone.now() + timedelta(days=7)
    body = {
        "title": "Chest CT preference pairs",
        "description": "Compare two model reports.",
        "task_type": "preference_comparison",
        "domain": domain.slug,
        "unit_name": "comparison",
        "volume": 1000,
        "budget_cap": {"amount": "5000.00", "currency": "USD"},
        "target_unit_price": "3.50",
        "sla_min_gold_accuracy": "0.85",
        "sla_max_turnaround_days": 7,
        "bid_deadline": deadline.isoformat(),
        "starts_on": str(deadline.date() + timedelta(days=1)),
        "ends_on": str(deadline.date() + timedelta(days=60)),
    }
    body.update(overrides)
    return body


# --- drafting ------------------------------------------------------------------------------------------


def test_a_lab_admin_drafts_a_project_with_money_as_strings(lab, lab_admin, domain, api_as):
    response = api_as(lab_admin).post(LIST, complete_body(domain))

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft"
    assert body["lab"] == {"id": str(lab.public_id), "name": lab.name}
    assert body["budget_cap"] == {"amount": "5000.00", "currency": "USD"}
    assert body["target_unit_price"] == "3.5000"
    assert body["currency"] == "USD"
    assert body["sla_min_gold_accuracy"] == "0.8500"
    assert body["domain"] == {"slug": "radiology", "name": "Radiology"}
    assert body["bid_count"] == 0
    assert body["current_guideline"] is None
    assert body["invited_organizations"] == []
    project = Project.objects.get(public_id=body["id"])
    assert (project.lab, project.budget_cap_minor, project.created_by) == (lab, 500000, lab_admin)
    assert AuditEvent.objects.filter(action="project.created", target_id=project.pk).exists()


def test_a_draft_needs_only_a_title(lab_admin, api_as):
    response = api_as(lab_admin).post(LIST, {"title": "Ideas"})

    assert response.status_code == 201
    body = response.json()
    assert (body["task_type"], body["unit_name"], body["budget_cap"], body["volume"]) == (None, None, None, None)


def test_a_draft_without_a_title_is_a_400_naming_title(lab_admin, api_as):
    response = api_as(lab_admin).post(LIST, {"description": "no title"})

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["title"]
    assert not Project.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("volume", 0),
        ("target_unit_price", 2.5),
        ("target_unit_price", "2.12345"),
        ("budget_cap", {"amount": "10.001", "currency": "USD"}),
        ("domain", "astrology"),
        ("task_type", "vibes"),
        ("sla_min_gold_accuracy", "1.5"),
        ("invited_organizations", ["00000000-0000-0000-0000-000000000000"]),
        ("status", "open"),
    ],
)
def test_bad_project_fields_are_named_and_nothing_is_saved(lab_admin, domain, api_as, field, value):
    response = api_as(lab_admin).post(LIST, {"title": "T", field: value})

    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["details"]
    assert not Project.objects.exists()


def test_a_budget_in_another_currency_than_the_project_is_refused(lab_admin, api_as):
    response = api_as(lab_admin).post(
        LIST, {"title": "T", "currency": "EUR", "budget_cap": {"amount": "10.00", "currency": "USD"}}
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["budget_cap"]


def test_the_budget_sets_the_currency_of_a_new_project(lab_admin, api_as):
    body = api_as(lab_admin).post(LIST, {"title": "T", "budget_cap": {"amount": "900", "currency": "JPY"}}).json()

    assert body["currency"] == "JPY"
    assert body["budget_cap"] == {"amount": "900", "currency": "JPY"}


def test_a_lab_member_may_read_but_not_draft(lab_member, api_as, make_project):
    make_project(publish=False)
    client = api_as(lab_member)

    assert len(client.get(LIST).json()["results"]) == 1
    response = client.post(LIST, {"title": "T"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "role_not_allowed"


def test_a_vendor_cannot_draft_or_list_lab_projects(vendor_manager, api_as):
    client = api_as(vendor_manager)

    assert client.post(LIST, {"title": "T"}).status_code == 403
    assert client.get(LIST).status_code == 403
    assert not Project.objects.exists()


def test_an_api_key_drafts_for_its_lab(lab, lab_admin, key_client):
    response = key_client(lab_admin, lab).post(LIST, {"title": "From CI"})

    assert response.status_code == 201
    assert Project.objects.get().lab == lab


# --- editing ---------------------------------------------------------------------------------------------


def test_patch_changes_only_the_given_fields_of_a_draft(lab_admin, api_as, make_project):
    project = make_project(publish=False)

    response = api_as(lab_admin).patch(url(project), {"volume": 2000, "show_bid_count": True})

    assert response.status_code == 200, response.content
    assert (response.json()["volume"], response.json()["show_bid_count"]) == (2000, True)
    project.refresh_from_db()
    assert project.title == "Chest CT preference pairs"
    assert project.budget_cap_minor == 500000


def test_changing_the_currency_without_the_budget_is_refused(lab_admin, api_as, make_project):
    project = make_project(publish=False)

    response = api_as(lab_admin).patch(url(project), {"currency": "EUR"})

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["budget_cap"]
    project.refresh_from_db()
    assert project.currency == "USD"


def test_a_published_project_cannot_be_edited(lab_admin, api_as, project):
    response = api_as(lab_admin).patch(url(project), {"title": "Changed"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "project_not_draft"
    project.refresh_from_db()
    assert project.title == "Chest CT preference pairs"


def test_bad_fields_on_patch_change_nothing(lab_admin, api_as, make_project):
    project = make_project(publish=False)

    response = api_as(lab_admin).patch(url(project), {"title": "New", "volume": -5, "sla_min_alpha": "2"})

    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == {"volume", "sla_min_alpha"}
    project.refresh_from_db()
    assert (project.title, project.volume) == ("Chest CT preference pairs", 1000)


def test_another_labs_project_is_not_found(outsider, api_as, make_project):
    project = make_project(publish=False)
    client = api_as(outsider)

    assert client.get(url(project)).status_code == 404
    assert client.patch(url(project), {"title": "x"}).status_code == 404
    assert client.post(url(project, "publish")).status_code == 404


# --- publishing ------------------------------------------------------------------------------------------


def test_publishing_an_incomplete_draft_names_every_missing_field_and_changes_nothing(lab_admin, api_as):
    client = api_as(lab_admin)
    project_id = client.post(LIST, {"title": "Half done", "volume": 10}).json()["id"]
    audits = AuditEvent.objects.count()

    response = client.post(f"{LIST}{project_id}/publish/")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "project_incomplete"
    assert {"description", "task_type", "domain", "unit_name", "budget_cap", "bid_deadline", "guidelines"} <= set(
        error["details"]
    )
    assert "volume" not in error["details"] and "title" not in error["details"]
    assert "budget_cap" in error["message"]
    project = Project.objects.get(public_id=project_id)
    assert (project.status, project.published_at) == (Project.Status.DRAFT, None)
    assert AuditEvent.objects.count() == audits


def test_publishing_a_complete_draft_opens_it_and_repeating_changes_nothing(lab_admin, api_as, make_project):
    project = make_project(publish=False)
    client = api_as(lab_admin)

    first = client.post(url(project, "publish"))
    second = client.post(url(project, "publish"))

    assert first.status_code == 200, first.content
    assert first.json()["status"] == "open" and first.json()["published_at"]
    assert second.status_code == 200
    assert AuditEvent.objects.filter(action="project.open", target_id=project.pk).count() == 1


def test_a_deadline_in_the_past_blocks_publication(lab_admin, api_as, make_project):
    project = make_project(publish=False)

    with time_machine.travel(project.bid_deadline + timedelta(hours=1)):
        response = api_as(lab_admin).post(url(project, "publish"))

    assert response.status_code == 400
    assert "bid_deadline" in response.json()["error"]["details"]


def test_a_lab_member_may_not_publish(lab_member, api_as, make_project):
    project = make_project(publish=False)

    assert api_as(lab_member).post(url(project, "publish")).status_code == 403
    project.refresh_from_db()
    assert project.status == Project.Status.DRAFT


# --- the lifecycle ---------------------------------------------------------------------------------------


def test_close_start_complete(lab_admin, vendor, vendor_manager, team, api_as, project):
    bid = submit(vendor_manager, vendor, project, team)
    client = api_as(lab_admin)

    closed = client.post(url(project, "close-bidding"))
    assert closed.status_code == 200 and closed.json()["status"] == "bidding_closed"
    assert client.post(url(project, "start")).status_code == 409  # not awarded yet
    award = client.post(url(project, "award"), {"allocations": [{"bid": str(bid.public_id), "volume": 500}]})
    assert award.status_code == 201, award.content
    started = client.post(url(project, "start"))
    assert started.status_code == 200 and started.json()["status"] == "in_progress"
    completed = client.post(url(project, "complete"))
    assert completed.status_code == 200 and completed.json()["status"] == "completed"
    assert client.post(url(project, "cancel"), {"reason": "late"}).status_code == 409


def test_closing_a_draft_is_a_conflict(lab_admin, api_as, make_project):
    project = make_project(publish=False)

    response = api_as(lab_admin).post(url(project, "close-bidding"))

    assert response.status_code == 409
    project.refresh_from_db()
    assert project.status == Project.Status.DRAFT


def test_cancelling_needs_a_reason_that_bidders_then_see(lab_admin, vendor_manager, api_as, project):
    client = api_as(lab_admin)

    missing = client.post(url(project, "cancel"), {})
    assert missing.status_code == 400 and list(missing.json()["error"]["details"]) == ["reason"]
    project.refresh_from_db()
    assert project.status == Project.Status.OPEN

    cancelled = client.post(url(project, "cancel"), {"reason": "Model retired"})
    assert cancelled.status_code == 200
    seen = api_as(vendor_manager).get(url(project)).json()
    assert (seen["status"], seen["status_reason"]) == ("cancelled", "Model retired")


def test_a_supplier_cannot_drive_the_lifecycle(vendor_manager, api_as, project):
    client = api_as(vendor_manager)

    for action in ("publish", "close-bidding", "start", "complete"):
        assert client.post(url(project, action)).status_code == 403, action
    assert client.post(url(project, "cancel"), {"reason": "x"}).status_code == 403
    assert client.patch(url(project), {"title": "x"}).status_code == 403
    project.refresh_from_db()
    assert project.status == Project.Status.OPEN


# --- what a supplier sees ------------------------------------------------------------------------------------


def test_a_supplier_sees_a_public_project_without_the_invitation_list(vendor_manager, api_as, project):
    body = api_as(vendor_manager).get(url(project)).json()

    assert body["status"] == "open"
    assert "invited_organizations" not in body
    assert body["bid_count"] is None
    assert body["current_guideline"]["number"] == 1


def test_bidders_see_the_count_only_where_the_lab_shows_it(
    vendor, vendor_manager, team, rival_manager, api_as, make_project
):
    project = make_project(show_bid_count=True)
    submit(vendor_manager, vendor, project, team)

    assert api_as(rival_manager).get(url(project)).json()["bid_count"] == 1


def test_drafts_are_invisible_to_suppliers(vendor_manager, api_as, make_project):
    project = make_project(publish=False)

    assert api_as(vendor_manager).get(url(project)).status_code == 404
    assert api_as(vendor_manager).get(MARKET).json()["results"] == []


def test_an_invited_only_project_is_a_404_for_the_uninvited(
    vendor, vendor_manager, rival_manager, independent, api_as, make_project
):
    project = make_project(invited=[vendor])

    invited = api_as(vendor_manager)
    assert invited.get(url(project)).status_code == 200
    assert [p["id"] for p in invited.get(MARKET).json()["results"]] == [str(project.public_id)]
    for outsider in (rival_manager, independent):
        client = api_as(outsider)
        response = client.get(url(project))
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "project_not_found"
        assert client.get(MARKET).json()["results"] == []


def test_the_lab_sees_whom_it_invited(vendor, lab_member, api_as, make_project):
    project = make_project(invited=[vendor])

    body = api_as(lab_member).get(url(project)).json()

    assert body["invited_organizations"] == [{"id": str(vendor.public_id), "kind": "vendor", "name": vendor.name}]


def test_the_lab_never_sees_an_invited_independent_experts_name(independent, lab_member, api_as, make_project):
    solo = independent.memberships.get().organization
    project = make_project(invited=[solo])

    response = api_as(lab_member).get(url(project))

    assert response.json()["invited_organizations"] == [{"id": str(solo.public_id), "kind": "individual", "name": None}]
    assert "Ida Secret" not in response.content.decode()


def test_inviting_a_lab_is_refused(lab_admin, outsider, api_as):
    other_lab = outsider.memberships.get().organization

    response = api_as(lab_admin).post(
        LIST, {"title": "T", "visibility": "invited", "invited_organizations": [str(other_lab.public_id)]}
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["invited_organizations"]


# --- the marketplace ------------------------------------------------------------------------------------------


def test_the_marketplace_filters_open_projects(vendor_manager, lab_admin, api_as, make_project, domain):
    law = DomainFactory(slug="law", name="Law")
    soon = make_project(title="Soon", bid_deadline=timezone.now() + timedelta(days=2))
    later = make_project(title="Later", domain=law.slug, task_type="rating")
    rich = make_project(title="Rich", budget_cap=20000)
    closed = close(make_project(title="Closed"), lab_admin)
    client = api_as(vendor_manager)

    def titles(query=""):
        response = client.get(MARKET + query)
        assert response.status_code == 200, response.content
        return [p["title"] for p in response.json()["results"]]

    assert titles() == [soon.title, later.title, rich.title]  # soonest deadline first
    assert closed.title not in titles()
    assert titles("?task_type=rating") == ["Later"]
    assert set(titles("?domain=radiology")) == {"Soon", "Rich"}
    assert titles("?min_budget=10000") == ["Rich"]
    deadline = (timezone.now() + timedelta(days=3)).isoformat().replace("+00:00", "Z")
    assert titles(f"?deadline_before={deadline}") == ["Soon"]


def test_marketplace_filters_are_validated(vendor_manager, api_as, project):
    client = api_as(vendor_manager)

    for query, field in (
        ("?domain=astrology", "domain"),
        ("?min_budget=abc", "min_budget"),
        ("?task_type=x", "task_type"),
    ):
        response = client.get(MARKET + query)
        assert response.status_code == 400, query
        assert field in response.json()["error"]["details"]


def test_a_lab_has_no_marketplace(lab_admin, api_as, project):
    response = api_as(lab_admin).get(MARKET)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "role_not_allowed"


def test_a_vendor_expert_browses_the_marketplace(expert, api_as, project):
    assert [p["id"] for p in api_as(expert).get(MARKET).json()["results"]] == [str(project.public_id)]


def test_a_vendor_key_sees_the_marketplace_of_its_vendor(vendor, vendor_manager, key_client, project):
    client = key_client(vendor_manager, vendor)

    assert [p["id"] for p in client.get(MARKET).json()["results"]] == [str(project.public_id)]
    assert client.get(url(project)).status_code == 200


def test_org_chooses_the_acting_organisation_of_a_session(vendor, lab, lab_admin, api_as, project):
    """Someone in both a lab and a vendor sees the marketplace only when acting for the vendor."""
    MembershipFactory(user=lab_admin, organization=vendor, role=Role.MANAGER)
    client = api_as(lab_admin)

    assert client.get(f"{MARKET}?org={vendor.public_id}").status_code == 200
    assert client.get(f"{MARKET}?org={lab.public_id}").status_code == 403
    stranger = OrganizationFactory(kind=OrgKind.VENDOR)
    assert client.get(f"{MARKET}?org={stranger.public_id}").status_code == 404


# --- query counts ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("audience", ["lab", "supplier"])
def test_project_lists_take_a_fixed_number_of_queries(
    audience, lab_member, vendor, vendor_manager, team, api_as, make_project, django_assert_max_num_queries
):
    invitee = OrganizationFactory(kind=OrgKind.VENDOR)
    for n in range(4):
        project = make_project(title=f"P{n}", invited=[vendor, invitee], show_bid_count=True)
        submit(vendor_manager, vendor, project, team)
    client = api_as(lab_member if audience == "lab" else vendor_manager)
    path = LIST if audience == "lab" else MARKET
    client.get(path + "?page_size=1")  # warm the session and content-type caches

    with CaptureQueriesContext(connection) as one:
        assert len(client.get(path + "?page_size=1").json()["results"]) == 1
    with django_assert_max_num_queries(len(one.captured_queries)):
        results = client.get(path + "?page_size=20").json()["results"]
    assert len(results) == 4
    assert all(p["bid_count"] == 1 for p in results)


def test_members_of_no_organisation_get_404(db, api_as):
    loner = UserFactory()

    assert api_as(loner).get(LIST).status_code == 404
    assert api_as(loner).get(MARKET).status_code == 404
