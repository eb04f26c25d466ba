"""Work page fixtures: an active contract between the persona lab and vendor (ContractFactory: labels
A, B, tie; review window 5 days, appeal window 7), three assigned experts with handles, and helpers
that upload through the pages and read them."""

import json
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.work import services
from apps.work.models import WorkBatch
from tests.factories import AssignmentFactory, ContractFactory, ProjectFactory, UserFactory
from tests.pages.conftest import text

PERIOD = {"period_start": "2025-03-01", "period_end": "2025-03-07"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def project(lab, lab_owner):
    return ProjectFactory(lab=lab, created_by=lab_owner, status="in_progress", title="Radiology preferences")


@pytest.fixture
def contract(project, lab, vendor, vendor_manager):
    return ContractFactory(project=project, lab=lab, supplier=vendor)


@pytest.fixture
def annotators(contract):
    """Three experts actively assigned to the contract, with handles ex-ann-0, -1, -2."""
    experts = []
    for i in range(3):
        user = UserFactory(email=f"annotator{i}@northwind.test", full_name=f"Annotator Number{i}")
        AssignmentFactory(contract=contract, expert=user)
        user.expert_profile.handle = f"ex-ann-{i}"
        user.expert_profile.save(update_fields=["handle"])
        experts.append(user)
    return experts


def judgment(item_id, annotator, label="A", **extra):
    row = {"item_id": item_id, "annotator": str(annotator.public_id), "label": label, "displayed_order": "AB"}
    row.update(extra)
    return row


def jsonl(rows) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows).encode()


def good_rows(annotators, items=2):
    labels = ["A", "B", "tie"]
    return [
        judgment(f"item-{i}", a, labels[(i + j) % 3], seconds_spent=30 + i)
        for i in range(items)
        for j, a in enumerate(annotators)
    ]


def upload_url(contract) -> str:
    return reverse("work:batch_upload", args=[contract.public_id])


def batch_url(batch) -> str:
    return f"/work/batches/{batch.public_id}/"


def post_upload(client, contract, content: bytes, *, name="batch.jsonl", key="key-1", units=6, **overrides):
    data = {
        "upload": SimpleUploadedFile(name, content, content_type="application/octet-stream"),
        "fmt": "auto",
        "unit_count": str(units),
        "client_batch_key": key,
        **PERIOD,
    }
    data.update(overrides)
    return client.post(upload_url(contract), data)


@pytest.fixture
def batch(contract, vendor, vendor_manager, annotators):
    """Submitted through the service: 2 items x 3 annotators = 6 judgments, 6 units."""
    import io

    return services.batch_submit(
        actor=vendor_manager, organization=vendor, contract=contract, client_batch_key="seed-1",
        period_start=date(2025, 3, 1), period_end=date(2025, 3, 7), unit_count=6,
        upload=io.BytesIO(jsonl(good_rows(annotators))), fmt="jsonl",
    )  # fmt: skip


@pytest.fixture
def rejected(batch, lab_admin):
    return services.batch_reject(
        actor=lab_admin, batch=batch, reason="guideline_violation", evidence="Items 0 and 1 ignore rule 3."
    )


@pytest.fixture
def appealed(rejected, vendor, vendor_manager):
    services.appeal_open(
        actor=vendor_manager, organization=vendor, batch=rejected, reason="Rule 3 was added after delivery."
    )
    rejected.refresh_from_db()
    return rejected


def section(page: str, element_id: str) -> str:
    """The HTML from the start tag of the element with ``element_id`` to the end of the page."""
    marker = f'id="{element_id}"'
    assert marker in page, f"no #{element_id} on the page"
    return page[page.rindex("<", 0, page.index(marker)) :]


def status_of(batch) -> str:
    return WorkBatch.objects.get(pk=batch.pk).status


__all__ = ["text"]
