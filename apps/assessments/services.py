"""Writes for assessments: authoring and versioning tests, items and their keys (with bulk import),
attempts with a server-side clock, grading (objective at once, free text by blind graders),
qualifications and project requirements."""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import timedelta
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from apps.accounts.models import Organization, User
from apps.accounts.policies import is_staff_role, require, require_staff
from apps.accounts.roles import OrgKind, Perm, Role, StaffRole
from apps.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from apps.core.events import emit
from apps.core.transitions import audit, transition
from apps.experts.models import Domain
from apps.notifications.services import notify, notify_many
from apps.projects.models import Project

from .calibration import calibration_round_can_attempt
from .grading import grade_item
from .models import (
    AnswerKey,
    Attempt,
    AttemptItem,
    CalibrationRound,
    GradingTask,
    Item,
    ProjectTestRequirement,
    Qualification,
    Test,
)
from .stats import wilson_interval

T = Item.Type
OBJECTIVE = {T.SINGLE_CHOICE, T.MULTIPLE_CHOICE, T.AB_PREFERENCE, T.LIKERT, T.NUMERIC}
CHOICE = {T.SINGLE_CHOICE, T.MULTIPLE_CHOICE}
TEST_FIELDS = (
    "title",
    "domain",
    "kind",
    "instructions",
    "time_limit_minutes",
    "items_per_attempt",
    "max_attempts",
    "cooldown_hours",
    "show_explanations",
    "pass_rule",
    "pass_threshold",
    "graders_per_free_text",
    "qualification_valid_days",
)
ITEM_FIELDS = (
    "type",
    "prompt",
    "options",
    "key",
    "allow_tie",
    "ask_strength",
    "likert_points",
    "numeric_tolerance",
    "rubric",
    "section",
    "explanation",
)
IMPORT_FORMATS = ("jsonl", "csv")
MAX_IMPORT_ROWS = 5000
_rng = random.SystemRandom()
Q4 = Decimal("0.0001")


def grace_seconds() -> int:
    return int(getattr(settings, "ASSESSMENT_GRACE_SECONDS", 30))


# --- Access ----------------------------------------------------------------------------------------


def require_author(actor: User | None, owner: Organization | None) -> None:
    """Operations for platform tests (owner None); the owning lab's TESTS_AUTHOR otherwise."""
    if owner is None:
        require_staff(actor, StaffRole.OPERATIONS)
    else:
        require(actor, owner, Perm.TESTS_AUTHOR)


def _graders(test: Test) -> list[User]:
    if test.owner_id is None:
        return list(User.objects.filter(is_active=True, staff_role=StaffRole.OPERATIONS))
    return list(
        User.objects.filter(
            is_active=True, memberships__organization_id=test.owner_id, memberships__role__in=[Role.OWNER, Role.ADMIN]
        ).distinct()
    )


def _require_draft(test: Test) -> None:
    if test.status != Test.Status.DRAFT:
        raise DomainError(
            "A published test cannot change; make a new version.",
            code="test_not_draft",
            details={"status": test.status},
        )


# --- Tests -----------------------------------------------------------------------------------------


def _int_field(errors: dict, fields: dict, name: str, low: int, high: int) -> None:
    if name not in fields:
        return
    value = fields[name]
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value))
        except (TypeError, ValueError):
            errors[name] = ["A whole number."]
            return
    if not low <= value <= high:
        errors[name] = [f"Between {low} and {high}."]
        return
    fields[name] = value


