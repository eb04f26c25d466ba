"""Assessments API helpers: a test authored through the API with one item of each type, and a check
that a taker-facing body carries no answer key."""

from __future__ import annotations

import json

import pytest

NUMERIC_KEY = "98765.4321"  # a marker: must never appear in a taker's response
KEY_FIELDS = {"answer_key", "key", "keys", "correct", "correct_answer", "correct_option"}

ITEMS = [
    {
        "type": "single_choice",
        "prompt": "Pick the scan finding.",
        "options": ["nodule", "cyst", "none"],
        "answer_key": 1,
    },
    {
        "type": "multiple_choice",
        "prompt": "Pick every sign.",
        "options": ["edema", "fracture", "effusion"],
        "answer_key": [0, 2],
    },
    {"type": "ab_preference", "prompt": "Which reply is better?", "options": ["reply A", "reply B"], "answer_key": "B"},
    {"type": "likert", "prompt": "Rate the clarity.", "likert_points": 5, "answer_key": 4},
    {"type": "numeric", "prompt": "Give the dose in mg.", "answer_key": NUMERIC_KEY, "numeric_tolerance": "0.0001"},
    {
        "type": "free_text",
        "prompt": "Explain the diagnosis.",
        "rubric": [{"criterion": "names the condition", "points": 2}, {"criterion": "cites evidence", "points": 1}],
    },
]


def url_for(test=None, tail=""):
    return "/api/v1/tests/" if test is None else f"/api/v1/tests/{test}/{tail}"


def assert_no_key(response):
    """No answer-key field anywhere in the body, and never the numeric key's marker value."""
    raw = response.content.decode()
    assert NUMERIC_KEY not in raw, raw

    def walk(value):
        if isinstance(value, dict):
            assert not set(value) & KEY_FIELDS, value
            for child in value.values():
                walk(child)
        elif isinstance(value, list):
            for child in value:
                walk(child)

    walk(json.loads(raw) if raw else None)


@pytest.fixture
def author_client(api_as, lab_admin):
    return api_as(lab_admin)


@pytest.fixture
def make_test(author_client):
    """A test authored through the API (a draft, or published), with the six ``ITEMS``."""

    def make(*, publish=True, **settings):
        body = {
            "title": "Radiology basics",
            "items_per_attempt": len(ITEMS),
            "pass_rule": "raw_ratio",
            "pass_threshold": "0.1000",
            "cooldown_hours": 0,
            **settings,
        }
        created = author_client.post(url_for(), body, format="json")
        assert created.status_code == 201, created.content
        test_id = created.json()["id"]
        for item in ITEMS:
            added = author_client.post(url_for(test_id, "items/"), item, format="json")
            assert added.status_code == 201, added.content
        if publish:
            published = author_client.post(url_for(test_id, "publish/"))
            assert published.status_code == 200, published.content
        return test_id

    return make
