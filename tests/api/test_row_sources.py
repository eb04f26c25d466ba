"""List pages rendered from ``.values()`` rows (``apps/api/rows.py``) equal the output serializers'
field-by-field rendering, byte for byte, on varied rows (nulls, blanks, several guideline versions,
invited suppliers of both kinds, both audiences, two time zones)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from apps.accounts.roles import OrgKind
from apps.api.rows import render_decimal
from apps.api.v1.projects.serializers import ProjectRows, ProjectSerializer
from apps.projects.models import GuidelineVersion, Project
from apps.projects.selectors import _with_relations
from tests.api.row_checks import assert_rows_render_as_serializer
from tests.factories import BidFactory, OrganizationFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def _projects():
    vendor = OrganizationFactory(kind=OrgKind.VENDOR, name="Acme Labelling")
    person = OrganizationFactory(kind=OrgKind.INDIVIDUAL, name="Dr Jane Doe")
    # Names whose order differs between code points and a linguistic collation: the list must follow the
    # database's order as the serializer does.
    lower = OrganizationFactory(kind=OrgKind.VENDOR, name="acme annotations")
    full = ProjectFactory(published=True, invited=[vendor, person, lower], show_bid_count=True)
    v2 = GuidelineVersion.objects.create(project=full, number=2, body_markdown="v2", body_html="<p>v2</p>")
    Project.objects.filter(pk=full.pk).update(current_guideline=v2)
    BidFactory(project=full)
    BidFactory(project=full, status="withdrawn")
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
    return _with_relations(Project.objects.filter(lab=full.lab)).order_by("-created_at", "-id")


@pytest.mark.parametrize("zone", ["UTC", "America/St_Johns"])
@pytest.mark.parametrize("lab_view", [True, False])
def test_project_rows_render_as_the_serializer(lab_view, zone):
    with timezone.override(zone):
        reference = assert_rows_render_as_serializer(
            ProjectRows(), _projects(), ProjectSerializer, {"lab_view": lab_view}
        )
    assert len(reference) == 3
    full = reference[-1]
    assert full["current_guideline"]["number"] == 2
    assert full["bid_count"] == 1
    assert ("invited_organizations" in full) is lab_view
    if lab_view:
        assert len(full["invited_organizations"]) == 3
    assert full["created_at"].endswith("Z") is (zone == "UTC")


def test_a_published_guideline_becomes_the_projects_current_one(lab, lab_admin):
    from apps.projects.services import guideline_publish

    project = ProjectFactory(lab=lab)
    v2 = guideline_publish(actor=lab_admin, project=project, body_markdown="# v2", change_summary="Ties.")
    project.refresh_from_db()
    assert project.current_guideline == v2 and v2.number == 2


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [(Decimal("2.4000"), 4, "2.4000"), (Decimal("2.4"), 4, "2.4000"), (Decimal("7"), 4, "7.0000"),
     (Decimal("-0.50000"), 4, "-0.5000"), (Decimal("1.23456"), 4, "1.2346"), (Decimal("0E-10"), 2, "0.00")],
)  # fmt: skip
def test_render_decimal_formats_as_drf(value, places, text):
    from rest_framework import serializers

    assert render_decimal(value, places) == text
    assert serializers.DecimalField(max_digits=None, decimal_places=places).to_representation(value) == text


def test_render_uuid_accepts_each_form_a_row_or_json_list_gives():
    import uuid

    from apps.api.rows import render_uuid

    value = uuid.UUID("6f1c2a52-7d0e-4b8a-9c55-2f7d8f0e3a11")
    assert render_uuid(value) == render_uuid(value.hex) == render_uuid(str(value)) == str(value)
    assert render_uuid(None) is None
