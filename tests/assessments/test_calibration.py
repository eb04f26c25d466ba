"""Calibration rounds: creating, closing, who sees what, who may attempt, and the lab's report on two
vendors and an independent expert (attempts built directly with the models)."""

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone
from statsmodels.stats.proportion import proportion_confint

from apps.accounts.roles import OrgKind, Role
from apps.assessments.calibration import (
    calibration_report,
    calibration_round_can_attempt,
    calibration_round_close,
    calibration_round_create,
    calibration_round_get,
    calibration_round_list,
)
from apps.assessments.models import AnswerKey, Attempt, AttemptItem, CalibrationRound, Item
from apps.assessments.models import Test as AssessmentTest
from apps.core.errors import NotFound, PermissionDenied, ValidationFailed
from apps.core.models import AuditEvent
from apps.experts.models import RosterEntry
from apps.notifications.models import Notification
from tests.factories import ExpertProfileFactory, OrganizationFactory, RosterEntryFactory, member

# --- Builders (plain functions: the bidding pilot test reuses them) --------------------------------------


def calibration_test(
    owner, *, kind=AssessmentTest.Kind.CALIBRATION, status=AssessmentTest.Status.PUBLISHED
) -> AssessmentTest:
    """Four single-choice items keyed to option 0 and one 5-point Likert item keyed to 3."""
    test = AssessmentTest.objects.create(owner=owner, title="Radiology calibration", kind=kind, status=status)
    for position in range(1, 5):
        item = Item.objects.create(
            test=test, position=position, type=Item.Type.SINGLE_CHOICE, prompt=f"Q{position}", options=["x", "y", "z"]
        )
        AnswerKey.objects.create(item=item, value=0)
    likert = Item.objects.create(test=test, position=5, type=Item.Type.LIKERT, prompt="Rate", likert_points=5)
    AnswerKey.objects.create(item=likert, value=3)
    return test


def graded_attempt(round_, expert, choices: list[int], likert: int) -> Attempt:
    """A graded attempt: ``choices`` are the options picked on items 1-4 (0 is right), ``likert`` the point."""
    now = timezone.now()
    attempt = Attempt.objects.create(
        test=round_.test, expert=expert, number=1, calibration_round=round_, status=Attempt.Status.GRADED,
        started_at=now - timedelta(minutes=20), deadline_at=now + timedelta(minutes=10), submitted_at=now,
    )  # fmt: skip
    items = list(round_.test.items.order_by("position"))
    for item, choice in zip(items[:4], choices, strict=True):
        AttemptItem.objects.create(
            attempt=attempt, item=item, position=item.position, answer={"option": choice},
            earned=Decimal(1 if choice == 0 else 0),
        )  # fmt: skip
    AttemptItem.objects.create(
        attempt=attempt, item=items[4], position=5, answer={"value": likert}, earned=Decimal(1 if likert == 3 else 0)
    )
    return attempt


def roster_expert(vendor, handle: str):
    user = RosterEntryFactory(vendor=vendor, status=RosterEntry.Status.ACTIVE).user
    ExpertProfileFactory(user=user, handle=handle)
    return user


def pilot_scenario(*, lab, lab_admin, vendor, rival_org, pilot_project=None):
    """Northwind: two experts, 9 of 10 right. Southgate: one expert, 3 of 5 right."""
    test = calibration_test(lab)
    round_ = calibration_round_create(
        actor=lab_admin, lab=lab, test=test, title="Pilot", deadline=timezone.now() + timedelta(days=7),
        suppliers=[vendor.public_id, rival_org.public_id], pilot_project=pilot_project,
    )  # fmt: skip
    v1, v2 = roster_expert(vendor, "v-one"), roster_expert(vendor, "v-two")
    r1 = roster_expert(rival_org, "r-one")
    graded_attempt(round_, v1, [0, 0, 0, 0], 3)  # 5/5
    graded_attempt(round_, v2, [0, 0, 1, 0], 3)  # 4/5
    graded_attempt(round_, r1, [0, 2, 1, 0], 3)  # 3/5
    return SimpleNamespace(test=test, round=round_, v1=v1, v2=v2, r1=r1)


# --- Fixtures ------------------------------------------------------------------------------------------


@pytest.fixture
def southgate(db):
    org = OrganizationFactory(name="Southgate Labelling", slug="southgate", kind=OrgKind.VENDOR)
    return SimpleNamespace(org=org, manager=member(org, Role.MANAGER, email="manager@southgate.test"))


@pytest.fixture
def individual(db):
    org = OrganizationFactory(name="Dr. Mei Tanaka", slug="mei-tanaka", kind=OrgKind.INDIVIDUAL)
    owner = member(org, Role.OWNER, email="mei@independent.test")
    ExpertProfileFactory(user=owner, handle="mei-t")
    return SimpleNamespace(org=org, owner=owner)


