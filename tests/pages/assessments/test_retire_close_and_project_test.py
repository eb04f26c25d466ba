"""Retiring a published test, closing a calibration round, a test's domain, the project page's
qualification test card, and the rounds a supplier is invited to (read-only)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.assessments.models import CalibrationRound, ProjectTestRequirement, Test
from tests.factories import DomainFactory, ProjectFactory
from tests.pages.assessments.conftest import make_test
from tests.pages.conftest import text

pytestmark = pytest.mark.django_db


def test_an_author_retires_a_published_test(as_user, lab_admin, published):
    client = as_user(lab_admin)
    page = text(client.get(reverse("assessments:test_detail", args=[published.public_id])))
    assert 'id="retire-form"' in page
    response = client.post(reverse("assessments:test_retire", args=[published.public_id]))
    assert response.status_code == 302
    published.refresh_from_db()
    assert published.status == Test.Status.RETIRED
    page = text(client.get(reverse("assessments:test_detail", args=[published.public_id])))
    assert 'id="retire-form"' not in page


def test_the_test_form_chooses_a_domain_by_slug(as_user, lab_admin):
    medicine = DomainFactory(slug="medicine", name="Medicine")
    DomainFactory(slug="radiology", name="Radiology", parent=medicine)
    client = as_user(lab_admin)
    page = text(client.get(reverse("assessments:test_create")))
    assert '<optgroup label="Medicine">' in page and 'value="radiology"' in page
    body = {
        "title": "Scans",
        "domain": "radiology",
        "kind": "qualification",
        "time_limit_minutes": "20",
        "items_per_attempt": "2",
        "max_attempts": "3",
        "cooldown_hours": "24",
        "pass_rule": "raw_ratio",
        "pass_threshold": "0.7",
        "graders_per_free_text": "1",
        "qualification_valid_days": "365",
    }
    assert client.post(reverse("assessments:test_create"), body).status_code == 302
    test = Test.objects.get(title="Scans")
    assert test.domain.slug == "radiology"
    edit = text(client.get(reverse("assessments:test_edit", args=[test.public_id])))
    assert 'value="radiology" selected' in edit
    assert (
        client.post(reverse("assessments:test_edit", args=[test.public_id]), {**body, "domain": ""}).status_code == 302
    )
    test.refresh_from_db()
    assert test.domain is None


def test_the_lab_closes_a_calibration_round(as_user, lab, lab_admin, vendor, vendor_manager):
    test = make_test(lab_admin, lab, kind="calibration", title="Calibration set")
    round_ = CalibrationRound.objects.create(
        lab=lab, test=test, title="Round A", deadline=timezone.now() + timedelta(days=1), created_by=lab_admin
    )
    round_.suppliers.add(vendor)
    report_url = reverse("assessments:calibration_report", args=[round_.public_id])
    close_url = reverse("assessments:calibration_close", args=[round_.public_id])
    assert as_user(vendor_manager).post(close_url).status_code == 404
    client = as_user(lab_admin)
    assert 'id="close-round-form"' in text(client.get(report_url))
    assert client.post(close_url).status_code == 302
    round_.refresh_from_db()
    assert round_.status == CalibrationRound.Status.CLOSED
    assert 'id="close-round-form"' not in text(client.get(report_url))


def test_suppliers_see_the_rounds_they_are_invited_to(as_user, lab, lab_admin, vendor, vendor_manager, expert):
    test = make_test(lab_admin, lab, kind="calibration", title="Calibration set")
    invited = CalibrationRound.objects.create(
        lab=lab, test=test, title="Invited round", deadline=timezone.now() + timedelta(days=1), created_by=lab_admin
    )
    invited.suppliers.add(vendor)
    CalibrationRound.objects.create(
        lab=lab, test=test, title="Other round", deadline=timezone.now() + timedelta(days=1), created_by=lab_admin
    )
    response = as_user(vendor_manager).get(reverse("assessments:calibration"))
    assert response.status_code == 200
    page = text(response)
    assert "Invited round" in page and "Other round" not in page
    assert reverse("assessments:calibration_report", args=[invited.public_id]) not in page
    assert 'id="round-form"' not in page
    assert as_user(vendor_manager).post(reverse("assessments:calibration"), {}).status_code == 405
    assert as_user(expert).get(reverse("assessments:calibration")).status_code == 404


def test_the_project_page_sets_a_qualification_test(as_user, lab, lab_owner, lab_admin, lab_member, published):
    project = ProjectFactory(lab=lab, created_by=lab_owner, title="Scan review")
    detail = reverse("bidding:project_detail", args=[project.public_id])
    require_url = reverse("bidding:project_test_require", args=[project.public_id])
    client = as_user(lab_admin)
    page = text(client.get(detail))
    assert 'id="no-required-test"' in page and f'value="{published.public_id}"' in page

    assert client.post(require_url, {"test": str(published.public_id)}).status_code == 302
    assert ProjectTestRequirement.objects.get(project=project).test == published
    page = text(client.get(detail))
    assert 'id="required-test"' in page and published.title in page

    calibration_test = make_test(lab_admin, lab, kind="calibration", title="Calibration set")
    refused = client.post(require_url, {"test": str(calibration_test.public_id)}, follow=True)
    assert "alert--error" in text(refused)
    assert ProjectTestRequirement.objects.get(project=project).test == published
    unknown = client.post(require_url, {"test": "not-a-test"}, follow=True)
    assert "alert--error" in text(unknown)

    member_page = text(as_user(lab_member).get(detail))
    assert 'id="required-test"' in member_page and 'id="qualification-test-form"' not in member_page
    assert as_user(lab_member).post(require_url, {"test": str(published.public_id)}).status_code in (403, 404)
