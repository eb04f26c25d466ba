"""Notification pages: the list behind the bell, marking read, and e-mail settings per kind."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.errors import DomainError, NotFound

from . import selectors, services

PAGE_SIZE = 20


class NotificationSettingsForm(forms.Form):
    """One checkbox per notification kind: e-mail on or off (the in-app notification always stays)."""

    def __init__(self, *args, preferences: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        for pref in preferences:
            self.fields[pref["kind"]] = forms.BooleanField(
                required=False, label=pref["label"], initial=pref["email_enabled"]
            )


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("show") == "unread"
    notifications = selectors.notification_list(actor=request.user, unread_only=unread_only)
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"page": page, "unread_only": unread_only})


def _back_to_list(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if target.startswith("/notifications/") and url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        return redirect(target)
    return redirect("notifications:list")


@require_POST
@login_required
def mark_read(request: HttpRequest, public_id) -> HttpResponse:
    try:
        notification = services.notification_mark_read(actor=request.user, notification_public_id=public_id)
    except NotFound as error:
        raise Http404(error.message)
    if request.POST.get("open") and notification.url:
        # Only paths on this site: a notification never sends anyone elsewhere.
        if notification.url.startswith("/") and url_has_allowed_host_and_scheme(notification.url, allowed_hosts=None):
            return redirect(notification.url)
    return _back_to_list(request)


@require_POST
@login_required
def mark_all_read(request: HttpRequest) -> HttpResponse:
    count = services.notification_mark_all_read(actor=request.user)
    if count:
        messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} as read.")
    else:
        messages.info(request, "Nothing was unread.")
    return _back_to_list(request)


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    preferences = selectors.notification_preferences(actor=request.user)
    if request.method == "POST":
        form = NotificationSettingsForm(request.POST, preferences=preferences)
        if form.is_valid():
            changed = 0
            try:
                for pref in preferences:
                    wanted = form.cleaned_data[pref["kind"]]
                    if wanted != pref["email_enabled"]:
                        services.notification_preference_set(
                            actor=request.user, kind=pref["kind"], email_enabled=wanted
                        )
                        changed += 1
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(
                    request,
                    "Your e-mail settings are saved." if changed else "Nothing changed in your e-mail settings.",
                )
                return redirect("notifications:settings")
    else:
        form = NotificationSettingsForm(preferences=preferences)
    return render(request, "notifications/settings.html", {"form": form})