@pytest.fixture
def scenario(lab, lab_admin, vendor, vendor_manager, southgate, individual):
    s = pilot_scenario(lab=lab, lab_admin=lab_admin, vendor=vendor, rival_org=southgate.org)
    s.round.suppliers.add(individual.org)
    graded_attempt(s.round, individual.owner, [0, 0, 0, 0], 3)  # 5/5, but only five answers
    return s


# --- Creating and closing ------------------------------------------------------------------------------


def test_round_create_invites_the_suppliers_managers(lab, lab_admin, vendor, vendor_manager, southgate, individual):
    test = calibration_test(lab)

    round_ = calibration_round_create(
        actor=lab_admin, lab=lab, test=test, title=" Radiology Q3 ", deadline=timezone.now() + timedelta(days=3),
        suppliers=[vendor.public_id, str(southgate.org.public_id), individual.org.public_id],
    )  # fmt: skip

    assert (round_.status, round_.title, round_.lab) == (CalibrationRound.Status.OPEN, "Radiology Q3", lab)
    assert set(round_.suppliers.all()) == {vendor, southgate.org, individual.org}
    invited = set(Notification.objects.filter(kind="calibration.invited").values_list("recipient__email", flat=True))
    assert invited == {
        "owner@northwind.test",
        "manager@northwind.test",
        "manager@southgate.test",
        "mei@independent.test",
    }
    assert AuditEvent.objects.filter(action="calibrationround.created", target_id=round_.pk).exists()


def test_a_platform_test_may_be_used(lab, lab_admin, vendor):
    round_ = calibration_round_create(
        actor=lab_admin, lab=lab, test=calibration_test(None), title="T", deadline=timezone.now() + timedelta(days=1),
        suppliers=[vendor.public_id],
    )  # fmt: skip
    assert round_.test.owner is None


@pytest.mark.parametrize(
    "change,field",
    [
        ({"deadline": -1}, "deadline"),
        ({"kind": AssessmentTest.Kind.QUALIFICATION}, "test"),
        ({"status": AssessmentTest.Status.DRAFT}, "test"),
        ({"other_lab_test": True}, "test"),
        ({"suppliers": "lab"}, "suppliers"),
        ({"suppliers": "none"}, "suppliers"),
    ],
)
def test_round_create_refuses_bad_input(lab, lab_admin, vendor, outsider, change, field):
    owner = outsider.memberships.get().organization if change.get("other_lab_test") else lab
    test = calibration_test(
        owner,
        kind=change.get("kind", AssessmentTest.Kind.CALIBRATION),
        status=change.get("status", AssessmentTest.Status.PUBLISHED),
    )
    suppliers = {"lab": [lab.public_id], "none": []}.get(change.get("suppliers"), [vendor.public_id])
    with pytest.raises(ValidationFailed) as error:
        calibration_round_create(
            actor=lab_admin, lab=lab, test=test, title="T", suppliers=suppliers,
            deadline=timezone.now() + timedelta(days=change.get("deadline", 1)),
        )  # fmt: skip
    assert field in error.value.details
    assert not CalibrationRound.objects.exists()


def test_a_lab_member_cannot_create_a_round(lab, lab_member, vendor):
    with pytest.raises(PermissionDenied):
        calibration_round_create(
            actor=lab_member, lab=lab, test=calibration_test(lab), title="T",
            deadline=timezone.now() + timedelta(days=1), suppliers=[vendor.public_id],
        )  # fmt: skip


def test_round_close_twice_is_a_no_op(scenario, lab_admin):
    calibration_round_close(actor=lab_admin, round=scenario.round)
    calibration_round_close(actor=lab_admin, round=scenario.round)

    assert scenario.round.status == CalibrationRound.Status.CLOSED
    assert AuditEvent.objects.filter(action="calibrationround.closed", target_id=scenario.round.pk).count() == 1


def test_a_supplier_cannot_close_a_round(scenario, vendor_manager):
    with pytest.raises(NotFound):
        calibration_round_close(actor=vendor_manager, round=scenario.round)


# --- Visibility and eligibility --------------------------------------------------------------------------


def test_lab_and_invited_suppliers_see_the_round_others_do_not(scenario, lab, lab_member, vendor, vendor_manager):
    stranger = OrganizationFactory(kind=OrgKind.VENDOR)
    stranger_manager = member(stranger, Role.MANAGER)

    assert list(calibration_round_list(actor=lab_member, organization=lab)) == [scenario.round]
    assert calibration_round_get(actor=vendor_manager, organization=vendor, public_id=scenario.round.public_id)
    assert not calibration_round_list(actor=stranger_manager, organization=stranger).exists()
    with pytest.raises(NotFound):
        calibration_round_get(actor=stranger_manager, organization=stranger, public_id=scenario.round.public_id)
    with pytest.raises(NotFound):
        calibration_round_get(actor=lab_member, organization=lab, public_id="not-a-uuid")


