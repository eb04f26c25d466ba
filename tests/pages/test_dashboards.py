"""The front page: a landing page for visitors and one dashboard per kind of person."""

import re

import pytest
from django.urls import reverse

from apps.accounts import services
from apps.accounts.models import Membership, Organization
from apps.accounts.roles import OrgKind, Role
from tests.pages.conftest import text

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_gets_the_landing_page_with_sign_up_and_log_in(client):
    response = client.get(reverse("home"))

    page = text(response)
    assert response.status_code == 200
    assert "Expert human data" in page
    assert reverse("account_signup") in page
    assert reverse("account_login") in page
    assert "org-switcher" not in page


@pytest.mark.parametrize(
    ("persona", "distinctive"),
    [
        ("lab_owner", ["Lab dashboard", "Acme AI Lab", "Post your first data project", "As an owner"]),
        ("lab_admin", ["Lab dashboard", "Acme AI Lab", "As an admin", "Pending invitations"]),
        ("lab_member", ["Lab dashboard", "Acme AI Lab", "As a member", "Owners and admins of Acme AI Lab invite"]),
        ("vendor_manager", ["Vendor dashboard", "Northwind Annotation", "Find projects to bid on", "As a manager"]),
        ("expert", ["Expert on a vendor team", "Northwind Annotation", "No assignments yet"]),
        ("independent_expert", ["Independent expert", "Dr Ada Solo", "Your expert profile"]),
        ("operations", ["Platform operations", "Credential verification"]),
        ("finance", ["Platform finance", "Payout runs"]),
        ("newcomer", ["You are not in an organisation yet", "Create an organisation", "No pending invitations"]),
    ],
)
def test_each_person_gets_their_dashboard(request, as_user, persona, distinctive):
    user = request.getfixturevalue(persona)

    response = as_user(user).get(reverse("home"))

    page = text(response)
    assert response.status_code == 200
    for expected in distinctive:
        assert expected in page, expected
    assert "Two-factor authentication" in page


def test_lab_dashboard_counts_members_invitations_and_keys(as_user, lab, lab_owner, lab_member):
    services.invitation_create(actor=lab_owner, organization=lab, email="p@acme.test", role=Role.MEMBER)
    services.api_key_create(actor=lab_owner, organization=lab, name="pipeline")

    page = text(as_user(lab_owner).get(reverse("home")))

    assert '<p class="stat__label">Members</p>\n      <p class="stat__value">2</p>' in page
    assert '<p class="stat__label">Pending invitations</p>\n      <p class="stat__value">1</p>' in page
    assert '<p class="stat__label">Active API keys</p>\n      <p class="stat__value">1</p>' in page


def test_vendor_expert_dashboard_shows_no_member_or_key_counts(as_user, expert):
    page = text(as_user(expert).get(reverse("home")))

    assert "Active API keys" not in page
    assert '<p class="stat__label">Members</p>' not in page


@pytest.mark.parametrize("persona", ["lab_owner", "vendor_manager", "expert", "operations", "finance"])
def test_every_link_on_a_dashboard_leads_to_a_page_that_exists(request, as_user, persona):
    client = as_user(request.getfixturevalue(persona))
    page = text(client.get(reverse("home")))

    hrefs = re.findall(r'href="(/[^"]*)"', page)
    links = {h.split("#")[0] for h in hrefs if not h.startswith("/static/")} - {"", "/"}
    assert links
    for href in sorted(links):
        assert client.get(href).status_code == 200, href


def test_person_without_organisation_sees_invitations_addressed_to_them(as_user, lab, lab_owner, newcomer):
    services.invitation_create(actor=lab_owner, organization=lab, email=newcomer.email, role=Role.ADMIN)

    page = text(as_user(newcomer).get(reverse("home")))

    assert "Invitations for you" in page
    assert lab.name in page
    assert "Admin" in page


def test_person_without_organisation_creates_a_vendor_from_the_dashboard(as_user, newcomer):
    client = as_user(newcomer)

    response = client.post(reverse("accounts:org_create"), {"name": "Fresh Vendor", "kind": OrgKind.VENDOR})

    assert response.status_code == 302
    org = Organization.objects.get(name="Fresh Vendor")
    assert org.kind == OrgKind.VENDOR
    assert Membership.objects.get(user=newcomer, organization=org).role == Role.OWNER
    assert "Vendor dashboard" in text(client.get(reverse("home")))


def test_creating_an_organisation_without_a_name_is_refused(as_user, newcomer):
    client = as_user(newcomer)

    response = client.post(reverse("accounts:org_create"), {"name": "", "kind": OrgKind.LAB}, follow=True)

    assert "The organisation was not created." in text(response)
    assert not Organization.objects.exists()
