"""Real file bytes for evidence tests and small helpers shared by the workforce tests."""

import struct
import zlib

from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.core.models import AuditEvent
from tests.factories import MINIMAL_PDF


def png_bytes() -> bytes:
    """A PNG signature plus a valid IHDR chunk (1x1, 8-bit RGB)."""
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk


def jpeg_bytes() -> bytes:
    """SOI, a JFIF APP0 segment, EOI."""
    return b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\xff\xd9"


ELF_BYTES = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 44
MZ_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def pdf(name: str = "licence.pdf") -> SimpleUploadedFile:
    return upload(name, MINIMAL_PDF, "application/pdf")


def audit_rows(obj):
    return AuditEvent.objects.filter(target_type=ContentType.objects.get_for_model(type(obj)), target_id=obj.pk)


def audit_actions(obj) -> list[str]:
    return list(audit_rows(obj).values_list("action", flat=True))


def stored_files(media_root) -> list[str]:
    return sorted(str(p.relative_to(media_root)) for p in media_root.rglob("*") if p.is_file())
