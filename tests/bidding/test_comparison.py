"""The lab's bid comparison: exact figures on known inputs, verified team credentials, sorting."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.bidding import selectors, services
from apps.bidding.selectors import expected_cost_per_quality_unit
from apps.core.errors import DomainError, NotFound, ValidationFailed
from apps.core.money import Money
from apps.experts.models import Credential, CredentialType
from apps.projects.models import Project
from tests.factories import BidFactory, CredentialFactory, ExpertProfileFactory, UserFactory

T = CredentialType


@pytest.fixture
def credentialed_team(db):
    """Two experts: between them one verified board certification and one verified degree count;
    an expired, a pending and a revoked credential do not."""
    today = timezone.localdate()
    amara, jonas = UserFactory(), UserFactory()
    amara_profile, jonas_profile = ExpertProfileFactory(user=amara), ExpertProfileFactory(user=jonas)
    CredentialFactory(
        profile=amara_profile, type=T.BOARD_CERTIFICATION, verified=True, expires_on=today + timedelta(days=30)
    )
    CredentialFactory(
        profile=amara_profile, type=T.PROFESSIONAL_LICENCE, verified=True, expires_on=today
    )  # verified, but its expiry date has come: the daily job has not run yet
    CredentialFactory(profile=amara_profile, type=T.DEGREE)  # pending
    CredentialFactory(profile=jonas_profile, type=T.DEGREE, verified=True)  # no expiry
    CredentialFactory(profile=jonas_profile, type=T.PUBLICATION, status=Credential.Status.REVOKED)
    return [amara, jonas]


@pytest.fixture
def compared(open_project, lab_admin, vendor, rival, individual, independent, credentialed_team):
    """Three bids on a 1,000-unit project whose SLA asks for 0.80 gold accuracy, after the close."""
    bids = {
        "vendor": BidFactory(project=open_project, bidder=vendor, unit_price=Decimal("2.00"), volume=1000,
                             weekly_capacity=250, team=credentialed_team),
        "rival": BidFactory(project=open_project, bidder=rival.org, unit_price=Decimal("1.7500"), volume=500,
                            weekly_capacity=150),
        "individual": BidFactory(project=open_project, bidder=individual, unit_price=Decimal("2.3333"), volume=800,
                                 weekly_capacity=400),
    }  # fmt: skip
    services.project_close_bidding(actor=lab_admin, project=open_project)
    open_project.refresh_from_db()
    return bids


def by_bidder(rows) -> dict:
    return {row.bid.bidder.name: row for row in rows}


def test_bid_comparison_on_known_inputs(compared, open_project, lab_member, vendor):
    rows = selectors.bid_comparison(actor=lab_member, project=open_project)

    row = by_bidder(rows)[vendor.name]
    assert open_project.sla_min_gold_accuracy == Decimal("0.8000")
    # 2.00 a unit at an assumed 0.80 accuracy: one correct unit is expected to cost 2.5000
    assert (row.expected_accuracy, row.accuracy_source) == (Decimal("0.8000"), "sla_assumption")
    assert row.cost_per_quality_unit == Decimal("2.5000")
    assert (row.unit_price, row.total) == (Money(200, "USD"), Money(200_000, "USD"))
    assert row.weeks_to_finish == Decimal("4.0")  # 1000 / 250
    assert row.quality_history is None


def test_weeks_to_finish_is_volume_over_weekly_capacity(compared, open_project, lab_member, rival, individual):
    rows = by_bidder(selectors.bid_comparison(actor=lab_member, project=open_project))

    assert rows[rival.org.name].weeks_to_finish == Decimal("3.3")  # 500 / 150
    assert rows[individual.name].weeks_to_finish == Decimal("2.0")  # 800 / 400


def test_the_team_summary_counts_only_verified_unexpired_credentials(compared, open_project, lab_member, vendor):
    row = by_bidder(selectors.bid_comparison(actor=lab_member, project=open_project))[vendor.name]

    assert row.team_size == 2
    assert row.team_credentials == {"board_certification": 1, "degree": 1}


def test_the_team_summary_follows_the_current_revision(compared, open_project, lab_member, individual, independent):
    row = by_bidder(selectors.bid_comparison(actor=lab_member, project=open_project))[individual.name]

    assert (row.team_size, row.team_credentials) == (1, {})


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("cost_per_quality_unit", ["rival", "vendor", "individual"]),  # 2.1875, 2.5000, 2.9166
        ("unit_price", ["rival", "vendor", "individual"]),
        ("weeks_to_finish", ["individual", "rival", "vendor"]),  # 2.0, 3.3, 4.0
        ("volume", ["vendor", "individual", "rival"]),  # the most units first
        ("weekly_capacity", ["individual", "vendor", "rival"]),  # the fastest team first
    ],
)
def test_bid_comparison_sorts_by_each_key(compared, open_project, lab_member, sort, order):
    rows = selectors.bid_comparison(actor=lab_member, project=open_project, sort=sort)

    assert [row.bid for row in rows] == [compared[name] for name in order]


def test_bid_comparison_refuses_an_unknown_sort_naming_sort(compared, open_project, lab_member):
    with pytest.raises(ValidationFailed) as exc:
        selectors.bid_comparison(actor=lab_member, project=open_project, sort="vibes")

    assert list(exc.value.details) == ["sort"]


def test_without_an_accuracy_sla_there_is_no_cost_per_quality_unit(compared, open_project, lab_member):
    Project.objects.filter(pk=open_project.pk).update(sla_min_gold_accuracy=None)
    open_project.refresh_from_db()

    rows = selectors.bid_comparison(actor=lab_member, project=open_project)

    assert {(r.cost_per_quality_unit, r.expected_accuracy, r.accuracy_source) for r in rows} == {(None, None, "none")}


def test_bid_comparison_is_sealed_while_open_and_hidden_from_others(open_project, vendor, lab_member, vendor_manager):
    BidFactory(project=open_project, bidder=vendor)

    with pytest.raises(DomainError) as exc:
        selectors.bid_comparison(actor=lab_member, project=open_project)
    assert exc.value.code == "bids_sealed"
    with pytest.raises(NotFound):
        selectors.bid_comparison(actor=vendor_manager, project=open_project)


@pytest.mark.parametrize(
    ("price", "accuracy", "expected"),
    [
        ("2.00", "0.80", Decimal("2.5000")),
        ("1", "0.3", Decimal("3.3333")),
        ("2", "0.3", Decimal("6.6667")),  # half up at the fourth decimal
        ("2.00", None, None),
        ("2.00", "0", None),
    ],
)
def test_expected_cost_per_quality_unit(price, accuracy, expected):
    result = expected_cost_per_quality_unit(Decimal(price), Decimal(accuracy) if accuracy is not None else None)

    assert result == expected
