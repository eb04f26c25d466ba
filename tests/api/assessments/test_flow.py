"""A qualification test from authoring to a qualification, through the API, with every body the
expert receives checked for answer keys."""

from apps.assessments.models import AnswerKey, AttemptItem, Item

from .conftest import NUMERIC_KEY, assert_no_key, url_for


def _answers(attempt_id, rows):
    """One answer per served item, in shown terms; the single choice correct, the numeric wrong."""
    answers = {}
    for row in rows:
        served = AttemptItem.objects.select_related("item").get(
            attempt__public_id=attempt_id, item__public_id=row["item"]
        )
        kind = row["type"]
        if kind == "single_choice":
            key = AnswerKey.objects.get(item=served.item).value
            answers[row["item"]] = {"option": served.option_order.index(key)}
        elif kind == "multiple_choice":
            answers[row["item"]] = {"options": [0]}
        elif kind == "ab_preference":
            answers[row["item"]] = {"choice": "first"}
        elif kind == "likert":
            answers[row["item"]] = {"value": 2}
        elif kind == "numeric":
            answers[row["item"]] = {"value": "12.5"}
        else:
            answers[row["item"]] = {"text": "Pneumonia, from the consolidation."}
    return answers


def test_author_to_qualification_without_a_key_reaching_the_expert(make_test, author_client, api_as, expert):
    test_id = make_test()
    taker = api_as(expert)

    # the author sees the pool with keys
    pool = author_client.get(url_for(test_id, "items/"))
    assert pool.status_code == 200
    assert [r["answer_key"] for r in pool.json()["results"]][:5] == [1, [0, 2], "B", 4, NUMERIC_KEY]

    # the expert: open tests, the test, never the items
    listed = taker.get(url_for())
    assert listed.status_code == 200 and [t["id"] for t in listed.json()["results"]] == [test_id]
    assert_no_key(listed)
    detail = taker.get(url_for(test_id))
    assert detail.status_code == 200 and detail.json()["status"] == "published"
    assert_no_key(detail)
    hidden = taker.get(url_for(test_id, "items/"))
    assert hidden.status_code == 404
    assert_no_key(hidden)

    started = taker.post(url_for(test_id, "attempts/"))
    assert started.status_code == 201, started.content
    assert_no_key(started)
    attempt = started.json()
    assert attempt["status"] == "in_progress" and len(attempt["items"]) == 6
    url = f"/api/v1/attempts/{attempt['id']}/"

    # a second start while one is in progress
    again = taker.post(url_for(test_id, "attempts/"))
    assert again.status_code == 409 and again.json()["error"]["code"] == "attempt_in_progress"
    assert_no_key(again)

    # bad answers are refused without revealing anything
    numeric = next(r for r in attempt["items"] if r["type"] == "numeric")["item"]
    for bad in ({"value": "not a number"}, {"option": 7}, "x"):
        refused = taker.post(f"{url}answers/", {"item": numeric, "answer": bad}, format="json")
        assert refused.status_code == 400, refused.content
        assert_no_key(refused)
    unknown = taker.post(f"{url}answers/", {"item": test_id, "answer": {"value": 1}}, format="json")
    assert unknown.status_code == 404
    assert_no_key(unknown)

    for item, answer in _answers(attempt["id"], attempt["items"]).items():
        saved = taker.post(f"{url}answers/", {"item": item, "answer": answer}, format="json")
        assert saved.status_code == 200, saved.content
        assert_no_key(saved)
        row = next(r for r in saved.json()["items"] if r["item"] == item)
        assert row["answer"] == answer

    shown = taker.get(url)
    assert shown.status_code == 200
    assert_no_key(shown)

    submitted = taker.post(f"{url}submit/")
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["status"] == "grading"
    assert_no_key(submitted)
    twice = taker.post(f"{url}submit/")
    assert twice.status_code == 409
    assert_no_key(twice)

    # the grader's queue is blind
    queue = author_client.get("/api/v1/grading/")
    assert queue.status_code == 200
    (task,) = queue.json()["results"]
    assert task["answer_text"] == "Pneumonia, from the consolidation."
    assert not {"expert", "attempt", "expert_handle", "email"} & set(task)
    assert expert.email not in queue.content.decode()
    bad_score = author_client.post(f"/api/v1/grading/{task['id']}/score/", {"criterion_points": [5, 5]}, format="json")
    assert bad_score.status_code == 400
    scored = author_client.post(f"/api/v1/grading/{task['id']}/score/", {"criterion_points": [2, 1]}, format="json")
    assert scored.status_code == 200, scored.content
    assert scored.json()["status"] == "scored"
    assert taker.get("/api/v1/grading/").json()["results"] == []

    graded = taker.get(url)
    assert graded.json()["status"] == "graded" and graded.json()["passed"] is True
    assert_no_key(graded)
    mine = taker.get("/api/v1/attempts/")
    assert [a["id"] for a in mine.json()["results"]] == [attempt["id"]]
    assert_no_key(mine)

    qualifications = taker.get("/api/v1/qualifications/")
    assert qualifications.status_code == 200
    (qualification,) = qualifications.json()["results"]
    assert qualification["test"]["id"] == test_id and qualification["status"] == "active"
    assert_no_key(qualifications)
    assert_no_key(taker.get(url_for()))
    assert_no_key(taker.get(url_for(test_id)))
    assert Item.objects.filter(test__public_id=test_id).count() == 6
