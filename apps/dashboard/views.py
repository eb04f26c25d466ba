"""The front page: a landing page for visitors, a dashboard per role for signed-in people."""

from __future__ import annotations

from allauth.mfa.utils import is_mfa_enabled
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from apps.accounts import policies, selectors
from apps.accounts.forms import OrganizationForm
from apps.accounts.middleware import get_active_membership
from apps.accounts.models import ApiKey, Invitation, Membership
from apps.accounts.roles import OrgKind, Perm, Role
from apps.assessments import views as assessment_pages
from apps.bidding import selectors as bidding_selectors
from apps.bidding.models import Bid, Question
from apps.contracts import views as contract_pages
from apps.experts import selectors as expert_selectors
from apps.experts.models import Credential, ExpertProfile, RosterEntry
from apps.ledger import views as ledger_pages
from apps.projects import selectors as project_selectors
from apps.projects.models import Project
from apps.quality import views as quality_pages
from apps.work import views as work_pages

# Which dashboard a membership sees: presentation only; what it may do is asked of policies.
_TEMPLATES = {
    (OrgKind.LAB, Role.OWNER): "dashboard/lab.html",
    (OrgKind.LAB, Role.ADMIN): "dashboard/lab.html",
    (OrgKind.LAB, Role.MEMBER): "dashboard/lab.html",
    (OrgKind.VENDOR, Role.OWNER): "dashboard/vendor.html",
    (OrgKind.VENDOR, Role.MANAGER): "dashboard/vendor.html",
    (OrgKind.VENDOR, Role.EXPERT): "dashboard/vendor_expert.html",
    (OrgKind.INDIVIDUAL, Role.OWNER): "dashboard/individual.html",
}


def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return render(request, "dashboard/landing.html")

    context: dict = {
        "mfa_enabled": is_mfa_enabled(user),
        "my_invitations": [i for i in selectors.invitation_list_for_email(user.email) if not i.is_expired],
        "roster_invitations": list(
            expert_selectors.roster_entries_for_expert(actor=user).filter(status=RosterEntry.Status.INVITED)
        ),
    }
    if user.is_finance:
        context.update(ledger_pages.ledger_summary(user))
        return render(request, "dashboard/finance.html", context)
    if user.is_operations:
        context["pending_credential_count"] = expert_selectors.credential_review_queue(actor=user).count()
        context["open_flag_count"] = expert_selectors.credential_flag_list(actor=user).count()
        context.update(work_pages.appeals_summary(user))
        context.update(quality_pages.dashboard_summary(user, None))
        return render(request, "dashboard/operations.html", context)

    membership = get_active_membership(request)
    if membership is None:
        context["organization_form"] = OrganizationForm()
        return render(request, "dashboard/no_org.html", context)

    context.update(_organization_summary(user, membership))
    context.update(_projects_summary(user, membership))
    context.update(_contracts_summary(user, membership))
    context.update(work_pages.work_summary(user, membership.organization))
    context.update(quality_pages.dashboard_summary(user, membership))
    template = _TEMPLATES.get((membership.organization.kind, membership.role), "dashboard/vendor_expert.html")
    if template in ("dashboard/individual.html", "dashboard/vendor_expert.html"):
        context.update(_expert_summary(user))
        # The contracts the expert works on: assignments and the NDAs still to accept.
        context.update(contract_pages.expert_work(user))
        context.update(assessment_pages.expert_tests_summary(user))
    return render(request, template, context)


def _expert_summary(user) -> dict:
    """Workforce facts for an expert: how complete the profile is and where the credentials stand."""
    profile = ExpertProfile.objects.filter(user=user).first()
    counts = expert_selectors.credential_counts_for(user)
    checklist = expert_selectors.profile_checklist(profile, counts)
    return {
        "expert_profile": profile,
        "profile_checklist": checklist,
        "profile_done": sum(1 for _, done in checklist if done),
        "credential_counts": [(label, counts.get(value, 0), value) for value, label in Credential.Status.choices],
        "credential_total": sum(counts.values()),
    }


