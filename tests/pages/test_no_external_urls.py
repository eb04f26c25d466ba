"""Every asset is served by the site itself: no page links or loads anything from another host."""

import re

import pytest
from django.urls import reverse

from tests.pages.conftest import text

pytestmark = pytest.mark.django_db

ABSOLUTE_URL = re.compile(r"""(?:https?:)?//[^\s"'<>)]+""", re.IGNORECASE)
OWN_HOSTS = ("testserver",)


def external_urls(page: str) -> list[str]:
    found = []
    for url in ABSOLUTE_URL.findall(page):
        host = url.split("//", 1)[1].split("/", 1)[0].split(":", 1)[0]
        if host not in OWN_HOSTS:
            found.append(url)
    return found


@pytest.mark.parametrize("name", ["home", "account_signup", "account_login", "account_reset_password"])
def test_public_pages_have_no_external_url(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 200
    assert external_urls(text(response)) == []


def test_signed_in_pages_have_no_external_url(as_user, lab, lab_owner):
    client = as_user(lab_owner)
    client.post(reverse("accounts:api_key_create", args=[lab.slug]), {"name": "pipeline"})

    for url in (reverse("home"), reverse("accounts:org_settings", args=[lab.slug]), reverse("mfa_index")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert external_urls(text(response)) == [], url


def test_the_check_itself_catches_a_foreign_host():
    assert external_urls('<script src="https://cdn.example.com/x.js"></script>') == ["https://cdn.example.com/x.js"]
    assert external_urls('<a href="//cdn.example.com/x">') == ["//cdn.example.com/x"]
    assert external_urls('<a href="http://testserver/x">') == []
