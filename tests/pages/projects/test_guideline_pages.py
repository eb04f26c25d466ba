"""Guidelines: Markdown published by the lab, shown sanitised everywhere, acknowledged by experts."""

import pytest
from django.urls import reverse

from apps.projects.models import GuidelineAcknowledgement, GuidelineVersion
from tests.pages.conftest import text
from tests.pages.workforce.conftest import field_html

pytestmark = pytest.mark.django_db

HOSTILE = (
    "## Rules\n\nPrefer the **correct** report.\n\n"
    "<script>alert('owned')</script>\n\n"
    '<img src="x" onerror="alert(2)">\n\n'
    "[click](javascript:alert(3))\n"
)


def test_a_script_in_the_guidelines_never_reaches_a_page_while_the_sanitised_html_shows(
    as_user, lab_owner, vendor_manager, expert, make_project
):
    project = make_project(guidelines=HOSTILE)
    pages = {
        "lab": text(as_user(lab_owner).get(reverse("bidding:project_detail", args=[project.public_id]))),
        "vendor": text(as_user(vendor_manager).get(reverse("bidding:marketplace_detail", args=[project.public_id]))),
        "expert": text(as_user(expert).get(reverse("bidding:marketplace_detail", args=[project.public_id]))),
    }

    for who, page in pages.items():
        assert "<h2>Rules</h2>" in page, who
        assert "<strong>correct</strong>" in page, who
        assert "alert(" not in page, who
        assert "<script>alert" not in page and "&lt;script&gt;alert" not in page, who
        assert "onerror" not in page, who
        assert "javascript:" not in page, who


def test_the_lab_publishes_a_new_version_through_the_page(as_user, lab_owner, make_project):
    project = make_project()
    client = as_user(lab_owner)
    url = reverse("bidding:guideline_publish", args=[project.public_id])

    refused = client.post(url, {"body_markdown": "# v2"})
    assert refused.status_code == 400
    assert "Required from v2 on." in field_html(text(refused), "change_summary")
    assert project.guideline_versions.count() == 1

    response = client.post(url, {"body_markdown": "# Version two\n\nTies are allowed.", "change_summary": "Ties"})

    assert response.status_code == 302
    assert project.guideline_versions.count() == 2
    page = text(client.get(reverse("bidding:project_detail", args=[project.public_id])))
    assert "<h1>Version two</h1>" in page
    assert "Version history (2 versions)" in page


def test_an_expert_acknowledges_and_the_lab_sees_the_handle_not_the_person(
    as_user, lab_owner, vendor, expert, make_project
):
    from tests.factories import ExpertProfileFactory

    profile = ExpertProfileFactory(user=expert)
    project = make_project()
    version = GuidelineVersion.objects.get(project=project)
    client = as_user(expert)

    response = client.post(reverse("projects:guideline_acknowledge", args=[version.public_id]))

    assert response.status_code == 302
    assert GuidelineAcknowledgement.objects.filter(version=version, user=expert, organization=vendor).exists()
    assert "You acknowledged v1" in text(client.get(reverse("bidding:marketplace_detail", args=[project.public_id])))

    lab_page = text(as_user(lab_owner).get(reverse("bidding:project_detail", args=[project.public_id])))
    table = lab_page[lab_page.index('id="acknowledgements"') : lab_page.index('id="questions"')]
    assert profile.handle in table
    assert vendor.name in table
    assert expert.email not in table and expert.full_name not in table


def test_a_vendor_not_invited_cannot_acknowledge(as_user, vendor_manager, rival, make_project):
    project = make_project(visibility="invited", invited_organizations=[str(rival["org"].public_id)])
    version = GuidelineVersion.objects.get(project=project)

    response = as_user(vendor_manager).post(reverse("projects:guideline_acknowledge", args=[version.public_id]))

    assert response.status_code == 404
    assert not GuidelineAcknowledgement.objects.exists()
