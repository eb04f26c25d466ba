"""allauth's pages render inside the site layout."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from tests.factories import PASSWORD
from tests.pages.conftest import text

pytestmark = pytest.mark.django_db

LAYOUT_MARKERS = ('class="topbar"', "/static/css/app.css")


def assert_in_layout(response):
    page = text(response)
    assert response.status_code == 200
    for marker in LAYOUT_MARKERS:
        assert marker in page


@pytest.mark.parametrize(
    ("name", "heading"),
    [
        ("account_login", "Log in"),
        ("account_signup", "Create your account"),
        ("account_reset_password", "Password Reset"),
        ("account_email_verification_sent", "Verify Your Email Address"),
    ],
)
def test_entrance_pages_use_the_layout(client, name, heading):
    response = client.get(reverse(name))

    assert_in_layout(response)
    assert heading in text(response)


def test_login_with_email_and_password_reaches_the_dashboard(client, lab_owner):
    response = client.post(reverse("account_login"), {"login": lab_owner.email, "password": PASSWORD}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("home")
    assert "Lab dashboard" in text(response)


def test_confirm_email_page_uses_the_layout_and_confirms_on_post(client):
    client.post(
        reverse("account_signup"),
        {
            "full_name": "Fresh Person",
            "email": "fresh@example.test",
            "password1": "a-long-and-unusual-passphrase-42",
            "password2": "a-long-and-unusual-passphrase-42",
            "account_type": "invited",
        },
    )
    url = re.search(r"/accounts/confirm-email/[^/\s]+/", mail.outbox[0].body).group(0)

    page = client.get(url)
    client.post(url)

    assert_in_layout(page)
    assert "Confirm Email Address" in text(page)
    assert EmailAddress.objects.get(email="fresh@example.test").verified


def test_password_reset_from_key_page_uses_the_layout(client, lab_owner):
    client.post(reverse("account_reset_password"), {"email": lab_owner.email})
    link = re.search(r"/accounts/password/reset/key/[^\s]+", mail.outbox[0].body).group(0)

    response = client.get(link, follow=True)

    assert_in_layout(response)
    assert 'name="password1"' in text(response)


def test_two_factor_pages_use_the_layout_and_show_the_qr_code(client, lab_owner):
    client.post(reverse("account_login"), {"login": lab_owner.email, "password": PASSWORD})
    index = client.get(reverse("mfa_index"))
    challenge = client.get(reverse("mfa_activate_totp"), follow=True)
    client.post(challenge.redirect_chain[-1][0], {"password": PASSWORD})

    activate = client.get(reverse("mfa_activate_totp"))

    assert_in_layout(index)
    assert "Authenticator App" in text(index)
    assert_in_layout(challenge)
    assert 'name="password"' in text(challenge)
    assert_in_layout(activate)
    page = text(activate)
    assert 'class="qr"' in page
    assert 'src="data:image/svg+xml' in page
    assert 'name="code"' in page


def test_logout_page_uses_the_layout(as_user, lab_owner):
    response = as_user(lab_owner).get(reverse("account_logout"))

    assert_in_layout(response)
