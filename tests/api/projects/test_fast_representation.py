"""The fast ``ProjectSerializer`` rendering equals DRF's field-by-field one, byte for byte, on varied rows
(nulls, blanks, several guideline versions, invited suppliers of both kinds, both audiences)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from apps.accounts.roles import OrgKind
from apps.api.v1.projects.serializers import ProjectSerializer
from apps.api.v1.projects.views import with_bid_counts
from apps.projects.models import GuidelineVersion, Project
from apps.projects.selectors import _with_relations
from tests.factories import BidFactory, OrganizationFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def _rows():
    vendor = OrganizationFactory(kind=OrgKind.VENDOR, name="Acme Labelling")
    person = OrganizationFactory(kind=OrgKind.INDIVIDUAL, name="Dr Jane Doe")
    full = ProjectFactory(published=True, invited=[vendor, person], show_bid_count=True)
    GuidelineVersion.objects.create(project=full, number=2, body_markdown="v2", body_html="<p>v2</p>")
    BidFactory(project=full)
    ProjectFactory(
        lab=full.lab,
        guidelines=False,
        task_type="",
        unit_name="",
        domain=None,
        required_credential_types=[],
        volume=None,
        budget_cap_minor=None,
        target_unit_price=None,
        sla_min_gold_accuracy=None,
        sla_min_alpha=Decimal("-0.5"),
        sla_max_turnaround_days=None,
        bid_deadline=None,
        starts_on=None,
        ends_on=None,
        description="",
    )
    ProjectFactory(lab=full.lab, currency="JPY", budget_cap_minor=123456, target_unit_price=Decimal("7"))
    return list(
        with_bid_counts(_with_relations(Project.objects.filter(lab=full.lab)).prefetch_related("invited_organizations"))
    )


@pytest.mark.parametrize("zone", ["UTC", "America/St_Johns"])
@pytest.mark.parametrize("lab_view", [True, False])
def test_fast_path_renders_the_same_json(lab_view, zone):
    rows = _rows()
    assert len(rows) == 3
    with timezone.override(zone):
        many = ProjectSerializer(rows, many=True, context={"lab_view": lab_view})
        fast = many.data
        reference = [many.child.declared_representation(row) for row in rows]
    assert JSONRenderer().render(fast) == JSONRenderer().render(reference)
    assert ("invited_organizations" in fast[0]) is lab_view
    assert fast[0]["created_at"].endswith("Z") is (zone == "UTC")


def test_fast_path_without_annotation_counts_bids():
    project = _rows()[0]
    plain = Project.objects.select_related("lab", "domain").get(pk=project.pk)
    serializer = ProjectSerializer(plain, context={"lab_view": True})
    assert serializer.data == serializer.declared_representation(plain)


# --- bids ---------------------------------------------------------------------------------------------------


def _bids():
    from apps.api.v1.bidding.views import with_team
    from apps.bidding.models import Award, AwardAllocation, Bid
    from apps.bidding.selectors import _bid_relations
    from tests.factories import UserFactory

    project = ProjectFactory(published=True, currency="EUR", volume=777)
    awarded = BidFactory(project=project, unit_price=Decimal("2.3333"), status="awarded")
    award = Award.objects.create(project=project, total_minor=181297, currency="EUR")
    AwardAllocation.objects.create(
        award=award, bid=awarded, volume=777, unit_price=Decimal("2.3333"), amount_minor=181297
    )
    person = OrganizationFactory(kind=OrgKind.INDIVIDUAL, name="Dr Jane Doe")
    BidFactory(project=project, bidder=person, team=[UserFactory()], status_reason="", proposal="")
    BidFactory(project=project, team=[], status="withdrawn", status_reason="Too busy.")
    return list(with_team(_bid_relations(Bid.objects.filter(project=project))))


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata"])
def test_bid_fast_path_renders_the_same_json(zone):
    from apps.api.v1.bidding.serializers import BidSerializer

    rows = _bids()
    assert len(rows) == 3
    with timezone.override(zone):
        many = BidSerializer(rows, many=True)
        reference = [many.child.declared_representation(row) for row in rows]
        fast = many.data
    assert JSONRenderer().render(fast) == JSONRenderer().render(reference)
    assert {row["allocation"] is None for row in reference} == {True, False}


def test_bid_detail_keeps_its_revisions():
    from apps.api.v1.bidding.serializers import BidDetailSerializer
    from apps.bidding.models import Bid

    bid = _bids()[0]
    revisions = list(bid.revisions.all())
    serializer = BidDetailSerializer(Bid.objects.get(pk=bid.pk), context={"revisions": revisions})
    assert serializer.data == serializer.declared_representation(Bid.objects.get(pk=bid.pk))
    assert list(serializer.data)[-1] == "revisions" and len(serializer.data["revisions"]) == len(revisions)


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
