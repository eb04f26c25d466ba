"""Projects and bidding API helpers: complete projects built through the services, roster experts,
a rival vendor and an independent expert, all as personas next to those of ``tests/conftest.py``."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.accounts.roles import OrgKind, Role
from apps.bidding import services as bidding_services
from apps.experts.models import RosterEntry
from apps.projects import services
from tests.factories import DomainFactory, ExpertProfileFactory, OrganizationFactory, RosterEntryFactory, member

GUIDELINES = "# How to compare\n\nPrefer the answer a radiologist would sign."


@pytest.fixture
def domain(db):
    return DomainFactory(slug="radiology", name="Radiology")


def project_fields(default_domain, **overrides):
    deadline = timezone.now() + timedelta(days=7)
    fields = {
        "title": "Chest CT preference pairs",
        "description": "Compare two model reports of the same chest CT.",
        "task_type": "preference_comparison",
        "domain": default_domain.slug,
        "unit_name": "comparison",
        "volume": 1000,
        "currency": "USD",
        "budget_cap": Decimal("5000.00"),
        "target_unit_price": Decimal("3.5000"),
        "sla_min_gold_accuracy": Decimal("0.8500"),
        "sla_max_turnaround_days": 7,
        "bid_deadline": deadline,
        "starts_on": deadline.date() + timedelta(days=1),
        "ends_on": deadline.date() + timedelta(days=60),
    }
    fields.update(overrides)
    return fields


@pytest.fixture
def make_project(lab, lab_admin, domain):
    """A project of ``lab`` built through the services: a complete draft with guidelines v1, published
    unless ``publish=False``."""

    def make(*, publish=True, guidelines=GUIDELINES, invited=None, **overrides):
        if invited is not None:
            overrides.setdefault("visibility", "invited")
            overrides["invited_organizations"] = [str(o.public_id) for o in invited]
        project = services.project_create(actor=lab_admin, lab=lab, **project_fields(domain, **overrides))
        if guidelines:
            services.guideline_publish(actor=lab_admin, project=project, body_markdown=guidelines)
        if publish:
            services.project_publish(actor=lab_admin, project=project)
        project.refresh_from_db()
        return project

    return make


@pytest.fixture
def project(make_project):
    return make_project()


def roster_expert(vendor, email, handle=None):
    """A user with an expert profile, active on ``vendor``'s roster."""
    entry = RosterEntryFactory(vendor=vendor, user__email=email, status=RosterEntry.Status.ACTIVE)
    profile = ExpertProfileFactory(user=entry.user, **({"handle": handle} if handle else {}))
    return profile.user


@pytest.fixture
def team(vendor, vendor_manager):
    return [roster_expert(vendor, "rad1@northwind.test"), roster_expert(vendor, "rad2@northwind.test")]


@pytest.fixture
def rival(db):
    return OrganizationFactory(name="Rival Labelling", slug="rival", kind=OrgKind.VENDOR)


@pytest.fixture
def rival_manager(rival):
    return member(rival, Role.MANAGER, email="manager@rival.test")


@pytest.fixture
def rival_team(rival, rival_manager):
    return [roster_expert(rival, "rad@rival.test")]


@pytest.fixture
def independent(db):
    """An independent expert: the owner of a single-member ``individual`` organisation named after them."""
    organization = OrganizationFactory(name="Dr Ida Secret", slug="ida", kind=OrgKind.INDIVIDUAL)
    user = member(organization, Role.OWNER, email="ida@secret.test", full_name="Dr Ida Secret")
    ExpertProfileFactory(user=user)
    return user


def terms(**overrides):
    today = timezone.localdate()
    body = {
        "unit_price": "2.4000",
        "volume": 600,
        "weekly_capacity": 150,
        "starts_on": str(today + timedelta(days=10)),
        "ends_on": str(today + timedelta(days=50)),
        "proposal": "Board-certified radiologists, double review.",
    }
    body.update(overrides)
    return body


def submit(user, organization, project, team=None, **overrides):
    """A bid through the service (not the API)."""
    body = terms(**overrides)
    body.pop("proposal", None)
    return bidding_services.bid_submit(
        actor=user,
        organization=organization,
        project=project,
        team=[str(u.public_id) for u in team or []],
        unit_price=Decimal(body["unit_price"]),
        volume=body["volume"],
        weekly_capacity=body["weekly_capacity"],
        starts_on=date.fromisoformat(body["starts_on"]),
        ends_on=date.fromisoformat(body["ends_on"]),
    )


def close(project, lab_admin):
    bidding_services.project_close_bidding(actor=lab_admin, project=project)
    project.refresh_from_db()
    return project
