from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from apps.assessments import services
from apps.assessments.models import Attempt, Qualification
from apps.core.errors import DomainError, NotFound, ValidationFailed

from .conftest import build_test, correct_shown_answer


def _answer_all(attempt, expert, right=True):
    for served in attempt.attempt_items.select_related("item"):
        answer = correct_shown_answer(served)
        if not right and served.item.type == "likert":
            answer = {"value": 1}
        services.attempt_answer(actor=expert, attempt=attempt, item_public_id=served.item.public_id, answer=answer)


def test_attempt_start_samples_shuffles_and_records_the_ab_side(operations, expert):
    test = build_test(operations, items_per_attempt=3)
    attempt = services.attempt_start(actor=expert, test=test)
    served = list(attempt.attempt_items.select_related("item"))
    assert len(served) == 3 and attempt.deadline_at == attempt.started_at + timedelta(minutes=30)
    for s in served:
        if s.item.type in ("single_choice", "multiple_choice"):
            assert sorted(s.option_order) == list(range(len(s.item.options)))
        if s.item.type == "ab_preference":
            assert s.a_shown_first in (True, False)


def test_all_correct_answers_in_shown_terms_grade_to_a_pass_and_a_qualification(platform_test, expert):
    attempt = services.attempt_start(actor=expert, test=platform_test)
    _answer_all(attempt, expert)
    attempt = services.attempt_submit(actor=expert, attempt=attempt)
    assert attempt.status == Attempt.Status.GRADED and attempt.score == 1 and attempt.passed is True
    assert attempt.breakdown["sections"]["General"]["items"] == 5
    qualification = Qualification.objects.get(expert=expert)
    assert qualification.test == platform_test and qualification.family == platform_test.family
    assert qualification.expires_at - qualification.granted_at == timedelta(days=365)
    assert expert.notifications.filter(kind="qualification.granted").exists()
    assert expert.notifications.filter(kind="attempt.graded").exists()


def test_a_second_submit_is_refused(platform_test, expert):
    attempt = services.attempt_start(actor=expert, test=platform_test)
    services.attempt_submit(actor=expert, attempt=attempt)
    with pytest.raises(DomainError) as exc:
        services.attempt_submit(actor=expert, attempt=attempt)
    assert exc.value.code == "attempt_not_in_progress"


def test_answers_to_items_not_in_the_attempt_are_not_found(operations, expert):
    test = build_test(operations, items_per_attempt=1)
    attempt = services.attempt_start(actor=expert, test=test)
    served_ids = set(attempt.attempt_items.values_list("item_id", flat=True))
    other = test.items.exclude(pk__in=served_ids).first()
    with pytest.raises(NotFound):
        services.attempt_answer(actor=expert, attempt=attempt, item_public_id=other.public_id, answer={"value": 1})
    with pytest.raises(NotFound):
        services.attempt_answer(actor=expert, attempt=attempt, item_public_id="not-a-uuid", answer={"value": 1})


@pytest.mark.parametrize(
    "item_type,answer",
    [
        ("single_choice", {"option": 7}),
        ("single_choice", {"value": 1}),
        ("multiple_choice", {"options": [0, 0]}),
        ("ab_preference", {"choice": "first"}),  # strength asked but missing
        ("ab_preference", {"choice": "A", "strength": 1}),
        ("likert", {"value": 6}),
        ("numeric", {"value": "abc"}),
        ("numeric", {"value": "NaN"}),
    ],
)
def test_wrong_type_or_range_is_refused_naming_answer(platform_test, expert, item_type, answer):
    attempt = services.attempt_start(actor=expert, test=platform_test)
    served = attempt.attempt_items.get(item__type=item_type)
    with pytest.raises(ValidationFailed) as exc:
        services.attempt_answer(actor=expert, attempt=attempt, item_public_id=served.item.public_id, answer=answer)
    assert "answer" in exc.value.details
    served.refresh_from_db()
    assert served.answer is None


def test_someone_elses_attempt_is_not_found(platform_test, expert, outsider):
    attempt = services.attempt_start(actor=expert, test=platform_test)
    served = attempt.attempt_items.first()
    with pytest.raises(NotFound):
        services.attempt_answer(actor=outsider, attempt=attempt, item_public_id=served.item.public_id, answer={})


