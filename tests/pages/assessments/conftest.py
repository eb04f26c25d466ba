"""Assessment page fixtures: a published qualification test of the persona lab whose pool holds one
item of each type, with answer keys carrying marker values no page text otherwise contains, and
helpers that take an attempt through the pages."""

import pytest
from django.urls import reverse

from apps.assessments import services
from apps.assessments.models import Attempt, Test

NUMERIC_KEY = "98765.4321"  # the numeric item's key: must never reach an expert's page
EXPLANATION = "EXPLAINMARK-q7z"  # the single-choice item's explanation
OPTIONS = ["Option alpha", "Option bravo", "Option charlie"]


def make_test(actor, organization, *, kind="qualification", show_explanations=False, free_text=False, **fields):
    test = services.test_create(
        actor=actor,
        organization=organization,
        title=fields.pop("title", "Radiology reading"),
        kind=kind,
        items_per_attempt=6 if free_text else 5,
        time_limit_minutes=30,
        max_attempts=2,
        cooldown_hours=1,
        show_explanations=show_explanations,
        pass_threshold="0.5",
        pass_rule="raw_ratio",
        **fields,
    )
    add = services.item_add
    add(
        actor=actor,
        test=test,
        type="single_choice",
        prompt="Pick one",
        options=OPTIONS,
        key=2,
        section="Basics",
        explanation=EXPLANATION,
    )
    add(
        actor=actor,
        test=test,
        type="multiple_choice",
        prompt="Pick many",
        options=OPTIONS,
        key=[0, 2],
        section="Basics",
    )
    add(
        actor=actor,
        test=test,
        type="ab_preference",
        prompt="Which response?",
        options=["Side one", "Side two"],
        key="B",
        allow_tie=True,
        ask_strength=True,
        section="Judgment",
    )
    add(actor=actor, test=test, type="likert", prompt="Rate it", likert_points=7, key=6, section="Judgment")
    add(
        actor=actor,
        test=test,
        type="numeric",
        prompt="How much?",
        key=NUMERIC_KEY,
        numeric_tolerance="0.001",
        section="Numbers",
    )
    if free_text:
        add(
            actor=actor,
            test=test,
            type="free_text",
            prompt="Explain the finding",
            rubric=[{"criterion": "Names the finding", "points": 2}, {"criterion": "Cites evidence", "points": 3}],
            section="Writing",
        )
    services.test_publish(actor=actor, test=test)
    test.refresh_from_db()
    return test  # fmt: skip


@pytest.fixture
def published(lab, lab_admin):
    return make_test(lab_admin, lab)


@pytest.fixture
def explained(lab, lab_admin):
    return make_test(lab_admin, lab, show_explanations=True, title="Explained test")


@pytest.fixture
def with_free_text(lab, lab_admin):
    return make_test(lab_admin, lab, free_text=True, title="Writing test")


def start(client, test) -> Attempt:
    response = client.post(reverse("assessments:attempt_start", args=[test.public_id]))
    assert response.status_code == 302, response
    return Attempt.objects.filter(test=test).latest("created_at")


def answer_url(attempt) -> str:
    return reverse("assessments:attempt_answer", args=[attempt.public_id])


def autosave(client, attempt, item_id, item_type, **fields):
    data = {"item": item_id, "type": item_type, **fields}
    return client.post(answer_url(attempt), data, HTTP_X_AUTOSAVE="1")


def answer_everything(client, attempt):
    """Answers every served item in shown terms; the numeric answer is not the key."""
    from apps.assessments.selectors import attempt_taker_view

    for row in attempt_taker_view(attempt):
        kind = row["type"]
        fields = {
            "single_choice": {"option": "0"},
            "multiple_choice": {"options": ["0", "1"]},
            "ab_preference": {"choice": "first", "strength": "2"},
            "likert": {"value": "3"},
            "numeric": {"value": "12.5"},
            "free_text": {"text": "The film shows a fracture of the left radius."},
        }[kind]
        response = autosave(client, attempt, row["item"], kind, **fields)
        assert response.status_code == 200, response.content
        assert response.json() == {"saved": True}


def published_test(test) -> Test:
    return Test.objects.get(pk=test.pk)
