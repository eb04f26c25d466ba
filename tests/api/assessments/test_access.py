"""Who reaches what: keys for the owning lab's authors only, drafts editable only while drafts,
imports all-or-nothing, a project's qualification test, calibration rounds, revocation."""

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.assessments.models import Item, ProjectTestRequirement, Qualification
from tests.factories import ProjectFactory

from .conftest import NUMERIC_KEY, assert_no_key, url_for


def test_items_with_keys_reach_the_owning_labs_authors_only(make_test, api_as, lab_member, expert, outsider):
    test_id = make_test()
    assert api_as(lab_member).get(url_for(test_id, "items/")).status_code == 403
    for user in (expert, outsider):
        response = api_as(user).get(url_for(test_id, "items/"))
        assert response.status_code == 404, user
        assert_no_key(response)
        added = api_as(user).post(url_for(test_id, "items/"), {"type": "likert", "prompt": "x"}, format="json")
        assert added.status_code == 404
    # an expert may not author
    refused = api_as(expert).post(url_for(), {"title": "Mine"}, format="json")
    assert refused.status_code in (403, 404)


def test_a_draft_is_hidden_from_experts_and_editable_until_published(make_test, author_client, api_as, expert):
    test_id = make_test(publish=False)
    assert api_as(expert).get(url_for(test_id)).status_code == 404
    assert api_as(expert).get(url_for()).json()["results"] == []
    authored = author_client.get(url_for() + "?scope=authored").json()["results"]
    assert [t["id"] for t in authored] == [test_id]

    patched = author_client.patch(url_for(test_id), {"title": "Radiology II", "max_attempts": 2}, format="json")
    assert patched.status_code == 200, patched.content
    assert (patched.json()["title"], patched.json()["max_attempts"]) == ("Radiology II", 2)
    assert author_client.patch(url_for(test_id), {"bogus": 1}, format="json").status_code == 400

    assert author_client.post(url_for(test_id, "publish/")).status_code == 200
    frozen = author_client.patch(url_for(test_id), {"title": "Changed"}, format="json")
    assert frozen.status_code == 409 and frozen.json()["error"]["code"] == "test_not_draft"

    nxt = author_client.post(url_for(test_id, "new-version/"))
    assert nxt.status_code == 201, nxt.content
    assert (nxt.json()["version"], nxt.json()["status"]) == (2, "draft")
    keys = [r["answer_key"] for r in author_client.get(url_for(nxt.json()["id"], "items/")).json()["results"]]
    assert NUMERIC_KEY in keys


def test_publishing_an_incomplete_test_is_refused(author_client):
    created = author_client.post(url_for(), {"title": "Empty", "items_per_attempt": 3}, format="json").json()
    refused = author_client.post(url_for(created["id"], "publish/"))
    assert refused.status_code == 400 and "items" in refused.json()["error"]["details"]


def test_items_import_from_a_file_is_all_or_nothing(make_test, author_client):
    test_id = make_test(publish=False)
    good = "\n".join(
        [
            '{"type": "likert", "prompt": "Rate it.", "likert_points": 5, "key": 3}',
            '{"type": "single_choice", "prompt": "Pick.", "options": ["a", "b"], "key": 0}',
        ]
    )
    upload = SimpleUploadedFile("items.jsonl", good.encode(), content_type="application/jsonl")
    imported = author_client.post(url_for(test_id, "items/"), {"file": upload}, format="multipart")
    assert imported.status_code == 201, imported.content
    assert imported.json() == {"imported": 2}
    assert Item.objects.filter(test__public_id=test_id).count() == 8

    bad = '{"type": "likert", "prompt": "Rate it.", "likert_points": 5, "key": 3}\nnot json\n'
    upload = SimpleUploadedFile("items.jsonl", bad.encode(), content_type="application/jsonl")
    refused = author_client.post(url_for(test_id, "items/"), {"file": upload}, format="multipart")
    assert refused.status_code == 400, refused.content
    assert Item.objects.filter(test__public_id=test_id).count() == 8


