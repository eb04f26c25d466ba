"""Builders for assessment tests: a published platform test with one item of each objective type."""

import pytest

from apps.assessments import services
from apps.assessments.models import Test

OBJECTIVE_ITEMS = [
    {"type": "single_choice", "prompt": "Capital of France?", "options": ["Berlin", "Paris", "Rome"], "key": 1},
    {"type": "multiple_choice", "prompt": "Primes?", "options": ["2", "4", "5", "9"], "key": [0, 2]},
    {
        "type": "ab_preference",
        "prompt": "Better answer?",
        "options": ["Answer A", "Answer B"],
        "key": "A",
        "allow_tie": True,
        "ask_strength": True,
    },
    {"type": "likert", "prompt": "Rate fluency", "likert_points": 5, "key": 4},
    {"type": "numeric", "prompt": "Pi to 2 places", "key": "3.14", "numeric_tolerance": "0.01"},
]


def build_test(actor, organization=None, *, items=None, publish=True, **fields):
    defaults = {
        "title": "Radiology basics",
        "kind": "qualification",
        "time_limit_minutes": 30,
        "items_per_attempt": len(items or OBJECTIVE_ITEMS),
        "max_attempts": 3,
        "cooldown_hours": 24,
        "pass_rule": Test.PassRule.RAW_RATIO,
        "pass_threshold": "0.6",
    }
    test = services.test_create(actor=actor, organization=organization, **{**defaults, **fields})
    for spec in items or OBJECTIVE_ITEMS:
        services.item_add(actor=actor, test=test, **spec)
    if publish:
        services.test_publish(actor=actor, test=test)
        test.refresh_from_db()
    return test


def correct_shown_answer(served):
    """The right answer to a served item, in shown terms (read from option_order / a_shown_first)."""
    from apps.assessments.models import AnswerKey

    item = served.item
    key = AnswerKey.objects.get(item=item).value
    if item.type == "single_choice":
        return {"option": served.option_order.index(key)}
    if item.type == "multiple_choice":
        return {"options": [served.option_order.index(k) for k in key]}
    if item.type == "ab_preference":
        first = "A" if served.a_shown_first else "B"
        return {"choice": "first" if key == first else "second", "strength": 2}
    if item.type == "likert":
        return {"value": key}
    if item.type == "numeric":
        return {"value": key}
    return {"text": "an answer"}


@pytest.fixture
def platform_test(operations):
    return build_test(operations)
