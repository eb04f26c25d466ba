"""Pages for qualification and calibration tests: authoring (the lab's or operations' own tests, the
only pages that show answer keys), the expert's open tests, the taking page (autosaved answers in
the shown order), the result, the blind grading queue, qualifications and calibration rounds.

Views are interfaces: parse input, call one selector or service, render. A NotFound becomes 404, a
PermissionDenied 403, any other DomainError a form error on the field it names, or a message. The
expert's pages never carry a key or a correctness marker: they render ``attempt_taker_view`` only.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts import policies
from apps.accounts.middleware import get_active_membership
from apps.accounts.models import Organization
from apps.accounts.roles import OrgKind, Perm
from apps.accounts.views import access_errors
from apps.core.errors import DomainError
from apps.projects.views import apply_error

from . import calibration, selectors, services
from .forms import CalibrationRoundForm, ImportForm, ItemForm, RevokeForm, ScoreForm, TestForm
from .models import Attempt, CalibrationRound, Item, Test

MAX_SHOWN_ERRORS = 200


# --- Who is asking -------------------------------------------------------------------------------------


def _active_organization(request: HttpRequest) -> Organization | None:
    membership = get_active_membership(request)
    return membership.organization if membership else None


def author_organization(request: HttpRequest) -> Organization | None:
    """The lab whose tests are authored here; ``None`` for operations (platform tests). Anyone who is
    neither a lab member nor operations finds no authoring page (404); a lab member without the
    authoring permission is refused (403)."""
    if request.user.is_operations:
        return None
    organization = _active_organization(request)
    if organization is None or organization.kind != OrgKind.LAB:
        raise Http404("Test authoring belongs to labs.")
    with access_errors():
        policies.require(request.user, organization, Perm.TESTS_AUTHOR)
    return organization


def can_author(request: HttpRequest) -> bool:
    if request.user.is_operations:
        return True
    organization = _active_organization(request)
    return (
        organization is not None
        and organization.kind == OrgKind.LAB
        and policies.has_permission(request.user, organization, Perm.TESTS_AUTHOR)
    )


def _row_errors(error: DomainError) -> dict[str, Any] | None:
    rows = error.details.get("rows") if error.details else None
    if not isinstance(rows, list):
        return None
    total = error.details.get("error_count") or len(rows)
    shown = rows[:MAX_SHOWN_ERRORS]
    return {"rows": shown, "total": total, "shown": len(shown), "capped": total > len(shown)}


def _test_url(test: Test) -> str:
    return reverse("assessments:test_detail", args=[test.public_id])


# --- Authoring -----------------------------------------------------------------------------------------


@login_required
@require_GET
def authoring_list(request: HttpRequest) -> HttpResponse:
    organization = author_organization(request)
    with access_errors():
        tests = list(selectors.test_list_for_author(actor=request.user, organization=organization))
    return render(request, "assessments/authoring_list.html", {"org": organization, "tests": tests})


@login_required
@require_http_methods(["GET", "POST"])
def test_create(request: HttpRequest) -> HttpResponse:
    organization = author_organization(request)
    form = TestForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                with access_errors():
                    test = services.test_create(actor=request.user, organization=organization, **form.cleaned_data)
            except DomainError as error:
                apply_error(form, error)
            else:
                messages.success(request, "Test created as a draft. Add items, then publish it.")
                return redirect(_test_url(test))
    return render(request, "assessments/test_form.html", {"org": organization, "form": form}, status=status)


def _author_test(request: HttpRequest, public_id) -> tuple[Organization | None, Test]:
    organization = author_organization(request)
    with access_errors():
        test = selectors.test_get(actor=request.user, organization=organization, public_id=public_id)
    return organization, test


def _items_with_keys(request: HttpRequest, test: Test) -> list[dict[str, Any]]:
    """The author's view of the pool: each item with its key, shown as the author types it
    (option numbers from 1)."""
    with access_errors():
        rows = selectors.test_items_for_author(actor=request.user, test=test)
    for row in rows:
        item, value = row["item"], row["key"]
        if item.type == Item.Type.SINGLE_CHOICE and isinstance(value, int):
            row["key_text"] = str(value + 1)
        elif item.type == Item.Type.MULTIPLE_CHOICE and isinstance(value, list):
            row["key_text"] = ", ".join(str(v + 1) for v in value)
        else:
            row["key_text"] = "" if value is None else str(value)
    return rows


def _detail_context(request, organization, test, **extra) -> dict[str, Any]:
    context = {
        "org": organization,
        "test": test,
        "items": _items_with_keys(request, test),
        "is_draft": test.status == Test.Status.DRAFT,
        "item_form": ItemForm(),
        "import_form": ImportForm(initial={"fmt": "auto"}),
        "row_errors": None,
    }
    context.update(extra)
    return context


@login_required
@require_GET
def test_detail(request: HttpRequest, public_id) -> HttpResponse:
    organization, test = _author_test(request, public_id)
    return render(request, "assessments/test_detail.html", _detail_context(request, organization, test))


@login_required
@require_http_methods(["GET", "POST"])
def test_edit(request: HttpRequest, public_id) -> HttpResponse:
    organization, test = _author_test(request, public_id)
    if test.status != Test.Status.DRAFT:
        messages.error(request, "A published test cannot change; make a new version to edit it.")
        return redirect(_test_url(test))
    form = TestForm(request.POST or None, instance=test)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                with access_errors():
                    services.test_update(actor=request.user, test=test, **form.cleaned_data)
            except DomainError as error:
                apply_error(form, error)
            else:
                messages.success(request, "Settings saved.")
                return redirect(_test_url(test))
    return render(
        request, "assessments/test_form.html", {"org": organization, "form": form, "test": test}, status=status
    )


@login_required
@require_POST
def item_add(request: HttpRequest, public_id) -> HttpResponse:
    organization, test = _author_test(request, public_id)
    form = ItemForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            with access_errors():
                services.item_add(
                    actor=request.user,
                    test=test,
                    type=data["type"],
                    prompt=data["prompt"],
                    options=data["options"],
                    key=data["key"],
                    allow_tie=data["allow_tie"],
                    ask_strength=data["ask_strength"],
                    likert_points=data["likert_points"],
                    numeric_tolerance=data["numeric_tolerance"],
                    rubric=data["rubric"],
                    section=data["section"],
                    explanation=data["explanation"],
                )
        except DomainError as error:
            apply_error(form, error)
        else:
            messages.success(request, "Item added.")
            return redirect(_test_url(test) + "#items")
    context = _detail_context(request, organization, test, item_form=form)
    return render(request, "assessments/test_detail.html", context, status=400)


@login_required
@require_POST
def items_import(request: HttpRequest, public_id) -> HttpResponse:
    organization, test = _author_test(request, public_id)
    form = ImportForm(request.POST, request.FILES)
    row_errors = None
    if form.is_valid():
        try:
            with access_errors():
                result = services.items_import(
                    actor=request.user,
                    test=test,
                    upload=form.cleaned_data["upload"],
                    fmt=form.cleaned_data["resolved_fmt"],
                )
        except DomainError as error:
            row_errors = _row_errors(error)
            if row_errors is None:
                apply_error(form, error, aliases={"file": "upload"})
        else:
            count = len(result) if isinstance(result, list | tuple) else result
            messages.success(request, f"Items imported: {count}." if isinstance(count, int) else "Items imported.")
            return redirect(_test_url(test) + "#items")
    context = _detail_context(request, organization, test, import_form=form, row_errors=row_errors)
    return render(request, "assessments/test_detail.html", context, status=400)


def _author_action(request: HttpRequest, public_id, action, done: str) -> HttpResponse:
    """An author's one-click change to a test: the service's refusal becomes a message."""
    _organization, test = _author_test(request, public_id)
    try:
        with access_errors():
            action(actor=request.user, test=test)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect(_test_url(test))


@login_required
@require_POST
def test_publish(request: HttpRequest, public_id) -> HttpResponse:
    return _author_action(
        request, public_id, services.test_publish, "Published: experts can take it now. Its items no longer change."
    )


@login_required
@require_POST
def test_retire(request: HttpRequest, public_id) -> HttpResponse:
    return _author_action(
        request, public_id, services.test_retire, "Retired: no new attempts. Qualifications already granted stay."
    )


@login_required
@require_POST
def test_new_version(request: HttpRequest, public_id) -> HttpResponse:
    _organization, test = _author_test(request, public_id)
    try:
        with access_errors():
            new = services.test_new_version(actor=request.user, test=test)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(_test_url(test))
    messages.success(request, f"Version {new.version} drafted with the same items. Edit it, then publish it.")
    return redirect(_test_url(new))


# --- The expert: open tests, taking, result --------------------------------------------------------------


def _open_rows(tests, attempts: list[Attempt]) -> list[dict[str, Any]]:
    """Each open test with the expert's attempts left in its family and when a retry opens."""
    now = timezone.now()
    by_family: dict[Any, list[Attempt]] = {}
    for attempt in attempts:  # newest first
        by_family.setdefault(attempt.test.family, []).append(attempt)
    rows = []
    for test in tests:
        previous = by_family.get(test.family, [])
        in_progress = next((a for a in previous if a.status == Attempt.Status.IN_PROGRESS), None)
        retry_at = None
        if previous and test.cooldown_hours and in_progress is None:
            last = previous[0]
            retry_at = (last.submitted_at or last.deadline_at) + timedelta(hours=test.cooldown_hours)
            if retry_at <= now:
                retry_at = None
        left = max(test.max_attempts - len(previous), 0)
        rows.append(
            {
                "test": test,
                "attempts_used": len(previous),
                "attempts_left": left,
                "retry_at": retry_at,
                "in_progress": in_progress,
                "can_start": in_progress is None and left > 0 and retry_at is None,
            }
        )
    return rows


