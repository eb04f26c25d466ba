"""Checks on an uploaded evidence file: its type comes from the content, never from the name."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import filetype
from django.conf import settings

from apps.core.errors import ValidationFailed

ALLOWED = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}


@dataclass(frozen=True)
class Evidence:
    content_type: str
    extension: str
    size: int
    sha256: str


def inspect_evidence(upload, *, field: str = "evidence") -> Evidence:
    """Validate an uploaded file (PDF, PNG or JPEG by magic bytes, at most the configured size)."""
    if upload is None:
        raise ValidationFailed("Attach the evidence file.", details={field: ["This field is required."]})
    limit = settings.CREDENTIAL_EVIDENCE_MAX_BYTES
    size = upload.size
    if size == 0:
        raise ValidationFailed("The evidence file is empty.", details={field: ["The file is empty."]})
    if size > limit:
        mb = limit // (1024 * 1024)
        raise ValidationFailed(
            f"The evidence file is {size / 1024 / 1024:.1f} MB; the limit is {mb} MB.",
            details={field: [f"At most {mb} MB."]},
        )
    upload.seek(0)
    head = upload.read(8192)
    kind = filetype.guess(head)
    content_type = kind.mime if kind else None
    if content_type not in ALLOWED:
        found = f" (its content is {content_type})" if content_type else ""
        raise ValidationFailed(
            f"The evidence must be a PDF, PNG or JPEG file{found}, whatever its name says.",
            code="invalid_file_type",
            details={field: ["Only PDF, PNG or JPEG content is accepted."]},
        )
    digest = hashlib.sha256(head)
    for chunk in iter(lambda: upload.read(1024 * 1024), b""):
        digest.update(chunk)
    upload.seek(0)
    return Evidence(content_type=content_type, extension=ALLOWED[content_type], size=size, sha256=digest.hexdigest())
