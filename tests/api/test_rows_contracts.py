"""The contract list page rendered from ``.values()`` rows (``apps/api/rows.py``) equals
``ContractSerializer``'s field-by-field rendering, byte for byte: an active contract with an amendment
awaiting signatures, an unsigned contract without terms in force (and a blank ``status_reason``), a
terminated one with a reason, an independent expert supplier; for each audience (the lab, the supplier,
none) in two time zones."""

from __future__ import annotations

import pytest
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from apps.accounts.roles import OrgKind
from apps.api.v1.contracts.serializers import ContractRows, ContractSerializer
from apps.contracts import selectors
from apps.contracts.models import Contract, ContractVersion
from tests.api.row_checks import assert_rows_render_as_serializer
from tests.factories import ContractFactory, OrganizationFactory, member

pytestmark = pytest.mark.django_db


def _world():
    active = ContractFactory()
    current = active.current_version
    ContractVersion.objects.create(
        **{
            field.name: getattr(current, field.name)
            for field in ContractVersion._meta.concrete_fields
            if field.name not in ("id", "public_id", "created_at", "updated_at")
        }
        | {"number": 2, "status": "proposed", "change_summary": "Rate up."}
    )
    person = OrganizationFactory(kind=OrgKind.INDIVIDUAL, name="Dr Jane Doe")
    unsigned = ContractFactory(project=active.project, supplier=person, status="pending_signature")
    Contract.objects.filter(pk=unsigned.pk).update(current_version=None)
    ContractVersion.objects.filter(contract=unsigned).update(status="proposed", effective_from=None)
    terminated = ContractFactory(project=active.project, supplier=person, status="terminated")
    Contract.objects.filter(pk=terminated.pk).update(status_reason="Missed the SLA three times.")
    ContractFactory()  # another lab's, with another vendor: in no list below
    return active, person


def _contracts(organization):
    """The list's queryset for ``organization`` as the view reads it (the selector, newest first), with
    ``proposed_version`` set on each instance as the detail endpoints set it (from the versions): the
    serializer's reference (the row source annotates its own)."""
    actor = member(organization, "owner")
    proposed = ContractVersion.objects.filter(contract=OuterRef("pk"), status="proposed").order_by("number")
    return selectors.contract_list(actor=actor, organization=organization).annotate(
        proposed_version=Subquery(proposed.values("number")[:1])
    )


@pytest.mark.parametrize("zone", ["UTC", "America/St_Johns"])
@pytest.mark.parametrize("audience", ["lab", "supplier", "none"])
def test_contract_rows_render_as_the_serializer(audience, zone):
    active, person = _world()
    lab = active.lab
    # The lab's list, or the independent expert's; "none": the lab's contracts without an acting organisation.
    listed_for = person if audience == "supplier" else lab
    organization = {"lab": lab, "supplier": person, "none": None}[audience]
    with timezone.override(zone):
        reference = assert_rows_render_as_serializer(
            ContractRows(), _contracts(listed_for), ContractSerializer, {"organization": organization}
        )
    assert len(reference) == (2 if audience == "supplier" else 3)
    assert {row["side"] for row in reference} == {{"lab": "lab", "supplier": "supplier", "none": None}[audience]}
    assert {row["current_version"] for row in reference} == {None, 1}
    assert {row["proposed_version"] for row in reference} == ({1, None} if audience == "supplier" else {1, 2, None})
    assert all(row["supplier"]["name"] is None for row in reference if row["supplier"]["kind"] == "individual")
    assert {row["status_reason"] for row in reference} == {"", "Missed the SLA three times."}
    assert reference[0]["created_at"].endswith("Z") is (zone == "UTC")


def test_the_vendors_list_shows_the_amendment_awaiting_signatures():
    active, _ = _world()
    reference = assert_rows_render_as_serializer(
        ContractRows(), _contracts(active.supplier), ContractSerializer, {"organization": active.supplier}
    )
    assert [(row["side"], row["current_version"], row["proposed_version"]) for row in reference] == [("supplier", 1, 2)]
    assert reference[0]["supplier"]["name"] == active.supplier.name
    # The row source's own annotation, on the keys of the selector's queryset as the view passes it.
    plain = selectors.contract_list(actor=member(active.supplier, "owner"), organization=active.supplier)
    rows = ContractRows().rows(list(ContractRows().keys(plain)), ContractRows().page_context({}))
    assert [row["proposed_version"] for row in rows] == [2]


def test_each_party_lists_exactly_its_contracts():
    """The selector reads one side's column by the organisation's kind: the same contracts as ``lab OR supplier``."""
    active, person = _world()
    for organization in (active.lab, active.supplier, person):
        either = Contract.objects.filter(lab=organization) | Contract.objects.filter(supplier=organization)
        assert list(_contracts(organization)) == list(either.order_by("-created_at", "-id"))
