"""Bidding closes at the deadline (periodic task) or early by the lab; bidders hear of it."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from celery import current_app

from apps.bidding import services
from apps.bidding.tasks import close_due_projects
from apps.core.errors import PermissionDenied
from apps.projects.models import Project
from tests.factories import BidFactory, ProjectFactory
from tests.projects.support import audit_rows, kinds_for

S = Project.Status
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
DEADLINE = NOON + timedelta(days=1)


@pytest.fixture
def due(lab, domains):
    """An open project whose bids close at DEADLINE."""
    with time_machine.travel(NOON, tick=False):
        return ProjectFactory(lab=lab, domain=domains.radiology, published=True, bid_deadline=DEADLINE)


def test_projects_close_due_leaves_a_project_open_until_its_deadline(due):
    with time_machine.travel(DEADLINE - timedelta(minutes=1), tick=False):
        closed = services.projects_close_due()

    assert closed == 0
    assert Project.objects.get(pk=due.pk).status == S.OPEN
    assert not audit_rows(due).exists()


def test_projects_close_due_closes_bidding_once_the_deadline_passed(due):
    with time_machine.travel(DEADLINE + timedelta(seconds=1), tick=False):
        closed = services.projects_close_due()

    assert closed == 1
    assert Project.objects.get(pk=due.pk).status == S.BIDDING_CLOSED
    (row,) = audit_rows(due)
    assert (row.action, row.actor, row.from_status, row.reason) == (
        "project.bidding_closed", None, S.OPEN, "deadline passed",
    )  # fmt: skip


def test_projects_close_due_twice_closes_once(due):
    with time_machine.travel(DEADLINE + timedelta(minutes=1), tick=False):
        first = services.projects_close_due()
        second = services.projects_close_due()

    assert (first, second) == (1, 0)
    assert audit_rows(due).count() == 1


def test_projects_close_due_touches_only_open_projects(lab, domains):
    past = NOON - timedelta(hours=1)
    for status in (S.DRAFT, S.CANCELLED):
        ProjectFactory(lab=lab, domain=domains.radiology, status=status, bid_deadline=past)

    with time_machine.travel(NOON, tick=False):
        assert services.projects_close_due() == 0

    assert set(Project.objects.values_list("status", flat=True)) == {S.DRAFT, S.CANCELLED}


def test_the_periodic_task_closes_due_projects_and_tells_live_bidders_on_commit(
    due, vendor, vendor_manager, rival, django_capture_on_commit_callbacks, mailoutbox
):
    # given a live bid from the persona vendor and a withdrawn one from the rival
    BidFactory(project=due, bidder=vendor)
    BidFactory(project=due, bidder=rival.org, status="withdrawn")

    # when celery beat runs the task (eagerly here) after the deadline
    with time_machine.travel(DEADLINE + timedelta(minutes=1), tick=False):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            result = current_app.tasks["bidding.close_due_projects"].delay()
        assert mailoutbox == []
        for callback in callbacks:
            callback()

    # then bidding closed and the live bidder's owner and manager were told, by e-mail after commit
    assert result.get() == 1
    assert Project.objects.get(pk=due.pk).status == S.BIDDING_CLOSED
    assert kinds_for(vendor_manager) == ["project.bidding_closed"]
    assert kinds_for(rival.manager) == []
    vendor_owner = vendor.memberships.get(role="owner").user
    assert sorted(m.to[0] for m in mailoutbox) == sorted([vendor_owner.email, vendor_manager.email])
    assert mailoutbox[0].subject == f"Bidding closed: {due.title}"


def test_the_task_is_a_plain_callable_too(due):
    with time_machine.travel(DEADLINE + timedelta(minutes=1), tick=False):
        assert close_due_projects() == 1
        assert close_due_projects() == 0


def test_the_lab_may_close_bidding_early(open_project, lab_admin):
    moved = services.project_close_bidding(actor=lab_admin, project=open_project)

    assert moved is True
    (row,) = audit_rows(open_project)
    assert (row.to_status, row.actor, row.reason) == (S.BIDDING_CLOSED, lab_admin, "closed early by the lab")


def test_a_lab_member_may_not_close_bidding(open_project, lab_member):
    with pytest.raises(PermissionDenied):
        services.project_close_bidding(actor=lab_member, project=open_project)

    assert Project.objects.get(pk=open_project.pk).status == S.OPEN
