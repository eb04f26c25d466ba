"""Projects and bidding page fixtures: a small domain taxonomy, complete projects made through the
services, a vendor roster, a rival vendor and an independent expert who bid."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.accounts import services as account_services
from apps.accounts.roles import OrgKind, Role
from apps.bidding import services as bidding_services
from apps.experts.models import Domain, RosterEntry
from apps.projects import services as project_services
from tests.factories import ExpertProfileFactory, OrganizationFactory, RosterEntryFactory, UserFactory, member

GUIDELINES = "# Guidelines\n\nPrefer the report that is **clinically correct**."


@pytest.fixture
def domains(db):
    medicine = Domain.objects.create(slug="medicine", name="Medicine", path="medicine")
    radiology = Domain.objects.create(slug="radiology", name="Radiology", parent=medicine, path="medicine/radiology")
    law = Domain.objects.create(slug="law", name="Law", path="law")
    return {d.slug: d for d in (medicine, radiology, law)}


def complete_fields(**overrides) -> dict:
    """Every field a project needs to be published (through the service, as the form sends it)."""
    deadline = overrides.pop("bid_deadline", None) or timezone.now() + timedelta(days=14)
    fields = {
        "title": "Radiology report preferences",
        "description": "Pairwise preferences between two draft radiology reports for the same study.",
        "task_type": "preference_comparison",
        "domain": "radiology",
        "required_credential_types": ["board_certification"],
        "unit_name": "comparison",
        "volume": 1000,
        "currency": "USD",
        "budget_cap": "5000.00",
        "target_unit_price": "2.5000",
        "sla_min_gold_accuracy": "0.8000",
        "sla_min_alpha": "0.6000",
        "sla_max_turnaround_days": 3,
        "bid_deadline": deadline,
        "starts_on": deadline.date() + timedelta(days=7),
        "ends_on": deadline.date() + timedelta(days=67),
        "visibility": "public",
    }
    fields.update(overrides)
    return fields


@pytest.fixture
def make_project(lab, lab_owner, domains):
    """A complete project of the lab with guidelines v1; open unless ``publish=False``."""

    def make(*, publish=True, guidelines=GUIDELINES, **overrides):
        project = project_services.project_create(actor=lab_owner, lab=lab, **complete_fields(**overrides))
        if guidelines:
            project_services.guideline_publish(actor=lab_owner, project=project, body_markdown=guidelines)
        if publish:
            project_services.project_publish(actor=lab_owner, project=project)
        project.refresh_from_db()
        return project

    return make


@pytest.fixture
def roster_expert(vendor, vendor_manager):
    """An expert active on the vendor's roster, with a profile (and so a handle)."""
    user = UserFactory(email="amara@experts.test", full_name="Dr Amara Okafor")
    ExpertProfileFactory(user=user)
    RosterEntryFactory(vendor=vendor, user=user, status=RosterEntry.Status.ACTIVE)
    return user


@pytest.fixture
def rival(db):
    """A second vendor: its manager and an active roster expert."""
    org = OrganizationFactory(name="Southwind Labelling", slug="southwind", kind=OrgKind.VENDOR)
    manager = member(org, Role.MANAGER, email="manager@southwind.test")
    expert = UserFactory(email="bo@southwind.test", full_name="Bo Rival")
    ExpertProfileFactory(user=expert)
    RosterEntryFactory(vendor=org, user=expert, status=RosterEntry.Status.ACTIVE)
    return {"org": org, "manager": manager, "expert": expert}


@pytest.fixture
def independent(db):
    user = UserFactory(email="solo@expert.test", full_name="Dr Ada Solo")
    org = account_services.organization_create(actor=user, name="Dr Ada Solo", kind=OrgKind.INDIVIDUAL)
    ExpertProfileFactory(user=user)
    return {"org": org, "user": user}


def bid_terms(project, **overrides) -> dict:
    terms = {
        "unit_price": Decimal("2.0000"),
        "volume": 600,
        "weekly_capacity": 150,
        "starts_on": project.starts_on,
        "ends_on": project.ends_on,
        "proposal": "Board-certified radiologists, double-read.",
    }
    terms.update(overrides)
    return terms


@pytest.fixture
def place_bid():
    """Submit a bid through the service, as the page does."""

    def place(*, actor, organization, project, team=None, **overrides):
        return bidding_services.bid_submit(
            actor=actor, organization=organization, project=project, team=team, **bid_terms(project, **overrides)
        )

    return place


def main_html(page: str) -> str:
    return page[page.index("<main") : page.index("</main>")]
