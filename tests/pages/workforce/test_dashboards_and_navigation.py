"""Workforce facts on each dashboard, and the navigation each role gets."""

import pytest
from django.urls import reverse

from apps.experts import services
from tests.factories import UserFactory
from tests.pages.conftest import text

pytestmark = pytest.mark.django_db


def nav(page: str) -> str:
    return page[page.index('<nav class="mainnav"') : page.index("</nav>")]


def test_expert_dashboard_shows_profile_completeness_credentials_and_roster_invitations(
    as_user, vendor, vendor_manager, independent_expert, domains, submit_credential, verified_credential
):
    services.profile_update(actor=independent_expert, headline="Radiologist", domains=["radiology"])
    verified_credential(independent_expert)
    submit_credential(independent_expert, title="Fellowship")
    services.roster_invite(actor=vendor_manager, vendor=vendor, email=independent_expert.email)

    page = text(as_user(independent_expert).get(reverse("home")))

    assert "Your expert profile" in page
    assert "3 of 6 complete" in page
    assert '<span class="badge badge--verified">Verified</span><strong>1</strong>' in page
    assert '<span class="badge badge--pending">Pending review</span><strong>1</strong>' in page
    assert 'id="roster-invitations"' in page
    assert "Northwind Annotation invited you" in page
    assert "arrives with Workforce" not in page


def test_vendor_dashboard_counts_the_roster(as_user, vendor, vendor_manager):
    services.roster_invite(actor=vendor_manager, vendor=vendor, email="a@experts.test")
    services.roster_invite(actor=vendor_manager, vendor=vendor, email="b@experts.test")

    page = text(as_user(vendor_manager).get(reverse("home")))

    assert '<span class="badge badge--invited">Invited</span><strong>2</strong>' in page
    assert '<span class="badge badge--active">Active</span><strong>0</strong>' in page
    assert reverse("experts:roster", args=[vendor.slug]) in page


def test_operations_dashboard_shows_queue_size_and_open_flags(as_user, operations, submit_credential):
    submit_credential(UserFactory(), identifier="L-1")
    submit_credential(UserFactory(), identifier="L-1")

    page = text(as_user(operations).get(reverse("home")))

    assert "2 credentials await review." in page
    assert "1 open flag." in page
    assert reverse("experts:credential_queue") in page


@pytest.mark.parametrize(
    ("persona", "present", "absent"),
    [
        ("independent_expert", ["My profile", "Credentials", "Rosters"], ["Find experts", "Credential queue"]),
        ("expert", ["My profile", "Credentials", "Rosters"], ["Find experts", ">Roster<"]),
        ("vendor_manager", [">Roster<", "Find experts"], ["My profile", "Credential queue"]),
        ("lab_owner", ["Find experts"], [">Roster<", "My profile", "Credential queue"]),
        ("operations", ["Credential queue", "Flags"], ["My profile", "Find experts"]),
        ("finance", [], ["My profile", "Rosters", "Credential queue", "Find experts"]),
    ],
)
def test_navigation_by_role(request, as_user, persona, present, absent):
    page = nav(text(as_user(request.getfixturevalue(persona)).get(reverse("home"))))

    for label in present:
        assert label in page, label
    for label in absent:
        assert label not in page, label
