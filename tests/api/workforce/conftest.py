"""Workforce API helpers: a throwaway media root, a small domain taxonomy, experts built through the services."""

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.experts import services
from apps.experts.models import Domain
from tests.factories import UserFactory

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64
LINUX_ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Evidence files go to a per-test directory."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(root):
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def domains(db):
    """Medicine > Radiology > Neuroradiology, and Law."""
    medicine = Domain.objects.create(slug="medicine", name="Medicine", path="medicine")
    radiology = Domain.objects.create(slug="radiology", name="Radiology", parent=medicine, path="medicine/radiology")
    neuro = Domain.objects.create(
        slug="neuroradiology", name="Neuroradiology", parent=radiology, path="medicine/radiology/neuroradiology"
    )
    law = Domain.objects.create(slug="law", name="Law", path="law")
    return {"medicine": medicine, "radiology": radiology, "neuroradiology": neuro, "law": law}


def upload(content=PDF, name="licence.pdf", content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def submit_credential(user, *, type="board_certification", title="Board certified", issuer="ABR", **kwargs):
    kwargs.setdefault("evidence", upload())
    return services.credential_submit(actor=user, type=type, title=title, issuer=issuer, **kwargs)


def verified_credential(user, operations, **kwargs):
    credential = submit_credential(user, **kwargs)
    services.credential_verify(actor=operations, credential=credential)
    credential.refresh_from_db()
    return credential


@pytest.fixture
def make_expert(db):
    """An independent expert with a discoverable profile (built through ``profile_update``)."""

    def make(email, full_name="Dr Jane Roe", **profile):
        user = UserFactory(email=email, full_name=full_name)
        profile.setdefault("headline", "Radiologist")
        services.profile_update(actor=user, **profile)
        return user

    return make


def in_days(days: int) -> date:
    return timezone.localdate() + timedelta(days=days)