def _clean_test_fields(fields: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    unknown = set(fields) - set(TEST_FIELDS)
    if unknown:
        raise ValidationFailed("Unknown fields.", details={name: ["Unknown field."] for name in sorted(unknown)})
    fields = dict(fields)
    errors: dict[str, list[str]] = {}
    if "title" in fields or creating:
        fields["title"] = str(fields.get("title") or "").strip()
        if not fields["title"]:
            errors["title"] = ["Required."]
        elif len(fields["title"]) > 200:
            errors["title"] = ["At most 200 characters."]
    if "domain" in fields:
        slug = fields["domain"]
        if isinstance(slug, Domain) or slug in (None, ""):
            fields["domain"] = slug or None
        else:
            fields["domain"] = Domain.objects.filter(slug=str(slug)).first()
            if fields["domain"] is None:
                errors["domain"] = [f"Unknown domain '{slug}'."]
    if "kind" in fields and fields["kind"] not in Test.Kind.values:
        errors["kind"] = [f"One of {', '.join(Test.Kind.values)}."]
    if "pass_rule" in fields and fields["pass_rule"] not in Test.PassRule.values:
        errors["pass_rule"] = [f"One of {', '.join(Test.PassRule.values)}."]
    if "instructions" in fields:
        fields["instructions"] = str(fields["instructions"] or "")
    if "show_explanations" in fields:
        fields["show_explanations"] = bool(fields["show_explanations"])
    _int_field(errors, fields, "time_limit_minutes", 1, 24 * 60)
    _int_field(errors, fields, "items_per_attempt", 1, 1000)
    _int_field(errors, fields, "max_attempts", 1, 100)
    _int_field(errors, fields, "cooldown_hours", 0, 24 * 365)
    _int_field(errors, fields, "graders_per_free_text", 1, 2)
    _int_field(errors, fields, "qualification_valid_days", 1, 3650)
    if "pass_threshold" in fields:
        try:
            threshold = Decimal(str(fields["pass_threshold"]))
            if not threshold.is_finite() or not 0 <= threshold <= 1:
                raise ValueError
            fields["pass_threshold"] = threshold.quantize(Q4)
        except (InvalidOperation, ValueError):
            errors["pass_threshold"] = ["A fraction between 0 and 1."]
    if errors:
        raise ValidationFailed("Please correct the test.", details=errors)
    return fields


def test_create(*, actor: User, organization: Organization | None, **fields: Any) -> Test:
    """Create a draft test (version 1 of a new family) for a lab, or a platform test (operations)."""
    require_author(actor, organization)
    clean = _clean_test_fields(fields, creating=True)
    with transaction.atomic():
        test = Test.objects.create(owner=organization, created_by=actor, **clean)
        audit(test, "test.created", actor=actor, data={"family": str(test.family)})
    return test


def test_update(*, actor: User, test: Test, **fields: Any) -> Test:
    """Change a draft's settings. A published or retired test refuses (409 test_not_draft)."""
    require_author(actor, test.owner)
    clean = _clean_test_fields(fields, creating=False)
    with transaction.atomic():
        test = Test.objects.select_for_update().get(pk=test.pk)
        _require_draft(test)
        for name, value in clean.items():
            setattr(test, name, value)
        test.save()
    return test


def test_new_version(*, actor: User, test: Test) -> Test:
    """A draft copy of ``test`` (settings, items and keys) as the family's next version."""
    require_author(actor, test.owner)
    with transaction.atomic():
        latest = Test.objects.select_for_update().filter(family=test.family).order_by("-version").first()
        if Test.objects.filter(family=test.family, status=Test.Status.DRAFT).exists():
            raise DomainError(
                "This test already has a draft version.",
                code="test_draft_exists",
                details={"version": latest.version},
            )
        copy = Test.objects.create(
            family=test.family,
            version=latest.version + 1,
            owner=test.owner,
            created_by=actor,
            **{name: getattr(test, name) for name in TEST_FIELDS},
        )
        for item in test.items.select_related("answer_key").order_by("position"):
            new = Item.objects.create(
                test=copy,
                position=item.position,
                type=item.type,
                prompt=item.prompt,
                options=item.options,
                allow_tie=item.allow_tie,
                ask_strength=item.ask_strength,
                likert_points=item.likert_points,
                numeric_tolerance=item.numeric_tolerance,
                rubric=item.rubric,
                section=item.section,
                explanation=item.explanation,
            )
            key = AnswerKey.objects.filter(item=item).first()
            if key is not None:
                AnswerKey.objects.create(item=new, value=key.value)
        audit(copy, "test.versioned", actor=actor, data={"from_version": test.version})
    return copy


def test_publish(*, actor: User, test: Test) -> bool:
    """Publish a complete draft: enough items, every objective item keyed, free text with a rubric.
    Idempotent (False when already published)."""
    require_author(actor, test.owner)
    items = list(test.items.all())
    keyed = set(AnswerKey.objects.filter(item__test=test).values_list("item_id", flat=True))
    errors: dict[str, list[str]] = {}
    if test.status == Test.Status.DRAFT:
        if len(items) < test.items_per_attempt:
            errors["items"] = [f"{len(items)} items in the pool; each attempt samples {test.items_per_attempt}."]
        unkeyed = [i.position for i in items if i.type in OBJECTIVE and i.pk not in keyed]
        # A calibration test may hold items without gold: they measure agreement, not accuracy.
        if unkeyed and test.kind == Test.Kind.QUALIFICATION:
            errors["key"] = [f"Items without an answer key: {', '.join(map(str, unkeyed))}."]
        no_rubric = [i.position for i in items if i.type == T.FREE_TEXT and not i.rubric]
        if no_rubric:
            errors["rubric"] = [f"Free-text items without a rubric: {', '.join(map(str, no_rubric))}."]
    if errors:
        raise ValidationFailed("The test is not ready to publish.", details=errors)
    return transition(test, Test.Status.PUBLISHED, actor=actor, extra_updates={"published_at": timezone.now()})


def test_retire(*, actor: User, test: Test) -> bool:
    """Close a published test to new attempts; qualifications already granted stay. Idempotent."""
    require_author(actor, test.owner)
    return transition(test, Test.Status.RETIRED, actor=actor)


# --- Items -----------------------------------------------------------------------------------------


def _is_index(value: Any, size: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < size


def _clean_item(
    *,
    type: Any,
    prompt: Any,
    options: Any = None,
    key: Any = None,
    allow_tie: Any = False,
    ask_strength: Any = False,
    likert_points: Any = None,
    numeric_tolerance: Any = None,
    rubric: Any = None,
    section: Any = "",
    explanation: Any = "",
) -> tuple[dict[str, Any], Any]:
    """Validate one item's fields for its type. Returns (item fields, key value or None)."""
    errors: dict[str, list[str]] = {}
    if type not in T.values:
        raise ValidationFailed("Unknown item type.", details={"type": [f"One of {', '.join(T.values)}."]})
    prompt = str(prompt or "").strip()
    if not prompt:
        errors["prompt"] = ["Required."]
    fields: dict[str, Any] = {
        "type": type,
        "prompt": prompt,
        "options": [],
        "allow_tie": False,
        "ask_strength": False,
        "likert_points": None,
        "numeric_tolerance": None,
        "rubric": [],
        "section": str(section or "").strip()[:100],
        "explanation": str(explanation or ""),
    }
    if type in CHOICE or type == T.AB_PREFERENCE:
        if not isinstance(options, list) or not all(isinstance(o, str) and o.strip() for o in options):
            errors["options"] = ["A list of non-empty texts."]
            options = []
        elif type == T.AB_PREFERENCE and len(options) != 2:
            errors["options"] = ["Exactly two texts: A and B."]
        elif len(options) < 2:
            errors["options"] = ["At least two options."]
        fields["options"] = [o.strip() for o in options]
    size = len(fields["options"])
    if type == T.SINGLE_CHOICE and key is not None and not _is_index(key, size):
        errors["key"] = [f"The index (0 to {max(size - 1, 0)}) of the correct option."]
    if type == T.MULTIPLE_CHOICE and key is not None:
        if (
            not isinstance(key, list)
            or not key
            or not all(_is_index(k, size) for k in key)
            or len(set(key)) != len(key)
        ):
            errors["key"] = ["A non-empty list of distinct option indices."]
        else:
            key = sorted(key)
    if type == T.AB_PREFERENCE:
        fields["allow_tie"] = bool(allow_tie)
        fields["ask_strength"] = bool(ask_strength)
        allowed = ["A", "B", "tie"] if fields["allow_tie"] else ["A", "B"]
        if key is not None and key not in allowed:
            errors["key"] = [f"One of {', '.join(allowed)}."]
    if type == T.LIKERT:
        if likert_points in ("5", "7"):
            likert_points = int(likert_points)
        if likert_points not in (5, 7):
            errors["likert_points"] = ["5 or 7."]
        else:
            fields["likert_points"] = likert_points
            if key is not None and not (
                isinstance(key, int) and not isinstance(key, bool) and 1 <= key <= likert_points
            ):
                errors["key"] = [f"A point from 1 to {likert_points}."]
    if type == T.NUMERIC:
        try:
            tolerance = Decimal(str(numeric_tolerance)) if numeric_tolerance not in (None, "") else Decimal(0)
            if not tolerance.is_finite() or tolerance < 0:
                raise ValueError
            fields["numeric_tolerance"] = tolerance
        except (InvalidOperation, ValueError):
            errors["numeric_tolerance"] = ["A number of at least 0."]
        if key is not None:
            try:
                number = Decimal(str(key))
                if isinstance(key, bool) or not number.is_finite():
                    raise ValueError
                key = f"{number:f}"
            except (InvalidOperation, ValueError):
                errors["key"] = ["A number."]
    if type == T.FREE_TEXT:
        if key is not None:
            errors["key"] = ["Free-text items have no key; they are graded against the rubric."]
        if (
            not isinstance(rubric, list)
            or not rubric
            or not all(
                isinstance(c, dict)
                and str(c.get("criterion") or "").strip()
                and isinstance(c.get("points"), int)
                and not isinstance(c.get("points"), bool)
                and 1 <= c["points"] <= 100
                for c in rubric
            )
        ):
            errors["rubric"] = ['A list of {"criterion": text, "points": 1-100}.']
        else:
            fields["rubric"] = [{"criterion": str(c["criterion"]).strip(), "points": c["points"]} for c in rubric]
    if errors:
        raise ValidationFailed("Please correct the item.", details=errors)
    return fields, key


def _store_item(test: Test, fields: dict[str, Any], key: Any) -> Item:
    position = (test.items.aggregate(top=Max("position"))["top"] or 0) + 1
    item = Item.objects.create(test=test, position=position, **fields)
    if key is not None:
        AnswerKey.objects.create(item=item, value=key)
    return item


def item_add(
    *,
    actor: User,
    test: Test,
    type: str,
    prompt: str,
    options: list[str] | None = None,
    key: Any = None,
    allow_tie: bool = False,
    ask_strength: bool = False,
    likert_points: int | None = None,
    numeric_tolerance: Any = None,
    rubric: list[dict] | None = None,
    section: str = "",
    explanation: str = "",
) -> Item:
    """Add an item (and its key, stored apart) to a draft test."""
    require_author(actor, test.owner)
    fields, key = _clean_item(
        type=type,
        prompt=prompt,
        options=options,
        key=key,
        allow_tie=allow_tie,
        ask_strength=ask_strength,
        likert_points=likert_points,
        numeric_tolerance=numeric_tolerance,
        rubric=rubric,
        section=section,
        explanation=explanation,
    )
    with transaction.atomic():
        locked = Test.objects.select_for_update().get(pk=test.pk)
        _require_draft(locked)
        return _store_item(locked, fields, key)


def _read_text(upload: Any) -> str:
    data = upload.read() if hasattr(upload, "read") else upload
    if isinstance(data, bytes):
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationFailed("The file is not UTF-8 text.", details={"file": ["Not UTF-8."]})
    return str(data)


def _csv_value(name: str, raw: str) -> Any:
    raw = raw.strip()
    if raw == "":
        return None
    if name in ("options", "rubric", "key"):
        try:
            return json.loads(raw)
        except ValueError:
            if name == "options":
                return [part.strip() for part in raw.split("|")]
            return raw
    if name in ("allow_tie", "ask_strength"):
        return raw.lower() in ("1", "true", "yes", "y")
    if name == "likert_points":
        return int(raw) if raw.isdigit() else raw
    return raw


def _import_rows(text: str, fmt: str) -> list[tuple[int, Any]]:
    rows: list[tuple[int, Any]] = []
    if fmt == "jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append((number, json.loads(line)))
            except ValueError:
                rows.append((number, ValueError("Not valid JSON.")))
    else:
        reader = csv.DictReader(io.StringIO(text))
        for number, record in enumerate(reader, start=2):
            rows.append(
                (number, {k.strip(): _csv_value(k.strip(), v or "") for k, v in record.items() if k and k.strip()})
            )
    return rows


def items_import(*, actor: User, test: Test, upload: Any, fmt: str) -> int:
    """Import items from JSONL or CSV (each row the item_add fields with ``key``). All or nothing:
    any bad row raises ValidationFailed(details={"rows": [{"row", "field", "reason"}]}) and stores nothing."""
    require_author(actor, test.owner)
    if fmt not in IMPORT_FORMATS:
        raise ValidationFailed("Unknown format.", details={"fmt": [f"One of {', '.join(IMPORT_FORMATS)}."]})
    _require_draft(test)
    parsed = _import_rows(_read_text(upload), fmt)
    if len(parsed) > MAX_IMPORT_ROWS:
        raise ValidationFailed("Too many rows.", details={"file": [f"At most {MAX_IMPORT_ROWS} rows."]})
    errors: list[dict[str, Any]] = []
    good: list[tuple[dict, Any]] = []
    for number, row in parsed:
        if isinstance(row, Exception):
            errors.append({"row": number, "field": None, "reason": str(row)})
            continue
        if not isinstance(row, dict):
            errors.append({"row": number, "field": None, "reason": "Each row is an object."})
            continue
        unknown = sorted(set(row) - set(ITEM_FIELDS))
        for name in unknown:
            errors.append({"row": number, "field": name, "reason": "Unknown field."})
        if unknown:
            continue
        if row.get("type") != T.FREE_TEXT and row.get("key") is None and test.kind == Test.Kind.QUALIFICATION:
            errors.append({"row": number, "field": "key", "reason": "Missing: an objective item needs its key."})
            continue
        try:
            good.append(_clean_item(**{k: v for k, v in row.items() if v is not None or k == "key"}))
        except TypeError as exc:
            errors.append({"row": number, "field": None, "reason": str(exc)})
        except ValidationFailed as exc:
            for name, reasons in exc.details.items():
                errors.append({"row": number, "field": name, "reason": " ".join(reasons)})
    if not parsed and not errors:
        raise ValidationFailed("The file holds no items.", details={"file": ["Empty."]})
    if errors:
        raise ValidationFailed(
            f"{len({e['row'] for e in errors})} bad row(s); nothing was imported.", details={"rows": errors}
        )
    with transaction.atomic():
        locked = Test.objects.select_for_update().get(pk=test.pk)
        _require_draft(locked)
        for fields, key in good:
            _store_item(locked, fields, key)
        audit(locked, "test.items_imported", actor=actor, data={"count": len(good), "format": fmt})
    return len(good)


# --- Attempts --------------------------------------------------------------------------------------


def attempt_start(
    *, actor: User, test: Test, calibration_round: CalibrationRound | None = None, rng: random.Random | None = None
) -> Attempt:
    """Start an attempt: sample ``items_per_attempt`` items, shuffle items and options, pick the A/B
    side shown first, start the clock. Limits and cooldown count over the whole test family.
    ``rng`` exists for reproducible demo data; interfaces never pass it (the default is the system
    RNG, which a taker cannot predict)."""
    rng = rng or _rng
    if actor is None or not actor.is_authenticated:
        raise NotFound("Test not found.", code="test_not_found")
    if test.status != Test.Status.PUBLISHED:
        raise DomainError("This test is not open.", code="test_not_published", details={"status": test.status})
    if test.kind == Test.Kind.CALIBRATION:
        # A calibration test is taken only through a round that invited the expert's supplier.
        if (
            calibration_round is None
            or calibration_round.test_id != test.pk
            or not calibration_round_can_attempt(round=calibration_round, expert=actor)
        ):
            raise NotFound("Test not found.", code="test_not_found")
    now = timezone.now()
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=actor.pk).first()  # one start at a time per expert
        previous = list(Attempt.objects.filter(expert=actor, test__family=test.family).order_by("-started_at", "-id"))
        if any(a.status == Attempt.Status.IN_PROGRESS for a in previous):
            current = next(a for a in previous if a.status == Attempt.Status.IN_PROGRESS)
            raise DomainError(
                "An attempt is already in progress.",
                code="attempt_in_progress",
                details={"attempt": str(current.public_id)},
            )
        if len(previous) >= test.max_attempts:
            raise DomainError(
                f"All {test.max_attempts} attempts are used.",
                code="attempt_limit_reached",
                details={"max_attempts": test.max_attempts},
            )
        if previous and test.cooldown_hours:
            last = previous[0]
            retry_after = (last.submitted_at or last.deadline_at) + timedelta(hours=test.cooldown_hours)
            if now < retry_after:
                raise DomainError(
                    "Wait for the cooldown before the next attempt.",
                    code="attempt_cooldown",
                    details={"retry_after": retry_after.isoformat()},
                )
        pool = list(test.items.all())
        if len(pool) < test.items_per_attempt:
            raise DomainError("This test has too few items.", code="test_incomplete")
        chosen = rng.sample(pool, test.items_per_attempt)
        try:
            attempt = Attempt.objects.create(
                test=test,
                expert=actor,
                number=len(previous) + 1,
                calibration_round=calibration_round,
                started_at=now,
                deadline_at=now + timedelta(minutes=test.time_limit_minutes),
            )
        except IntegrityError:
            raise DomainError("An attempt is already in progress.", code="attempt_in_progress")
        served = []
        for position, item in enumerate(chosen, start=1):
            order: list[int] = []
            if item.type in CHOICE:
                order = list(range(len(item.options)))
                rng.shuffle(order)
            served.append(
                AttemptItem(
                    attempt=attempt,
                    item=item,
                    position=position,
                    option_order=order,
                    a_shown_first=rng.random() < 0.5 if item.type == T.AB_PREFERENCE else None,
                )
            )
        AttemptItem.objects.bulk_create(served)
        audit(attempt, "attempt.started", actor=actor, data={"test": str(test.public_id), "number": attempt.number})
    return attempt


def _bad_answer(reason: str) -> ValidationFailed:
    return ValidationFailed(reason, details={"answer": [reason]})


def _shown_index(value: Any, size: int) -> int:
    if not _is_index(value, size):
        raise _bad_answer(f"A shown option index from 0 to {size - 1}.")
    return value


def to_original(served: AttemptItem, answer: Any) -> Any:
    """Map an answer in shown terms to what is stored (original option indices, "A"/"B"/"tie")."""
    item = served.item
    if not isinstance(answer, dict):
        raise _bad_answer('An object, e.g. {"option": 0}.')
    if item.type == T.SINGLE_CHOICE:
        return {"option": served.option_order[_shown_index(answer.get("option"), len(served.option_order))]}
    if item.type == T.MULTIPLE_CHOICE:
        shown = answer.get("options")
        if not isinstance(shown, list) or len(set(map(str, shown))) != len(shown):
            raise _bad_answer("A list of distinct shown option indices.")
        return {"options": sorted(served.option_order[_shown_index(s, len(served.option_order))] for s in shown)}
    if item.type == T.AB_PREFERENCE:
        choice = answer.get("choice")
        allowed = ["first", "second", "tie"] if item.allow_tie else ["first", "second"]
        if choice not in allowed:
            raise _bad_answer(f"choice is one of {', '.join(allowed)}.")
        stored: dict[str, Any] = {"choice": "tie"}
        if choice != "tie":
            stored["choice"] = "A" if (choice == "first") == bool(served.a_shown_first) else "B"
        if item.ask_strength:
            strength = answer.get("strength")
            if isinstance(strength, bool) or strength not in (1, 2, 3):
                raise _bad_answer("strength is 1, 2 or 3.")
            stored["strength"] = strength
        return stored
    if item.type == T.LIKERT:
        value = answer.get("value")
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= item.likert_points:
            raise _bad_answer(f"value is a point from 1 to {item.likert_points}.")
        return {"value": value}
    if item.type == T.NUMERIC:
        value = answer.get("value")
        try:
            if isinstance(value, bool) or value is None:
                raise ValueError
            number = Decimal(str(value).strip())
            if not number.is_finite():
                raise ValueError
        except (InvalidOperation, ValueError):
            raise _bad_answer('value is a number, e.g. "12.5".')
        return {"value": f"{number:f}"}
    text = answer.get("text")
    if not isinstance(text, str) or len(text) > 20000:
        raise _bad_answer("text is a string of at most 20,000 characters.")
    return {"text": text}


def _locked_attempt(attempt: Attempt) -> Attempt:
    return Attempt.objects.select_for_update().select_related("test").get(pk=attempt.pk)


def _not_in_progress(attempt: Attempt) -> DomainError:
    return DomainError(
        "This attempt is no longer in progress.", code="attempt_not_in_progress", details={"status": attempt.status}
    )


def attempt_answer(*, actor: User, attempt: Attempt, item_public_id: Any, answer: Any) -> AttemptItem:
    """Autosave one answer (in shown terms), replacing any earlier one. Refused after the deadline
    plus the grace period, for items not served in this attempt, or out of type/range."""
    if actor is None or attempt.expert_id != actor.pk:
        raise NotFound("Attempt not found.", code="attempt_not_found")
    with transaction.atomic():
        attempt = _locked_attempt(attempt)
        if attempt.status != Attempt.Status.IN_PROGRESS:
            raise _not_in_progress(attempt)
        if timezone.now() > attempt.deadline_at + timedelta(seconds=grace_seconds()):
            raise DomainError(
                "The time limit has passed.",
                code="attempt_deadline_passed",
                details={"deadline_at": attempt.deadline_at.isoformat()},
            )
        try:
            served = attempt.attempt_items.select_related("item").get(item__public_id=item_public_id)
        except (AttemptItem.DoesNotExist, ValueError, TypeError, DjangoValidationError):
            raise NotFound(
                "This item is not part of the attempt.",
                code="attempt_item_not_found",
                details={"item": str(item_public_id)},
            )
        served.answer = to_original(served, answer)
        served.answered_at = timezone.now()
        served.save(update_fields=["answer", "answered_at"])
    return served


def attempt_submit(*, actor: User | None, attempt: Attempt) -> Attempt:
    """Submit (the taker; or the system, ``actor`` None, for an overdue attempt). Objective items are
    graded at once; free-text answers go to the grading queue. A second submit: 409."""
    if actor is not None and attempt.expert_id != actor.pk:
        raise NotFound("Attempt not found.", code="attempt_not_found")
    with transaction.atomic():
        attempt = _locked_attempt(attempt)
        if attempt.status != Attempt.Status.IN_PROGRESS:
            raise _not_in_progress(attempt)
        test = attempt.test
        served = list(attempt.attempt_items.select_related("item"))
        keys = dict(AnswerKey.objects.filter(item__in=[s.item_id for s in served]).values_list("item_id", "value"))
        tasks = []
        for s in served:
            if s.item.type == T.FREE_TEXT:
                if s.answer is None or not str(s.answer.get("text", "")).strip():
                    s.earned = Decimal(0)
                else:
                    tasks.extend(
                        GradingTask(attempt_item=s, slot=slot) for slot in range(1, test.graders_per_free_text + 1)
                    )
            elif s.item_id in keys:
                s.earned = grade_item(s.item.type, keys[s.item_id], s.answer, tolerance=s.item.numeric_tolerance)
            else:
                s.earned = None  # a calibration item without gold: agreement only, not scored
        AttemptItem.objects.bulk_update(served, ["earned"])
        now = timezone.now()
        if tasks:
            GradingTask.objects.bulk_create(tasks)
            transition(attempt, Attempt.Status.GRADING, actor=actor, extra_updates={"submitted_at": now})
            notify_many(
                recipients=_graders(test),
                kind="grading.assigned",
                title=f"{len(tasks)} free-text answer(s) to grade for {test.title}",
                url="/tests/grading/",
            )
        else:
            attempt.submitted_at = now
            _finish(attempt, actor=actor, extra={"submitted_at": now})
    attempt.refresh_from_db()
    return attempt


def attempts_close_overdue(*, now=None) -> int:
    """Submit every in-progress attempt past its deadline plus grace, grading what was saved.
    Idempotent; each attempt in its own transaction so one failure does not block the rest."""
    cutoff = (now or timezone.now()) - timedelta(seconds=grace_seconds())
    closed = 0
    for attempt in Attempt.objects.filter(status=Attempt.Status.IN_PROGRESS, deadline_at__lt=cutoff).order_by("id"):
        try:
            attempt_submit(actor=None, attempt=attempt)
        except DomainError:
            continue
        closed += 1
    return closed


# --- Grading ---------------------------------------------------------------------------------------


def _lower_bound(successes: Decimal, n: int) -> Decimal:
    return wilson_interval(float(successes), n)[0]


def pass_decision(test: Test, *, earned_total: Decimal, n: int) -> tuple[Decimal, Decimal, bool]:
    """(score, Wilson lower bound, passed) for ``earned_total`` points over ``n`` items."""
    score = earned_total / n if n else Decimal(0)
    lower = _lower_bound(earned_total, n)
    measure = lower if test.pass_rule == Test.PassRule.WILSON_LOWER else score
    return score, lower, measure >= test.pass_threshold


def _event_organizations(test: Test, expert: User) -> list[int | None]:
    """Who an attempt's events concern: the lab that authors the test (which may read its attempts) and
    the expert's own independent-expert organisation, if any. Never a vendor the expert works for."""
    individual = (
        Organization.objects.filter(kind=OrgKind.INDIVIDUAL, memberships__user=expert)
        .values_list("pk", flat=True)
        .first()
    )
    return [test.owner_id, individual]


def _finish(attempt: Attempt, *, actor: User | None, extra: dict | None = None) -> None:
    """Score a fully graded attempt, move it to graded and grant a qualification on a pass."""
    test = attempt.test
    # Items without gold (calibration only) carry no score and do not count.
    served = [s for s in attempt.attempt_items.select_related("item") if s.earned is not None]
    n = len(served)
    total = sum((s.earned for s in served), Decimal(0))
    score, lower, passed = pass_decision(test, earned_total=total, n=n)
    sections: dict[str, dict[str, Any]] = {}
    for s in served:
        row = sections.setdefault(s.item.section or "General", {"items": 0, "earned": Decimal(0)})
        row["items"] += 1
        row["earned"] += s.earned
    breakdown: dict[str, Any] = dict(attempt.breakdown or {})
    breakdown["sections"] = {
        name: {"items": row["items"], "earned": f"{row['earned']:.4f}", "score": f"{row['earned'] / row['items']:.4f}"}
        for name, row in sorted(sections.items())
    }
    transition(
        attempt,
        Attempt.Status.GRADED,
        actor=actor,
        extra_updates={
            **(extra or {}),
            "score": score.quantize(Q4),
            "wilson_lower": lower.quantize(Q4, rounding=ROUND_FLOOR),
            "passed": passed,
            "breakdown": breakdown,
        },
    )
    expert = attempt.expert
    concerned = _event_organizations(test, expert)
    emit(
        "attempt.graded",
        obj=attempt,
        organization_ids=concerned,
        data={
            "attempt": str(attempt.public_id),
            "test": str(test.public_id),
            "test_version": test.version,
            "kind": test.kind,
            "passed": attempt.passed,
            "score": str(attempt.score) if attempt.score is not None else None,
        },
        actor=actor,
    )
    notify(
        recipient=expert,
        kind="attempt.graded",
        title=f"{test.title}: {'passed' if passed else 'not passed'}",
        url=f"/tests/attempts/{attempt.public_id}/result/",
    )
    if passed and test.kind == Test.Kind.QUALIFICATION:
        now = timezone.now()
        qualification = Qualification.objects.create(
            expert=expert,
            test=test,
            family=test.family,
            attempt=attempt,
            score=score.quantize(Q4),
            granted_at=now,
            expires_at=now + timedelta(days=test.qualification_valid_days),
        )
        audit(qualification, "qualification.granted", actor=actor, data={"test_version": test.version})
        emit(
            "qualification.granted",
            obj=qualification,
            organization_ids=concerned,
            data={
                "qualification": str(qualification.public_id),
                "test": str(test.public_id),
                "test_version": test.version,
                "attempt": str(attempt.public_id),
                "expires_at": qualification.expires_at.isoformat(),
            },
            actor=actor,
        )
        notify(
            recipient=expert,
            kind="qualification.granted",
            title=f"Qualified: {test.title} (v{test.version})",
            url="/tests/qualifications/",
        )


def _may_grade(actor: User | None, test: Test) -> bool:
    if test.owner_id is None:
        return is_staff_role(actor, StaffRole.OPERATIONS)
    try:
        require(actor, test.owner, Perm.TESTS_AUTHOR)
    except (NotFound, PermissionDenied):
        return False
    return True


def grading_claim(*, actor: User, task: GradingTask) -> GradingTask:
    """Take an open grading task. Graders: operations (platform tests) or the lab's test authors.
    One grader may not hold both slots of one answer, nor grade their own attempt. Idempotent."""
    with transaction.atomic():
        task = GradingTask.objects.select_for_update().select_related("attempt_item__attempt__test").get(pk=task.pk)
        attempt = task.attempt_item.attempt
        if not _may_grade(actor, attempt.test):
            raise NotFound("Grading task not found.", code="grading_task_not_found")
        if attempt.expert_id == actor.pk:
            raise PermissionDenied("You cannot grade your own attempt.", code="grading_own_attempt")
        if task.grader_id == actor.pk:
            return task
        if task.grader_id is not None or task.status != GradingTask.Status.OPEN:
            raise DomainError("Another grader took this task.", code="grading_task_taken")
        if GradingTask.objects.filter(attempt_item=task.attempt_item, grader=actor).exclude(pk=task.pk).exists():
            raise DomainError(
                "You already grade the other slot of this answer.",
                code="grading_same_grader",
                details={"slot": task.slot},
            )
        task.grader = actor
        task.save(update_fields=["grader", "updated_at"])
        audit(task, "grading.claimed", actor=actor, data={"slot": task.slot})
    return task


def grading_score(*, actor: User, task: GradingTask, criterion_points: list[int]) -> GradingTask:
    """Score each rubric criterion of a claimed (or still unclaimed) task. When every task of the
    attempt is scored, the attempt is finished: free-text earned = mean of the graders' fractions."""
    if task.grader_id is None:
        task = grading_claim(actor=actor, task=task)
    with transaction.atomic():
        task = (
            GradingTask.objects.select_for_update()
            .select_related("attempt_item__item", "attempt_item__attempt")
            .get(pk=task.pk)
        )
        if task.grader_id != actor.pk:
            raise NotFound("Grading task not found.", code="grading_task_not_found")
        if task.status != GradingTask.Status.OPEN:
            raise DomainError("This task is already scored.", code="grading_task_not_open")
        rubric = task.attempt_item.item.rubric
        if (
            not isinstance(criterion_points, list)
            or len(criterion_points) != len(rubric)
            or not all(
                isinstance(p, int) and not isinstance(p, bool) and 0 <= p <= c["points"]
                for p, c in zip(criterion_points, rubric, strict=False)
            )
        ):
            raise ValidationFailed(
                "Give each criterion's points within its maximum.",
                details={
                    "criterion_points": [f"{len(rubric)} whole numbers, each 0..{[c['points'] for c in rubric]}."]
                },
            )
        fraction = Decimal(sum(criterion_points)) / Decimal(sum(c["points"] for c in rubric))
        transition(
            task,
            GradingTask.Status.SCORED,
            actor=actor,
            extra_updates={
                "criterion_points": criterion_points,
                "fraction": fraction.quantize(Q4),
                "scored_at": timezone.now(),
            },
        )
        attempt = (
            Attempt.objects.select_for_update().select_related("test", "expert").get(pk=task.attempt_item.attempt_id)
        )
        pending = GradingTask.objects.filter(attempt_item__attempt=attempt, status=GradingTask.Status.OPEN)
        if attempt.status == Attempt.Status.GRADING and not pending.exists():
            _finish_free_text(attempt, actor=actor)
    task.refresh_from_db()
    return task


def _finish_free_text(attempt: Attempt, *, actor: User) -> None:
    differences: list[Decimal] = []
    exact = 0
    for served in attempt.attempt_items.filter(item__type=T.FREE_TEXT):
        tasks = list(served.grading_tasks.order_by("slot"))
        if not tasks:
            continue
        served.earned = (sum((t.fraction for t in tasks), Decimal(0)) / len(tasks)).quantize(Q4)
        served.save(update_fields=["earned"])
        if len(tasks) == 2:
            differences.append(abs(tasks[0].fraction - tasks[1].fraction))
            exact += tasks[0].criterion_points == tasks[1].criterion_points
    if differences:
        mean_diff = sum(differences, Decimal(0)) / len(differences)
        attempt.breakdown = {
            **(attempt.breakdown or {}),
            "grader_agreement": {
                "answers": len(differences),
                "mean_abs_difference": f"{mean_diff:.4f}",
                "agreement": f"{1 - mean_diff:.4f}",
                "identical_scores": exact,
            },
        }
    _finish(attempt, actor=actor)


# --- Qualifications and requirements ---------------------------------------------------------------


def qualification_revoke(*, actor: User, qualification: Qualification, reason: str) -> bool:
    """Revoke a qualification (operations, with a reason). Idempotent."""
    require_staff(actor, StaffRole.OPERATIONS)
    reason = str(reason or "").strip()
    if not reason:
        raise ValidationFailed("Give a reason.", details={"reason": ["Required."]})
    moved = transition(
        qualification, Qualification.Status.REVOKED, actor=actor, reason=reason, extra_updates={"status_reason": reason}
    )
    if moved:
        notify(
            recipient=qualification.expert,
            kind="qualification.revoked",
            title=f"Qualification revoked: {qualification.test.title}",
            body=reason,
            url="/tests/qualifications/",
        )
    return moved


def project_test_require(*, actor: User, project: Project, test: Test) -> ProjectTestRequirement:
    """Make ``project`` require a current qualification in ``test``'s family (replacing any earlier one)."""
    require(actor, project.lab, Perm.PROJECTS_MANAGE)
    if (
        test.status != Test.Status.PUBLISHED
        or test.kind != Test.Kind.QUALIFICATION
        or test.owner_id not in (None, project.lab_id)
    ):
        raise ValidationFailed(
            "Choose a published qualification test of this lab or the platform.",
            details={"test": ["Not a published qualification test available to this lab."]},
        )
    with transaction.atomic():
        requirement, _ = ProjectTestRequirement.objects.update_or_create(project=project, defaults={"test": test})
        audit(requirement, "project.test_required", actor=actor, data={"test": str(test.public_id)})
    return requirement
