"""Evidence files: the type comes from the bytes, never the name; refused files leave nothing behind."""

import re
from datetime import date

import pytest

from apps.core.errors import ValidationFailed
from apps.experts.evidence import inspect_evidence
from apps.experts.models import Credential, CredentialType
from apps.experts.services import credential_submit
from tests.experts.support import ELF_BYTES, MZ_BYTES, jpeg_bytes, pdf, png_bytes, stored_files, upload
from tests.factories import MINIMAL_PDF, UserFactory


def submit(actor, evidence, **fields):
    defaults = {
        "type": CredentialType.PROFESSIONAL_LICENCE,
        "title": "Licensed radiologist",
        "issuer": "State Medical Board",
        "identifier": "RAD-1001",
    }
    return credential_submit(actor=actor, evidence=evidence, **{**defaults, **fields})


@pytest.mark.parametrize(
    ("name", "content", "content_type", "extension"),
    [
        ("licence.pdf", MINIMAL_PDF, "application/pdf", "pdf"),
        ("scan.png", png_bytes(), "image/png", "png"),
        ("photo.jpg", jpeg_bytes(), "image/jpeg", "jpg"),
    ],
)
def test_credential_submit_accepts_real_pdf_png_and_jpeg_evidence(
    db, media_root, name, content, content_type, extension
):
    # given an expert with a real file of an allowed type
    user = UserFactory()

    # when they submit it
    credential = submit(user, upload(name, content))

    # then the credential is pending with the sniffed type and the stored bytes are exactly the upload
    assert credential.status == Credential.Status.PENDING
    assert (credential.evidence_content_type, credential.evidence_extension) == (content_type, extension)
    assert credential.evidence_size == len(content)
    assert credential.evidence_name == name
    with credential.evidence.open("rb") as stored:
        assert stored.read() == content
    assert stored_files(media_root) == [credential.evidence.name]


@pytest.mark.parametrize(
    ("name", "content", "message_part"),
    [
        ("licence.pdf", ELF_BYTES, "whatever its name says"),
        ("licence.pdf", MZ_BYTES, "whatever its name says"),
        ("scan.png", b"just some text pretending to be an image\n", "whatever its name says"),
        ("empty.pdf", b"", "empty"),
    ],
    ids=["elf-named-pdf", "windows-exe-named-pdf", "text-named-png", "empty"],
)
def test_credential_submit_refuses_evidence_that_is_not_what_its_name_claims(
    db, media_root, name, content, message_part
):
    user = UserFactory()

    with pytest.raises(ValidationFailed) as exc:
        submit(user, upload(name, content, "application/pdf"))

    assert "evidence" in exc.value.details
    assert message_part in exc.value.message
    assert not Credential.objects.exists()
    assert stored_files(media_root) == []


def test_credential_submit_refuses_evidence_over_the_size_limit(db, media_root, settings):
    # given a 2 KiB limit and a valid PDF just over it
    settings.CREDENTIAL_EVIDENCE_MAX_BYTES = 2048
    content = MINIMAL_PDF + b"%" + b"x" * (2049 - len(MINIMAL_PDF) - 1)
    assert len(content) == 2049

    with pytest.raises(ValidationFailed) as exc:
        submit(UserFactory(), upload("big.pdf", content))

    assert "evidence" in exc.value.details
    assert not Credential.objects.exists()
    assert stored_files(media_root) == []


def test_credential_submit_accepts_evidence_exactly_at_the_size_limit(db, settings):
    settings.CREDENTIAL_EVIDENCE_MAX_BYTES = 2048
    content = MINIMAL_PDF + b"%" + b"x" * (2048 - len(MINIMAL_PDF) - 1)

    credential = submit(UserFactory(), upload("limit.pdf", content))

    assert credential.evidence_size == 2048


def test_credential_submit_without_evidence_names_the_evidence_field(db, media_root):
    with pytest.raises(ValidationFailed) as exc:
        submit(UserFactory(), None)

    assert "evidence" in exc.value.details
    assert not Credential.objects.exists()


def test_stored_evidence_name_never_comes_from_the_uploaders_file_name(db):
    # given a PNG uploaded under a personal, misleading name
    user = UserFactory()

    credential = submit(user, upload("Jane Doe passport scan.pdf", png_bytes()))

    # then storage uses a random name with the extension of the real content
    profile_id = credential.profile.public_id
    assert re.fullmatch(rf"evidence/{profile_id}/[0-9a-f]{{32}}\.png", credential.evidence.name)
    assert "Jane" not in credential.evidence.name
    assert credential.evidence_name == "Jane Doe passport scan.pdf"


def test_two_uploads_with_the_same_name_get_different_stored_names(db):
    user = UserFactory()

    first = submit(user, pdf("licence.pdf"), identifier="A-1")
    second = submit(user, pdf("licence.pdf"), identifier="A-2")

    assert first.evidence.name != second.evidence.name


def test_inspect_evidence_hashes_the_whole_file_and_rewinds_it(db):
    import hashlib

    content = MINIMAL_PDF + b"%" + b"y" * 20000
    file = upload("long.pdf", content)

    info = inspect_evidence(file)

    assert info.sha256 == hashlib.sha256(content).hexdigest()
    assert file.tell() == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"expires_on": date(2020, 1, 1)}, "expires_on"),
        ({"issued_on": date(2024, 6, 1), "expires_on": date(2024, 5, 1)}, "expires_on"),
        ({"type": "diploma-mill"}, "type"),
        ({"title": "  "}, "title"),
        ({"issuer": ""}, "issuer"),
        ({"issued_on": date(2999, 1, 1)}, "issued_on"),
    ],
    ids=["already-expired", "expires-before-issue", "unknown-type", "blank-title", "blank-issuer", "issued-in-future"],
)
def test_credential_submit_refuses_bad_fields_naming_them_and_stores_nothing(db, media_root, fields, field):
    with pytest.raises(ValidationFailed) as exc:
        submit(UserFactory(), pdf(), **fields)

    assert field in exc.value.details
    assert not Credential.objects.exists()
    assert stored_files(media_root) == []