def _open_rounds(user) -> list[CalibrationRound]:
    """Open calibration rounds the expert may take now (through an invited supplier)."""
    rounds = CalibrationRound.objects.filter(
        status=CalibrationRound.Status.OPEN, deadline__gt=timezone.now()
    ).select_related("test", "lab")
    return [r for r in rounds if calibration.calibration_round_can_attempt(round=r, expert=user)]


@login_required
@require_GET
def open_tests(request: HttpRequest) -> HttpResponse:
    with access_errors():
        tests = list(selectors.test_list_open(actor=request.user))
        attempts = list(selectors.attempt_list_for_expert(actor=request.user))
    rounds = _open_rounds(request.user)
    taken = {a.calibration_round_id for a in attempts if a.calibration_round_id}
    return render(
        request,
        "assessments/open_tests.html",
        {
            "rows": _open_rows(tests, attempts),
            "attempts": attempts,
            "rounds": [{"round": r, "taken": r.pk in taken} for r in rounds],
        },
    )


@login_required
@require_POST
def attempt_start(request: HttpRequest, public_id) -> HttpResponse:
    round_ = None
    if request.POST.get("round"):
        round_ = next((r for r in _open_rounds(request.user) if str(r.public_id) == request.POST["round"]), None)
        if round_ is None or str(round_.test.public_id) != str(public_id):
            raise Http404("No such open calibration round for you.")
        test = round_.test
    else:
        with access_errors():
            test = selectors.test_get(actor=request.user, organization=None, public_id=public_id)
    try:
        with access_errors():
            attempt = services.attempt_start(actor=request.user, test=test, calibration_round=round_)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("assessments:open_tests")
    return redirect("assessments:attempt", attempt.public_id)


