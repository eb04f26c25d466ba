"""Credentials through the API: upload with evidence, the owner's view, the evidence download, operations' review."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.roles import OrgKind, Role
from apps.core.models import AuditEvent
from apps.experts import services
from apps.experts.models import Credential, CredentialFlag
from apps.notifications.models import Notification
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

from .conftest import LINUX_ELF, PDF, PNG, WINDOWS_EXE, in_days, stored_files, submit_credential, upload

URL = "/api/v1/credentials/"


@pytest.fixture
def person(db):
    return UserFactory(email="doc@x.test", full_name="Dr Doc")


@pytest.fixture
def other_person(db):
    return UserFactory(email="other@x.test", full_name="Dr Other")


def form(**overrides):
    data = {
        "type": "professional_licence",
        "title": "Licensed physician",
        "issuer": "State Medical Board",
        "identifier": "MD-12345",
        "jurisdiction": "California",
        "issued_on": "2015-06-01",
        "expires_on": in_days(365).isoformat(),
        "evidence": upload(),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def post(client, data):
    return client.post(URL, data, format="multipart")


def detail_url(credential, suffix=""):
    return f"{URL}{credential.public_id}/{suffix}"


# --- upload --------------------------------------------------------------------------------------------


def test_a_pdf_is_accepted_pending_review(person, api_as, media):
    response = post(api_as(person), form())

    assert response.status_code == 201, response.content
    body = response.json()
    credential = Credential.objects.get(public_id=body["id"])
    assert body["status"] == "pending"
    assert body["identifier"] == "MD-12345"
    assert body["evidence"] == {
        "name": "licence.pdf",
        "content_type": "application/pdf",
        "size": len(PDF),
        "url": f"/api/v1/credentials/{credential.public_id}/evidence/",
    }
    assert "expert" not in body and "open_flags" not in body
    assert credential.profile.user == person
    assert len(stored_files(media)) == 1


def test_a_png_is_accepted(person, api_as):
    response = post(api_as(person), form(evidence=upload(PNG, "scan.png", "image/png")))

    assert response.status_code == 201, response.content
    assert response.json()["evidence"]["content_type"] == "image/png"


@pytest.mark.parametrize("content", [WINDOWS_EXE, LINUX_ELF], ids=["windows", "linux"])
def test_a_renamed_executable_is_refused_naming_evidence(person, api_as, media, content):
    response = post(api_as(person), form(evidence=upload(content, "x.pdf", "application/pdf")))

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["evidence"]
    assert not Credential.objects.exists()
    assert stored_files(media) == []


def test_a_file_over_the_limit_is_refused_naming_evidence(person, api_as, media, settings):
    settings.CREDENTIAL_EVIDENCE_MAX_BYTES = 1024
    big = PDF + b"0" * 2048

    response = post(api_as(person), form(evidence=upload(big)))

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["evidence"]
    assert not Credential.objects.exists()
    assert stored_files(media) == []


def test_expiry_before_issue_is_refused_naming_expires_on(person, api_as, media):
    response = post(api_as(person), form(issued_on="2020-01-01", expires_on="2019-12-31"))

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["expires_on"]
    assert not Credential.objects.exists()
    assert stored_files(media) == []


def test_missing_fields_are_named_and_nothing_is_saved(person, api_as, media):
    response = post(api_as(person), form(title=None, evidence=None, type="wizardry"))

    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == {"title", "evidence", "type"}
    assert not Credential.objects.exists()


def test_a_json_body_is_refused_with_415(person, api_as):
    response = api_as(person).post(URL, {"type": "degree", "title": "MD", "issuer": "Uni"}, format="json")

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_the_same_identifier_on_two_accounts_is_flagged(person, other_person, api_as):
    post(api_as(person), form())

    response = post(api_as(other_person), form(identifier="md 12345"))

    assert response.status_code == 201
    flag = CredentialFlag.objects.get()
    assert str(flag.credential.public_id) == response.json()["id"]


# --- reading -----------------------------------------------------------------------------------------


def test_the_list_shows_only_the_callers_credentials(person, other_person, api_as):
    mine = submit_credential(person, identifier="A-1")
    submit_credential(other_person, identifier="B-2")

    response = api_as(person).get(URL)

    assert [row["id"] for row in response.json()["results"]] == [str(mine.public_id)]


def test_the_list_filters_by_status(person, operations, api_as):
    verified = submit_credential(person, title="Verified one")
    services.credential_verify(actor=operations, credential=verified)
    submit_credential(person, title="Pending one")

    rows = api_as(person).get(URL + "?status=verified").json()["results"]

    assert [row["title"] for row in rows] == ["Verified one"]


def test_the_owner_reads_their_credential_with_reason_and_identifier(person, operations, api_as):
    credential = submit_credential(person, identifier="LIC-9")
    services.credential_reject(actor=operations, credential=credential, reason="The scan is unreadable")

    body = api_as(person).get(detail_url(credential)).json()

    assert (body["status"], body["status_reason"], body["identifier"]) == (
        "rejected",
        "The scan is unreadable",
        "LIC-9",
    )
    assert "expert" not in body and "open_flags" not in body


def test_someone_elses_credential_is_not_found(person, other_person, api_as):
    credential = submit_credential(other_person)

    response = api_as(person).get(detail_url(credential))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "credential_not_found"


def test_operations_read_any_credential_with_the_expert_and_open_flags(person, other_person, operations, api_as):
    original = submit_credential(person, identifier="DUP-1")
    duplicate = submit_credential(other_person, identifier="DUP-1")

    body = api_as(operations).get(detail_url(duplicate)).json()

    assert body["expert"]["email"] == other_person.email
    assert body["expert"]["name"] == "Dr Other"
    assert [flag["other_credential"] for flag in body["open_flags"]] == [str(original.public_id)]


# --- evidence download ----------------------------------------------------------------------------------


def test_the_owner_downloads_the_evidence(person, api_as):
    credential = submit_credential(person, evidence=upload(PNG, "scan.png", "image/png"))

    response = api_as(person).get(detail_url(credential, "evidence/"), HTTP_ACCEPT="image/png")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_operations_download_any_evidence(person, operations, api_as):
    credential = submit_credential(person)

    response = api_as(operations).get(detail_url(credential, "evidence/"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"


@pytest.mark.parametrize("persona", ["other_person", "lab_admin", "vendor_manager", "finance"])
def test_nobody_else_downloads_the_evidence(person, api_as, request, persona):
    credential = submit_credential(person)

    response = api_as(request.getfixturevalue(persona)).get(detail_url(credential, "evidence/"))

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "credential_not_found"


# --- review by operations ---------------------------------------------------------------------------------


def test_operations_verify_a_pending_credential(person, operations, api_as):
    credential = submit_credential(person)

    response = api_as(operations).post(detail_url(credential, "verify/"), {"reverify_on": in_days(90).isoformat()})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["reverify_on"]) == ("verified", in_days(90).isoformat())
    assert body["expert"]["email"] == person.email
    assert AuditEvent.objects.filter(action="credential.verified", target_id=credential.pk).count() == 1
    assert Notification.objects.filter(recipient=person, kind="credential.verified").count() == 1


def test_verifying_twice_changes_nothing(person, operations, api_as):
    credential = submit_credential(person)
    client = api_as(operations)
    client.post(detail_url(credential, "verify/"), {})

    response = client.post(detail_url(credential, "verify/"), {})

    assert response.status_code == 200
    assert AuditEvent.objects.filter(action="credential.verified", target_id=credential.pk).count() == 1


def test_a_reverification_date_in_the_past_is_refused_naming_it(person, operations, api_as):
    credential = submit_credential(person)

    response = api_as(operations).post(detail_url(credential, "verify/"), {"reverify_on": "2001-01-01"})

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["reverify_on"]


def test_operations_reject_with_a_reason(person, operations, api_as):
    credential = submit_credential(person)

    response = api_as(operations).post(detail_url(credential, "reject/"), {"reason": "Not a licence"})

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["status_reason"]) == ("rejected", "Not a licence")


def test_a_reject_without_a_reason_is_refused_naming_reason(person, operations, api_as):
    credential = submit_credential(person)

    response = api_as(operations).post(detail_url(credential, "reject/"), {})

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["reason"]
    credential.refresh_from_db()
    assert credential.status == Credential.Status.PENDING


def test_operations_revoke_a_verified_credential(person, operations, api_as):
    credential = submit_credential(person)
    services.credential_verify(actor=operations, credential=credential)

    response = api_as(operations).post(detail_url(credential, "revoke/"), {"reason": "Licence suspended"})

    assert response.status_code == 200
    assert response.json()["status"] == "revoked"


def test_verifying_a_rejected_credential_is_a_conflict(person, operations, api_as):
    credential = submit_credential(person)
    services.credential_reject(actor=operations, credential=credential, reason="Unreadable")

    response = api_as(operations).post(detail_url(credential, "verify/"), {})

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "credential_not_pending"
    assert error["details"] == {"current_status": "rejected", "requested_status": "verified"}


def test_rejecting_twice_changes_nothing(person, operations, api_as):
    credential = submit_credential(person)
    client = api_as(operations)
    client.post(detail_url(credential, "reject/"), {"reason": "Unreadable"})

    response = client.post(detail_url(credential, "reject/"), {"reason": "Unreadable"})

    assert response.status_code == 200
    assert Notification.objects.filter(recipient=person, kind="credential.rejected").count() == 1


def test_revoking_a_pending_credential_is_a_conflict(person, operations, api_as):
    credential = submit_credential(person)

    response = api_as(operations).post(detail_url(credential, "revoke/"), {"reason": "Why not"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "credential_not_verified"


def test_rejecting_a_verified_credential_is_a_conflict(person, operations, api_as):
    credential = submit_credential(person)
    services.credential_verify(actor=operations, credential=credential)

    response = api_as(operations).post(detail_url(credential, "reject/"), {"reason": "Changed my mind"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "credential_not_pending"


@pytest.mark.parametrize("persona", ["person", "lab_admin", "vendor_manager", "finance"])
@pytest.mark.parametrize("action", ["verify/", "reject/", "revoke/"])
def test_only_operations_review_and_others_get_404(person, api_as, request, persona, action):
    credential = submit_credential(person)

    response = api_as(request.getfixturevalue(persona)).post(detail_url(credential, action), {"reason": "x"})

    assert response.status_code == 404
    credential.refresh_from_db()
    assert credential.status == Credential.Status.PENDING


def test_an_operator_with_an_organisation_key_has_no_staff_powers(person, operations, key_client):
    lab = OrganizationFactory(kind=OrgKind.LAB)
    MembershipFactory(user=operations, organization=lab, role=Role.OWNER)
    credential = submit_credential(person)
    client = key_client(operations, lab)

    assert client.post(detail_url(credential, "verify/"), {}).status_code == 404
    assert client.get(URL + "queue/").status_code == 404
    assert client.get(detail_url(credential, "evidence/")).status_code == 404


# --- queue and flags ----------------------------------------------------------------------------------------


def test_the_queue_lists_pending_credentials_oldest_first_with_email_and_flags(
    person, other_person, operations, api_as
):
    first = submit_credential(person, identifier="SHARED-1")
    second = submit_credential(other_person, identifier="SHARED-1")
    done = submit_credential(person, title="Done already")
    services.credential_verify(actor=operations, credential=done)

    rows = api_as(operations).get(URL + "queue/").json()["results"]

    assert [row["id"] for row in rows] == [str(first.public_id), str(second.public_id)]
    assert [row["expert"]["email"] for row in rows] == [person.email, other_person.email]
    assert rows[0]["open_flags"] == []
    assert rows[1]["open_flags"][0]["kind"] == "duplicate_identifier"


def test_the_queue_filters_by_status(person, operations, api_as):
    done = submit_credential(person)
    services.credential_verify(actor=operations, credential=done)

    rows = api_as(operations).get(URL + "queue/?status=verified").json()["results"]

    assert [row["id"] for row in rows] == [str(done.public_id)]


@pytest.mark.parametrize("persona", ["person", "lab_admin", "finance"])
def test_the_queue_is_not_found_for_anyone_but_operations(person, api_as, request, persona):
    submit_credential(person)

    assert api_as(request.getfixturevalue(persona)).get(URL + "queue/").status_code == 404


def test_operations_list_and_resolve_flags(person, other_person, operations, api_as):
    submit_credential(person, identifier="SHARED-2")
    submit_credential(other_person, identifier="SHARED-2")
    client = api_as(operations)

    rows = client.get("/api/v1/credential-flags/").json()["results"]
    assert len(rows) == 1
    assert {rows[0]["credential"]["expert"]["email"], rows[0]["other_credential"]["expert"]["email"]} == {
        person.email,
        other_person.email,
    }

    url = f"/api/v1/credential-flags/{rows[0]['id']}/resolve/"
    assert client.post(url, {}).status_code == 400
    response = client.post(url, {"resolution": "Twins at the same practice; both verified in person"})

    assert response.status_code == 200
    assert response.json()["status"] == "resolved"
    assert client.get("/api/v1/credential-flags/").json()["results"] == []
    assert len(client.get("/api/v1/credential-flags/?status=resolved").json()["results"]) == 1


def test_flags_are_not_found_for_anyone_but_operations(person, other_person, api_as):
    submit_credential(person, identifier="SHARED-3")
    submit_credential(other_person, identifier="SHARED-3")
    flag = CredentialFlag.objects.get()
    client = api_as(person)

    assert client.get("/api/v1/credential-flags/").status_code == 404
    response = client.post(f"/api/v1/credential-flags/{flag.public_id}/resolve/", {"resolution": "mine"})
    assert response.status_code == 404


def test_a_repeated_upload_with_the_same_idempotency_key_creates_one_credential(person, api_as, media):
    client = api_as(person)
    data = form()
    first = client.post(URL, data, format="multipart", HTTP_IDEMPOTENCY_KEY="upload-1")
    data["evidence"].seek(0)

    again = client.post(URL, data, format="multipart", HTTP_IDEMPOTENCY_KEY="upload-1")

    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Credential.objects.count() == 1


def test_the_queue_loads_a_page_in_a_fixed_number_of_queries(
    person, other_person, operations, api_as, django_assert_max_num_queries
):
    submit_credential(person, identifier="Q-1")
    submit_credential(other_person, identifier="Q-1")
    client = api_as(operations)
    client.get(URL + "queue/")
    with CaptureQueriesContext(connection) as small:
        client.get(URL + "queue/")
    for n in range(4):
        submit_credential(UserFactory(email=f"more{n}@x.test"), identifier="Q-1")

    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(client.get(URL + "queue/").json()["results"]) == 6