def test_who_may_attempt(scenario, lab_admin, individual, vendor):
    outsider_expert = roster_expert(OrganizationFactory(kind=OrgKind.VENDOR), "elsewhere")
    invited_only = RosterEntryFactory(vendor=vendor, status=RosterEntry.Status.INVITED).user

    assert calibration_round_can_attempt(round=scenario.round, expert=scenario.v1)
    assert calibration_round_can_attempt(round=scenario.round, expert=individual.owner)
    assert not calibration_round_can_attempt(round=scenario.round, expert=outsider_expert)
    assert not calibration_round_can_attempt(round=scenario.round, expert=invited_only)

    CalibrationRound.objects.filter(pk=scenario.round.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    scenario.round.refresh_from_db()
    assert not calibration_round_can_attempt(round=scenario.round, expert=scenario.v1)


def test_no_attempt_after_the_round_closed(scenario, lab_admin):
    calibration_round_close(actor=lab_admin, round=scenario.round)
    assert not calibration_round_can_attempt(round=scenario.round, expert=scenario.v1)


# --- The report ----------------------------------------------------------------------------------------


def test_report_league_table_ranks_by_the_wilson_lower_bound(scenario, lab_member, vendor):
    report = calibration_report(actor=lab_member, round=scenario.round)

    # Northwind 9/10 (lower 0.5958) ranks above Mei 5/5 (lower 0.5655): more evidence beats a raw 100%
    assert [r.name for r in report.suppliers] == [vendor.name, "mei-t", "Southgate Labelling"]
    expected = {vendor.name: (9, 10), "mei-t": (5, 5), "Southgate Labelling": (3, 5)}
    for row in report.suppliers:
        k, n = expected[row.name]
        low, high = proportion_confint(k, n, method="wilson")
        assert (row.gold_items, row.answered, row.accuracy) == (n, n, Decimal(k) / n)
        assert float(row.lower) == pytest.approx(low, abs=5.1e-5)
        assert float(row.upper) == pytest.approx(high, abs=5.1e-5)
    assert report.chart[0] == {
        "supplier": vendor.name, "accuracy": Decimal("0.9000"),
        "lower": report.suppliers[0].lower, "upper": report.suppliers[0].upper,
    }  # fmt: skip


def test_report_names_experts_by_handle_only(scenario, lab_member, vendor):
    report = calibration_report(actor=lab_member, round=scenario.round)

    assert {(r.name, r.supplier, r.accuracy) for r in report.experts} == {
        ("v-one", vendor.name, Decimal("1.0000")),
        ("v-two", vendor.name, Decimal("0.8000")),
        ("r-one", "Southgate Labelling", Decimal("0.6000")),
        ("mei-t", "mei-t", Decimal("1.0000")),
    }


def test_report_agreement_and_disagreements(scenario, lab_member, vendor):
    report = calibration_report(actor=lab_member, round=scenario.round)

    # 4 raters on every choice item: Fleiss applies; the likert item is all 3s: alpha undefined
    assert report.fleiss["all"].value is not None
    assert report.alpha["all"]["nominal"].value < 1
    assert report.alpha["all"]["ordinal"].value is None
    assert report.alpha[vendor.name]["nominal"].n_units == 4
    assert len(report.cohen_pairs) == 6  # 4 experts, every pair shares the 4 choice items
    worst = report.disagreements[0]
    assert worst["suppliers_differ"] and worst["by_supplier"]["Southgate Labelling"] != (0,)
    # Northwind split 0/1 on item 3: reported as a tie, not given to either option
    item3 = next(d for d in report.disagreements if d["by_supplier"][vendor.name] == (0, 1))
    assert item3["by_supplier"]["mei-t"] == (0,)


def test_suppliers_and_outsiders_do_not_see_the_report(scenario, vendor_manager, outsider):
    for actor in (vendor_manager, outsider):
        with pytest.raises(NotFound):
            calibration_report(actor=actor, round=scenario.round)


def test_only_graded_attempts_count(scenario, lab_member):
    Attempt.objects.filter(expert=scenario.r1).update(status=Attempt.Status.GRADING)

    report = calibration_report(actor=lab_member, round=scenario.round)

    assert "Southgate Labelling" not in [r.name for r in report.suppliers]


def test_the_report_page_lists_disputed_items_and_cohen_pairs(scenario, client, lab_admin):
    from django.urls import reverse

    client.force_login(lab_admin)

    page = client.get(reverse("assessments:calibration_report", args=[scenario.round.public_id])).content.decode()

    assert 'id="disputed"' in page and 'id="cohen"' in page
    assert "style=" not in page
