"""A calibration test may hold items without gold: they measure agreement and carry no score."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.assessments import calibration, services
from apps.core.errors import ValidationFailed
from apps.experts.models import RosterEntry
from tests.assessments.conftest import build_test, correct_shown_answer
from tests.factories import RosterEntryFactory

pytestmark = pytest.mark.django_db

KEYED = {"type": "single_choice", "prompt": "Capital of France?", "options": ["Berlin", "Paris", "Rome"], "key": 1}
UNKEYED = {"type": "likert", "prompt": "How fluent is this reply?", "likert_points": 5}


def test_a_qualification_test_still_needs_every_objective_item_keyed(lab, lab_admin):
    test = build_test(lab_admin, lab, items=[KEYED, UNKEYED], publish=False)

    with pytest.raises(ValidationFailed) as refused:
        services.test_publish(actor=lab_admin, test=test)

    assert "key" in refused.value.details


def test_unkeyed_calibration_items_are_answered_but_not_scored(lab, lab_admin, vendor, expert):
    RosterEntryFactory(vendor=vendor, user=expert, status=RosterEntry.Status.ACTIVE)
    test = build_test(lab_admin, lab, items=[KEYED, UNKEYED], kind="calibration")
    round_ = calibration.calibration_round_create(
        actor=lab_admin, lab=lab, test=test, title="Fluency", deadline=timezone.now() + timedelta(days=3),
        suppliers=[str(vendor.public_id)],
    )  # fmt: skip

    attempt = services.attempt_start(actor=expert, test=test, calibration_round=round_)
    for served in attempt.attempt_items.select_related("item"):
        answer = correct_shown_answer(served) if served.item.type == "single_choice" else {"value": 4}
        services.attempt_answer(actor=expert, attempt=attempt, item_public_id=served.item.public_id, answer=answer)
    services.attempt_submit(actor=expert, attempt=attempt)

    attempt.refresh_from_db()
    earned = {s.item.type: s.earned for s in attempt.attempt_items.select_related("item")}
    assert earned["likert"] is None and earned["single_choice"] == 1
    assert attempt.status == "graded" and attempt.score == 1
