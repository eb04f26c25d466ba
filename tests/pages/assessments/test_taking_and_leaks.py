"""The expert's pages: open tests, the taking page (shown options, autosave, clock, progress), the
result, and the leak checks: no answer key value and no correctness marker on any page an expert
sees, before or after submission."""

import re

import pytest
from django.urls import reverse

from apps.assessments.models import Attempt, AttemptItem
from tests.pages.assessments.conftest import (
    EXPLANATION,
    NUMERIC_KEY,
    OPTIONS,
    answer_everything,
    autosave,
    start,
)
from tests.pages.conftest import text

pytestmark = pytest.mark.django_db

# A class, id or data attribute naming correctness or a key, e.g. class="is-correct", data-key="2".
MARKER = re.compile(r'(class|id|data-[\w-]+)="[^"]*\b(is-)?(correct|incorrect|key|wrong|answer-key)\b[^"]*"', re.I)
KEYISH_ATTRIBUTE = re.compile(r"\sdata-[\w-]*(correct|key|solution)[\w-]*[=\s>]", re.I)


def assert_no_leak(page: str) -> None:
    assert NUMERIC_KEY not in page and "98765" not in page
    assert "correct" not in page.lower()
    assert MARKER.search(page) is None, MARKER.search(page)
    assert KEYISH_ATTRIBUTE.search(page) is None, KEYISH_ATTRIBUTE.search(page)
    assert "data-key" not in page and "answer_key" not in page and "answer-key" not in page


def expert_pages(client, attempt) -> list[str]:
    urls = [
        reverse("assessments:open_tests"),
        reverse("assessments:qualifications"),
        reverse("home"),
        reverse("assessments:attempt", args=[attempt.public_id]),
    ]
    pages = []
    for url in urls:
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        pages.append(text(response))
    return pages


def test_open_tests_lists_the_test_with_attempts_left(as_user, expert, published):
    page = text(as_user(expert).get(reverse("assessments:open_tests")))
    row = page[page.index(f'id="test-{published.public_id}"') :]
    assert "Radiology reading" in row and "2 of 2" in row and "Start" in row


def test_the_taking_page_shows_each_item_with_its_shown_options_and_no_key(as_user, expert, published):
    client = as_user(expert)
    attempt = start(client, published)
    response = client.get(reverse("assessments:attempt", args=[attempt.public_id]))
    assert response.status_code == 200
    page = text(response)
    assert page.count('class="card take-item"') == 5
    assert f'data-deadline="{attempt.deadline_at.isoformat()}"' in page or "data-deadline=" in page
    assert "data-answered-count>0</span> of 5 answered" in page and "<progress" in page
    for option in OPTIONS:
        assert option in page
    assert "Side one" in page and "Side two" in page
    assert "checked" not in page  # nothing pre-selected: no option stands out
    served = AttemptItem.objects.filter(attempt=attempt, item__type="single_choice").get()
    shown = [OPTIONS[i] for i in served.option_order]
    card = page[page.index(f'id="item-{served.item.public_id}"') :]
    card = card[: card.index("</section>")]
    positions = [card.index(o) for o in shown]
    assert positions == sorted(positions)  # the shown (shuffled) order
    assert "style=" not in page and "<script>" not in page
    assert_no_leak(page)


def test_autosave_stores_the_answer_in_original_terms(as_user, expert, published):
    client = as_user(expert)
    attempt = start(client, published)
    served = AttemptItem.objects.select_related("item").get(attempt=attempt, item__type="single_choice")
    response = autosave(client, attempt, str(served.item.public_id), "single_choice", option="1")
    assert response.status_code == 200 and response.json() == {"saved": True}
    served.refresh_from_db()
    assert served.answer == {"option": served.option_order[1]}

    bad = autosave(client, attempt, str(served.item.public_id), "single_choice", option="9")
    assert bad.status_code == 400 and bad.json()["saved"] is False

    page = text(client.get(reverse("assessments:attempt", args=[attempt.public_id])))
    assert "data-answered-count>1</span> of 5 answered" in page and page.count(" checked") == 1


def test_without_script_the_save_button_posts_and_comes_back(as_user, expert, published):
    client = as_user(expert)
    attempt = start(client, published)
    served = AttemptItem.objects.select_related("item").get(attempt=attempt, item__type="numeric")
    item_id = str(served.item.public_id)
    response = client.post(
        reverse("assessments:attempt_answer", args=[attempt.public_id]),
        {"item": item_id, "type": "numeric", "value": "3.5"},
    )
    assert response.status_code == 302 and response["Location"].endswith(f"#item-{item_id}")
    served.refresh_from_db()
    assert served.answer == {"value": "3.5"}


def test_no_page_of_the_expert_leaks_a_key_before_or_after_submission(as_user, expert, published):
    client = as_user(expert)
    attempt = start(client, published)
    for page in expert_pages(client, attempt):
        assert_no_leak(page)
    answer_everything(client, attempt)
    for page in expert_pages(client, attempt):
        assert_no_leak(page)

    response = client.post(reverse("assessments:attempt_submit", args=[attempt.public_id]))
    assert response.status_code == 302
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.GRADED
    result = text(client.get(response["Location"]))
    assert 'id="result-summary"' in result and 'id="wilson-lower"' in result and 'id="breakdown"' in result
    assert EXPLANATION not in result  # the test does not show explanations
    assert_no_leak(result)
    for page in expert_pages(client, attempt):
        assert_no_leak(page)


def test_the_result_shows_score_bound_sections_and_allowed_explanations(as_user, expert, explained):
    client = as_user(expert)
    attempt = start(client, explained)
    answer_everything(client, attempt)
    client.post(reverse("assessments:attempt_submit", args=[attempt.public_id]))
    attempt.refresh_from_db()
    response = client.get(reverse("assessments:attempt_result", args=[attempt.public_id]))
    page = text(response)
    assert f"{attempt.score * 100:.1f}%" in page
    assert f"{attempt.wilson_lower * 100:.1f}%" in page
    assert "Basics" in page and "Judgment" in page and "Numbers" in page
    assert EXPLANATION in page
    assert_no_leak(page)
    # The taking URL of a submitted attempt goes to its result.
    assert client.get(reverse("assessments:attempt", args=[attempt.public_id]))["Location"].endswith("/result/")


def test_a_cooldown_shows_instead_of_start(as_user, expert, published):
    client = as_user(expert)
    attempt = start(client, published)
    client.post(reverse("assessments:attempt_submit", args=[attempt.public_id]))
    page = text(client.get(reverse("assessments:open_tests")))
    row = page[page.index(f'id="test-{published.public_id}"') :]
    assert "1 of 2" in row and "Cooldown: retry after" in row
    again = client.post(reverse("assessments:attempt_start", args=[published.public_id]), follow=True)
    assert Attempt.objects.filter(test=published).count() == 1 and "alert--error" in text(again)


def test_another_person_finds_no_attempt(as_user, expert, independent_expert, published):
    attempt = start(as_user(expert), published)
    client = as_user(independent_expert)
    assert client.get(reverse("assessments:attempt", args=[attempt.public_id])).status_code == 404
    assert client.get(reverse("assessments:attempt_result", args=[attempt.public_id])).status_code == 404
    assert autosave(client, attempt, "x", "numeric", value="1").status_code == 404


def test_the_expert_dashboard_and_nav_show_tests(as_user, expert, published):
    page = text(as_user(expert).get(reverse("home")))
    assert 'id="expert-tests"' in page and "1 test open to you" in page
    assert f'href="{reverse("assessments:open_tests")}"' in page
    assert "Test authoring" not in page
