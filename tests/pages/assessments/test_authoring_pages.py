"""Authoring: a lab's owners and admins create a test, add items of every type with their keys (the
only pages that show keys), import JSONL/CSV with every bad row listed, publish and make a new
version. Experts find no authoring page; a lab member is refused."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.assessments.models import AnswerKey, Item, Test
from tests.pages.assessments.conftest import NUMERIC_KEY
from tests.pages.conftest import text

pytestmark = pytest.mark.django_db

SETTINGS = {
    "title": "Cardiology triage",
    "kind": "qualification",
    "instructions": "Read each case.",
    "time_limit_minutes": "20",
    "items_per_attempt": "2",
    "max_attempts": "3",
    "cooldown_hours": "24",
    "pass_rule": "wilson_lower",
    "pass_threshold": "0.7",
    "graders_per_free_text": "1",
    "qualification_valid_days": "365",
}


def detail(test) -> str:
    return reverse("assessments:test_detail", args=[test.public_id])


@pytest.fixture
def draft(as_user, lab_admin):
    response = as_user(lab_admin).post(reverse("assessments:test_create"), SETTINGS)
    assert response.status_code == 302
    return Test.objects.get(title="Cardiology triage")


def test_create_needs_a_title_and_names_the_field(as_user, lab_admin):
    response = as_user(lab_admin).post(reverse("assessments:test_create"), {**SETTINGS, "title": ""})
    assert response.status_code == 400
    assert 'id="field-title"' in text(response) and "field--error" in text(response)


def test_items_of_every_type_are_added_with_their_keys(as_user, lab_admin, draft):
    client = as_user(lab_admin)
    url = reverse("assessments:item_add", args=[draft.public_id])
    posts = [
        {"type": "single_choice", "prompt": "Q1", "options": "a\nb\nc", "key": "3"},
        {"type": "multiple_choice", "prompt": "Q2", "options": "a\nb\nc", "key": "1, 3"},
        {"type": "ab_preference", "prompt": "Q3", "options": "left\nright", "key": "tie", "allow_tie": "on"},
        {"type": "likert", "prompt": "Q4", "likert_points": "5", "key": "4"},
        {"type": "numeric", "prompt": "Q5", "key": NUMERIC_KEY, "numeric_tolerance": "0.5"},
        {"type": "free_text", "prompt": "Q6", "rubric": "Clear | 2\nRight diagnosis | 3"},
    ]
    for data in posts:
        response = client.post(url, data)
        assert response.status_code == 302, text(response)
    keys = dict(AnswerKey.objects.filter(item__test=draft).values_list("item__prompt", "value"))
    assert keys == {"Q1": 2, "Q2": [0, 2], "Q3": "tie", "Q4": 4, "Q5": NUMERIC_KEY}
    page = text(client.get(detail(draft)))
    assert "6 items in the pool" in page and NUMERIC_KEY in page  # the author sees keys
    assert "Right diagnosis (3)" in page


def test_a_bad_item_names_its_field(as_user, lab_admin, draft):
    response = as_user(lab_admin).post(
        reverse("assessments:item_add", args=[draft.public_id]),
        {"type": "single_choice", "prompt": "Q1", "options": "a\nb", "key": "5"},
    )
    assert response.status_code == 400
    assert 'field--error" id="field-key"' in text(response)
    assert not Item.objects.filter(test=draft).exists()


def test_import_lists_every_bad_row_and_stores_nothing_then_imports(as_user, lab_admin, draft):
    client = as_user(lab_admin)
    url = reverse("assessments:items_import", args=[draft.public_id])
    bad = (
        b'{"type": "single_choice", "prompt": "ok", "options": ["a", "b"], "key": 0}\n'
        b'{"type": "numeric", "prompt": "no key"}\n'
        b"not json\n"
    )
    response = client.post(url, {"upload": SimpleUploadedFile("items.jsonl", bad), "fmt": "auto"})
    assert response.status_code == 400
    errors = text(response)[text(response).index('id="row-errors"') :]
    assert '<td class="num mono">2</td>' in errors and '<td class="num mono">3</td>' in errors
    assert not Item.objects.filter(test=draft).exists()

    csv = b"type,prompt,options,key\nsingle_choice,Capital?,Paris|Rome,1\nnumeric,Pi?,,3.14\n"
    response = client.post(url, {"upload": SimpleUploadedFile("items.csv", csv), "fmt": "auto"})
    assert response.status_code == 302
    assert Item.objects.filter(test=draft).count() == 2


def test_publish_then_new_version(as_user, lab_admin, draft):
    client = as_user(lab_admin)
    client.post(
        reverse("assessments:item_add", args=[draft.public_id]),
        {"type": "numeric", "prompt": "Q", "key": "1"},
    )
    client.post(reverse("assessments:test_edit", args=[draft.public_id]), {**SETTINGS, "items_per_attempt": "1"})
    response = client.post(reverse("assessments:test_publish", args=[draft.public_id]))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == "published"
    page = text(client.get(detail(draft)))
    assert 'id="new-version-form"' in page and 'id="item-form"' not in page
    response = client.post(reverse("assessments:test_new_version", args=[draft.public_id]))
    new = Test.objects.get(family=draft.family, version=2)
    assert response["Location"] == detail(new) and new.status == "draft"
    listing = text(client.get(reverse("assessments:authoring")))
    assert listing.count("Cardiology triage") == 2


def test_publishing_an_empty_test_is_refused_with_a_message(as_user, lab_admin, draft):
    response = as_user(lab_admin).post(reverse("assessments:test_publish", args=[draft.public_id]), follow=True)
    assert "alert--error" in text(response)
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_experts_find_no_authoring_page_and_lab_members_are_refused(
    as_user, expert, independent_expert, lab_member, published
):
    urls = [
        reverse("assessments:authoring"),
        reverse("assessments:test_create"),
        detail(published),
        reverse("assessments:test_edit", args=[published.public_id]),
        reverse("assessments:calibration"),
    ]
    for user in (expert, independent_expert):
        client = as_user(user)
        for url in urls:
            if url == reverse("assessments:calibration") and user == independent_expert:
                continue  # a supplier's owner sees the rounds it is invited to (read-only)
            assert client.get(url).status_code == 404, url
        assert client.post(reverse("assessments:test_new_version", args=[published.public_id])).status_code == 404
    client = as_user(lab_member)
    for url in urls:
        assert client.get(url).status_code == 403, url


def test_nav_shows_authoring_to_lab_admins(as_user, lab_admin):
    page = text(as_user(lab_admin).get(reverse("home")))
    for label in ("Test authoring", "Calibration", "Grading"):
        assert f">{label}</a>" in page
