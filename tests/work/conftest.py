"""Work fixtures: an active contract between the persona lab and vendor, three assigned experts,
and helpers that build uploads."""

import csv
import io
import json
from datetime import date
from types import SimpleNamespace

import pytest

from apps.experts.models import CredentialType
from apps.work import services
from tests.factories import AssignmentFactory, ContractFactory, CredentialFactory, ProjectFactory, UserFactory

PERIOD = {"period_start": date(2025, 3, 1), "period_end": date(2025, 3, 7)}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def project(lab, lab_admin):
    return ProjectFactory(lab=lab, created_by=lab_admin, status="in_progress", title="Radiology preferences")


@pytest.fixture
def contract(project, lab, vendor, vendor_manager):
    """Active; labels A, B, tie; 10,000 units; review window 5 days, appeal window 7 days."""
    return ContractFactory(project=project, lab=lab, supplier=vendor)


@pytest.fixture
def annotators(contract):
    """Three experts actively assigned to the contract, each with an expert profile."""
    return [AssignmentFactory(contract=contract, expert=UserFactory()).expert for _ in range(3)]


@pytest.fixture
def credentialed(annotators):
    """Verified credentials: the first annotator a board certification and a degree, the second a
    degree, the third a pending licence only (not verified, so not counted)."""
    first, second, third = (a.expert_profile for a in annotators)
    CredentialFactory(profile=first, type=CredentialType.BOARD_CERTIFICATION, verified=True)
    CredentialFactory(profile=first, type=CredentialType.DEGREE, verified=True)
    CredentialFactory(profile=second, type=CredentialType.DEGREE, verified=True)
    CredentialFactory(profile=third, type=CredentialType.PROFESSIONAL_LICENCE)
    return annotators


def judgment(item_id, annotator, label="A", **extra):
    row = {"item_id": item_id, "annotator": str(annotator.public_id), "label": label, "displayed_order": "AB"}
    row.update(extra)
    return row


def jsonl(rows) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows).encode()


def csv_bytes(
    rows, fields=("item_id", "annotator", "label", "displayed_order", "started_at", "seconds_spent", "comment")
):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(fields)
    for row in rows:
        writer.writerow([row.get(f, "") for f in fields])
    return out.getvalue().encode()


def simple_rows(annotators, items=4):
    """Each of ``items`` items judged by every annotator; labels cycle A, B, tie."""
    labels = ["A", "B", "tie"]
    return [
        judgment(f"item-{i}", a, labels[(i + j) % 3], started_at="2025-03-02T09:00:00Z", seconds_spent=30 + i)
        for i in range(items)
        for j, a in enumerate(annotators)
    ]


@pytest.fixture
def submit(contract, vendor, vendor_manager):
    """Submit a batch as the vendor manager; keyword overrides for any argument."""

    def run(content: bytes, **overrides):
        kwargs = dict(
            actor=vendor_manager, organization=vendor, contract=contract, client_batch_key="batch-1",
            unit_count=10, upload=io.BytesIO(content), fmt="jsonl", **PERIOD,
        )  # fmt: skip
        kwargs.update(overrides)
        return services.batch_submit(**kwargs)

    return run


@pytest.fixture
def batch(submit, annotators):
    """A submitted batch: 4 items x 3 annotators = 12 judgments, 12 units."""
    return submit(jsonl(simple_rows(annotators)), unit_count=12)


@pytest.fixture
def parties(lab, lab_owner, lab_admin, lab_member, vendor, vendor_manager, expert, operations, outsider):
    return SimpleNamespace(
        lab=lab, lab_owner=lab_owner, lab_admin=lab_admin, lab_member=lab_member, vendor=vendor,
        vendor_manager=vendor_manager, expert=expert, operations=operations, outsider=outsider,
    )  # fmt: skip
