"""Every Workforce page is served without a single URL to another host."""

import pytest
from django.urls import reverse

from apps.experts import services
from apps.notifications.services import notify
from tests.pages.conftest import text
from tests.pages.test_no_external_urls import external_urls
from tests.pages.workforce.conftest import png_bytes, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def populated(vendor, vendor_manager, independent_expert, domains, submit_credential, operations):
    services.profile_update(actor=independent_expert, headline="Radiologist", domains=["radiology"], country="DE")
    submit_credential(independent_expert, identifier="X-1", file=upload("scan.png", png_bytes(), "image/png"))
    submit_credential(vendor_manager, identifier="X 1")  # the same identifier: a flag
    entry, _token = services.roster_invite(actor=vendor_manager, vendor=vendor, email=independent_expert.email)
    notify(recipient=independent_expert, kind="roster.invited", title="Invited", url="/roster/invitations/")
    return entry


def assert_clean(client, urls):
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert external_urls(text(response)) == [], url


def test_expert_pages(as_user, independent_expert, populated):
    assert_clean(
        as_user(independent_expert),
        [
            reverse("home"),
            reverse("experts:profile"),
            reverse("experts:credentials"),
            reverse("experts:roster_invitations"),
            reverse("notifications:list"),
            reverse("notifications:settings"),
        ],
    )


def test_vendor_and_lab_pages(as_user, vendor, vendor_manager, lab_owner, populated):
    assert_clean(as_user(vendor_manager), [reverse("experts:roster", args=[vendor.slug]), reverse("experts:search")])
    assert_clean(as_user(lab_owner), [reverse("experts:search")])


def test_operations_pages(as_user, operations, populated):
    assert_clean(
        as_user(operations),
        [reverse("home"), reverse("experts:credential_queue"), reverse("experts:flags")],
    )


def test_join_page(client, vendor, vendor_manager):
    _entry, token = services.roster_invite(actor=vendor_manager, vendor=vendor, email="fresh@experts.test")

    assert_clean(client, [reverse("experts:roster_join", args=[token])])
