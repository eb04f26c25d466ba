"""Contract list pages rendered from rows equal the serializer's rendering (being converted; see apps/api/rows.py)."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from apps.accounts.roles import OrgKind
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


# --- contracts ----------------------------------------------------------------------------------------------


def _contracts():
    from apps.api.v1.contracts.views import with_proposed_number
    from apps.contracts.models import Contract, ContractVersion
    from tests.factories import ContractFactory

    active = ContractFactory()
    current = active.current_version
    ContractVersion.objects.create(
        **{
            field.name: getattr(current, field.name)
            for field in ContractVersion._meta.concrete_fields
            if field.name not in ("id", "public_id", "created_at", "updated_at")
        }
        | {"number": 2, "status": "proposed"}
    )
    person = OrganizationFactory(kind=OrgKind.INDIVIDUAL, name="Dr Jane Doe")
    unsigned = ContractFactory(project=active.project, supplier=person, status="pending_signature")
    Contract.objects.filter(pk=unsigned.pk).update(current_version=None, status_reason="")
    rows = with_proposed_number(
        Contract.objects.filter(lab=active.lab).select_related("project", "lab", "supplier", "current_version")
    )
    return active, person, list(rows)


@pytest.mark.parametrize("audience", ["lab", "supplier", None])
def test_contract_fast_path_renders_the_same_json(audience):
    from apps.api.v1.contracts.serializers import ContractSerializer

    active, person, rows = _contracts()
    organization = {"lab": active.lab, "supplier": person, None: None}[audience]
    with timezone.override("Europe/Berlin"):
        many = ContractSerializer(rows, many=True, context={"organization": organization})
        fast = many.data
        reference = [many.child.declared_representation(row) for row in rows]
    assert JSONRenderer().render(fast) == JSONRenderer().render(reference)
    assert {row["current_version"] for row in reference} == {1, None}
    assert {row["proposed_version"] for row in reference} == {2, None}
