"""Workforce pages: the expert's profile, credentials and rosters; the operations review queues; the
vendor's roster; expert search for labs and vendors.

Views are interfaces: parse input, call one selector or service, render. Access is decided by
``policies``, ``selectors`` and ``services``. A NotFound becomes 404, a PermissionDenied 403, any
other DomainError a form error on the field it names or a message.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import PurePath

from django.conf.global_settings import LANGUAGES
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts import policies
from apps.accounts.middleware import SESSION_KEY, get_active_membership
from apps.accounts.models import Organization, User
from apps.accounts.roles import OrgKind, Perm, StaffRole
from apps.accounts.views import access_errors, org_view
from apps.core.errors import DomainError, NotFound, PermissionDenied
from apps.core.money import Money

from . import search_filters, selectors, services
from .forms import (
    TIMEZONE_NAMES,
    ConflictOfInterestForm,
    CredentialForm,
    ExpertSearchForm,
    JoinForm,
    ProfileForm,
    ReasonForm,
    ResolveFlagForm,
    RosterInviteForm,
    VerifyForm,
)
from .models import Credential, CredentialFlag, ExpertProfile, RosterEntry
from .selectors import ExpertSearch

PAGE_SIZE = 20
LANGUAGE_NAMES = dict(LANGUAGES)


def _apply_error(form, error: DomainError, aliases: dict[str, str] | None = None) -> None:
    """Put a domain error's per-field details on the form; the rest becomes a form-wide error.
    ``aliases`` maps a service's field name to the form's (``password`` -> ``password1``)."""
    placed = False
    for name, problems in (error.details or {}).items():
        field = (aliases or {}).get(name, name)
        if field in form.fields:
            for problem in problems if isinstance(problems, list | tuple) else [problems]:
                form.add_error(field, str(problem))
            placed = True
    if not placed:
        form.add_error(None, error.message)


def _own_profile(user: User) -> ExpertProfile | None:
    """The user's profile if they have one (reading a page never creates it)."""
    return ExpertProfile.objects.filter(user=user).prefetch_related("domains").first()


# --- Expert: profile -----------------------------------------------------------------------------


def _profile_initial(profile: ExpertProfile | None) -> dict:
    if profile is None:
        return {"weekly_hours": 0, "rate_currency": "USD", "is_discoverable": True}
    rate = None
    if profile.hourly_rate_minor is not None:
        rate = Money(profile.hourly_rate_minor, profile.rate_currency).amount
    return {
        "headline": profile.headline,
        "bio": profile.bio,
        "domains": [d.slug for d in profile.domains.all()],
        "languages": profile.languages,
        "country": profile.country.code if profile.country else "",
        "timezone": profile.timezone,
        "weekly_hours": profile.weekly_hours,
        "hourly_rate": rate,
        "rate_currency": profile.rate_currency,
        "is_discoverable": profile.is_discoverable,
    }


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    own = _own_profile(request.user)
    status = 200
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            try:
                services.profile_update(actor=request.user, **form.service_fields())
            except (NotFound, PermissionDenied):
                raise
            except DomainError as error:
                _apply_error(form, error)
            else:
                messages.success(request, "Your expert profile is saved.")
                return redirect("experts:profile")
        status = 400
    else:
        form = ProfileForm(initial=_profile_initial(own))
    counts = selectors.credential_counts_for(request.user)
    checklist = selectors.profile_checklist(own, counts)
    chosen = set(form["languages"].value() or [])
    language_options = sorted(
        ((code, label, code in chosen) for code, label in form.fields["languages"].choices),
        key=lambda option: not option[2],
    )
    context = {
        "form": form,
        "language_options": language_options,
        "profile": own,
        "checklist": checklist,
        "complete": sum(1 for _, done in checklist if done),
        "timezone_names": TIMEZONE_NAMES,
    }
    return render(request, "experts/profile.html", context, status=status)


# --- Expert: credentials -------------------------------------------------------------------------


