"""A vendor's roster: invite by e-mail, the join link, the expert's side, suspend and offboard."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Membership, User
from apps.accounts.roles import Role
from apps.experts import services
from apps.experts.models import ExpertProfile, RosterEntry
from tests.factories import UserFactory
from tests.pages.conftest import text
from tests.pages.workforce.conftest import field_html

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-and-unusual-passphrase"


def roster_url(vendor):
    return reverse("experts:roster", args=[vendor.slug])


def join_path(token):
    return reverse("experts:roster_join", args=[token])


@pytest.fixture
def rostered(vendor, vendor_manager):
    """An expert who joined the roster (a new account through the link), with a profile."""

    def make(email="amara@experts.test", full_name="Dr Amara Okafor", coi=""):
        _entry, token = services.roster_invite(actor=vendor_manager, vendor=vendor, email=email)
        entry = services.roster_accept_by_token(token=token, conflict_of_interest=coi, password=PASSWORD)
        User.objects.filter(pk=entry.user_id).update(full_name=full_name)
        entry.user.refresh_from_db()
        return entry

    return make


def test_manager_sees_roster_with_experts_and_their_verified_credentials(
    as_user, vendor, vendor_manager, rostered, verified_credential, submit_credential
):
    entry = rostered(coi="I consult for Acme AI Lab.")
    services.profile_update(actor=entry.user, weekly_hours=25)
    verified_credential(entry.user, title="Board certified, diagnostic radiology")
    submit_credential(entry.user, title="Pending fellowship")

    page = text(as_user(vendor_manager).get(roster_url(vendor)))

    row = page[page.index(f'id="entry-{entry.public_id}"') :]
    row = row[: row.index("</tr>")]
    assert "Dr Amara Okafor" in row
    assert "amara@experts.test" in row
    assert ExpertProfile.objects.get(user=entry.user).handle in row
    assert "Active" in row
    assert "<td>25</td>" in row
    assert "Board certified, diagnostic radiology" in row
    assert "Pending fellowship" not in row
    assert "I consult for Acme AI Lab." in row
    assert timezone.localdate().strftime("%-d %b %Y") in row


def test_invite_through_the_page_sends_an_email_with_the_join_link(
    as_user, vendor, vendor_manager, django_capture_on_commit_callbacks, mailoutbox
):
    client = as_user(vendor_manager)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("experts:roster_invite", args=[vendor.slug]), {"email": "new@experts.test"})

    assert response.status_code == 302
    entry = RosterEntry.objects.get(user__email="new@experts.test")
    assert entry.status == RosterEntry.Status.INVITED
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["new@experts.test"]
    assert re.search(r"/roster/join/[\w-]+/", mailoutbox[0].body)
    assert "Invitation sent to new@experts.test" in text(client.get(response["Location"]))


def test_inviting_someone_already_on_the_roster_is_refused_on_the_email_field(
    as_user, vendor, vendor_manager, rostered
):
    entry = rostered()

    response = as_user(vendor_manager).post(
        reverse("experts:roster_invite", args=[vendor.slug]), {"email": entry.user.email}
    )

    assert response.status_code == 400
    assert "already on the roster" in field_html(text(response), "email")


def test_join_link_for_a_new_account_sets_a_password_logs_in_and_joins(
    client, vendor, vendor_manager, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        as_manager = client
        as_manager.force_login(vendor_manager)
        as_manager.post(reverse("experts:roster_invite", args=[vendor.slug]), {"email": "fresh@experts.test"})
    as_manager.logout()
    path = re.search(r"/roster/join/[\w-]+/", mailoutbox[0].body).group(0)

    page = text(client.get(path))
    assert "Choose a password" in page
    assert "I have no conflict of interest" in page

    response = client.post(
        path,
        {
            "full_name": "Ada Lovelace",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "no_conflict": "on",
            "action": "accept",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    user = User.objects.get(email="fresh@experts.test")
    assert user.check_password(PASSWORD)
    assert user.full_name == "Ada Lovelace"
    assert client.session[SESSION_KEY] == str(user.pk)
    entry = RosterEntry.objects.get(user=user)
    assert entry.status == RosterEntry.Status.ACTIVE
    assert entry.conflict_of_interest == "" and entry.coi_declared_at is not None
    assert Membership.objects.get(user=user, organization=vendor).role == Role.EXPERT
    dashboard = text(client.get(reverse("home")))
    assert "Welcome to the roster of Northwind Annotation" in dashboard
    assert "Expert on a vendor team" in dashboard
    used = client.get(path)
    assert used.status_code == 404
    assert "not valid" in text(used)


def test_join_requires_an_explicit_conflict_of_interest_choice(client, vendor, vendor_manager):
    _entry, token = services.roster_invite(actor=vendor_manager, vendor=vendor, email="fresh@experts.test")

    response = client.post(join_path(token), {"password1": PASSWORD, "password2": PASSWORD, "action": "accept"})

    assert response.status_code == 400
    assert "tick “I have no conflict of interest”" in field_html(text(response), "conflict_of_interest")
    assert RosterEntry.objects.get().status == RosterEntry.Status.INVITED
    assert not User.objects.get(email="fresh@experts.test").has_usable_password()


def test_join_with_a_weak_password_names_the_password_field(client, vendor, vendor_manager):
    _entry, token = services.roster_invite(actor=vendor_manager, vendor=vendor, email="fresh@experts.test")

    response = client.post(
        join_path(token),
        {"full_name": "Ada", "password1": "password", "password2": "password", "no_conflict": "on", "action": "accept"},
    )

    assert response.status_code == 400
    assert "field__error" in field_html(text(response), "password1")
    assert RosterEntry.objects.get().status == RosterEntry.Status.INVITED


def test_join_link_for_an_existing_account_requires_logging_in_as_that_person(
    client, as_user, vendor, vendor_manager, outsider
):
    existing = UserFactory(email="known@experts.test")
    _entry, token = services.roster_invite(actor=vendor_manager, vendor=vendor, email=existing.email)

    anonymous = client.get(join_path(token))
    assert anonymous.status_code == 302
    assert anonymous["Location"] == f"{reverse('account_login')}?next={join_path(token)}"

    wrong = as_user(outsider).get(join_path(token))
    assert wrong.status_code == 403
    assert "sent to known@experts.test" in text(wrong)

    right = as_user(existing)
    assert "Choose a password" not in text(right.get(join_path(token)))
    response = right.post(join_path(token), {"conflict_of_interest": "Advisor to Other Lab", "action": "accept"})
    assert response.status_code == 302
    entry = RosterEntry.objects.get(user=existing)
    assert entry.status == RosterEntry.Status.ACTIVE
    assert entry.conflict_of_interest == "Advisor to Other Lab"


def test_expired_link_says_so_and_changes_nothing(client, vendor, vendor_manager):
    _entry, token = services.roster_invite(actor=vendor_manager, vendor=vendor, email="late@experts.test")

    with time_machine.travel(timezone.now() + timedelta(days=30)):
        response = client.get(join_path(token))
        posted = client.post(
            join_path(token),
            {
                "full_name": "Ada Lovelace",
                "password1": PASSWORD,
                "password2": PASSWORD,
                "no_conflict": "on",
                "action": "accept",
            },
        )

    assert response.status_code == 410
    assert "This link expired" in text(response)
    assert posted.status_code == 410
    assert RosterEntry.objects.get().status == RosterEntry.Status.INVITED


def test_unknown_link_shows_a_clear_message(client):
    response = client.get(join_path("not-a-real-token"))

    assert response.status_code == 404
    assert "This roster invitation link is not valid" in text(response)


def test_expert_accepts_an_invitation_in_the_app_with_a_declaration(as_user, vendor, vendor_manager):
    existing = UserFactory(email="known@experts.test")
    entry, _token = services.roster_invite(actor=vendor_manager, vendor=vendor, email=existing.email)
    client = as_user(existing)
    page = text(client.get(reverse("experts:roster_invitations")))
    assert "Northwind Annotation" in page
    assert reverse("experts:roster_accept", args=[entry.public_id]) in page

    refused = client.post(reverse("experts:roster_accept", args=[entry.public_id]), {})
    assert refused.status_code == 400
    entry.refresh_from_db()
    assert entry.status == RosterEntry.Status.INVITED

    client.post(reverse("experts:roster_accept", args=[entry.public_id]), {"no_conflict": "on"})
    entry.refresh_from_db()
    assert entry.status == RosterEntry.Status.ACTIVE


def test_expert_declines_an_invitation(as_user, vendor, vendor_manager):
    existing = UserFactory(email="known@experts.test")
    entry, _token = services.roster_invite(actor=vendor_manager, vendor=vendor, email=existing.email)

    as_user(existing).post(reverse("experts:roster_decline", args=[entry.public_id]))

    entry.refresh_from_db()
    assert entry.status == RosterEntry.Status.DECLINED


def test_someone_else_cannot_accept_anothers_invitation(as_user, vendor, vendor_manager, outsider):
    entry, _token = services.roster_invite(actor=vendor_manager, vendor=vendor, email="known@experts.test")

    response = as_user(outsider).post(reverse("experts:roster_accept", args=[entry.public_id]), {"no_conflict": "on"})

    assert response.status_code == 404


def test_manager_suspends_reinstates_and_offboards_from_the_page(as_user, vendor, vendor_manager, rostered):
    entry = rostered()
    client = as_user(vendor_manager)
    args = [vendor.slug, entry.public_id]

    client.post(reverse("experts:roster_suspend", args=args), {"reason": "Missed two calibration rounds"})
    entry.refresh_from_db()
    assert entry.status == RosterEntry.Status.SUSPENDED
    page = text(client.get(roster_url(vendor)))
    assert "Missed two calibration rounds" in page
    assert reverse("experts:roster_reinstate", args=args) in page

    client.post(reverse("experts:roster_reinstate", args=args))
    entry.refresh_from_db()
    assert entry.status == RosterEntry.Status.ACTIVE

    client.post(reverse("experts:roster_offboard", args=args), {"reason": "Contract ended"})
    entry.refresh_from_db()
    assert entry.status == RosterEntry.Status.OFFBOARDED
    assert entry.status_reason == "Contract ended"
    assert not Membership.objects.filter(user=entry.user, organization=vendor).exists()
    page = text(client.get(roster_url(vendor)))
    assert 'id="past"' in page and "Contract ended" in page


def test_suspending_without_a_reason_changes_nothing(as_user, vendor, vendor_manager, rostered):
    entry = rostered()
    client = as_user(vendor_manager)

    response = client.post(reverse("experts:roster_suspend", args=[vendor.slug, entry.public_id]), {"reason": ""})

    entry.refresh_from_db()
    assert entry.status == RosterEntry.Status.ACTIVE
    assert "Give a reason" in text(client.get(response["Location"]))


def test_outsider_gets_404_and_a_vendor_expert_403(as_user, vendor, expert, outsider, rostered):
    entry = rostered()

    assert as_user(outsider).get(roster_url(vendor)).status_code == 404
    assert as_user(expert).get(roster_url(vendor)).status_code == 403
    response = as_user(expert).post(
        reverse("experts:roster_offboard", args=[vendor.slug, entry.public_id]), {"reason": "x"}
    )
    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.status == RosterEntry.Status.ACTIVE


def test_a_lab_has_no_roster_page(as_user, lab, lab_owner):
    assert as_user(lab_owner).get(roster_url(lab)).status_code == 404


def test_the_link_holder_of_a_new_account_can_decline(client, vendor, vendor_manager):
    entry, token = services.roster_invite(actor=vendor_manager, vendor=vendor, email="fresh@experts.test")

    response = client.post(join_path(token), {"action": "decline"})

    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.status == RosterEntry.Status.DECLINED
    assert client.get(join_path(token)).status_code == 404