def _expert_attempt(request: HttpRequest, public_id) -> Attempt:
    with access_errors():
        attempt = selectors.attempt_get(actor=request.user, public_id=public_id)
    if attempt.expert_id != request.user.pk:
        raise Http404("Not your attempt.")
    return attempt


def _shown_items(attempt: Attempt) -> list[dict[str, Any]]:
    """The taker's view (no keys), with what the template needs to mark saved answers."""
    rows = []
    for row in selectors.attempt_taker_view(attempt):
        answer = row.get("answer") or {}
        options = row.get("options")
        row["answered"] = bool(answer)
        row["chosen"] = [answer["option"]] if "option" in answer else list(answer.get("options") or [])
        row["likert_range"] = list(range(1, (row.get("likert_points") or 0) + 1))
        row["shown_options"] = list(enumerate(options)) if isinstance(options, list) else []
        row["sides"] = options if isinstance(options, dict) else {}
        row["saved"] = answer
        rows.append(row)
    return rows


@login_required
@require_GET
def attempt_take(request: HttpRequest, public_id) -> HttpResponse:
    attempt = _expert_attempt(request, public_id)
    if attempt.status != Attempt.Status.IN_PROGRESS:
        return redirect("assessments:attempt_result", attempt.public_id)
    items = _shown_items(attempt)
    return render(
        request,
        "assessments/take.html",
        {
            "attempt": attempt,
            "test": attempt.test,
            "items": items,
            "answered": sum(1 for i in items if i["answered"]),
        },
    )


