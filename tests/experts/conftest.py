"""Workforce fixtures: uploaded evidence lands in a temporary MEDIA_ROOT; a small domain taxonomy."""

from types import SimpleNamespace

import pytest

from tests.factories import DomainFactory


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def domains(db):
    """medicine > radiology, and law: created here, never loaded from fixtures/."""
    medicine = DomainFactory(slug="medicine", name="Medicine")
    radiology = DomainFactory(slug="radiology", name="Radiology", parent=medicine)
    law = DomainFactory(slug="law", name="Law")
    return SimpleNamespace(medicine=medicine, radiology=radiology, law=law)
