"""Pages for organisations: settings, members, invitations, API keys, switching and leaving.

Views are interfaces: parse input, call one selector or service, render. Access is decided only by
``policies`` and ``selectors``. A NotFound becomes 404 (outsiders never learn an organisation
exists), a PermissionDenied becomes 403, any other DomainError becomes a form error or a message.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.errors import DomainError, NotFound, PermissionDenied

from . import policies, selectors, services
from .forms import ApiKeyForm, InvitationForm, OrganizationForm, RoleForm
from .middleware import SESSION_KEY
from .models import ApiKey, Invitation, Membership, Organization
from .roles import Perm, Role, invitable_roles

PENDING_INVITATION_SESSION_KEY = "pending_invitation_url"
USED_INVITATION = "This invitation has already been used and can no longer be accepted."


@contextmanager
def access_errors() -> Iterator[None]:
    """Translate the domain's access errors into HTTP ones."""
    try:
        yield
    except NotFound as error:
        raise Http404(error.message)
    except PermissionDenied as error:
        raise DjangoPermissionDenied(error.message)


def org_view(view):
    """Resolve ``slug`` to an organisation the signed-in user belongs to (404 otherwise)."""

    @login_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, slug: str, *args, **kwargs) -> HttpResponse:
        with access_errors():
            organization = selectors.organization_get_by_slug_for_user(request.user, slug)
            return view(request, organization, *args, **kwargs)

    return wrapper


def _settings_url(organization: Organization, anchor: str = "") -> str:
    url = reverse("accounts:org_settings", args=[organization.slug])
    return f"{url}#{anchor}" if anchor else url


def _apply_error(form, error: DomainError) -> None:
    """Put a domain error's per-field details on the form; the rest becomes a form-wide error."""
    placed = False
    for field, problems in (error.details or {}).items():
        if field in form.fields:
            for problem in problems if isinstance(problems, list | tuple) else [problems]:
                form.add_error(field, str(problem))
            placed = True
    if not placed:
        form.add_error(None, error.message)


def _api_key_status(key: ApiKey) -> str:
    if key.status == ApiKey.Status.REVOKED:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= timezone.now():
        return "expired"
    return "active"


def _invitation_status(invitation: Invitation) -> str:
    if invitation.status == Invitation.Status.PENDING and invitation.is_expired:
        return "expired"
    return invitation.status


def _render_settings(
    request: HttpRequest,
    organization: Organization,
    *,
    status: int = 200,
    invitation_form: InvitationForm | None = None,
    api_key_form: ApiKeyForm | None = None,
    new_api_key: tuple[ApiKey, str] | None = None,
) -> HttpResponse:
    user = request.user
    membership = policies.membership_for(user, organization)
    can = {
        "view_members": policies.has_permission(user, organization, Perm.MEMBERS_VIEW),
        "invite": policies.has_permission(user, organization, Perm.MEMBERS_INVITE),
        "manage_members": policies.has_permission(user, organization, Perm.MEMBERS_MANAGE),
        "manage_keys": policies.has_permission(user, organization, Perm.API_KEYS_MANAGE),
    }
    context: dict = {"org": organization, "membership": membership, "can": can}
    if can["view_members"]:
        context["members"] = list(selectors.member_list(actor=user, organization=organization))
        context["role_choices"] = RoleForm(kind=organization.kind).fields["role"].choices
    if can["invite"]:
        invitations = list(selectors.invitation_list(actor=user, organization=organization))
        context["pending_invitations"] = [
            (i, _invitation_status(i)) for i in invitations if _invitation_status(i) == Invitation.Status.PENDING
        ]
        context["past_invitations"] = [
            (i, _invitation_status(i)) for i in invitations if _invitation_status(i) != Invitation.Status.PENDING
        ]
        roles = invitable_roles(organization.kind, membership.role)
        # The least privileged role first: giving more access is the deliberate choice.
        context["invitation_form"] = invitation_form or InvitationForm(roles=roles, initial={"role": roles[-1]})
    if can["manage_keys"]:
        context["api_keys"] = [
            (k, _api_key_status(k)) for k in selectors.api_key_list(actor=user, organization=organization)
        ]
        context["api_key_form"] = api_key_form or ApiKeyForm()
        context["new_api_key"] = new_api_key
    response = render(request, "accounts/org_settings.html", context, status=status)
    if new_api_key is not None:
        # The raw key is in this body and nowhere else: keep it out of every cache.
        response["Cache-Control"] = "no-store, private"
    return response


