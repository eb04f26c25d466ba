"""The expert adds credentials with evidence and follows their review; evidence is never public."""

import pytest
from django.urls import reverse

from apps.experts import services
from apps.experts.models import Credential
from tests.pages.conftest import text
from tests.pages.workforce.conftest import executable_bytes, field_html, pdf_bytes, upload

pytestmark = pytest.mark.django_db

FORM = {
    "type": "board_certification",
    "title": "Board certified, diagnostic radiology",
    "issuer": "American Board of Radiology",
    "identifier": "ABR-12345",
    "jurisdiction": "USA",
    "issued_on": "2015-06-01",
    "expires_on": "",
}


def test_page_offers_a_multipart_upload_form(as_user, independent_expert):
    page = text(as_user(independent_expert).get(reverse("experts:credentials")))

    assert 'enctype="multipart/form-data"' in page
    assert 'type="file" name="evidence"' in page


def test_expert_uploads_a_pdf_and_sees_it_pending_review(as_user, independent_expert):
    client = as_user(independent_expert)

    response = client.post(reverse("experts:credentials"), {**FORM, "evidence": upload("ABR certificate.pdf")})

    assert response.status_code == 302
    credential = Credential.objects.get()
    assert credential.status == Credential.Status.PENDING
    assert credential.evidence_content_type == "application/pdf"
    assert credential.evidence_name == "ABR certificate.pdf"
    assert credential.evidence.read() == pdf_bytes()
    page = text(client.get(reverse("experts:credentials")))
    assert "Board certified, diagnostic radiology" in page
    assert "Pending review" in page


def test_renamed_executable_is_refused_on_the_evidence_field_and_nothing_is_saved(
    as_user, independent_expert, media_root
):
    bad = upload("diploma.pdf", executable_bytes())

    response = as_user(independent_expert).post(reverse("experts:credentials"), {**FORM, "evidence": bad})

    assert response.status_code == 400
    field = field_html(text(response), "evidence")
    assert "Only PDF, PNG or JPEG content is accepted." in field
    assert not Credential.objects.exists()
    assert not media_root.exists() or not any(p.is_file() for p in media_root.rglob("*"))


def test_missing_title_is_named_on_its_field(as_user, independent_expert):
    response = as_user(independent_expert).post(
        reverse("experts:credentials"), {**FORM, "title": "", "evidence": upload()}
    )

    assert response.status_code == 400
    assert "field__error" in field_html(text(response), "title")
    assert not Credential.objects.exists()


def test_rejection_reason_is_shown_to_the_expert(as_user, independent_expert, submit_credential, operations):
    credential = submit_credential(independent_expert)
    services.credential_reject(actor=operations, credential=credential, reason="Number not on the ABR register")

    page = text(as_user(independent_expert).get(reverse("experts:credentials")))

    assert "badge--rejected" in page
    assert "Number not on the ABR register" in page


def test_owner_downloads_evidence_as_an_attachment_with_nosniff(as_user, independent_expert, submit_credential):
    credential = submit_credential(independent_expert, file=upload("my scan.PDF"))

    response = as_user(independent_expert).get(reverse("experts:credential_evidence", args=[credential.public_id]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf_bytes()
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="my scan.pdf"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]


def test_someone_else_gets_404_for_the_evidence(as_user, independent_expert, submit_credential, expert, lab_owner):
    credential = submit_credential(independent_expert)
    url = reverse("experts:credential_evidence", args=[credential.public_id])

    assert as_user(expert).get(url).status_code == 404
    assert as_user(lab_owner).get(url).status_code == 404


def test_pages_never_link_the_evidence_under_the_media_url(as_user, independent_expert, submit_credential, settings):
    credential = submit_credential(independent_expert)

    page = text(as_user(independent_expert).get(reverse("experts:credentials")))

    assert settings.MEDIA_URL not in page
    assert credential.evidence.name not in page
    assert reverse("experts:credential_evidence", args=[credential.public_id]) in page