def test_answer_after_deadline_plus_grace_is_refused_within_grace_accepted(platform_test, expert):
    attempt = services.attempt_start(actor=expert, test=platform_test)
    served = attempt.attempt_items.get(item__type="likert")
    with time_machine.travel(attempt.deadline_at + timedelta(seconds=20)):
        services.attempt_answer(
            actor=expert, attempt=attempt, item_public_id=served.item.public_id, answer={"value": 4}
        )
    with time_machine.travel(attempt.deadline_at + timedelta(seconds=31)):
        with pytest.raises(DomainError) as exc:
            services.attempt_answer(
                actor=expert, attempt=attempt, item_public_id=served.item.public_id, answer={"value": 1}
            )
    assert exc.value.code == "attempt_deadline_passed"
    served.refresh_from_db()
    assert served.answer == {"value": 4}


def test_submit_after_the_deadline_grades_what_was_saved(platform_test, expert):
    attempt = services.attempt_start(actor=expert, test=platform_test)
    served = attempt.attempt_items.get(item__type="likert")
    services.attempt_answer(actor=expert, attempt=attempt, item_public_id=served.item.public_id, answer={"value": 4})
    with time_machine.travel(attempt.deadline_at + timedelta(hours=1)):
        attempt = services.attempt_submit(actor=expert, attempt=attempt)
    assert attempt.status == Attempt.Status.GRADED and attempt.score == Decimal("0.2")
    assert attempt.passed is False


def test_overdue_attempts_are_auto_submitted(platform_test, expert):
    attempt = services.attempt_start(actor=expert, test=platform_test)
    assert services.attempts_close_overdue(now=attempt.deadline_at) == 0
    assert services.attempts_close_overdue(now=attempt.deadline_at + timedelta(seconds=31)) == 1
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.GRADED and attempt.submitted_at is not None
    assert services.attempts_close_overdue(now=attempt.deadline_at + timedelta(hours=1)) == 0


def test_cooldown_and_attempt_limit_are_counted_per_family(operations, expert):
    test = build_test(operations, max_attempts=2, cooldown_hours=24)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        first = services.attempt_start(actor=expert, test=test)
        services.attempt_submit(actor=expert, attempt=first)
        with pytest.raises(DomainError) as exc:
            services.attempt_start(actor=expert, test=test)
        assert exc.value.code == "attempt_cooldown"
        assert exc.value.details["retry_after"] == (start + timedelta(hours=24)).isoformat()
    newer = services.test_new_version(actor=operations, test=test)
    services.test_publish(actor=operations, test=newer)
    with time_machine.travel(start + timedelta(hours=23, minutes=59), tick=False):
        with pytest.raises(DomainError) as exc:
            services.attempt_start(actor=expert, test=newer)
        assert exc.value.code == "attempt_cooldown"
    with time_machine.travel(start + timedelta(hours=24), tick=False):
        second = services.attempt_start(actor=expert, test=newer)
        assert second.number == 2
        services.attempt_submit(actor=expert, attempt=second)
    with time_machine.travel(start + timedelta(days=5), tick=False):
        with pytest.raises(DomainError) as exc:
            services.attempt_start(actor=expert, test=newer)
        assert exc.value.code == "attempt_limit_reached"
    assert Attempt.objects.filter(expert=expert).count() == 2


def test_a_draft_or_calibration_test_cannot_be_started_directly(operations, expert):
    draft = build_test(operations, publish=False)
    with pytest.raises(DomainError):
        services.attempt_start(actor=expert, test=draft)
    calibration = build_test(operations, kind="calibration")
    with pytest.raises(NotFound):
        services.attempt_start(actor=expert, test=calibration)


def test_a_failed_attempt_grants_nothing(platform_test, expert):
    attempt = services.attempt_start(actor=expert, test=platform_test)
    attempt = services.attempt_submit(actor=expert, attempt=attempt)
    assert attempt.passed is False and not Qualification.objects.exists()
