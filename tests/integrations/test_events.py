"""Each service of the loop emits its event once (not on a retry), to exactly the organisations it
concerns, with public ids and plain values only; and an endpoint receives it."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.accounts.roles import OrgKind, Role
from apps.assessments import services as assessment_services
from apps.bidding import services as bidding_services
from apps.contracts import services as contract_services
from apps.contracts.models import Contract
from apps.experts.models import RosterEntry
from apps.integrations.models import Event
from apps.projects import services as project_services
from apps.work import services as work_services
from apps.work.models import WorkBatch
from tests.assessments.conftest import build_test, correct_shown_answer
from tests.factories import (
    AssignmentFactory,
    ContractFactory,
    OrganizationFactory,
    ProjectFactory,
    RosterEntryFactory,
    UserFactory,
    member,
)
from tests.projects.support import bid_terms


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def logged(event_type: str) -> list[tuple[set[int], dict]]:
    return [
        ({o.pk for o in event.organizations.all()}, event.data)
        for event in Event.objects.filter(type=event_type).prefetch_related("organizations").order_by("id")
    ]


def assert_plain(data: dict, *forbidden: str) -> None:
    text = json.dumps(data)
    for value in forbidden:
        assert value not in text, value


def test_publishing_bidding_awarding_and_signing_emit_their_events(
    lab, lab_admin, vendor, vendor_manager, receiver, make_endpoint, django_capture_on_commit_callbacks
):
    other_vendor = OrganizationFactory(kind=OrgKind.VENDOR)
    other_manager = member(other_vendor, Role.MANAGER)
    make_endpoint(other_manager, other_vendor)  # never concerned below
    project = ProjectFactory(lab=lab, created_by=lab_admin)
    team = [str(RosterEntryFactory(vendor=vendor, status=RosterEntry.Status.ACTIVE).user.public_id)]

    with django_capture_on_commit_callbacks(execute=True):
        project_services.project_publish(actor=lab_admin, project=project)
        project_services.project_publish(actor=lab_admin, project=project)
    assert logged("project.published") == [
        (
            {lab.pk},
            {
                "project": str(project.public_id),
                "visibility": "public",
                "bid_deadline": project.bid_deadline.isoformat(),
            },
        )
    ]  # the lab only: publishing is not broadcast to every vendor

    withdrawn = bidding_services.bid_submit(
        actor=vendor_manager, organization=vendor, project=project, team=team, **bid_terms(project, unit_price="2.37")
    )
    bidding_services.bid_withdraw(actor=vendor_manager, bid=withdrawn)
    bidding_services.bid_withdraw(actor=vendor_manager, bid=withdrawn)
    bid = bidding_services.bid_submit(
        actor=vendor_manager, organization=vendor, project=project, team=team, **bid_terms(project, unit_price="2.37")
    )
    submitted = logged("bid.submitted")
    assert [orgs for orgs, _ in submitted] == [{lab.pk, vendor.pk}] * 2
    assert submitted[1][1] == {"bid": str(bid.public_id), "project": str(project.public_id)}
    assert_plain(submitted[1][1], "2.37", str(vendor.public_id), vendor.name)  # sealed: no price, no bidder
    assert logged("bid.withdrawn") == [
        ({lab.pk, vendor.pk}, {"bid": str(withdrawn.public_id), "project": str(project.public_id)})
    ]

    with time_machine.travel(project.bid_deadline + timedelta(minutes=1), tick=False):
        bidding_services.projects_close_due()
        project.refresh_from_db()
        award = bidding_services.award_create(
            actor=lab_admin, project=project, allocations=[{"bid": str(bid.public_id), "volume": bid.volume}]
        )
    assert logged("project.awarded") == [
        ({lab.pk, vendor.pk}, {"project": str(project.public_id), "award": str(award.public_id)})
    ]

    contract = Contract.objects.get(allocation__bid=bid)
    version = contract.versions.get()
    with django_capture_on_commit_callbacks(execute=True):
        for actor, organization in ((lab_admin, lab), (vendor_manager, vendor), (vendor_manager, vendor)):
            contract_services.contract_sign(
                actor=actor, organization=organization, contract=contract, shown_terms_hash=version.terms_hash
            )
    signed = logged("contract.signed")
    assert [(orgs, data["side"]) for orgs, data in signed] == [
        ({lab.pk, vendor.pk}, "lab"),
        ({lab.pk, vendor.pk}, "supplier"),
    ]
    assert logged("contract.activated") == [
        (
            {lab.pk, vendor.pk},
            {
                "contract": str(contract.public_id),
                "project": str(project.public_id),
                "version": 1,
                "effective_from": timezone.localdate().isoformat(),
            },
        )
    ]
    # The other vendor's endpoint (subscribed to everything) received nothing of it.
    assert receiver.requests == []


def _jsonl(contract, annotator) -> io.BytesIO:
    rows = [
        {"item_id": f"item-{i}", "annotator": str(annotator.public_id), "label": "A", "displayed_order": "AB"}
        for i in range(2)
    ]
    return io.BytesIO("".join(json.dumps(r) + "\n" for r in rows).encode())


def fresh(batch: WorkBatch) -> WorkBatch:
    """The batch as a page or the API loads it (one query, its contract and parties joined)."""
    return WorkBatch.objects.select_related(
        "contract__lab", "contract__supplier", "contract__project", "contract_version"
    ).get(pk=batch.pk)


def test_reviews_and_appeals_emit_batch_and_appeal_events(
    lab, lab_admin, vendor, vendor_manager, operations, receiver, make_endpoint, django_capture_on_commit_callbacks
):
    _endpoint, _secret = make_endpoint(vendor_manager, vendor, event_types=["batch.accepted", "appeal.decided"])
    contract = ContractFactory(project=ProjectFactory(lab=lab, status="in_progress"), lab=lab, supplier=vendor)
    annotator = AssignmentFactory(contract=contract, expert=UserFactory(full_name="Dr Secret Name")).expert

    def submit(key):
        return work_services.batch_submit(
            actor=vendor_manager, organization=vendor, contract=contract, client_batch_key=key,
            period_start=date(2025, 3, 1), period_end=date(2025, 3, 7), unit_count=2,
            upload=_jsonl(contract, annotator), fmt="jsonl",
        )  # fmt: skip

    accepted, partial, rejected, unreviewed = (fresh(submit(f"batch-{n}")) for n in range(4))
    with django_capture_on_commit_callbacks(execute=True):
        work_services.batch_accept(actor=lab_admin, batch=accepted)
        work_services.batch_accept(actor=lab_admin, batch=accepted)
        work_services.batch_partially_accept(
            actor=lab_admin, batch=partial, accepted_units=1, reason="incomplete", evidence="One item missing."
        )
        work_services.batch_reject(
            actor=lab_admin, batch=rejected, reason="low_gold_accuracy", evidence="Half the gold wrong."
        )
        appeal = work_services.appeal_open(
            actor=vendor_manager, organization=vendor, batch=rejected, reason="Ambiguous."
        )
        work_services.appeal_decide(actor=operations, appeal=appeal, outcome="overturn", reason="Gold was ambiguous.")
    with time_machine.travel(unreviewed.review_due_at + timedelta(minutes=1), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert work_services.batches_auto_accept_due() == 1

    both = {lab.pk, vendor.pk}
    batch_accepted = logged("batch.accepted")
    assert [(orgs, d["batch"], d["status"], d["accepted_units"], d["auto_accepted"]) for orgs, d in batch_accepted] == [
        (both, str(accepted.public_id), "accepted", 2, False),
        (both, str(partial.public_id), "partially_accepted", 1, False),
        (both, str(unreviewed.public_id), "accepted", 2, True),
    ]
    assert batch_accepted[1][1]["rejection_reason"] == "incomplete"
    assert logged("batch.rejected") == [
        (
            both,
            {
                "batch": str(rejected.public_id),
                "contract": str(contract.public_id),
                "project": str(contract.project.public_id),
                "status": "rejected",
                "unit_count": 2,
                "accepted_units": 0,
                "rejection_reason": "low_gold_accuracy",
            },
        )
    ]
    [(orgs, decided)] = logged("appeal.decided")
    assert orgs == both
    assert (decided["appeal"], decided["outcome"], decided["accepted_units"]) == (
        str(appeal.public_id),
        "overturned",
        2,
    )
    for _orgs, data in batch_accepted + logged("batch.submitted"):
        assert_plain(data, annotator.full_name, annotator.email, str(annotator.public_id))
    # The vendor's endpoint got what it subscribed to: three acceptances and the decision.
    types = sorted(json.loads(r.body)["type"] for r in receiver.requests)
    assert types == ["appeal.decided", "batch.accepted", "batch.accepted", "batch.accepted"]


def test_a_suspended_assignment_is_announced_to_both_parties(lab, vendor):
    contract = ContractFactory(project=ProjectFactory(lab=lab, status="in_progress"), lab=lab, supplier=vendor)
    assignment = AssignmentFactory(contract=contract)  # not on the vendor's roster: the roster gate fails

    assert contract_services.assignments_recheck() == 1
    assert contract_services.assignments_recheck() == 0

    assert logged("assignment.suspended") == [
        (
            {lab.pk, vendor.pk},
            {
                "assignment": str(assignment.public_id),
                "contract": str(contract.public_id),
                "project": str(contract.project.public_id),
                "gates": ["roster"],
            },
        )
    ]


def test_grading_emits_attempt_graded_and_qualification_granted_to_the_author_and_the_expert(lab, lab_admin, vendor):
    individual = OrganizationFactory(kind=OrgKind.INDIVIDUAL)
    expert = member(individual, Role.OWNER)
    test = build_test(lab_admin, lab)

    attempt = assessment_services.attempt_start(actor=expert, test=test)
    for served in attempt.attempt_items.select_related("item"):
        assessment_services.attempt_answer(
            actor=expert, attempt=attempt, item_public_id=served.item.public_id, answer=correct_shown_answer(served)
        )
    assessment_services.attempt_submit(actor=expert, attempt=attempt)

    [(orgs, graded)] = logged("attempt.graded")
    assert orgs == {lab.pk, individual.pk}
    assert graded == {
        "attempt": str(attempt.public_id),
        "test": str(test.public_id),
        "test_version": 1,
        "kind": "qualification",
        "passed": True,
        "score": "1.0000",
    }
    [(orgs, granted)] = logged("qualification.granted")
    assert orgs == {lab.pk, individual.pk}
    assert granted["test"] == str(test.public_id) and granted["attempt"] == str(attempt.public_id)
    assert_plain(graded | granted, expert.email, expert.full_name, str(expert.public_id))