def _organization_summary(user, membership: Membership) -> dict:
    org = membership.organization
    can = {
        "view_members": policies.has_permission(user, org, Perm.MEMBERS_VIEW),
        "invite": policies.has_permission(user, org, Perm.MEMBERS_INVITE),
        "manage_members": policies.has_permission(user, org, Perm.MEMBERS_MANAGE),
        "manage_keys": policies.has_permission(user, org, Perm.API_KEYS_MANAGE),
    }
    summary: dict = {"membership": membership, "org": org, "can": can}
    if can["view_members"]:
        summary["member_count"] = selectors.member_list(actor=user, organization=org).count()
    if can["invite"]:
        summary["pending_invitation_count"] = sum(
            1
            for i in selectors.invitation_list(actor=user, organization=org).filter(status=Invitation.Status.PENDING)
            if not i.is_expired
        )
    if policies.has_permission(user, org, Perm.ROSTER_VIEW):
        rows = expert_selectors.roster_list(actor=user, vendor=org).order_by().values("status").annotate(n=Count("id"))
        summary["roster_counts"] = {s: 0 for s in RosterEntry.Status.values} | {r["status"]: r["n"] for r in rows}
    can["search_experts"] = policies.has_permission(user, org, Perm.EXPERTS_SEARCH)
    if can["manage_keys"]:
        summary["active_key_count"] = (
            selectors.api_key_list(actor=user, organization=org)
            .filter(status=ApiKey.Status.ACTIVE)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
            .count()
        )
    return summary


def _contracts_summary(user, membership: Membership) -> dict:
    """A party's contracts: those awaiting its signature and the active ones."""
    if not policies.has_permission(user, membership.organization, Perm.CONTRACTS_VIEW):
        return {}
    return {"show_contracts": True, **contract_pages.contracts_summary(user, membership.organization)}


# Statuses a lab always sees on its dashboard; the final ones only once they occur.
_LAB_STATUSES_SHOWN = {"draft", "open", "bidding_closed", "awarded", "in_progress"}


def _projects_summary(user, membership: Membership) -> dict:
    """Projects facts: a lab's projects by status, open questions and bids to review; a supplier's
    open projects, live bids and outcomes."""
    org = membership.organization
    if policies.has_permission(user, org, Perm.PROJECTS_VIEW):
        projects = project_selectors.project_list_for_lab(actor=user, lab=org)
        counts = {r["status"]: r["n"] for r in projects.order_by().values("status").annotate(n=Count("id"))}
        return {
            "project_total": sum(counts.values()),
            "project_counts": [
                (value, label, counts.get(value, 0))
                for value, label in Project.Status.choices
                if value in _LAB_STATUSES_SHOWN or counts.get(value)
            ],
            "recent_projects": list(projects[:5]),
            "open_question_count": Question.objects.filter(project__in=projects, status=Question.Status.OPEN).count(),
            # Bids are sealed until the close: only closed projects have bids to review.
            "bids_to_review": Bid.objects.filter(
                project__in=projects.filter(status=Project.Status.BIDDING_CLOSED), status__in=Bid.LIVE
            ).count(),
            "can_manage_projects": policies.has_permission(user, org, Perm.PROJECTS_MANAGE),
        }
    if policies.has_permission(user, org, Perm.BIDS_MANAGE):
        bids = bidding_selectors.bid_list_for_bidder(actor=user, organization=org)
        counts = {r["status"]: r["n"] for r in bids.order_by().values("status").annotate(n=Count("id"))}
        return {
            "market_open_count": project_selectors.project_marketplace_list(actor=user, organization=org).count(),
            "live_bid_count": sum(counts.get(s, 0) for s in Bid.LIVE),
            "bid_outcomes": [
                (Bid.Status.AWARDED, "Awarded", counts.get(Bid.Status.AWARDED, 0)),
                (Bid.Status.LOST, "Not awarded", counts.get(Bid.Status.LOST, 0)),
                (Bid.Status.REJECTED, "Rejected", counts.get(Bid.Status.REJECTED, 0)),
            ],
            "recent_bids": list(bids[:5]),
        }
    if policies.has_permission(user, org, Perm.MARKETPLACE_BROWSE):
        return {"market_open_count": project_selectors.project_marketplace_list(actor=user, organization=org).count()}
    return {}
