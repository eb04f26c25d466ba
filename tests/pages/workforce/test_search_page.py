"""Expert search: labs see handles and verified credentials, never a person; vendors see their own roster."""

import pytest
from django.urls import reverse

from apps.experts import services
from tests.factories import UserFactory
from tests.pages.conftest import text
from tests.pages.workforce.conftest import main_html

pytestmark = pytest.mark.django_db

SEARCH = "experts:search"


@pytest.fixture
def radiologist(domains, verified_credential):
    user = UserFactory(email="amara.okafor@experts.test", full_name="Amara Okafor")
    services.profile_update(
        actor=user,
        headline="Radiologist, 12 years",
        domains=["radiology"],
        languages=["en", "de"],
        country="DE",
        weekly_hours=20,
    )
    verified_credential(user, title="Board certified, diagnostic radiology")
    return user


@pytest.fixture
def tax_lawyer(domains):
    user = UserFactory(email="theo.taxman@experts.test", full_name="Theo Taxman")
    services.profile_update(actor=user, headline="Tax counsel", domains=["tax-law"], languages=["fr"], weekly_hours=5)
    return user


def test_lab_sees_handles_and_verified_credentials_but_never_a_name_or_email(
    as_user, lab_owner, radiologist, tax_lawyer
):
    page = text(as_user(lab_owner).get(reverse(SEARCH)))
    content = main_html(page)

    assert radiologist.expert_profile.handle in page
    assert tax_lawyer.expert_profile.handle in page
    assert "Board certified, diagnostic radiology" in page
    assert "Radiologist, 12 years" in page
    for secret in ("Amara", "Okafor", "Theo", "Taxman"):
        assert secret not in content, secret
    for secret in ("amara.okafor", "theo.taxman", "@experts.test"):
        assert secret not in page, secret


def test_lab_never_sees_identities_even_when_filtering(as_user, lab_owner, radiologist):
    page = text(
        as_user(lab_owner).get(reverse(SEARCH), {"domain": "medicine", "credential_type": "board_certification"})
    )

    assert radiologist.expert_profile.handle in page
    assert "Okafor" not in page and "amara.okafor@experts.test" not in page


def test_vendor_sees_name_and_email_only_for_its_own_roster(as_user, vendor, vendor_manager, radiologist, tax_lawyer):
    entry, _token = services.roster_invite(actor=vendor_manager, vendor=vendor, email=radiologist.email)
    services.roster_accept(actor=radiologist, entry=entry, conflict_of_interest="")

    page = text(as_user(vendor_manager).get(reverse(SEARCH)))

    assert "Amara Okafor" in page
    assert "amara.okafor@experts.test" in page
    assert "On your roster" in page
    assert tax_lawyer.expert_profile.handle in page
    assert "Theo Taxman" not in page and "theo.taxman@experts.test" not in page


def test_a_parent_domain_finds_experts_in_its_sub_domains(as_user, lab_owner, radiologist, tax_lawyer):
    page = text(as_user(lab_owner).get(reverse(SEARCH), {"domain": "medicine"}))

    assert radiologist.expert_profile.handle in page
    assert tax_lawyer.expert_profile.handle not in page
    assert "1 expert matches these filters" in page


@pytest.mark.parametrize(
    ("filters", "finds_radiologist", "finds_lawyer"),
    [
        ({"credential_type": "board_certification"}, True, False),
        ({"country": "DE"}, True, False),
        ({"language": "fr"}, False, True),
        ({"min_weekly_hours": "10"}, True, False),
    ],
)
def test_filters(as_user, lab_owner, radiologist, tax_lawyer, filters, finds_radiologist, finds_lawyer):
    page = text(as_user(lab_owner).get(reverse(SEARCH), filters))

    assert (radiologist.expert_profile.handle in page) is finds_radiologist
    assert (tax_lawyer.expert_profile.handle in page) is finds_lawyer


def test_domain_select_offers_parents_and_children(as_user, lab_owner, domains):
    page = text(as_user(lab_owner).get(reverse(SEARCH)))

    assert '<optgroup label="Medicine">' in page
    assert '<option value="medicine">All of Medicine</option>' in page
    assert '<option value="radiology">Radiology</option>' in page


def test_results_are_paginated_twenty_per_page(as_user, lab_owner, domains):
    for n in range(23):
        services.profile_update(actor=UserFactory(email=f"p{n}@experts.test"), headline=f"Expert number {n}")
    client = as_user(lab_owner)

    first = text(client.get(reverse(SEARCH)))
    second = text(client.get(reverse(SEARCH), {"page": 2}))

    assert first.count('class="card expert-card"') == 20
    assert second.count('class="card expert-card"') == 3
    assert "Page 1 of 2" in first


def test_an_undiscoverable_expert_is_not_listed(as_user, lab_owner, radiologist):
    services.profile_update(actor=radiologist, is_discoverable=False)

    page = text(as_user(lab_owner).get(reverse(SEARCH)))

    assert radiologist.expert_profile.handle not in page


def test_a_vendor_expert_may_not_search(as_user, expert):
    assert as_user(expert).get(reverse(SEARCH)).status_code == 403


def test_someone_without_an_organisation_gets_404(as_user, newcomer):
    assert as_user(newcomer).get(reverse(SEARCH)).status_code == 404
