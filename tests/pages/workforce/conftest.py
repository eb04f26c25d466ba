"""Workforce page fixtures: a small domain taxonomy, evidence files and credentials in any state."""

import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.experts import services
from apps.experts.models import Credential, Domain


def pdf_bytes() -> bytes:
    """A small but complete PDF (one empty page), as a scanner would produce."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def png_bytes(width: int = 48, height: int = 32) -> bytes:
    """A real PNG (a blue rectangle)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\x2f\x4f\xd6" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def executable_bytes() -> bytes:
    """The start of a Windows executable (an 'MZ' header)."""
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 512


def upload(name: str = "diploma.pdf", content: bytes | None = None, content_type: str = "application/pdf"):
    return SimpleUploadedFile(name, pdf_bytes() if content is None else content, content_type=content_type)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def domains(db):
    medicine = Domain.objects.create(slug="medicine", name="Medicine", path="medicine")
    radiology = Domain.objects.create(slug="radiology", name="Radiology", parent=medicine, path="medicine/radiology")
    law = Domain.objects.create(slug="law", name="Law", path="law")
    tax = Domain.objects.create(slug="tax-law", name="Tax law", parent=law, path="law/tax-law")
    return {d.slug: d for d in (medicine, radiology, law, tax)}


@pytest.fixture
def submit_credential():
    """Submit a credential through the service, as the expert would on the page."""

    def submit(user, *, title="Board certified, diagnostic radiology", identifier="", file=None, **extra):
        return services.credential_submit(
            actor=user,
            type=extra.pop("type", "board_certification"),
            title=title,
            issuer=extra.pop("issuer", "American Board of Radiology"),
            identifier=identifier,
            evidence=file or upload(),
            **extra,
        )

    return submit


@pytest.fixture
def verified_credential(submit_credential, operations):
    def make(user, **kwargs) -> Credential:
        credential = submit_credential(user, **kwargs)
        services.credential_verify(actor=operations, credential=credential)
        credential.refresh_from_db()
        return credential

    return make


def field_html(page: str, name: str) -> str:
    """The rendered block of one form field (from its wrapper to the next field's)."""
    start = page.index(f'id="field-{name}"')
    following = page.find('id="field-', start + 1)
    return page[start : following if following != -1 else None]


def main_html(page: str) -> str:
    """The page's own content, without the header (which shows the signed-in person's name)."""
    return page[page.index("<main") : page.index("</main>")]
