"""Blind grading (no expert identity), qualifications (the expert's own; operations revoke with a
reason) and calibration rounds (a lab creates one; the report has a league table and an SVG chart of
accuracy with interval whiskers, styled by classes only)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.assessments.models import Attempt, CalibrationRound, GradingTask, Qualification
from tests.pages.assessments.conftest import answer_everything, make_test, start
from tests.pages.conftest import text

pytestmark = pytest.mark.django_db


def submitted(client, test) -> Attempt:
    attempt = start(client, test)
    answer_everything(client, attempt)
    client.post(reverse("assessments:attempt_submit", args=[attempt.public_id]))
    attempt.refresh_from_db()
    return attempt


def test_blind_grading_shows_no_identity_and_scoring_finishes_the_attempt(
    client, as_user, expert, lab_admin, with_free_text
):
    expert.full_name = "Zelda Quixote-Marker"
    expert.save(update_fields=["full_name"])
    attempt = submitted(as_user(expert), with_free_text)
    assert attempt.status == Attempt.Status.GRADING
    result = text(client.get(reverse("assessments:attempt_result", args=[attempt.public_id])))
    assert 'id="awaiting-grading"' in result

    grader = as_user(lab_admin)
    page = text(grader.get(reverse("assessments:grading")))
    assert "The film shows a fracture of the left radius." in page
    assert "Zelda" not in page and "Quixote" not in page and expert.email not in page
    assert str(attempt.public_id) not in page
    task = GradingTask.objects.get(attempt_item__attempt=attempt)

    grader.post(reverse("assessments:grading_claim", args=[task.public_id]))
    page = text(grader.get(reverse("assessments:grading")))
    assert "Names the finding (0–2)" in page and "Zelda" not in page
    prefix = str(task.public_id)
    response = grader.post(
        reverse("assessments:grading_score", args=[task.public_id]), {f"{prefix}-c0": "2", f"{prefix}-c1": "1"}
    )
    assert response.status_code == 302
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.GRADED
    assert 'id="no-grading"' in text(grader.get(reverse("assessments:grading")))


def test_experts_find_nothing_to_grade(as_user, expert, independent_expert, with_free_text):
    submitted(as_user(expert), with_free_text)
    page = text(as_user(independent_expert).get(reverse("assessments:grading")))
    assert 'id="no-grading"' in page


def test_the_expert_sees_their_qualification_and_operations_revoke_it(as_user, expert, operations, published):
    attempt = submitted(as_user(expert), published)
    qualification = Qualification.objects.filter(attempt=attempt).first()
    if qualification is None:  # the fixed answers did not pass: grant one directly for the page
        qualification = Qualification.objects.create(
            expert=expert, test=published, family=published.family, attempt=attempt, score="0.8",
            granted_at=timezone.now(), expires_at=timezone.now() + timedelta(days=30),
        )  # fmt: skip
    page = text(as_user(expert).get(reverse("assessments:qualifications")))
    assert f'id="qualification-{qualification.public_id}"' in page and "Revoke" not in page

    ops = as_user(operations)
    page = text(ops.get(reverse("assessments:qualifications")))
    assert "Revoke" in page and expert.display_name in page
    url = reverse("assessments:qualification_revoke", args=[qualification.public_id])
    ops.post(url, {"reason": ""})
    qualification.refresh_from_db()
    assert qualification.status == "active"
    ops.post(url, {"reason": "Shared answers in a forum."})
    qualification.refresh_from_db()
    assert qualification.status == "revoked" and qualification.status_reason == "Shared answers in a forum."
    assert "Shared answers in a forum." in text(as_user(expert).get(reverse("assessments:qualifications")))
    assert as_user(expert).post(url, {"reason": "x"}).status_code == 404


def test_a_lab_runs_a_calibration_round_and_reads_the_report(as_user, lab, lab_admin, independent_expert):
    test = make_test(lab_admin, lab, kind="calibration", title="Calibration set")
    supplier = independent_expert.memberships.get().organization
    client = as_user(lab_admin)
    page = text(client.get(reverse("assessments:calibration")))
    assert 'id="round-form"' in page and "Calibration set" in page
    deadline = (timezone.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    bad = client.post(reverse("assessments:calibration"), {"title": "Round 1", "test": test.pk, "deadline": deadline})
    assert bad.status_code == 400
    response = client.post(
        reverse("assessments:calibration"),
        {"title": "Round 1", "test": test.pk, "deadline": deadline, "suppliers": [supplier.pk]},
    )
    assert response.status_code == 302
    round_ = CalibrationRound.objects.get(title="Round 1")
    report = text(client.get(response["Location"]))
    assert 'id="no-results"' in report

    expert_client = as_user(independent_expert)
    open_page = text(expert_client.get(reverse("assessments:open_tests")))
    assert f'id="round-{round_.public_id}"' in open_page
    response = expert_client.post(
        reverse("assessments:attempt_start", args=[test.public_id]), {"round": str(round_.public_id)}
    )
    assert response.status_code == 302
    attempt = Attempt.objects.get(calibration_round=round_)
    answer_everything(expert_client, attempt)
    expert_client.post(reverse("assessments:attempt_submit", args=[attempt.public_id]))

    client = as_user(lab_admin)  # the same test client, signed in as the lab again
    report = text(client.get(reverse("assessments:calibration_report", args=[round_.public_id])))
    league = report[report.index('id="league"') :]
    assert "<svg" in report and 'class="cal-chart__whisker"' in report and 'class="cal-chart__dot"' in report
    assert "style=" not in report
    assert 'id="no-results"' not in league


def test_suppliers_and_experts_find_no_calibration_report(as_user, lab, lab_admin, vendor_manager, expert):
    test = make_test(lab_admin, lab, kind="calibration", title="Calibration set")
    round_ = CalibrationRound.objects.create(
        lab=lab, test=test, title="R", deadline=timezone.now() + timedelta(days=1), created_by=lab_admin
    )
    for user in (vendor_manager, expert):
        assert as_user(user).get(reverse("assessments:calibration_report", args=[round_.public_id])).status_code == 404
