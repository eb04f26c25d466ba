"""Reads of assessments, scoped to authors, takers and graders. Answer keys never leave here for a
taker: ``attempt_taker_view`` is built from items and the taker's own answers only."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.accounts.models import Organization, User
from apps.accounts.policies import has_permission, is_staff_role, require, require_staff
from apps.accounts.roles import Perm, StaffRole
from apps.core.errors import NotFound

from .models import Attempt, AttemptItem, GradingTask, Item, Qualification, Test

_BAD_ID = (ValueError, TypeError, ValidationError)


def _is_author(actor: User | None, test: Test) -> bool:
    if test.owner_id is None:
        return is_staff_role(actor, StaffRole.OPERATIONS)
    return actor is not None and has_permission(actor, test.owner, Perm.TESTS_AUTHOR)


def test_list_for_author(*, actor: User, organization: Organization | None) -> QuerySet[Test]:
    """Every version of the tests ``organization`` owns (platform tests for operations when None)."""
    if organization is None:
        require_staff(actor, StaffRole.OPERATIONS)
        qs = Test.objects.filter(owner__isnull=True)
    else:
        require(actor, organization, Perm.TESTS_AUTHOR)
        qs = Test.objects.filter(owner=organization)
    return qs.select_related("domain", "owner").order_by("title", "family", "-version")


def test_list_open(*, actor: User) -> QuerySet[Test]:
    """Published qualification tests, open to every expert."""
    return (
        Test.objects.filter(status=Test.Status.PUBLISHED, kind=Test.Kind.QUALIFICATION)
        .select_related("domain", "owner")
        .order_by("title", "-version")
    )


def test_get(*, actor: User, organization: Organization | None, public_id: UUID | str) -> Test:
    """Authors see any version of their tests; anyone else a published one."""
    try:
        test = Test.objects.select_related("domain", "owner").get(public_id=public_id)
    except (Test.DoesNotExist, *_BAD_ID):
        raise NotFound("Test not found.", code="test_not_found")
    if _is_author(actor, test) and (organization is None or test.owner_id in (None, organization.pk)):
        return test
    if test.status == Test.Status.PUBLISHED:
        return test
    raise NotFound("Test not found.", code="test_not_found")


def test_items_for_author(*, actor: User, test: Test) -> list[dict[str, Any]]:
    """The pool with keys, for the test's authors only."""
    if not _is_author(actor, test):
        raise NotFound("Test not found.", code="test_not_found")
    items = test.items.select_related("answer_key").order_by("position")
    rows = []
    for item in items:
        key = getattr(item, "answer_key", None)
        rows.append({"item": item, "key": key.value if key is not None else None})
    return rows


def attempt_list_for_expert(*, actor: User) -> QuerySet[Attempt]:
    return Attempt.objects.filter(expert=actor).select_related("test").order_by("-started_at", "-id")


def attempt_get(*, actor: User, public_id: UUID | str) -> Attempt:
    """The taker's own attempt, or one at a test the actor authors."""
    try:
        attempt = Attempt.objects.select_related("test", "test__owner", "expert").get(public_id=public_id)
    except (Attempt.DoesNotExist, *_BAD_ID):
        raise NotFound("Attempt not found.", code="attempt_not_found")
    if actor is not None and (attempt.expert_id == actor.pk or _is_author(actor, attempt.test)):
        return attempt
    raise NotFound("Attempt not found.", code="attempt_not_found")


def attempt_taker_view(attempt: Attempt) -> list[dict[str, Any]]:
    """The served items as the taker sees them, never with a key: shown options in shown order (A/B
    as first/second), the saved answer in shown terms and, only once graded where the test shows
    explanations, the earned score and explanation."""

    reveal = attempt.status == Attempt.Status.GRADED and attempt.test.show_explanations
    rows: list[dict[str, Any]] = []
    for served in AttemptItem.objects.filter(attempt=attempt).select_related("item").order_by("position"):
        item = served.item
        if item.type in (Item.Type.SINGLE_CHOICE, Item.Type.MULTIPLE_CHOICE):
            options: Any = [item.options[i] for i in served.option_order]
        elif item.type == Item.Type.AB_PREFERENCE:
            a, b = item.options
            first, second = (a, b) if served.a_shown_first else (b, a)
            options = {"first": first, "second": second}
        else:
            options = None
        row: dict[str, Any] = {
            "position": served.position,
            "item": str(item.public_id),
            "type": item.type,
            "prompt": item.prompt,
            "options": options,
            "allow_tie": item.allow_tie,
            "ask_strength": item.ask_strength,
            "likert_points": item.likert_points,
            "rubric": [c["criterion"] for c in item.rubric] if item.type == Item.Type.FREE_TEXT else None,
            "answer": to_shown(served, served.answer),
        }
        if reveal:
            row["earned"] = None if served.earned is None else f"{served.earned:.4f}"
            row["explanation"] = item.explanation
        rows.append(row)
    return rows