def test_a_project_requires_a_published_qualification_test(make_test, author_client, lab, api_as, expert):
    test_id = make_test()
    project = ProjectFactory(lab=lab, published=True)
    url = f"/api/v1/projects/{project.public_id}/qualification-test/"
    response = author_client.put(url, {"test": test_id}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["test"]["id"] == test_id
    assert ProjectTestRequirement.objects.get(project=project).test.public_id.hex == test_id.replace("-", "")
    draft = make_test(publish=False, title="Draft")
    assert author_client.put(url, {"test": draft}, format="json").status_code == 400
    assert api_as(expert).put(url, {"test": test_id}, format="json").status_code in (403, 404)


def test_calibration_rounds_are_created_listed_and_reported(make_test, author_client, vendor, api_as, expert):
    test_id = make_test(kind="calibration")
    body = {
        "test": test_id,
        "title": "Round 1",
        "deadline": (timezone.now() + timedelta(days=7)).isoformat(),
        "suppliers": [str(vendor.public_id)],
    }
    created = author_client.post("/api/v1/calibration-rounds/", body, format="json")
    assert created.status_code == 201, created.content
    round_id = created.json()["id"]
    assert created.json()["suppliers"] == [str(vendor.public_id)]
    assert [r["id"] for r in author_client.get("/api/v1/calibration-rounds/").json()["results"]] == [round_id]

    report = author_client.get(f"/api/v1/calibration-rounds/{round_id}/report/")
    assert report.status_code == 200, report.content
    assert report.json()["round"]["id"] == round_id
    assert {"experts", "suppliers", "alpha", "fleiss", "cohen_pairs", "disagreements", "chart"} <= set(report.json())

    # a calibration test is not open outside a round
    assert api_as(expert).post(url_for(test_id, "attempts/")).status_code == 404
    assert api_as(expert).get(f"/api/v1/calibration-rounds/{round_id}/report/").status_code == 404


def test_operations_revoke_a_qualification(make_test, api_as, expert, operations, author_client):
    from apps.assessments import services
    from apps.assessments.models import Test

    test = Test.objects.get(public_id=make_test())
    attempt = services.attempt_start(actor=expert, test=test)
    services.attempt_submit(actor=expert, attempt=attempt)
    qualification = (
        Qualification.objects.create(
            expert=expert,
            test=test,
            family=test.family,
            attempt=attempt,
            score="0.9000",
            granted_at=timezone.now(),
            expires_at=timezone.now() + timedelta(days=30),
        )
        if not Qualification.objects.filter(attempt=attempt).exists()
        else Qualification.objects.get(attempt=attempt)
    )
    url = f"/api/v1/qualifications/{qualification.public_id}/revoke/"
    assert api_as(expert).post(url, {"reason": "mine"}, format="json").status_code in (403, 404)
    revoked = api_as(operations).post(url, {"reason": "Shared answers."}, format="json")
    assert revoked.status_code == 200, revoked.content
    assert (revoked.json()["status"], revoked.json()["status_reason"]) == ("revoked", "Shared answers.")
    mine = api_as(expert).get("/api/v1/qualifications/")
    assert mine.json()["results"][0]["status"] == "revoked"
    assert_no_key(mine)


def test_an_author_retires_a_published_test(make_test, author_client, api_as, lab_member, expert):
    draft = make_test(publish=False)
    assert author_client.post(url_for(draft, "retire/")).status_code == 409
    test_id = make_test()
    assert api_as(lab_member).post(url_for(test_id, "retire/")).status_code == 403
    assert api_as(expert).post(url_for(test_id, "retire/")).status_code == 404
    retired = author_client.post(url_for(test_id, "retire/"))
    assert retired.status_code == 200, retired.content
    assert retired.json()["status"] == "retired"
    assert author_client.post(url_for(test_id, "retire/")).status_code == 200  # idempotent
    assert api_as(expert).post(url_for(test_id, "attempts/")).status_code in (404, 409)


def test_the_lab_closes_a_calibration_round(make_test, author_client, vendor, vendor_manager, api_as, lab_member):
    test_id = make_test(kind="calibration")
    body = {
        "test": test_id,
        "title": "Round 1",
        "deadline": (timezone.now() + timedelta(days=7)).isoformat(),
        "suppliers": [str(vendor.public_id)],
    }
    round_id = author_client.post("/api/v1/calibration-rounds/", body, format="json").json()["id"]
    url = f"/api/v1/calibration-rounds/{round_id}/close/"
    assert api_as(vendor_manager).post(url).status_code == 404  # an invited supplier may not close it
    assert api_as(lab_member).post(url).status_code == 403
    closed = author_client.post(url)
    assert closed.status_code == 200, closed.content
    assert closed.json()["status"] == "closed"
    assert author_client.post(url).status_code == 200  # closing again changes nothing
