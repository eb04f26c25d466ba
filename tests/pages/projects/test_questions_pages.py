"""Clarifying questions: asked on the marketplace page, answered on the lab's, public or private."""

import pytest
from django.urls import reverse

from apps.bidding.models import Question
from tests.pages.conftest import text
from tests.pages.projects.conftest import main_html

pytestmark = pytest.mark.django_db


def ask(client, project, question):
    return client.post(reverse("bidding:question_ask", args=[project.public_id]), {"text": question})


def answer(client, project, question, reply, visibility):
    url = reverse("bidding:question_answer", args=[project.public_id, question.public_id])
    return client.post(url, {"answer": reply, "visibility": visibility})


def test_a_public_answer_is_visible_to_another_bidder_without_the_askers_name(
    as_user, vendor, vendor_manager, lab_owner, rival, make_project
):
    project = make_project()
    assert ask(as_user(vendor_manager), project, "Are ties allowed?").status_code == 302
    question = Question.objects.get()

    lab_page = text(as_user(lab_owner).get(reverse("bidding:project_detail", args=[project.public_id])))
    assert "Are ties allowed?" in lab_page and vendor.name in lab_page  # the lab sees who asked
    assert answer(as_user(lab_owner), project, question, "Yes, mark them as ties.", "public").status_code == 302

    page = main_html(
        text(as_user(rival["manager"]).get(reverse("bidding:marketplace_detail", args=[project.public_id])))
    )
    assert "Are ties allowed?" in page
    assert "Yes, mark them as ties." in page
    assert vendor.name not in page
    assert vendor_manager.email not in page


def test_a_private_answer_is_seen_only_by_the_asker(as_user, vendor_manager, lab_owner, rival, make_project):
    project = make_project()
    ask(as_user(vendor_manager), project, "Can we use our own tooling?")
    answer(as_user(lab_owner), project, Question.objects.get(), "Only for your team.", "private")
    url = reverse("bidding:marketplace_detail", args=[project.public_id])

    assert "Only for your team." in text(as_user(vendor_manager).get(url))
    other = text(as_user(rival["manager"]).get(url))
    assert "Can we use our own tooling?" not in other and "Only for your team." not in other


def test_an_empty_question_or_answer_is_refused_naming_the_field(as_user, vendor_manager, lab_owner, make_project):
    project = make_project()

    response = ask(as_user(vendor_manager), project, "")
    assert response.status_code == 400
    assert not Question.objects.exists()

    ask(as_user(vendor_manager), project, "Real question?")
    question = Question.objects.get()
    response = answer(as_user(lab_owner), project, question, "", "public")
    assert response.status_code == 400
    page = text(response)
    assert f'id="question-{question.public_id}"' in page and "field__error" in page
    question.refresh_from_db()
    assert question.status == Question.Status.OPEN