def _answer_from_post(data) -> dict[str, Any] | None:
    """The posted answer in shown terms; ``None`` when nothing was given."""
    kind = data.get("type")

    def number(name: str) -> int | None:
        try:
            return int(data.get(name, ""))
        except ValueError:
            return None

    if kind == Item.Type.SINGLE_CHOICE:
        option = number("option")
        return None if option is None else {"option": option}
    if kind == Item.Type.MULTIPLE_CHOICE:
        return {"options": sorted(int(v) for v in data.getlist("options") if v.isdigit())}
    if kind == Item.Type.AB_PREFERENCE:
        choice = data.get("choice")
        if not choice:
            return None
        answer: dict[str, Any] = {"choice": choice}
        if number("strength") is not None:
            answer["strength"] = number("strength")
        return answer
    if kind == Item.Type.LIKERT:
        value = number("value")
        return None if value is None else {"value": value}
    if kind == Item.Type.NUMERIC:
        value = (data.get("value") or "").strip()
        return {"value": value} if value else None
    if kind == Item.Type.FREE_TEXT:
        return {"text": data.get("text", "")}
    return None


def _wants_json(request: HttpRequest) -> bool:
    return request.headers.get("X-Autosave") == "1" or bool(getattr(request, "htmx", False))


@login_required
@require_POST
def attempt_answer(request: HttpRequest, public_id) -> HttpResponse:
    """Saves one answer. The page's script posts here on every change (JSON reply); without it, each
    item's Save button posts here and comes back to the item."""
    attempt = _expert_attempt(request, public_id)
    item_id = request.POST.get("item", "")
    answer = _answer_from_post(request.POST)
    error = None
    if answer is None:
        error = "Choose or type an answer first."
    else:
        try:
            with access_errors():
                services.attempt_answer(actor=request.user, attempt=attempt, item_public_id=item_id, answer=answer)
        except DomainError as problem:
            error = problem.message
    if _wants_json(request):
        if error:
            return JsonResponse({"saved": False, "error": error}, status=400)
        return JsonResponse({"saved": True})
    if error:
        messages.error(request, error)
    else:
        messages.success(request, "Answer saved.")
    return redirect(reverse("assessments:attempt", args=[attempt.public_id]) + f"#item-{item_id}")


@login_required
@require_POST
def attempt_submit(request: HttpRequest, public_id) -> HttpResponse:
    attempt = _expert_attempt(request, public_id)
    try:
        with access_errors():
            services.attempt_submit(actor=request.user, attempt=attempt)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("assessments:attempt", attempt.public_id)
    messages.success(request, "Submitted.")
    return redirect("assessments:attempt_result", attempt.public_id)


def _percent(value: Any) -> str:
    if value is None:
        return "—"
    return f"{Decimal(str(value)) * 100:.1f}%"


