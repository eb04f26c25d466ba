"""The batch list page rendered from ``.values()`` rows (``BatchRows``, ``apps/api/rows.py``) equals
``BatchSerializer``'s field-by-field rendering, byte for byte: batches in every review state (submitted,
accepted, partially accepted, auto-accepted, rejected, under appeal, overturned, upheld), with and
without an appeal, a reviewer, a guideline version; two contract versions (appeal windows); a vendor
and an individual supplier; for both parties, in two time zones, with the list's contract in the context
(as the view passes it) or not. Through the API, each item of the list equals the batch's detail (which
the serializer renders), and a page costs the same queries whatever its size."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from apps.accounts.roles import OrgKind, Role
from apps.api.v1.work.serializers import BatchRows, BatchSerializer
from apps.contracts.models import ContractVersion
from apps.projects.models import GuidelineVersion
from apps.work import selectors
from apps.work.models import Appeal, WorkBatch
from tests.api.row_checks import assert_rows_render_as_serializer
from tests.factories import ContractFactory, OrganizationFactory, member

pytestmark = pytest.mark.django_db

B = WorkBatch.Status
# Reviewed a few days before North American DST starts (2025-03-09): the appeal deadline crosses it.
REVIEWED = datetime(2025, 3, 5, 12, 30, 15, 123456, tzinfo=UTC)


def _batch(contract, version, key, **fields) -> WorkBatch:
    values = dict(
        contract=contract, contract_version=version, client_batch_key=key, period_start=date(2025, 3, 1),
        period_end=date(2025, 3, 7), unit_count=100, judgment_count=300, content_sha256="ab" * 32,
        review_due_at=REVIEWED + timedelta(days=5),
        guideline_version=contract.project.current_guideline,
    )  # fmt: skip
    values.update(fields)
    return WorkBatch.objects.create(**values)


def _world():
    """One contract with a vendor (v1 appeal window 7 days, v2 14 days) carrying a batch in each state, and
    one with an individual supplier (its name is never shown). Returns (contract, its parties' users)."""
    contract = ContractFactory()
    project, lab, vendor = contract.project, contract.lab, contract.supplier
    lab_admin = member(lab, Role.OWNER)
    vendor_manager = member(vendor, Role.OWNER)
    reviewer = member(lab, Role.ADMIN)
    v1 = contract.current_version
    v2 = ContractVersion.objects.create(
        contract=contract, number=2, status="effective", unit_rate=v1.unit_rate, currency=v1.currency,
        volume_cap=v1.volume_cap, budget_cap_minor=v1.budget_cap_minor, quality_pay=v1.quality_pay,
        label_set=v1.label_set, appeal_window_days=14, starts_on=v1.starts_on, ends_on=v1.ends_on,
        terms_hash="2" * 64,
    )  # fmt: skip
    g2 = GuidelineVersion.objects.create(project=project, number=2, body_markdown="v2", body_html="<p>v2</p>")
    review = {"reviewed_by": reviewer, "reviewed_at": REVIEWED}

    _batch(contract, v1, "submitted", guideline_version=None)
    _batch(contract, v1, "accepted", status=B.ACCEPTED, accepted_units=100, **review)
    _batch(contract, v2, "auto", status=B.ACCEPTED, accepted_units=100, auto_accepted=True, reviewed_at=REVIEWED)
    _batch(
        contract, v1, "partial", status=B.PARTIALLY_ACCEPTED, accepted_units=60, guideline_version=g2,
        rejection_reason="low_gold_accuracy", review_evidence="40 units below gold.", **review,
    )  # fmt: skip
    _batch(contract, v1, "rejected", status=B.REJECTED, rejection_reason="low_gold_accuracy",
           review_evidence="60% on gold.", **review)  # fmt: skip
    # Rejected with a reviewer since removed (SET_NULL), in v2 terms (14-day window).
    _batch(contract, v2, "rejected-v2", status=B.REJECTED, rejection_reason="low_gold_accuracy",
           review_evidence="", reviewed_at=REVIEWED)  # fmt: skip
    appealed = _batch(contract, v1, "appealed", status=B.APPEALED, rejection_reason="low_gold_accuracy",
                      review_evidence="Bad.", **review)  # fmt: skip
    Appeal.objects.create(batch=appealed, appealed_by=vendor_manager, reason="The guideline allows B.")
    overturned = _batch(contract, v2, "overturned", status=B.OVERTURNED, accepted_units=100,
                        rejection_reason="low_gold_accuracy", guideline_version=g2, **review)  # fmt: skip
    Appeal.objects.create(
        batch=overturned, appealed_by=vendor_manager, reason="Gold item 7 is wrong.", status="overturned",
        decision_reason="Gold item 7 was wrong.", decided_at=REVIEWED + timedelta(days=2, microseconds=1),
    )  # fmt: skip
    upheld = _batch(contract, v1, "upheld", status=B.UPHELD, rejection_reason="low_gold_accuracy",
                    guideline_version=None, **review)  # fmt: skip
    Appeal.objects.create(
        batch=upheld, reason="Please look again.", status="upheld", decision_reason="",
        decided_at=REVIEWED + timedelta(days=1),
    )  # fmt: skip

    person = OrganizationFactory(kind=OrgKind.INDIVIDUAL, name="Dr Jane Doe")
    individual = ContractFactory(project=project, supplier=person)
    _batch(individual, individual.current_version, "individual", status=B.REJECTED,
           rejection_reason="low_gold_accuracy", **review)  # fmt: skip
    return contract, individual, {"lab": (lab_admin, lab), "supplier": (vendor_manager, vendor)}


def _page(actor, organization, contract):
    """The list view's queryset: the scoped selector for one contract."""
    return selectors.batch_list(actor=actor, organization=organization, contract_id=contract.pk).select_related(
        "appeal"
    )


def _context(contract, given: bool) -> dict:
    """The list view's context (the contract, as the view read it), or none (the rows' keyed query)."""
    return {"contract": contract} if given else {}


@pytest.mark.parametrize("zone", ["UTC", "America/St_Johns"])
@pytest.mark.parametrize("audience", ["lab", "supplier"])
@pytest.mark.parametrize("contract_given", [True, False], ids=["contract-in-context", "no-context"])
def test_batch_rows_render_as_the_serializer(audience, zone, contract_given):
    contract, individual, parties = _world()
    actor, organization = parties[audience]
    with timezone.override(zone):
        reference = assert_rows_render_as_serializer(
            BatchRows(), _page(actor, organization, contract), BatchSerializer, _context(contract, contract_given)
        )
        if audience == "lab":
            alone = assert_rows_render_as_serializer(
                BatchRows(),
                _page(actor, organization, individual),
                BatchSerializer,
                _context(individual, contract_given),
            )
            assert alone[0]["supplier"]["kind"] == "individual" and alone[0]["supplier"]["name"] is None
    by_key = {item["client_batch_key"]: item for item in reference}
    assert len(by_key) == 9
    assert {item["status"] for item in reference} == set(B.values)
    assert by_key["submitted"]["guideline_version"] is None and by_key["submitted"]["appeal_due_at"] is None
    assert by_key["partial"]["guideline_version"] == 2 and by_key["partial"]["accepted_units"] == 60
    assert by_key["accepted"]["rejection_reason"] is None and by_key["accepted"]["appeal_due_at"] is None
    assert by_key["rejected"]["appeal_due_at"] and by_key["rejected"]["appeal"] is None
    assert by_key["rejected-v2"]["appeal_due_at"] != by_key["rejected"]["appeal_due_at"]
    assert by_key["appealed"]["appeal"]["status"] == "open" and by_key["appealed"]["appeal"]["decided_at"] is None
    assert by_key["overturned"]["appeal"]["decided_at"] and by_key["upheld"]["appeal"]["decision_reason"] == ""
    assert reference[0]["submitted_at"].endswith("Z") is (zone == "UTC")


@pytest.mark.parametrize("audience", ["lab", "supplier"])
def test_each_listed_batch_equals_its_detail(audience, api_as):
    contract, _, parties = _world()
    client = api_as(parties[audience][0])

    response = client.get(f"/api/v1/contracts/{contract.public_id}/batches/?page_size=4")
    items = response.json()["results"]
    following = client.get(response.json()["next"]).json()["results"]

    assert response.status_code == 200 and len(items) == 4 and len(following) == 4
    for item in items + following:
        assert client.get(f"/api/v1/batches/{item['id']}/").json() == item
    filtered = client.get(f"/api/v1/contracts/{contract.public_id}/batches/?status=rejected").json()["results"]
    assert {item["client_batch_key"] for item in filtered} == {"rejected", "rejected-v2"}


def test_rows_without_a_contract_in_the_context_read_the_page_contracts_in_one_query(django_assert_num_queries):
    contract, individual, parties = _world()
    actor, organization = parties["lab"]
    both = selectors.batch_list(actor=actor, organization=organization)
    context = BatchRows().page_context({})
    rows = BatchRows().rows(list(BatchRows().keys(both)), context)
    assert {row["contract_id"] for row in rows} == {contract.pk, individual.pk}

    with django_assert_num_queries(1):
        page = BatchRows().render_page(rows, context)

    assert [item["id"] for item in page] == [str(batch.public_id) for batch in both]
    assert_rows_render_as_serializer(BatchRows(), both, BatchSerializer, {})
