"""The quality score list rendered from ``.values()`` rows (``apps/api/rows.py``) equals
``ScoreSnapshotSerializer``'s field-by-field rendering, byte for byte: the contract, supplier (per guideline
version), expert and batch snapshots of a real scoring run, an incremental batch run, and hand-written rows
with every nullable figure null (no guideline version, an expert without a profile, a batch deleted since,
an independent expert supplier, whose name is never shown); for each audience (the lab, the supplier, a
vendor's expert, operations) in two time zones, and through the endpoint with each ordering."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from apps.accounts.roles import OrgKind, Role, StaffRole
from apps.api.v1.quality.serializers import SCORE_ORDERINGS, ScoreRows, ScoreSnapshotSerializer
from apps.quality import reads, selectors, services
from apps.quality.models import ScoreSnapshot, ScoringRun, SubjectKind
from tests.api.row_checks import assert_rows_render_as_serializer
from tests.factories import (
    AssignmentFactory,
    ContractFactory,
    OrganizationFactory,
    ProjectFactory,
    UserFactory,
    member,
)
from tests.quality.conftest import gold_rows, make_batch, set_gold

pytestmark = pytest.mark.django_db


def _world():
    """A scored contract between a lab and a vendor, an incremental batch run on it, and a second
    contract of the same lab with an independent expert whose rows were written by hand with nulls."""
    lab = OrganizationFactory(kind=OrgKind.LAB, name="Acme AI Lab")
    vendor = OrganizationFactory(kind=OrgKind.VENDOR, name="Northwind Annotation")
    owner = member(lab, Role.OWNER)
    manager = member(vendor, Role.OWNER)
    expert = member(vendor, Role.EXPERT)
    project = ProjectFactory(lab=lab, created_by=owner, status="in_progress")
    contract = ContractFactory(project=project, lab=lab, supplier=vendor)
    AssignmentFactory(contract=contract, expert=expert)
    others = [AssignmentFactory(contract=contract, expert=UserFactory()).expert for _ in range(2)]
    rows, gold = gold_rows(expert, 8, 2)
    rows += [("clear-1", expert, "A"), ("clear-1", others[0], "A"), ("clear-1", others[1], "B")]
    rows += [("clear-2", expert, "B", 0, 12.5), ("clear-2", others[0], "B", 1, 30.0)]
    set_gold(project, gold)
    make_batch(contract, rows)
    services.score_contract(contract=contract)
    services.score_batch(make_batch(contract, [("clear-3", expert, "A"), ("clear-3", others[1], "A")]))

    person = OrganizationFactory(kind=OrgKind.INDIVIDUAL, name="Dr Jane Doe")
    solo = ContractFactory(project=ProjectFactory(lab=lab, created_by=owner, status="in_progress"), supplier=person)
    run = ScoringRun.objects.create(kind="full", scope="contract", contract=solo)
    common = {"run": run, "contract": solo, "project_id": solo.project_id, "supplier": person, "lab": lab}
    ScoreSnapshot.objects.create(subject_kind=SubjectKind.CONTRACT, algorithm_version="v0", **common)
    ScoreSnapshot.objects.create(
        subject_kind=SubjectKind.EXPERT,
        expert=UserFactory(),  # no expert profile: no handle
        algorithm_version="v0",
        task_type="pairwise",
        incremental=True,
        window_start=datetime(2026, 1, 1, 12, 30, 15, 123456, tzinfo=UTC),
        window_end=datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC),
        **common,
    )
    ScoreSnapshot.objects.create(subject_kind=SubjectKind.BATCH, batch_id=987654, algorithm_version="v0", **common)
    ContractFactory()  # another lab's, with another vendor: in no list below
    return {
        "lab": lab,
        "vendor": vendor,
        "person": person,
        "person_owner": member(person, Role.OWNER),
        "owner": owner,
        "manager": manager,
        "expert": expert,
    }


def _caller(world, audience):
    if audience == "operations":
        return UserFactory(staff_role=StaffRole.OPERATIONS), None
    return {
        "lab": (world["owner"], world["lab"]),
        "supplier": (world["manager"], world["vendor"]),
        "individual": (world["person_owner"], world["person"]),
        "expert": (world["expert"], world["vendor"]),
    }[audience]


def _scores(world, audience, *, party_column=True):
    """The list's queryset for ``audience``: the selector's (each party on its snapshot column), or with
    ``party_column=False`` the same scope through the contracts ("the contract's lab or supplier")."""
    actor, organization = _caller(world, audience)
    scores = selectors.scores(actor=actor, organization=organization)
    if party_column or audience in ("expert", "operations"):  # own expert rows / everything: no party scope
        return scores
    through_contracts = reads._visible_contracts_q(actor, organization)
    return ScoreSnapshot.objects.filter(through_contracts).order_by("-created_at", "-id")


@pytest.mark.parametrize("zone", ["UTC", "America/St_Johns"])
@pytest.mark.parametrize("audience", ["lab", "supplier", "individual", "expert", "operations"])
def test_score_rows_render_as_the_serializer(audience, zone):
    world = _world()
    with timezone.override(zone):
        reference = assert_rows_render_as_serializer(ScoreRows(), _scores(world, audience), ScoreSnapshotSerializer, {})
    kinds = {row["subject_kind"] for row in reference}
    if audience == "expert":
        assert kinds == {"expert"} and reference
        return
    if audience == "individual":
        assert len(reference) == 3 and all(row["supplier"]["name"] is None for row in reference)
        return
    assert kinds == {"contract", "supplier", "expert", "batch"}
    assert any(row["incremental"] for row in reference)
    assert all(row["created_at"].endswith("Z") is (zone == "UTC") for row in reference)
    with_handle = [row for row in reference if row["expert_handle"]]
    assert with_handle and all(row["subject_kind"] == "expert" for row in with_handle)
    assert any(row["guideline_version"] is not None for row in reference)
    if audience == "supplier":
        return
    solo = [row for row in reference if row["supplier"]["kind"] == OrgKind.INDIVIDUAL]
    assert len(solo) == 3 and all(row["supplier"]["name"] is None for row in solo)
    nulls = next(row for row in solo if row["subject_kind"] == "contract")
    assert nulls["gold_accuracy"] is None and nulls["window_start"] is None and nulls["guideline_version"] is None
    assert next(row for row in solo if row["subject_kind"] == "expert")["expert_handle"] is None
    assert next(row for row in solo if row["subject_kind"] == "batch")["batch"] is None  # deleted since


@pytest.mark.parametrize("audience", ["lab", "supplier", "individual", "expert", "operations"])
def test_the_party_column_keeps_the_selectors_rows(audience):
    """Each side's column (``lab``, ``supplier``) selects exactly the rows of the selector's "the contract's
    lab or supplier" scope."""
    world = _world()
    narrowed = list(_scores(world, audience).values_list("pk", flat=True))
    assert narrowed == list(_scores(world, audience, party_column=False).values_list("pk", flat=True))
    assert narrowed


@pytest.mark.parametrize(
    ("audience", "ordering"),
    [("lab", o) for o in (None, *SCORE_ORDERINGS)] + [(a, None) for a in ("supplier", "individual", "expert")],
)
def test_the_endpoint_pages_rows_in_every_ordering(api_as, audience, ordering):
    """Through the view: cursor pages over dict rows, in each ordering, equal the serializer's rendering of
    the selector's snapshots in the same order (id as the tie-breaker)."""
    world = _world()
    actor, organization = _caller(world, audience)
    client = api_as(actor)
    query = f"org={organization.public_id}&page_size=3" + (f"&ordering={ordering}" if ordering else "")
    url, items = f"/api/v1/quality/scores/?{query}", []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        items += response.json()["results"]
        url = response.json()["next"]
    chosen = ordering or "-created_at"
    expected = _scores(world, audience).order_by(chosen, "-id" if chosen.startswith("-") else "id")
    assert items == [dict(ScoreSnapshotSerializer(snapshot).data) for snapshot in expected]
    assert items
