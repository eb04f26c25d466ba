"""The expert edits their profile; the service's errors appear next to the field they name."""

import pytest
from django.urls import reverse

from apps.experts.models import ExpertProfile
from tests.pages.conftest import text
from tests.pages.workforce.conftest import field_html

pytestmark = pytest.mark.django_db

VALID = {
    "headline": "Radiologist, 12 years of reading CT",
    "bio": "Attending radiologist.",
    "domains": ["radiology", "tax-law"],
    "languages": ["en", "de"],
    "country": "DE",
    "timezone": "Europe/Berlin",
    "weekly_hours": "15",
    "hourly_rate": "85.50",
    "rate_currency": "EUR",
    "is_discoverable": "on",
}


def test_profile_page_lists_domains_grouped_under_their_parent(as_user, independent_expert, domains):
    page = text(as_user(independent_expert).get(reverse("experts:profile")))

    law = page.index("<legend>Law</legend>")
    medicine = page.index("<legend>Medicine</legend>")
    assert law < page.index('value="tax-law"') < medicine < page.index('value="radiology"')


def test_expert_saves_their_profile(as_user, independent_expert, domains):
    client = as_user(independent_expert)

    response = client.post(reverse("experts:profile"), VALID)

    assert response.status_code == 302
    profile = ExpertProfile.objects.get(user=independent_expert)
    assert profile.headline == VALID["headline"]
    assert sorted(d.slug for d in profile.domains.all()) == ["radiology", "tax-law"]
    assert profile.languages == ["en", "de"]
    assert profile.country.code == "DE"
    assert profile.timezone == "Europe/Berlin"
    assert profile.weekly_hours == 15
    assert (profile.hourly_rate_minor, profile.rate_currency) == (8550, "EUR")
    page = text(client.get(reverse("experts:profile")))
    assert "Your expert profile is saved." in page
    assert profile.handle in page
    assert 'value="85.50"' in page
    assert 'value="radiology" id="domain-radiology" checked' in page


def test_unknown_time_zone_is_named_next_to_the_field_and_nothing_is_saved(as_user, independent_expert, domains):
    response = as_user(independent_expert).post(reverse("experts:profile"), {**VALID, "timezone": "Mars/Olympus_Mons"})

    assert response.status_code == 400
    field = field_html(text(response), "timezone")
    assert "Unknown time zone &#x27;Mars/Olympus_Mons&#x27;" in field
    assert 'class="field__error"' in field
    assert not ExpertProfile.objects.filter(user=independent_expert).exists()


def test_hours_above_a_week_are_refused_on_the_field(as_user, independent_expert, domains):
    response = as_user(independent_expert).post(reverse("experts:profile"), {**VALID, "weekly_hours": "200"})

    assert response.status_code == 400
    assert "field__error" in field_html(text(response), "weekly_hours")
    assert not ExpertProfile.objects.exists()


def test_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get(reverse("experts:profile"))

    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]