@require_GET
@org_view
def org_settings(request: HttpRequest, organization: Organization) -> HttpResponse:
    return _render_settings(request, organization)


@require_POST
@org_view
def invitation_create(request: HttpRequest, organization: Organization) -> HttpResponse:
    membership = policies.require(request.user, organization, Perm.MEMBERS_INVITE)
    form = InvitationForm(request.POST, roles=invitable_roles(organization.kind, membership.role))
    if form.is_valid():
        try:
            invitation, _token = services.invitation_create(
                actor=request.user,
                organization=organization,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
            )
        except (NotFound, PermissionDenied):
            raise
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect(_settings_url(organization, "invitations"))
    return _render_settings(request, organization, status=400, invitation_form=form)


@require_POST
@org_view
def invitation_revoke(request: HttpRequest, organization: Organization, public_id) -> HttpResponse:
    policies.require(request.user, organization, Perm.MEMBERS_INVITE)
    invitation = selectors.invitation_get(actor=request.user, organization=organization, public_id=public_id)
    try:
        services.invitation_revoke(actor=request.user, invitation=invitation)
    except (NotFound, PermissionDenied):
        raise
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"The invitation for {invitation.email} is revoked; its link no longer works.")
    return redirect(_settings_url(organization, "invitations"))


@require_POST
@org_view
def member_change_role(request: HttpRequest, organization: Organization, public_id) -> HttpResponse:
    policies.require(request.user, organization, Perm.MEMBERS_MANAGE)
    membership = selectors.member_get(actor=request.user, organization=organization, public_id=public_id)
    form = RoleForm(request.POST, kind=organization.kind)
    if not form.is_valid():
        messages.error(request, "Choose one of the roles offered.")
        return redirect(_settings_url(organization, "members"))
    try:
        updated = services.membership_change_role(
            actor=request.user, membership=membership, role=form.cleaned_data["role"]
        )
    except (NotFound, PermissionDenied):
        raise
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{updated.user.email} is now {updated.get_role_display().lower()}.")
    return redirect(_settings_url(organization, "members"))


@require_POST
@org_view
def member_remove(request: HttpRequest, organization: Organization, public_id) -> HttpResponse:
    policies.require(request.user, organization, Perm.MEMBERS_MANAGE)
    membership = selectors.member_get(actor=request.user, organization=organization, public_id=public_id)
    email = membership.user.email
    try:
        services.membership_remove(actor=request.user, membership=membership)
    except (NotFound, PermissionDenied):
        raise
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(_settings_url(organization, "members"))
    if membership.user_id == request.user.pk:
        return _after_leaving(request, organization)
    messages.success(request, f"{email} was removed from {organization.name}; their API keys are revoked.")
    return redirect(_settings_url(organization, "members"))


@require_POST
@org_view
def org_leave(request: HttpRequest, organization: Organization) -> HttpResponse:
    membership = policies.membership_for(request.user, organization)
    try:
        services.membership_remove(actor=request.user, membership=membership)
    except (NotFound, PermissionDenied):
        raise
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(_settings_url(organization))
    return _after_leaving(request, organization)


def _after_leaving(request: HttpRequest, organization: Organization) -> HttpResponse:
    if request.session.get(SESSION_KEY) == str(organization.public_id):
        del request.session[SESSION_KEY]
    messages.success(request, f"You left {organization.name}.")
    return redirect("home")


@require_POST
@never_cache
@org_view
def api_key_create(request: HttpRequest, organization: Organization) -> HttpResponse:
    policies.require(request.user, organization, Perm.API_KEYS_MANAGE)
    form = ApiKeyForm(request.POST)
    if form.is_valid():
        try:
            key, raw = services.api_key_create(
                actor=request.user,
                organization=organization,
                name=form.cleaned_data["name"],
                expires_at=form.cleaned_data.get("expires_at"),
                scopes=form.cleaned_data["scopes"],
            )
        except (NotFound, PermissionDenied):
            raise
        except DomainError as error:
            _apply_error(form, error)
        else:
            # Rendered in this response, not after a redirect: the raw key is never stored anywhere.
            return _render_settings(request, organization, new_api_key=(key, raw))
    return _render_settings(request, organization, status=400, api_key_form=form)