def grading_queue(*, actor: User) -> list[dict[str, Any]]:
    """Open tasks the actor may grade (unclaimed, or claimed by them), blind: no expert identity,
    no attempt id; the other slot's grader is excluded from its sibling."""
    tasks = GradingTask.objects.filter(status=GradingTask.Status.OPEN).select_related(
        "attempt_item__item__test", "attempt_item__attempt"
    )
    if is_staff_role(actor, StaffRole.OPERATIONS):
        scope = Q(attempt_item__item__test__owner__isnull=True)
    else:
        owners = [
            m.organization
            for m in actor.memberships.select_related("organization")
            if has_permission(actor, m.organization, Perm.TESTS_AUTHOR)
        ]
        scope = Q(attempt_item__item__test__owner__in=owners)
    tasks = (
        tasks.filter(scope)
        .filter(Q(grader__isnull=True) | Q(grader=actor))
        .exclude(attempt_item__attempt__expert=actor)
        .exclude(attempt_item__grading_tasks__grader=actor, grader__isnull=True)
        .order_by("created_at", "id")
    )
    rows = []
    for task in tasks:
        item = task.attempt_item.item
        rows.append(
            {
                "task": str(task.public_id),
                "slot": task.slot,
                "claimed": task.grader_id is not None,
                "test": item.test.title,
                "section": item.section,
                "prompt": item.prompt,
                "rubric": item.rubric,
                "answer_text": (task.attempt_item.answer or {}).get("text", ""),
                "created_at": task.created_at,
            }
        )
    return rows


def grading_task_get(*, actor: User, public_id: UUID | str) -> GradingTask:
    try:
        task = GradingTask.objects.select_related("attempt_item__item__test").get(public_id=public_id)
    except (GradingTask.DoesNotExist, *_BAD_ID):
        raise NotFound("Grading task not found.", code="grading_task_not_found")
    if not _is_author(actor, task.attempt_item.item.test):
        raise NotFound("Grading task not found.", code="grading_task_not_found")
    return task


def qualification_list(*, actor: User, expert: User | None = None) -> QuerySet[Qualification]:
    """The actor's own qualifications; operations may list anyone's (or all)."""
    qs = Qualification.objects.select_related("test", "expert")
    if is_staff_role(actor, StaffRole.OPERATIONS):
        return qs.filter(expert=expert) if expert is not None else qs
    if expert is not None and expert.pk != actor.pk:
        raise NotFound("Not found.", code="not_found")
    return qs.filter(expert=actor)


def _current_q(now=None) -> Q:
    return Q(status=Qualification.Status.ACTIVE, expires_at__gt=now or timezone.now())


def current_qualification(*, expert: User, family) -> Qualification | None:
    """The expert's active, unexpired qualification in the test family (latest granted), or None."""
    return Qualification.objects.filter(_current_q(), expert=expert, family=family).order_by("-granted_at").first()


def qualified_user_ids(*, family) -> frozenset[int]:
    """Users holding a current qualification in ``family`` (for expert search)."""
    return frozenset(Qualification.objects.filter(_current_q(), family=family).values_list("expert_id", flat=True))


def to_shown(served: AttemptItem, stored: Any) -> Any:
    """The inverse of ``to_original``: a saved answer as the taker gave it."""
    if stored is None:
        return None
    item = served.item
    if item.type == Item.Type.SINGLE_CHOICE:
        return {"option": served.option_order.index(stored["option"])}
    if item.type == Item.Type.MULTIPLE_CHOICE:
        return {"options": sorted(served.option_order.index(o) for o in stored["options"])}
    if item.type == Item.Type.AB_PREFERENCE:
        shown = dict(stored)
        if stored["choice"] != "tie":
            shown["choice"] = "first" if (stored["choice"] == "A") == bool(served.a_shown_first) else "second"
        return shown
    return dict(stored)


def qualification_filter_choices() -> list[tuple[str, str]]:
    """Published qualification tests, newest version of each, for the expert-search filter."""
    latest: dict = {}
    for test in Test.objects.filter(kind=Test.Kind.QUALIFICATION, status=Test.Status.PUBLISHED).order_by("version"):
        latest[test.family] = test
    return sorted(((str(t.public_id), t.title) for t in latest.values()), key=lambda pair: pair[1])


def qualified_user_ids_for_test(test_public_id: str) -> frozenset[int] | None:
    """Experts with a current qualification in the family of the given test (None: unknown test)."""
    test = Test.objects.filter(public_id=test_public_id, kind=Test.Kind.QUALIFICATION).first()
    return None if test is None else qualified_user_ids(family=test.family)
