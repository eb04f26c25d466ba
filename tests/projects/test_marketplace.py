"""Who sees which project: the lab its own, suppliers the public and invited ones; marketplace filters."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.core.errors import NotFound, PermissionDenied, ValidationFailed
from apps.projects.selectors import MarketplaceFilter, project_get, project_list_for_lab, project_marketplace_list
from tests.factories import ProjectFactory


def titles(qs) -> set[str]:
    return {p.title for p in qs}


def browse(actor, organization, **filters):
    return titles(
        project_marketplace_list(actor=actor, organization=organization, filters=MarketplaceFilter(**filters))
    )


@pytest.fixture
def world(lab, domains, vendor, individual):
    """One project of the persona lab in each interesting visibility state."""
    make = lambda title, **kw: ProjectFactory(lab=lab, domain=domains.radiology, title=title, **kw)  # noqa: E731
    return {
        "public": make("public", published=True),
        "draft": make("draft"),
        "invites-vendor": make("invites-vendor", published=True, visibility="invited", invited=[vendor]),
        "invites-individual": make("invites-individual", published=True, visibility="invited", invited=[individual]),
        "closed": make("closed", status="bidding_closed", published_at=timezone.now()),
        "cancelled": make("cancelled", status="cancelled", published_at=timezone.now()),
    }


# --- visibility -----------------------------------------------------------------------------------------


def test_a_vendor_sees_open_public_projects_and_those_it_is_invited_to(world, vendor, expert):
    assert browse(expert, vendor) == {"public", "invites-vendor"}


def test_an_independent_expert_sees_open_public_projects_and_its_invitations(world, individual, independent):
    assert browse(independent, individual) == {"public", "invites-individual"}


def test_closed_projects_show_only_when_asked_and_drafts_never(world, vendor, vendor_manager):
    assert browse(vendor_manager, vendor, include_closed=True) == {"public", "invites-vendor", "closed", "cancelled"}


def test_a_lab_cannot_browse_the_marketplace(world, outsider, lab, lab_owner):
    other_lab = outsider.memberships.get().organization

    for actor, organization in ((outsider, other_lab), (lab_owner, lab)):
        with pytest.raises(PermissionDenied):
            project_marketplace_list(actor=actor, organization=organization)


def test_a_lab_never_gets_another_lab_s_project(world, outsider):
    other_lab = outsider.memberships.get().organization

    for project in world.values():
        with pytest.raises(NotFound):
            project_get(actor=outsider, organization=other_lab, public_id=project.public_id)


def test_the_lab_sees_all_of_its_projects_including_drafts(world, lab, lab_member):
    assert titles(project_list_for_lab(actor=lab_member, lab=lab)) == set(world)
    assert titles(project_list_for_lab(actor=lab_member, lab=lab, status="draft")) == {"draft"}
    assert project_get(actor=lab_member, organization=lab, public_id=world["draft"].public_id) == world["draft"]


def test_a_supplier_gets_a_visible_project_and_not_found_for_the_rest(world, vendor, expert):
    assert project_get(actor=expert, organization=vendor, public_id=world["public"].public_id) == world["public"]
    assert project_get(actor=expert, organization=vendor, public_id=world["closed"].public_id) == world["closed"]
    for key in ("draft", "invites-individual"):
        with pytest.raises(NotFound):
            project_get(actor=expert, organization=vendor, public_id=world[key].public_id)
    for bad in ("not-a-uuid", None):
        with pytest.raises(NotFound):
            project_get(actor=expert, organization=vendor, public_id=bad)
    with pytest.raises(NotFound):
        project_get(actor=expert, organization=None, public_id=world["public"].public_id)


def test_a_vendor_may_not_list_a_lab_s_projects(world, lab, vendor_manager):
    with pytest.raises(NotFound):
        project_list_for_lab(actor=vendor_manager, lab=lab)


# --- filters --------------------------------------------------------------------------------------------


@pytest.fixture
def catalogue(lab, domains):
    now = timezone.now()
    make = lambda title, **kw: ProjectFactory(lab=lab, title=title, published=True, **kw)  # noqa: E731
    return [
        make("radiology-usd", domain=domains.radiology, task_type="rating", budget_cap_minor=500_000,
             bid_deadline=now + timedelta(days=3)),
        make("medicine-eur", domain=domains.medicine, task_type="preference_comparison", currency="EUR",
             budget_cap_minor=1_200_000, bid_deadline=now + timedelta(days=10)),
        make("law-jpy", domain=domains.law, task_type="red_teaming", currency="JPY", budget_cap_minor=900_000,
             bid_deadline=now + timedelta(days=20)),
    ]  # fmt: skip


def test_the_task_type_filter(catalogue, vendor, expert):
    assert browse(expert, vendor, task_type="red_teaming") == {"law-jpy"}


def test_a_domain_filter_includes_its_sub_domains(catalogue, vendor, expert):
    assert browse(expert, vendor, domain="medicine") == {"radiology-usd", "medicine-eur"}
    assert browse(expert, vendor, domain="radiology") == {"radiology-usd"}


def test_an_unknown_domain_filter_is_refused_naming_domain(catalogue, vendor, expert):
    with pytest.raises(ValidationFailed) as exc:
        browse(expert, vendor, domain="astrology")

    assert list(exc.value.details) == ["domain"]


@pytest.mark.parametrize(
    ("min_budget", "expected"),
    [
        # 5,000 USD is 500,000 cents; 12,000 EUR 1,200,000 cents; 900,000 JPY has no minor unit
        (Decimal("5000"), {"radiology-usd", "medicine-eur", "law-jpy"}),
        (Decimal("5000.01"), {"medicine-eur", "law-jpy"}),
        (Decimal("12000"), {"medicine-eur", "law-jpy"}),
        (Decimal("900000"), {"law-jpy"}),
        (Decimal("900001"), set()),
    ],
)
def test_the_minimum_budget_compares_in_each_project_s_currency(catalogue, vendor, expert, min_budget, expected):
    assert browse(expert, vendor, min_budget=min_budget) == expected


def test_the_deadline_before_filter(catalogue, vendor, expert):
    cutoff = timezone.now() + timedelta(days=11)

    assert browse(expert, vendor, deadline_before=cutoff) == {"radiology-usd", "medicine-eur"}


def test_filters_combine_and_the_soonest_deadline_comes_first(catalogue, vendor, expert):
    listed = project_marketplace_list(actor=expert, organization=vendor, filters=MarketplaceFilter(domain="medicine"))

    assert [p.title for p in listed] == ["radiology-usd", "medicine-eur"]
    assert browse(expert, vendor, domain="medicine", task_type="rating", min_budget=Decimal("100")) == {"radiology-usd"}