def _render_credentials(request: HttpRequest, form: CredentialForm, status: int = 200) -> HttpResponse:
    credentials = selectors.credential_list_for_expert(actor=request.user)
    return render(request, "experts/credentials.html", {"form": form, "credentials": credentials}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def credentials(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _render_credentials(request, CredentialForm())
    form = CredentialForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            credential = services.credential_submit(
                actor=request.user,
                type=data["type"],
                title=data["title"],
                issuer=data["issuer"],
                evidence=data["evidence"],
                identifier=data["identifier"],
                jurisdiction=data["jurisdiction"],
                issued_on=data["issued_on"],
                expires_on=data["expires_on"],
            )
        except (NotFound, PermissionDenied):
            raise
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, f"“{credential.title}” is submitted; platform operations will review it.")
            return redirect("experts:credentials")
    return _render_credentials(request, form, status=400)


@login_required
@require_GET
def credential_evidence(request: HttpRequest, public_id) -> FileResponse:
    """The evidence file, for its owner and for operations only; never a public media URL."""
    with access_errors():
        credential = selectors.credential_get(actor=request.user, public_id=public_id)
    try:
        handle = credential.evidence.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404("The evidence file is missing.")
    # The download's name keeps the uploader's stem but takes the extension of the sniffed content.
    stem = PurePath(credential.evidence_name).stem[:100] or "evidence"
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"{stem}.{credential.evidence_extension}",
        content_type=credential.evidence_content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


# --- Operations: credential queue and flags ------------------------------------------------------

QUEUE_TABS = [
    (Credential.Status.PENDING, "Pending review"),
    (Credential.Status.VERIFIED, "Verified"),
    (Credential.Status.REJECTED, "Rejected"),
    (Credential.Status.REVOKED, "Revoked"),
    (Credential.Status.EXPIRED, "Expired"),
]
_QUEUE_STATUSES = {value for value, _ in QUEUE_TABS}


def _queue_url(tab: str | None = None) -> str:
    url = reverse("experts:credential_queue")
    return f"{url}?status={tab}" if tab and tab in _QUEUE_STATUSES and tab != Credential.Status.PENDING else url


@login_required
@require_GET
def credential_queue(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or Credential.Status.PENDING
    if status not in _QUEUE_STATUSES:
        status = Credential.Status.PENDING
    with access_errors():
        queue = selectors.credential_review_queue(actor=request.user, status=status)
        open_flags = selectors.credential_flag_list(actor=request.user).count()
    page = Paginator(queue, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "status": status,
        "tabs": QUEUE_TABS,
        "open_flag_count": open_flags,
        "tomorrow": timezone.localdate() + timedelta(days=1),
    }
    return render(request, "experts/credential_queue.html", context)


def _ops_credential(request: HttpRequest, public_id) -> Credential:
    with access_errors():
        policies.require_staff(request.user, StaffRole.OPERATIONS)
        return selectors.credential_get(actor=request.user, public_id=public_id)


def _expert_label(credential: Credential) -> str:
    user = credential.profile.user
    return user.full_name or user.email


@require_POST
@login_required
def credential_verify(request: HttpRequest, public_id) -> HttpResponse:
    credential = _ops_credential(request, public_id)
    form = VerifyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter the re-verification date as YYYY-MM-DD, or leave it empty.")
        return redirect(_queue_url(request.POST.get("tab")))
    try:
        with access_errors():
            services.credential_verify(
                actor=request.user, credential=credential, reverify_on=form.cleaned_data["reverify_on"]
            )
    except DomainError as error:
        messages.error(request, f"“{credential.title}” was not verified: {error.message}")
    else:
        messages.success(
            request,
            f"Verified “{credential.title}” for {_expert_label(credential)}; "
            f"re-verify by {credential.reverify_on:%d %b %Y}.",
        )
    return redirect(_queue_url(request.POST.get("tab")))


def _reason_action(request: HttpRequest, public_id, service, done: str) -> HttpResponse:
    credential = _ops_credential(request, public_id)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        with access_errors():
            service(actor=request.user, credential=credential, reason=reason)
    except DomainError as error:
        messages.error(request, f"“{credential.title}” was not {done}: {error.message}")
    else:
        messages.success(request, f"{done.capitalize()} “{credential.title}” for {_expert_label(credential)}.")
    return redirect(_queue_url(request.POST.get("tab")))


@require_POST
@login_required
def credential_reject(request: HttpRequest, public_id) -> HttpResponse:
    return _reason_action(request, public_id, services.credential_reject, "rejected")


@require_POST
@login_required
def credential_revoke(request: HttpRequest, public_id) -> HttpResponse:
    return _reason_action(request, public_id, services.credential_revoke, "revoked")


@login_required
@require_GET
def flag_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or CredentialFlag.Status.OPEN
    if status not in CredentialFlag.Status.values:
        status = CredentialFlag.Status.OPEN
    with access_errors():
        flags = selectors.credential_flag_list(actor=request.user, status=status)
    page = Paginator(flags, PAGE_SIZE).get_page(request.GET.get("page"))
    for flag in page:
        flag.pair = [(flag.credential, "Newly submitted"), (flag.other_credential, "Already on another account")]
    return render(
        request, "experts/flags.html", {"page": page, "status": status, "tabs": CredentialFlag.Status.choices}
    )


@require_POST
@login_required
def flag_resolve(request: HttpRequest, public_id) -> HttpResponse:
    with access_errors():
        flag = selectors.credential_flag_get(actor=request.user, public_id=public_id)
    form = ResolveFlagForm(request.POST)
    resolution = form.cleaned_data["resolution"] if form.is_valid() else ""
    try:
        with access_errors():
            services.credential_flag_resolve(actor=request.user, flag=flag, resolution=resolution)
    except DomainError as error:
        messages.error(request, f"The flag was not resolved: {error.message}")
    else:
        messages.success(request, f"Flag on “{flag.credential.title}” resolved.")
    return redirect("experts:flags")


# --- Vendor: roster --------------------------------------------------------------------------------

_OPEN = {RosterEntry.Status.INVITED, RosterEntry.Status.ACTIVE, RosterEntry.Status.SUSPENDED}


def _roster_url(organization: Organization, anchor: str = "") -> str:
    url = reverse("experts:roster", args=[organization.slug])
    return f"{url}#{anchor}" if anchor else url


def _require_vendor_roster(request: HttpRequest, organization: Organization, perm: str) -> None:
    if organization.kind != OrgKind.VENDOR:
        raise Http404("Only a vendor has a roster.")
    with access_errors():
        policies.require(request.user, organization, perm)


def _render_roster(
    request: HttpRequest, organization: Organization, *, status: int = 200, invite_form: RosterInviteForm | None = None
) -> HttpResponse:
    _require_vendor_roster(request, organization, Perm.ROSTER_VIEW)
    with access_errors():
        entries = list(selectors.roster_list(actor=request.user, vendor=organization))
    rows = []
    for entry in entries:
        profile = getattr(entry.user, "expert_profile", None)
        rows.append(
            {
                "entry": entry,
                "profile": profile,
                "credentials": getattr(profile, "verified_credentials", []) if profile else [],
                "expired": entry.status == RosterEntry.Status.INVITED
                and entry.invite_expires_at is not None
                and entry.invite_expires_at <= timezone.now(),
            }
        )
    counts = {s: sum(1 for e in entries if e.status == s) for s in RosterEntry.Status.values}
    context = {
        "org": organization,
        "membership": policies.membership_for(request.user, organization),
        "current": [r for r in rows if r["entry"].status in _OPEN],
        "past": [r for r in rows if r["entry"].status not in _OPEN],
        "counts": counts,
        "can_manage": policies.has_permission(request.user, organization, Perm.ROSTER_MANAGE),
        "invite_form": invite_form or RosterInviteForm(),
    }
    return render(request, "experts/roster.html", context, status=status)


@require_GET
@org_view
def roster(request: HttpRequest, organization: Organization) -> HttpResponse:
    return _render_roster(request, organization)


@require_POST
@org_view
def roster_invite(request: HttpRequest, organization: Organization) -> HttpResponse:
    _require_vendor_roster(request, organization, Perm.ROSTER_MANAGE)
    form = RosterInviteForm(request.POST)
    if form.is_valid():
        try:
            entry, _token = services.roster_invite(
                actor=request.user, vendor=organization, email=form.cleaned_data["email"]
            )
        except (NotFound, PermissionDenied):
            raise
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(
                request,
                f"Invitation sent to {entry.user.email}. The link works until "
                f"{entry.invite_expires_at:%d %b %Y, %H:%M} UTC.",
            )
            return redirect(_roster_url(organization, "roster"))
    return _render_roster(request, organization, status=400, invite_form=form)


def _roster_action(request: HttpRequest, organization: Organization, public_id, action) -> HttpResponse:
    _require_vendor_roster(request, organization, Perm.ROSTER_MANAGE)
    with access_errors():
        entry = selectors.roster_entry_get(actor=request.user, vendor=organization, public_id=public_id)
    who = entry.user.full_name or entry.user.email
    try:
        with access_errors():
            message = action(entry, who)
    except DomainError as error:
        messages.error(request, f"Nothing changed for {who}: {error.message}")
    else:
        messages.success(request, message)
    return redirect(_roster_url(organization, "roster"))


def _reason(request: HttpRequest) -> str:
    form = ReasonForm(request.POST)
    return form.cleaned_data["reason"] if form.is_valid() else ""


@require_POST
@org_view
def roster_suspend(request: HttpRequest, organization: Organization, public_id) -> HttpResponse:
    def action(entry, who):
        services.roster_suspend(actor=request.user, entry=entry, reason=_reason(request))
        return f"{who} is suspended; they stay on the roster but cannot be assigned."

    return _roster_action(request, organization, public_id, action)


@require_POST
@org_view
def roster_reinstate(request: HttpRequest, organization: Organization, public_id) -> HttpResponse:
    def action(entry, who):
        services.roster_reinstate(actor=request.user, entry=entry)
        return f"{who} is active on the roster again."

    return _roster_action(request, organization, public_id, action)


@require_POST
@org_view
def roster_offboard(request: HttpRequest, organization: Organization, public_id) -> HttpResponse:
    def action(entry, who):
        was_invited = entry.status == RosterEntry.Status.INVITED
        services.roster_offboard(actor=request.user, entry=entry, reason=_reason(request))
        if was_invited:
            return f"The invitation for {who} is withdrawn; its link no longer works."
        return f"{who} is offboarded and no longer a member of {organization.name}."

    return _roster_action(request, organization, public_id, action)


# --- Expert: roster invitations and the e-mailed link ----------------------------------------------


def _coi_form(entry: RosterEntry, data=None) -> ConflictOfInterestForm:
    return ConflictOfInterestForm(data, auto_id=f"coi-{entry.public_id}-%s")


def _render_invitations(request: HttpRequest, *, status: int = 200, bound: tuple | None = None) -> HttpResponse:
    entries = list(selectors.roster_entries_for_expert(actor=request.user).select_related("invited_by"))
    now = timezone.now()
    rows = []
    for entry in entries:
        form = None
        if entry.status == RosterEntry.Status.INVITED:
            form = bound[1] if bound and bound[0] == entry.pk else _coi_form(entry)
        expired = entry.invite_expires_at is not None and entry.invite_expires_at <= now
        rows.append({"entry": entry, "form": form, "expired": expired})
    context = {
        "pending": [r for r in rows if r["entry"].status == RosterEntry.Status.INVITED],
        "others": [r for r in rows if r["entry"].status != RosterEntry.Status.INVITED],
    }
    return render(request, "experts/roster_invitations.html", context, status=status)


@login_required
@require_GET
def roster_invitations(request: HttpRequest) -> HttpResponse:
    return _render_invitations(request)


@require_POST
@login_required
def roster_accept(request: HttpRequest, public_id) -> HttpResponse:
    with access_errors():
        entry = selectors.roster_entry_get_for_expert(actor=request.user, public_id=public_id)
    form = _coi_form(entry, request.POST)
    if not form.is_valid():
        return _render_invitations(request, status=400, bound=(entry.pk, form))
    try:
        with access_errors():
            services.roster_accept(
                actor=request.user, entry=entry, conflict_of_interest=form.cleaned_data["declaration"]
            )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            f"You joined the roster of {entry.vendor.name}. Switch to it with the organisation selector at the top.",
        )
    return redirect("experts:roster_invitations")


@require_POST
@login_required
def roster_decline(request: HttpRequest, public_id) -> HttpResponse:
    with access_errors():
        entry = selectors.roster_entry_get_for_expert(actor=request.user, public_id=public_id)
        try:
            services.roster_decline(actor=request.user, entry=entry)
        except (NotFound, PermissionDenied):
            raise
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.info(request, f"You declined the invitation from {entry.vendor.name}.")
    return redirect("experts:roster_invitations")


def _link_problem(entry: RosterEntry) -> str:
    if entry.status != RosterEntry.Status.INVITED:
        return f"This invitation is {entry.get_status_display().lower()} and its link can no longer be used."
    if entry.invite_expires_at is not None and entry.invite_expires_at <= timezone.now():
        return f"This link expired on {entry.invite_expires_at:%d %b %Y}. Ask {entry.vendor.name} to invite you again."
    return ""


@never_cache
@require_http_methods(["GET", "POST"])
def roster_join(request: HttpRequest, token: str) -> HttpResponse:
    """The e-mailed link. A new account (no password yet) chooses one here and is logged in; an
    existing account logs in as the invited person first."""
    template = "experts/roster_join.html"
    try:
        entry = services.roster_entry_get_by_token(token)
    except NotFound:
        return render(request, template, {"invalid": True}, status=404)
    context: dict = {"entry": entry, "problem": _link_problem(entry)}
    if context["problem"]:
        return render(request, template, context, status=410)
    invitee = entry.user
    new_account = not invitee.has_usable_password()
    context["new_account"] = new_account

    if not new_account:
        if not request.user.is_authenticated:
            return redirect(f"{reverse('account_login')}?next={request.path}")
        if request.user.pk != invitee.pk:
            context["problem"] = (
                f"This invitation was sent to {invitee.email}; you are signed in as {request.user.email}. "
                "Log out and log in with the invited address to accept it."
            )
            return render(request, template, context, status=403)

    form_class = JoinForm if new_account else ConflictOfInterestForm
    if request.method == "GET":
        context["form"] = form_class()
        return render(request, template, context)

    if request.POST.get("action") == "decline":
        # The link proves the address, as it does for choosing the first password.
        try:
            services.roster_decline(actor=invitee, entry=entry)
        except DomainError as error:
            return render(request, template, {**context, "problem": error.message}, status=409)
        messages.info(request, f"You declined the invitation from {entry.vendor.name}.")
        return redirect("home")

    form = form_class(request.POST)
    context["form"] = form
    if form.is_valid():
        try:
            services.roster_accept_by_token(
                token=token,
                conflict_of_interest=form.cleaned_data["declaration"],
                password=form.cleaned_data["password1"] if new_account else None,
                full_name=form.cleaned_data["full_name"] if new_account else "",
                actor=None if new_account else request.user,
            )
        except NotFound:
            return render(request, template, {"invalid": True}, status=404)
        except DomainError as error:
            if error.details:
                _apply_error(form, error, aliases={"password": "password1"})
            else:
                context["problem"] = error.message
                return render(request, template, context, status=409)
        else:
            if new_account:
                invitee.refresh_from_db()
                login(request, invitee, backend="django.contrib.auth.backends.ModelBackend")
            request.session[SESSION_KEY] = str(entry.vendor.public_id)
            messages.success(request, f"Welcome to the roster of {entry.vendor.name}.")
            return redirect("home")
    return render(request, template, context, status=400)


# --- Labs and vendors: expert search ---------------------------------------------------------------


def _extra_filter_user_ids(data: dict) -> frozenset[int] | None:
    """The users every chosen contributed filter allows (None when no such filter is chosen)."""
    allowed: frozenset[int] | None = None
    for name, extra in search_filters.REGISTRY.items():
        if data.get(name):
            ids = extra.user_ids(data[name]) or frozenset()
            allowed = ids if allowed is None else allowed & ids
    return allowed


@login_required
@require_GET
def expert_search(request: HttpRequest) -> HttpResponse:
    membership = get_active_membership(request)
    organization = membership.organization if membership else None
    form = ExpertSearchForm(request.GET or None)
    search = ExpertSearch()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        search = ExpertSearch(
            domain=data["domain"] or None,
            credential_type=data["credential_type"] or None,
            country=data["country"] or None,
            language=data["language"] or None,
            min_weekly_hours=data["min_weekly_hours"],
            user_ids=_extra_filter_user_ids(data),
        )
    with access_errors():
        try:
            results = selectors.expert_search(actor=request.user, organization=organization, search=search)
        except (NotFound, PermissionDenied):
            raise
        except DomainError as error:
            _apply_error(form, error)
            results = selectors.expert_search(actor=request.user, organization=organization, search=ExpertSearch())
    if form.is_bound and form.errors:
        results = results.none()
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    for found in page:
        found.language_labels = [LANGUAGE_NAMES.get(code, code) for code in found.languages]
    context = {
        "form": form,
        "page": page,
        "organization": organization,
        "is_vendor": organization is not None and organization.kind == OrgKind.VENDOR,
        "filtered": bool(form.is_bound and any(request.GET.get(f) for f in form.fields)),
    }
    return render(request, "experts/search.html", context)
