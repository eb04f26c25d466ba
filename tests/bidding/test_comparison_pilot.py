"""A calibration round piloting the project feeds the bid comparison: the bidder's pooled pilot accuracy
against gold replaces the SLA assumption."""

from decimal import Decimal

from apps.bidding import selectors, services
from tests.assessments.test_calibration import pilot_scenario
from tests.factories import BidFactory


def test_pilot_accuracy_drives_the_comparison(open_project, lab, lab_admin, lab_member, vendor, rival, individual,
                                              independent):  # fmt: skip
    # Given a pilot on the project: Northwind's two experts 9/10 right, Southgate's expert 3/5
    scenario = pilot_scenario(
        lab=lab, lab_admin=lab_admin, vendor=vendor, rival_org=rival.org, pilot_project=open_project
    )
    BidFactory(project=open_project, bidder=vendor, unit_price=Decimal("2.00"), team=[scenario.v1, scenario.v2])
    BidFactory(project=open_project, bidder=rival.org, unit_price=Decimal("1.7500"), team=[scenario.r1])
    BidFactory(project=open_project, bidder=individual, unit_price=Decimal("2.3333"))  # took no pilot
    services.project_close_bidding(actor=lab_admin, project=open_project)
    open_project.refresh_from_db()

    # When the lab compares the bids
    rows = {row.bid.bidder.name: row for row in selectors.bid_comparison(actor=lab_member, project=open_project)}

    # Then pilot takers are judged on the pilot, the others on the SLA minimum
    northwind, southgate, mei = rows[vendor.name], rows[rival.org.name], rows[individual.name]
    assert (northwind.expected_accuracy, northwind.accuracy_source) == (Decimal("0.9000"), "pilot")
    assert northwind.cost_per_quality_unit == Decimal("2.2222")  # 2.00 / 0.90
    assert (southgate.expected_accuracy, southgate.accuracy_source) == (Decimal("0.6000"), "pilot")
    assert southgate.cost_per_quality_unit == Decimal("2.9167")  # 1.75 / 0.60
    assert (mei.expected_accuracy, mei.accuracy_source) == (Decimal("0.8000"), "sla_assumption")
    assert mei.cost_per_quality_unit == Decimal("2.9166")  # 2.3333 / 0.80, rounded half up
    assert [row.bid.bidder.name for row in selectors.bid_comparison(actor=lab_member, project=open_project)] == [
        vendor.name, mei.bid.bidder.name, rival.org.name,
    ]  # fmt: skip


def test_an_unrelated_round_does_not_count_as_a_pilot(open_project, lab, lab_admin, lab_member, vendor, rival):
    scenario = pilot_scenario(lab=lab, lab_admin=lab_admin, vendor=vendor, rival_org=rival.org)  # no pilot_project
    BidFactory(project=open_project, bidder=vendor, team=[scenario.v1])
    services.project_close_bidding(actor=lab_admin, project=open_project)
    open_project.refresh_from_db()

    [row] = selectors.bid_comparison(actor=lab_member, project=open_project)

    assert row.accuracy_source == "sla_assumption"
