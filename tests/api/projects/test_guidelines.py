"""Guideline versions through the API: publishing (sanitised HTML), listing, acknowledging, and the
lab's view of who acknowledged which version (handles, never names or e-mail addresses)."""

import json

import pytest

from apps.core.models import AuditEvent
from apps.projects.models import GuidelineAcknowledgement, GuidelineVersion

from .conftest import roster_expert

HOSTILE = (
    "# Rules\n\n<script>alert('pwned')</script>\n\n"
    '<img src=x onerror="alert(1)"> [click](javascript:alert(2)) <a href="#" onclick="steal()">x</a>\n\n'
    "<style>body{display:none}</style><iframe src='https://evil.test'></iframe>"
)


def guidelines_url(project):
    return f"/api/v1/projects/{project.public_id}/guidelines/"


def ack_url(version_id):
    return f"/api/v1/guidelines/{version_id}/acknowledge/"


def acks_url(project):
    return f"/api/v1/projects/{project.public_id}/acknowledgements/"


def html_fields(payload):
    """Every ``body_html`` value anywhere in a JSON document."""
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key == "body_html":
                yield value
            else:
                yield from html_fields(value)
    elif isinstance(payload, list):
        for item in payload:
            yield from html_fields(item)


def test_the_lab_publishes_versions_and_v2_needs_a_change_summary(lab_admin, api_as, project):
    client = api_as(lab_admin)

    missing = client.post(guidelines_url(project), {"body_markdown": "New rules"})
    assert missing.status_code == 400
    assert list(missing.json()["error"]["details"]) == ["change_summary"]
    assert GuidelineVersion.objects.filter(project=project).count() == 1

    response = client.post(guidelines_url(project), {"body_markdown": "New **rules**", "change_summary": "Ties"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["number"], body["change_summary"]) == (2, "Ties")
    assert body["body_html"] == "<p>New <strong>rules</strong></p>"
    assert AuditEvent.objects.filter(action="guideline.published").count() == 2
    assert client.get(f"/api/v1/projects/{project.public_id}/").json()["current_guideline"]["number"] == 2


def test_script_never_reaches_a_rendered_html_field(lab_admin, vendor_manager, expert, api_as, make_project):
    project = make_project(guidelines=HOSTILE)
    lab_client, vendor_client = api_as(lab_admin), api_as(vendor_manager)
    second = lab_client.post(guidelines_url(project), {"body_markdown": HOSTILE, "change_summary": "Again"})
    assert second.status_code == 201

    responses = [
        second,
        lab_client.get(guidelines_url(project)),
        vendor_client.get(guidelines_url(project)),
        api_as(expert).get(guidelines_url(project)),
    ]
    rendered = [html for r in responses for html in html_fields(r.json())]
    assert len(rendered) == 1 + 2 + 2 + 2
    for html in rendered:
        lowered = html.lower()
        for forbidden in ("<script", "onerror", "onclick", "javascript:", "<style", "<iframe", "<img"):
            assert forbidden not in lowered, (forbidden, html)
    # The Markdown source is kept as written (it is never rendered by a client as HTML).
    assert vendor_client.get(guidelines_url(project)).json()["results"][0]["body_markdown"] == HOSTILE


def test_bad_guideline_input_is_named(lab_admin, api_as, project):
    client = api_as(lab_admin)

    assert list(client.post(guidelines_url(project), {}).json()["error"]["details"]) == ["body_markdown"]
    assert list(client.post(guidelines_url(project), {"body_markdown": "  "}).json()["error"]["details"]) == [
        "body_markdown"
    ]


def test_suppliers_may_not_publish_guidelines(vendor_manager, lab_member, api_as, project):
    for user in (vendor_manager, lab_member):
        response = api_as(user).post(guidelines_url(project), {"body_markdown": "x", "change_summary": "y"})
        assert response.status_code == 403
    assert GuidelineVersion.objects.filter(project=project).count() == 1


def test_guidelines_of_a_cancelled_project_are_final(lab_admin, api_as, project):
    client = api_as(lab_admin)
    client.post(f"/api/v1/projects/{project.public_id}/cancel/", {"reason": "stop"})

    response = client.post(guidelines_url(project), {"body_markdown": "x", "change_summary": "y"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "project_closed"


def test_an_expert_acknowledges_once_and_sees_it(expert, api_as, project):
    client = api_as(expert)
    version = client.get(guidelines_url(project)).json()["results"][0]
    assert version["acknowledged_at"] is None

    first = client.post(ack_url(version["id"]))
    second = client.post(ack_url(version["id"]))

    assert first.status_code == 200, first.content
    assert first.json()["version"]["number"] == 1
    assert second.json() == first.json()
    assert GuidelineAcknowledgement.objects.count() == 1
    assert (
        client.get(guidelines_url(project)).json()["results"][0]["acknowledged_at"] == first.json()["acknowledged_at"]
    )


def test_a_lab_does_not_acknowledge(lab_admin, api_as, project):
    version = project.guideline_versions.get()

    assert api_as(lab_admin).post(ack_url(version.public_id)).status_code == 403
    assert not GuidelineAcknowledgement.objects.exists()


def test_the_lab_sees_handles_and_organisations_never_names_or_emails(vendor, lab_member, api_as, independent, project):
    person = roster_expert(vendor, "secret.person@northwind.test")
    person.full_name = "Dr Hidden Name"
    person.save()
    version = project.guideline_versions.get()
    assert api_as(person).post(ack_url(version.public_id)).status_code == 200
    assert api_as(independent).post(ack_url(version.public_id)).status_code == 200

    response = api_as(lab_member).get(acks_url(project))

    assert response.status_code == 200
    rows = {row["expert_handle"]: row for row in response.json()["results"]}
    assert set(rows) == {person.expert_profile.handle, independent.expert_profile.handle}
    assert rows[person.expert_profile.handle]["organization"] == {
        "id": str(vendor.public_id),
        "kind": "vendor",
        "name": vendor.name,
    }
    # An independent expert's organisation is named after the person: its name is withheld.
    assert rows[independent.expert_profile.handle]["organization"]["name"] is None
    assert rows[independent.expert_profile.handle]["version"]["number"] == 1
    text = json.dumps(response.json())
    for secret in ("Dr Hidden Name", person.email, "Dr Ida Secret", independent.email, str(person.public_id)):
        assert secret not in text


def test_suppliers_cannot_read_acknowledgements(vendor_manager, api_as, project):
    assert api_as(vendor_manager).get(acks_url(project)).status_code == 403


@pytest.mark.parametrize("who", ["rival_manager", "independent"])
def test_the_uninvited_reach_no_guideline_of_an_invited_only_project(who, request, vendor, api_as, make_project):
    project = make_project(invited=[vendor])
    version = project.guideline_versions.get()
    client = api_as(request.getfixturevalue(who))

    listing = client.get(guidelines_url(project))
    acknowledging = client.post(ack_url(version.public_id))

    assert (listing.status_code, acknowledging.status_code) == (404, 404)
    assert "Prefer the answer" not in listing.content.decode()
    assert not GuidelineAcknowledgement.objects.exists()


def test_a_drafts_guidelines_are_the_labs_alone(vendor_manager, lab_member, api_as, make_project):
    project = make_project(publish=False)
    version = project.guideline_versions.get()

    assert api_as(vendor_manager).get(guidelines_url(project)).status_code == 404
    assert api_as(vendor_manager).post(ack_url(version.public_id)).status_code == 404
    assert api_as(lab_member).get(guidelines_url(project)).json()["results"][0]["number"] == 1
