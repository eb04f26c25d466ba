"""The organisation switcher in the layout."""

import pytest
from django.urls import reverse

from apps.accounts.middleware import SESSION_KEY
from apps.accounts.roles import Role
from tests.factories import MembershipFactory
from tests.pages.conftest import text

pytestmark = pytest.mark.django_db


def test_layout_offers_every_organisation_of_the_user(as_user, lab, vendor, lab_owner):
    MembershipFactory(user=lab_owner, organization=vendor, role=Role.MANAGER)

    page = text(as_user(lab_owner).get(reverse("home")))

    assert reverse("accounts:org_switch") in page
    assert f'value="{lab.public_id}"' in page
    assert f'value="{vendor.public_id}"' in page


def test_switching_makes_the_chosen_organisation_active(as_user, lab, vendor, lab_owner):
    MembershipFactory(user=lab_owner, organization=vendor, role=Role.MANAGER)
    client = as_user(lab_owner)

    response = client.post(reverse("accounts:org_switch"), {"organization": str(vendor.public_id)})

    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(vendor.public_id)
    dashboard = text(client.get(reverse("home")))
    assert "Vendor dashboard" in dashboard
    assert vendor.name in dashboard


def test_switching_to_an_organisation_you_are_not_in_is_404(as_user, lab, lab_owner, outsider):
    client = as_user(outsider)
    before = client.session.get(SESSION_KEY)

    response = client.post(reverse("accounts:org_switch"), {"organization": str(lab.public_id)})

    assert response.status_code == 404
    assert client.session.get(SESSION_KEY) == before


def test_switching_with_a_malformed_id_is_404(as_user, outsider):
    response = as_user(outsider).post(reverse("accounts:org_switch"), {"organization": "not-a-uuid"})

    assert response.status_code == 404


def test_switcher_refuses_get(as_user, outsider):
    assert as_user(outsider).get(reverse("accounts:org_switch")).status_code == 405
