"""The lab's project pages: the list, the draft form, publishing and the lifecycle actions."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.projects.models import Project
from tests.pages.conftest import text
from tests.pages.projects.conftest import main_html
from tests.pages.workforce.conftest import field_html

pytestmark = pytest.mark.django_db


def detail_url(project):
    return reverse("bidding:project_detail", args=[project.public_id])


def form_data(**overrides):
    deadline = timezone.now() + timedelta(days=10)
    data = {
        "title": "Tax-law rubric authoring",
        "description": "Rubrics for grading answers to tax-law questions.",
        "task_type": "rubric_authoring",
        "domain": "radiology",
        "required_credential_types": ["professional_licence", "degree"],
        "unit_name": "task",
        "volume": "400",
        "currency": "EUR",
        "budget_cap": "12000.50",
        "target_unit_price": "25.0000",
        "sla_min_gold_accuracy": "0.85",
        "sla_min_alpha": "0.6",
        "sla_max_turnaround_days": "5",
        "bid_deadline": deadline.strftime("%Y-%m-%dT%H:%M"),
        "starts_on": (deadline.date() + timedelta(days=3)).isoformat(),
        "ends_on": (deadline.date() + timedelta(days=40)).isoformat(),
        "visibility": "public",
    }
    data.update(overrides)
    return data


def test_lab_creates_a_draft_through_the_form(as_user, lab, lab_owner, domains):
    client = as_user(lab_owner)
    assert client.get(reverse("projects:create")).status_code == 200

    response = client.post(reverse("projects:create"), form_data())

    project = Project.objects.get(lab=lab)
    assert response.status_code == 302
    assert response["Location"] == detail_url(project)
    assert project.status == Project.Status.DRAFT
    assert project.currency == "EUR"
    assert project.budget_cap_minor == 1_200_050
    assert project.domain == domains["radiology"]
    assert project.required_credential_types == ["professional_licence", "degree"]
    assert project.bid_deadline is not None and project.bid_deadline.tzinfo is not None


def test_an_untitled_draft_is_refused_naming_the_title(as_user, lab, lab_owner, domains):
    response = as_user(lab_owner).post(reverse("projects:create"), form_data(title=""))

    assert response.status_code == 400
    page = text(response)
    assert 'id="field-title"' in page and "This field is required." in page
    assert not Project.objects.exists()


def test_a_bad_value_is_refused_naming_its_field_and_nothing_is_saved(as_user, lab, lab_owner, domains):
    response = as_user(lab_owner).post(reverse("projects:create"), form_data(sla_min_gold_accuracy="1.5"))

    assert response.status_code == 400
    page = text(response)
    block = field_html(page, "sla_min_gold_accuracy")
    assert "field__error" in block and "between 0 and 1" in block
    assert not Project.objects.exists()


def test_publishing_an_incomplete_draft_lists_every_missing_field_and_changes_nothing(as_user, lab, lab_owner):
    client = as_user(lab_owner)
    client.post(reverse("projects:create"), {"title": "Just a title", "currency": "USD", "visibility": "public"})
    project = Project.objects.get(lab=lab)

    response = client.post(reverse("bidding:project_publish", args=[project.public_id]))

    assert response.status_code == 400
    page = text(response)
    problems = page[page.index('id="publish-problems"') :]
    problems = problems[: problems.index("</ul>")]
    assert "Not published" in problems
    for field, label in [
        ("description", "Description"),
        ("task_type", "Task type"),
        ("domain", "Domain"),
        ("unit_name", "Unit"),
        ("volume", "Volume"),
        ("budget_cap", "Budget cap"),
        ("target_unit_price", "Target unit price"),
        ("sla_min_gold_accuracy", "SLA: min. gold accuracy"),
        ("sla_max_turnaround_days", "SLA: max. turnaround (days)"),
        ("bid_deadline", "Bid deadline (UTC)"),
        ("starts_on", "Work starts"),
        ("ends_on", "Work ends"),
        ("guidelines", "Guidelines"),
    ]:
        assert f'id="problem-{field}"' in problems, field
        assert f">{label}</a>" in problems, label
    project.refresh_from_db()
    assert project.status == Project.Status.DRAFT
    assert project.published_at is None


def test_publishing_a_complete_draft_opens_it(as_user, lab, lab_owner, make_project):
    project = make_project(publish=False)
    client = as_user(lab_owner)
    assert "The draft is complete" in text(client.get(detail_url(project)))

    response = client.post(reverse("bidding:project_publish", args=[project.public_id]))

    assert response.status_code == 302
    project.refresh_from_db()
    assert project.status == Project.Status.OPEN
    page = text(client.get(detail_url(project)))
    assert "Open for bids until" in page
    assert "Sealed until" in page and "0 bids received" in page


def test_the_draft_form_is_prefilled_and_saves_changes(as_user, lab, lab_owner, make_project):
    project = make_project(publish=False)
    client = as_user(lab_owner)
    edit = reverse("projects:edit", args=[project.public_id])

    page = text(client.get(edit))
    assert 'value="Radiology report preferences"' in page
    assert 'value="5000.00"' in page
    assert project.bid_deadline.strftime("%Y-%m-%dT%H:%M") in page

    data = form_data(title="Renamed", domain="law", visibility="public")
    response = client.post(edit, data)

    assert response.status_code == 302
    project.refresh_from_db()
    assert project.title == "Renamed"
    assert project.domain.slug == "law"


def test_an_open_project_is_not_editable(as_user, lab_owner, make_project):
    project = make_project()

    response = as_user(lab_owner).get(reverse("projects:edit", args=[project.public_id]))

    assert response.status_code == 302
    assert response["Location"] == detail_url(project)


def test_the_list_filters_by_status(as_user, lab_owner, make_project):
    draft = make_project(publish=False, title="A draft one")
    live = make_project(title="An open one")
    client = as_user(lab_owner)

    everything = text(client.get(reverse("projects:list")))
    only_open = text(client.get(reverse("projects:list") + "?status=open"))

    assert draft.title in everything and live.title in everything
    assert live.title in only_open and draft.title not in only_open
    assert reverse("projects:create") in everything


def test_a_lab_member_sees_projects_but_cannot_create_or_act(as_user, lab_member, make_project):
    project = make_project(publish=False)
    client = as_user(lab_member)

    page = text(client.get(detail_url(project)))
    assert project.title in page
    assert reverse("bidding:project_publish", args=[project.public_id]) not in page
    assert reverse("projects:create") not in text(client.get(reverse("projects:list")))
    assert client.get(reverse("projects:create")).status_code == 403
    assert client.post(reverse("bidding:project_publish", args=[project.public_id])).status_code == 403
    project.refresh_from_db()
    assert project.status == Project.Status.DRAFT


def test_another_lab_gets_404_on_every_project_page(as_user, outsider, make_project):
    project = make_project()
    client = as_user(outsider)

    for url in (
        detail_url(project),
        reverse("projects:edit", args=[project.public_id]),
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        reverse("bidding:project_publish", args=[project.public_id]),
        reverse("bidding:project_close", args=[project.public_id]),
        reverse("bidding:project_cancel", args=[project.public_id]),
        reverse("bidding:guideline_publish", args=[project.public_id]),
        reverse("bidding:award", args=[project.public_id]),
    ):
        assert client.post(url, {"reason": "x", "body_markdown": "x"}).status_code == 404, url
    assert project.title not in text(client.get(reverse("projects:list")))


def test_a_vendor_finds_no_lab_project_page(as_user, vendor_manager, make_project):
    project = make_project()

    assert as_user(vendor_manager).get(detail_url(project)).status_code == 404


def test_cancel_needs_a_reason_and_bidders_see_it(as_user, lab_owner, vendor_manager, make_project):
    project = make_project()
    client = as_user(lab_owner)
    cancel = reverse("bidding:project_cancel", args=[project.public_id])

    client.post(cancel, {"reason": ""})
    project.refresh_from_db()
    assert project.status == Project.Status.OPEN

    client.post(cancel, {"reason": "The model was retired."})
    project.refresh_from_db()
    assert project.status == Project.Status.CANCELLED
    page = text(as_user(vendor_manager).get(reverse("bidding:marketplace_detail", args=[project.public_id])))
    assert "The model was retired." in page


def test_close_early_then_start_and_complete(as_user, lab_owner, make_project):
    project = make_project()
    client = as_user(lab_owner)

    client.post(reverse("bidding:project_close", args=[project.public_id]))
    project.refresh_from_db()
    assert project.status == Project.Status.BIDDING_CLOSED
    assert "No bids were received." in main_html(text(client.get(detail_url(project))))

    response = client.post(reverse("bidding:project_start", args=[project.public_id]))
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.status == Project.Status.BIDDING_CLOSED  # an unawarded project cannot start
