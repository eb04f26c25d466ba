"""Quality fixtures: a contract between the persona lab and vendor, experts assigned to it, and
``make_batch`` that writes a batch and its judgments directly (bulk rows, as an upload would)."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.work.models import GoldItem, Judgment, WorkBatch
from tests.factories import AssignmentFactory, ContractFactory, ProjectFactory, UserFactory

LABELS = ["A", "B", "tie"]


@pytest.fixture
def project(lab, lab_admin):
    return ProjectFactory(lab=lab, created_by=lab_admin, status="in_progress", title="Radiology preferences")


@pytest.fixture
def contract(project, lab, vendor, vendor_manager):
    """Active; labels A, B, tie; SLA minimum gold accuracy 0.80; default quality-pay bands."""
    return ContractFactory(project=project, lab=lab, supplier=vendor, terms={"sla_min_gold_accuracy": Decimal("0.8")})


@pytest.fixture
def annotators(contract, expert):
    """Four experts on the contract: the persona ``expert`` (a vendor member) first, three more."""
    AssignmentFactory(contract=contract, expert=expert)
    return [expert] + [AssignmentFactory(contract=contract, expert=UserFactory()).expert for _ in range(3)]


_keys = iter(range(10**9))


def make_batch(contract, rows, *, created_at=None, guideline_version=None) -> WorkBatch:
    """rows: (item_id, annotator user, label text[, displayed_order, seconds_spent])."""
    terms = contract.current_version
    batch = WorkBatch.objects.create(
        contract=contract,
        contract_version=terms,
        client_batch_key=f"b-{next(_keys)}",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 1, 7),
        unit_count=max(len(rows), 1),
        judgment_count=len(rows),
        guideline_version=guideline_version or contract.project.guideline_versions.order_by("-number").first(),
        content_sha256=hashlib.sha256(repr(rows).encode()).hexdigest(),
        review_due_at=timezone.now() + timedelta(days=5),
    )
    if created_at is not None:
        WorkBatch.objects.filter(pk=batch.pk).update(created_at=created_at)
        batch.refresh_from_db()
    Judgment.objects.bulk_create(
        Judgment(
            batch=batch,
            item_id=row[0],
            annotator=row[1],
            label=terms.label_set.index(row[2]),
            displayed_order=row[3] if len(row) > 3 else None,
            seconds_spent=row[4] if len(row) > 4 else None,
        )
        for row in rows
    )
    return batch


def set_gold(project, answers: dict[str, str]) -> None:
    for item_id, answer in answers.items():
        GoldItem.objects.update_or_create(project=project, item_id=item_id, defaults={"answer": answer})


def gold_rows(annotator, n_correct: int, n_wrong: int, prefix: str = "g") -> tuple[list, dict]:
    """Judgments of ``annotator`` on gold items (answer "A"): n_correct say A, n_wrong say B."""
    rows, gold = [], {}
    for i in range(n_correct + n_wrong):
        item = f"{prefix}-{i}"
        gold[item] = "A"
        rows.append((item, annotator, "A" if i < n_correct else "B"))
    return rows, gold
