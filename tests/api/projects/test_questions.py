"""Clarifying questions through the API: bidders ask, the lab answers publicly (every bidder sees it,
never who asked) or privately (only the asker), and the lab alone sees the asker organisation."""

import json

import pytest

from apps.bidding.models import Question
from apps.core.models import AuditEvent

from .conftest import close


def questions_url(project):
    return f"/api/v1/projects/{project.public_id}/questions/"


def answer_url(question_id):
    return f"/api/v1/questions/{question_id}/answer/"


@pytest.fixture
def asked(vendor_manager, api_as, project):
    response = api_as(vendor_manager).post(questions_url(project), {"text": "May annotators use a PACS viewer?"})
    assert response.status_code == 201, response.content
    return response.json()


def test_a_bidder_asks_and_sees_its_own_question(vendor, vendor_manager, asked, api_as, project):
    assert asked["status"] == "open" and asked["mine"] is True and asked["answer"] == ""
    assert "asker_organization" not in asked
    question = Question.objects.get(public_id=asked["id"])
    assert (question.asker_organization, question.asked_by) == (vendor, vendor_manager)
    assert [q["id"] for q in api_as(vendor_manager).get(questions_url(project)).json()["results"]] == [asked["id"]]


def test_the_lab_sees_the_asker_organisation_but_not_the_person(
    vendor, vendor_manager, lab_member, asked, api_as, project
):
    response = api_as(lab_member).get(questions_url(project))

    row = response.json()["results"][0]
    assert row["asker_organization"] == {"id": str(vendor.public_id), "kind": "vendor", "name": vendor.name}
    assert "mine" not in row
    assert vendor_manager.email not in response.content.decode()
    assert str(vendor_manager.public_id) not in response.content.decode()


def test_an_unanswered_or_private_question_is_hidden_from_other_bidders(
    rival_manager, lab_admin, asked, api_as, project
):
    rival = api_as(rival_manager)
    assert rival.get(questions_url(project)).json()["results"] == []

    api_as(lab_admin).post(answer_url(asked["id"]), {"answer": "Yes, yours only.", "visibility": "private"})

    assert rival.get(questions_url(project)).json()["results"] == []


def test_a_public_answer_reaches_every_bidder_without_the_askers_identity(
    vendor, vendor_manager, rival_manager, lab_admin, asked, api_as, project
):
    answered = api_as(lab_admin).post(answer_url(asked["id"]), {"answer": "Yes, any viewer.", "visibility": "public"})
    assert answered.status_code == 200, answered.content
    assert answered.json()["asker_organization"]["id"] == str(vendor.public_id)

    response = api_as(rival_manager).get(questions_url(project))

    row = response.json()["results"][0]
    assert (row["text"], row["answer"], row["visibility"], row["mine"]) == (
        "May annotators use a PACS viewer?",
        "Yes, any viewer.",
        "public",
        False,
    )
    assert "asker_organization" not in row
    text = json.dumps(response.json())
    for identity in (vendor.name, str(vendor.public_id), vendor_manager.email, str(vendor_manager.public_id)):
        assert identity not in text


def test_answering_again_differently_is_a_conflict_and_changes_nothing(lab_admin, asked, api_as):
    client = api_as(lab_admin)
    client.post(answer_url(asked["id"]), {"answer": "First", "visibility": "public"})

    same = client.post(answer_url(asked["id"]), {"answer": "First", "visibility": "public"})
    again = client.post(answer_url(asked["id"]), {"answer": "Second", "visibility": "private"})

    assert same.status_code == 200
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "question_already_answered"
    question = Question.objects.get(public_id=asked["id"])
    assert (question.answer, question.visibility) == ("First", "public")
    assert AuditEvent.objects.filter(action="question.answered").count() == 1


def test_bad_answers_are_named(lab_admin, asked, api_as):
    response = api_as(lab_admin).post(answer_url(asked["id"]), {"answer": "", "visibility": "shouted"})

    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == {"answer", "visibility"}
    assert Question.objects.get(public_id=asked["id"]).status == Question.Status.OPEN


def test_only_the_lab_managers_answer(vendor_manager, rival_manager, lab_member, outsider, asked, api_as):
    body = {"answer": "x", "visibility": "public"}

    assert api_as(lab_member).post(answer_url(asked["id"]), body).status_code == 403
    assert api_as(vendor_manager).post(answer_url(asked["id"]), body).status_code == 403
    assert api_as(rival_manager).post(answer_url(asked["id"]), body).status_code == 403
    assert api_as(outsider).post(answer_url(asked["id"]), body).status_code == 404
    assert Question.objects.get(public_id=asked["id"]).status == Question.Status.OPEN


def test_questions_close_with_bidding(vendor_manager, lab_admin, api_as, project):
    close(project, lab_admin)

    response = api_as(vendor_manager).post(questions_url(project), {"text": "Too late?"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "project_not_open"
    assert not Question.objects.exists()


def test_empty_questions_are_named(vendor_manager, api_as, project):
    response = api_as(vendor_manager).post(questions_url(project), {"text": "   "})

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["text"]


def test_a_lab_and_a_vendor_expert_do_not_ask(lab_admin, expert, api_as, project):
    assert api_as(lab_admin).post(questions_url(project), {"text": "Hm?"}).status_code == 403
    assert api_as(expert).post(questions_url(project), {"text": "Hm?"}).status_code == 403
    assert not Question.objects.exists()


@pytest.mark.parametrize("who", ["rival_manager", "independent"])
def test_the_uninvited_can_neither_read_nor_ask(who, request, vendor, vendor_manager, api_as, make_project):
    project = make_project(invited=[vendor])
    api_as(vendor_manager).post(questions_url(project), {"text": "Invited question"})
    client = api_as(request.getfixturevalue(who))

    assert client.get(questions_url(project)).status_code == 404
    assert client.post(questions_url(project), {"text": "Let me in"}).status_code == 404
    assert Question.objects.count() == 1