@require_POST
@org_view
def api_key_revoke(request: HttpRequest, organization: Organization, public_id) -> HttpResponse:
    policies.require(request.user, organization, Perm.API_KEYS_MANAGE)
    key = selectors.api_key_get(actor=request.user, organization=organization, public_id=public_id)
    try:
        services.api_key_revoke(actor=request.user, api_key=key)
    except (NotFound, PermissionDenied):
        raise
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"API key “{key.name}” is revoked; requests using it now fail.")
    return redirect(_settings_url(organization, "api-keys"))


@require_POST
@login_required
def org_switch(request: HttpRequest) -> HttpResponse:
    """Make another of the user's organisations the active one (404 for any other organisation)."""
    try:
        public_id = uuid.UUID(request.POST.get("organization", ""))
    except ValueError:
        raise Http404("Organisation not found.")
    with access_errors():
        organization = selectors.organization_get_for_user(request.user, public_id)
    request.session[SESSION_KEY] = str(organization.public_id)
    messages.info(request, f"You are now working in {organization.name}.")
    return redirect("home")


@require_POST
@login_required
def org_create(request: HttpRequest) -> HttpResponse:
    form = OrganizationForm(request.POST)
    if not form.is_valid():
        problems = "; ".join(f"{form.fields[f].label or f}: {' '.join(e)}" for f, e in form.errors.items())
        messages.error(request, f"The organisation was not created. {problems}")
        return redirect("home")
    try:
        organization = services.organization_create(
            actor=request.user, name=form.cleaned_data["name"], kind=form.cleaned_data["kind"]
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("home")
    request.session[SESSION_KEY] = str(organization.public_id)
    messages.success(request, f"{organization.name} is created and you are its owner.")
    return redirect("home")


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Show an invitation; a signed-in invitee accepts it with a POST."""
    template = "accounts/invitation_accept.html"
    try:
        invitation = services.invitation_get_by_token(token)
    except NotFound as error:
        return render(request, template, {"invalid": error.message}, status=404)
    context = {"invitation": invitation, "role_label": Role(invitation.role).label}

    if not request.user.is_authenticated:
        context["problem"] = _invitation_state_problem(invitation)
        if not context["problem"]:
            # allauth's adapter sends the person back here after they log in or sign up.
            request.session[PENDING_INVITATION_SESSION_KEY] = request.path
        if request.method == "POST":
            return redirect(f"{reverse('account_login')}?next={request.path}")
        return render(request, template, context)

    if request.method == "POST":
        try:
            membership = services.invitation_accept(actor=request.user, token=token)
        except NotFound as error:
            return render(request, template, {"invalid": error.message}, status=404)
        except PermissionDenied as error:
            return render(request, template, {**context, "problem": error.message}, status=403)
        except DomainError as error:
            return render(request, template, {**context, "problem": error.message}, status=409)
        except Membership.DoesNotExist:
            # The invitee accepted earlier and has since left: the link is used up.
            return render(request, template, {**context, "problem": USED_INVITATION}, status=409)
        request.session[SESSION_KEY] = str(membership.organization.public_id)
        messages.success(
            request,
            f"Welcome to {membership.organization.name}. You joined as {membership.get_role_display().lower()}.",
        )
        return redirect("home")

    context["already_accepted"] = (
        invitation.status == Invitation.Status.ACCEPTED
        and invitation.accepted_by_id == request.user.pk
        and policies.membership_for(request.user, invitation.organization) is not None
    )
    context["problem"] = "" if context["already_accepted"] else _invitation_problem(request, invitation)
    return render(request, template, context)


def _invitation_problem(request: HttpRequest, invitation: Invitation) -> str:
    """Why the signed-in person cannot accept (shown before they try; the service decides on POST)."""
    problem = _invitation_state_problem(invitation)
    if problem:
        return problem
    if invitation.email.lower() != request.user.email.lower():
        return (
            f"This invitation was sent to {invitation.email}; you are signed in as {request.user.email}. "
            "Log in with the invited address to accept it."
        )
    return ""


def _invitation_state_problem(invitation: Invitation) -> str:
    if invitation.status == Invitation.Status.PENDING and invitation.is_expired:
        return "This invitation has expired; ask for a new one."
    if invitation.status == Invitation.Status.ACCEPTED:
        return USED_INVITATION
    if invitation.status != Invitation.Status.PENDING:
        return f"This invitation is {invitation.get_status_display().lower()} and can no longer be used."
    return ""
