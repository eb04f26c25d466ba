"""Work API helpers: an active contract between the persona lab and vendor (labels A, B, tie; 10,000
units; review window 5 days, appeal window 7 days), three assigned experts, uploads built as real
multipart requests, and batches made through the API or the services."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts.roles import OrgKind, Role
from apps.work import services
from apps.work.models import WorkBatch
from tests.factories import AssignmentFactory, ContractFactory, OrganizationFactory, ProjectFactory, UserFactory, member

PERIOD = {"period_start": "2025-03-01", "period_end": "2025-03-07"}
FIELDS = ("item_id", "annotator", "label", "displayed_order", "started_at", "seconds_spent", "comment")
JSONL = "application/jsonl"


def contract_url(contract, tail=""):
    return f"/api/v1/contracts/{contract.public_id}/{tail}"


def batch_url(batch, tail=""):
    return f"/api/v1/batches/{batch.public_id}/{tail}"


def gold_url(project):
    return f"/api/v1/projects/{project.public_id}/gold/"


def judgment(item_id, annotator, label="A", **extra):
    row = {"item_id": item_id, "annotator": str(annotator.public_id), "label": label, "displayed_order": "AB"}
    row.update(extra)
    return row


def jsonl(rows) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows).encode()


def csv_bytes(rows, fields=FIELDS) -> bytes:
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


def upload(client, contract, content: bytes, *, name="batch.jsonl", content_type=JSONL, headers=None, **fields):
    """POST a batch as a real ``multipart/form-data`` request; ``fields`` override the form fields."""
    data = {"client_batch_key": "batch-1", "unit_count": "12", **PERIOD, **fields}
    data["file"] = SimpleUploadedFile(name, content, content_type=content_type)
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(contract_url(contract, "batches/"), data, format="multipart", headers=headers)


@pytest.fixture
def project(lab, lab_admin):
    return ProjectFactory(lab=lab, created_by=lab_admin, status="in_progress", title="Radiology preferences")


@pytest.fixture
def contract(project, lab, vendor, vendor_manager):
    return ContractFactory(project=project, lab=lab, supplier=vendor)


@pytest.fixture
def annotators(contract):
    """Three experts actively assigned to the contract, each with an expert profile."""
    return [AssignmentFactory(contract=contract, expert=UserFactory()).expert for _ in range(3)]


@pytest.fixture
def submit(contract, vendor, vendor_manager):
    """Submit a batch through the service as the vendor manager; keyword overrides for any argument."""

    def run(content: bytes, **overrides) -> WorkBatch:
        kwargs = dict(
            actor=vendor_manager, organization=vendor, contract=contract, client_batch_key="batch-1",
            unit_count=12, upload=io.BytesIO(content), fmt="jsonl",
            period_start=date(2025, 3, 1), period_end=date(2025, 3, 7),
        )  # fmt: skip
        kwargs.update(overrides)
        return services.batch_submit(**kwargs)

    return run


@pytest.fixture
def batch(submit, annotators):
    """A submitted batch: 4 items x 3 annotators = 12 judgments, 12 units."""
    return submit(jsonl(simple_rows(annotators)))


@pytest.fixture
def rejected(batch, lab_admin):
    return services.batch_reject(actor=lab_admin, batch=batch, reason="low_gold_accuracy", evidence="60% on gold.")


@pytest.fixture
def rival(db):
    """Another vendor, with a manager: a party to nothing here."""
    organization = OrganizationFactory(name="Rival Labelling", slug="rival", kind=OrgKind.VENDOR)
    return member(organization, Role.MANAGER, email="manager@rival.test")
