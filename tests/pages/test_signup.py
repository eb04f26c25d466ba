"""Sign-up through allauth's real form creates the organisation the person chose to be."""

import pytest
from django.core import mail
from django.urls import reverse

from apps.accounts.models import Membership, Organization, User
from apps.accounts.roles import OrgKind, Role
from tests.pages.conftest import text

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "a-long-and-unusual-passphrase-42"


def signup_data(**overrides):
    data = {
        "full_name": "Grace Hopper",
        "email": "grace@newlab.test",
        "password1": STRONG_PASSWORD,
        "password2": STRONG_PASSWORD,
        "account_type": "lab",
        "organization_name": "New Frontier Lab",
    }
    data.update(overrides)
    return data


def test_signup_page_shows_our_extra_fields_inside_the_layout(client):
    response = client.get(reverse("account_signup"))

    page = text(response)
    assert response.status_code == 200
    assert 'class="topbar"' in page
    for expected in ('name="full_name"', 'name="account_type"', 'name="organization_name"', "I am"):
        assert expected in page
    for label in ("A lab", "A vendor", "An independent expert", "I was invited"):
        assert label in page


@pytest.mark.parametrize(
    ("account_type", "organization_name", "expected_kind", "expected_name"),
    [
        ("lab", "New Frontier Lab", OrgKind.LAB, "New Frontier Lab"),
        ("vendor", "Careful Annotators Ltd", OrgKind.VENDOR, "Careful Annotators Ltd"),
        ("expert", "", OrgKind.INDIVIDUAL, "Grace Hopper"),
    ],
)
def test_signup_creates_the_chosen_organisation_with_the_person_as_owner(
    client, account_type, organization_name, expected_kind, expected_name
):
    response = client.post(
        reverse("account_signup"),
        signup_data(account_type=account_type, organization_name=organization_name),
    )

    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    user = User.objects.get(email="grace@newlab.test")
    assert user.full_name == "Grace Hopper"
    membership = Membership.objects.select_related("organization").get(user=user)
    assert membership.role == Role.OWNER
    assert membership.organization.kind == expected_kind
    assert membership.organization.name == expected_name
    assert len(mail.outbox) == 1
    assert "grace@newlab.test" in mail.outbox[0].to


def test_signup_as_invited_creates_no_organisation(client):
    response = client.post(reverse("account_signup"), signup_data(account_type="invited", organization_name=""))

    assert response.status_code == 302
    user = User.objects.get(email="grace@newlab.test")
    assert not Membership.objects.filter(user=user).exists()


def test_signup_as_lab_without_an_organisation_name_is_refused_with_a_field_error(client):
    response = client.post(reverse("account_signup"), signup_data(organization_name=""))

    assert response.status_code == 200
    assert "A lab or a vendor needs an organisation name." in text(response)
    assert not User.objects.filter(email="grace@newlab.test").exists()
    assert not Organization.objects.exists()