def _breakdown_rows(breakdown: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    sections = (breakdown or {}).get("sections", {})
    for section, value in sections.items():
        if isinstance(value, dict):
            score = value.get("score", value.get("fraction"))
            rows.append(
                {
                    "section": section or "General",
                    "score": _percent(score),
                    "earned": value.get("earned"),
                    "count": value.get("count", value.get("items", value.get("total"))),
                }
            )
        else:
            rows.append({"section": section or "General", "score": _percent(value), "earned": None, "count": None})
    return rows


@login_required
@require_GET
def attempt_result(request: HttpRequest, public_id) -> HttpResponse:
    attempt = _expert_attempt(request, public_id)
    if attempt.status == Attempt.Status.IN_PROGRESS:
        return redirect("assessments:attempt", attempt.public_id)
    graded = attempt.status == Attempt.Status.GRADED
    items = _shown_items(attempt) if graded else []
    return render(
        request,
        "assessments/result.html",
        {
            "attempt": attempt,
            "test": attempt.test,
            "graded": graded,
            "score": _percent(attempt.score),
            "wilson_lower": _percent(attempt.wilson_lower),
            "threshold": _percent(attempt.test.pass_threshold),
            "breakdown": _breakdown_rows(attempt.breakdown),
            "explained": [i for i in items if i.get("explanation")],
        },
    )


# --- Grading -------------------------------------------------------------------------------------------


@login_required
@require_GET
def grading_queue(request: HttpRequest) -> HttpResponse:
    """Blind: the prompt, the answer text and the rubric; nothing about who answered."""
    with access_errors():
        rows = selectors.grading_queue(actor=request.user)
    for row in rows:
        row["form"] = ScoreForm(rubric=row["rubric"], prefix=row["task"])
    return render(request, "assessments/grading.html", {"tasks": rows})


def _task(request: HttpRequest, public_id):
    with access_errors():
        return selectors.grading_task_get(actor=request.user, public_id=public_id)


@login_required
@require_POST
def grading_claim(request: HttpRequest, public_id) -> HttpResponse:
    task = _task(request, public_id)
    try:
        with access_errors():
            services.grading_claim(actor=request.user, task=task)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Claimed: score it against the rubric.")
    return redirect(reverse("assessments:grading") + f"#task-{task.public_id}")


@login_required
@require_POST
def grading_score(request: HttpRequest, public_id) -> HttpResponse:
    task = _task(request, public_id)
    form = ScoreForm(request.POST, rubric=task.attempt_item.item.rubric, prefix=str(task.public_id))
    if form.is_valid():
        try:
            with access_errors():
                services.grading_score(actor=request.user, task=task, criterion_points=form.points())
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Score saved.")
            return redirect("assessments:grading")
    else:
        messages.error(request, "Give each criterion a whole number of points within its range.")
    return redirect(reverse("assessments:grading") + f"#task-{task.public_id}")


# --- Qualifications ------------------------------------------------------------------------------------


@login_required
@require_GET
def qualifications(request: HttpRequest) -> HttpResponse:
    with access_errors():
        rows = list(selectors.qualification_list(actor=request.user))
    return render(
        request,
        "assessments/qualifications.html",
        {"qualifications": rows, "can_revoke": request.user.is_operations, "revoke_form": RevokeForm()},
    )


@login_required
@require_POST
def qualification_revoke(request: HttpRequest, public_id) -> HttpResponse:
    if not request.user.is_operations:
        raise Http404("Operations revoke qualifications.")
    with access_errors():
        qualification = selectors.qualification_list(actor=request.user).filter(public_id=public_id).first()
    if qualification is None:
        raise Http404("No such qualification.")
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the reason for revoking.")
        return redirect("assessments:qualifications")
    try:
        with access_errors():
            services.qualification_revoke(
                actor=request.user, qualification=qualification, reason=form.cleaned_data["reason"]
            )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Qualification revoked; the expert was told why.")
    return redirect("assessments:qualifications")


# --- Calibration ---------------------------------------------------------------------------------------


def _lab(request: HttpRequest) -> Organization:
    organization = author_organization(request)
    if organization is None:
        raise Http404("Calibration rounds belong to labs.")
    return organization


def _supplier(request: HttpRequest) -> Organization | None:
    """The active vendor or independent expert's organisation, for its owner or managers: the
    calibration rounds it is invited to, read-only."""
    if request.user.is_operations:
        return None
    organization = _active_organization(request)
    if organization is None or organization.kind not in (OrgKind.VENDOR, OrgKind.INDIVIDUAL):
        return None
    return organization if policies.has_permission(request.user, organization, Perm.BIDS_MANAGE) else None


def _supplier_rounds(request: HttpRequest, organization: Organization) -> HttpResponse:
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    with access_errors():
        rounds = list(calibration.calibration_round_list(actor=request.user, organization=organization))
    rows = [
        {"round": r, "reportable": policies.has_permission(request.user, r.lab, Perm.PROJECTS_VIEW)} for r in rounds
    ]
    return render(request, "assessments/calibration_list.html", {"org": organization, "supplier": True, "rows": rows})


def _round_form(request: HttpRequest, organization: Organization, data=None) -> CalibrationRoundForm:
    from apps.projects.models import Project

    tests = Test.objects.filter(owner=organization, status=Test.Status.PUBLISHED).order_by("title", "-version")
    projects = Project.objects.filter(lab=organization).order_by("title")
    return CalibrationRoundForm(data, tests=tests, projects=projects)


@login_required
@require_http_methods(["GET", "POST"])
def calibration_rounds(request: HttpRequest) -> HttpResponse:
    supplier = _supplier(request)
    if supplier is not None:
        return _supplier_rounds(request, supplier)
    organization = _lab(request)
    form = _round_form(request, organization, request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                with access_errors():
                    round_ = calibration.calibration_round_create(
                        actor=request.user,
                        lab=organization,
                        test=data["test"],
                        title=data["title"],
                        deadline=data["deadline"],
                        suppliers=[o.public_id for o in data["suppliers"]],
                        pilot_project=data["pilot_project"],
                    )
            except DomainError as error:
                apply_error(form, error)
            else:
                messages.success(request, "Calibration round opened; the suppliers were invited.")
                return redirect("assessments:calibration_report", round_.public_id)
    with access_errors():
        rounds = list(calibration.calibration_round_list(actor=request.user, organization=organization))
    return render(
        request,
        "assessments/calibration_list.html",
        {"org": organization, "rounds": rounds, "form": form},
        status=status,
    )


CHART_WIDTH = 600
CHART_ROW = 32
CHART_LEFT = 180


def _chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Geometry of the league chart: a dot at the accuracy and a whisker across its interval, all in
    SVG attributes (no inline style); the scale runs 0–100%."""
    span = CHART_WIDTH - CHART_LEFT - 20

    def x(value: Any) -> float:
        return round(CHART_LEFT + float(value or 0) * span, 1)

    bars = []
    for i, row in enumerate(rows):
        y = 24 + i * CHART_ROW
        bars.append(
            {
                "label": row["label"],
                "y": y,
                "text_y": y + 4,
                "x": x(row["accuracy"]),
                "low": x(row["lower"] if row["lower"] is not None else row["accuracy"]),
                "high": x(row["upper"] if row["upper"] is not None else row["accuracy"]),
                "cap_top": y - 6,
                "cap_bottom": y + 6,
            }
        )
    height = 24 + len(rows) * CHART_ROW
    ticks = [{"x": x(t / 4), "label": f"{t * 25}%"} for t in range(5)]
    return {"width": CHART_WIDTH, "height": height + 10, "axis_y": height - 8, "tick_y": height + 6, "bars": bars,
            "ticks": ticks, "left": CHART_LEFT}  # fmt: skip


def _league(rows) -> list[dict[str, Any]]:
    """The report's accuracy rows (suppliers or experts) for the page."""
    return [
        {
            "label": row.name,
            "supplier": row.supplier,
            "answered": row.answered,
            "gold_items": row.gold_items,
            "accuracy": row.accuracy,
            "lower": row.lower,
            "upper": row.upper,
            "accuracy_text": _percent(row.accuracy),
            "interval_text": f"{_percent(row.lower)} – {_percent(row.upper)}" if row.gold_items else "—",
        }
        for row in rows
    ]


def _agreement_rows(report) -> list[dict[str, Any]]:
    """Krippendorff's alpha per scope and level, with Fleiss' kappa on the nominal items."""
    rows = []
    for scope, levels in sorted(report.alpha.items(), key=lambda kv: (kv[0] != "all", kv[0])):
        for level, agreement in levels.items():
            rows.append({"scope": scope, "what": f"Krippendorff's alpha ({level})", "agreement": agreement})
        fleiss = report.fleiss.get(scope)
        if fleiss is not None:
            rows.append({"scope": scope, "what": "Fleiss' kappa (nominal items)", "agreement": fleiss})
    return rows


@login_required
@require_GET
def calibration_report(request: HttpRequest, public_id) -> HttpResponse:
    organization = _lab(request)
    with access_errors():
        round_ = calibration.calibration_round_get(actor=request.user, organization=organization, public_id=public_id)
        report = calibration.calibration_report(actor=request.user, round=round_)
    league = _league(report.suppliers)
    charted = [r for r in league if r["accuracy"] is not None]
    return render(
        request,
        "assessments/calibration_report.html",
        {
            "org": organization,
            "round": round_,
            "report": report,
            "league": league,
            "experts": _league(report.experts),
            "chart": _chart(charted) if charted else None,
            "alpha": _agreement_rows(report),
            "disputed": _disputed_rows(report),
            "cohen_pairs": [{"a": a, "b": b, "kappa": kappa, "n": n} for a, b, kappa, n in report.cohen_pairs],
        },
    )


def _code_text(code) -> str:
    """A nominal answer code as a reader sees it: option numbers from 1, A/B/tie as they are."""
    if isinstance(code, int):
        return f"option {code + 1}"
    if isinstance(code, list | tuple):
        return "options " + ", ".join(str(c + 1) for c in code)
    return str(code)


def _disputed_rows(report, limit: int = 10) -> list[dict]:
    """The items on which answers split most (suppliers that differ first), with each supplier's
    modal answer; a tie between answers is shown as a tie."""
    rows = report.disagreements[:limit]
    items = Item.objects.in_bulk([row["item"] for row in rows])
    out = []
    for row in rows:
        item = items.get(row["item"])
        out.append(
            {
                "item": f"{item.position}. {item.prompt[:90]}" if item else f"item {row['item']}",
                "answers": " / ".join(_code_text(c) for c in row["modal_labels"]),
                "share": row["modal_share"],
                "tie": row["tie"],
                "n": row["n"],
                "by_supplier": [
                    (supplier, " / ".join(_code_text(c) for c in labels))
                    for supplier, labels in row["by_supplier"].items()
                ],
                "suppliers_differ": row["suppliers_differ"],
            }
        )
    return out


@login_required
@require_POST
def calibration_round_close(request: HttpRequest, public_id) -> HttpResponse:
    organization = _lab(request)
    with access_errors():
        round_ = calibration.calibration_round_get(actor=request.user, organization=organization, public_id=public_id)
    try:
        with access_errors():
            calibration.calibration_round_close(actor=request.user, round=round_)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Round closed: no new attempts.")
    return redirect("assessments:calibration_report", round_.public_id)


# --- Dashboard -----------------------------------------------------------------------------------------

DASHBOARD_ROWS = 5


def expert_tests_summary(user) -> dict[str, Any]:
    """An expert's dashboard facts: open tests they may still start, recent attempts, qualifications."""
    tests = list(selectors.test_list_open(actor=user))
    attempts = list(selectors.attempt_list_for_expert(actor=user))
    rows = _open_rows(tests, attempts)
    now = timezone.now()
    current = [q for q in selectors.qualification_list(actor=user) if q.status == "active" and q.expires_at > now]
    return {
        "tests_open_count": sum(1 for r in rows if r["can_start"] or r["in_progress"]),
        "tests_in_progress": [r["in_progress"] for r in rows if r["in_progress"]],
        "recent_attempts": attempts[:DASHBOARD_ROWS],
        "current_qualifications": current[:DASHBOARD_ROWS],
        "qualification_count": len(current),
    }
