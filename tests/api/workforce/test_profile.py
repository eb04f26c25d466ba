"""GET/PATCH /api/v1/profile/: the caller's own expert profile."""

import pytest

from apps.accounts import services as account_services
from apps.accounts.roles import OrgKind
from apps.experts.models import ExpertProfile
from tests.factories import UserFactory

URL = "/api/v1/profile/"


@pytest.fixture
def person(db):
    return UserFactory(email="person@x.test")


def test_reading_the_profile_creates_it_empty_once(person, api_as):
    client = api_as(person)

    first = client.get(URL)
    second = client.get(URL)

    assert first.status_code == 200
    assert first.json() == second.json()
    assert ExpertProfile.objects.filter(user=person).count() == 1
    assert first.json()["hourly_rate"] is None
    assert first.json()["domains"] == []


def test_patch_updates_the_given_fields(person, api_as, domains):
    response = api_as(person).patch(
        URL,
        {
            "headline": "Neuroradiologist",
            "domains": ["neuroradiology", "law"],
            "languages": ["EN", "de"],
            "country": "de",
            "timezone": "Europe/Berlin",
            "weekly_hours": 12,
            "hourly_rate": "120.50",
            "rate_currency": "EUR",
            "is_discoverable": False,
        },
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["headline"] == "Neuroradiologist"
    assert {d["slug"] for d in body["domains"]} == {"neuroradiology", "law"}
    assert body["languages"] == ["en", "de"]
    assert (body["country"], body["timezone"], body["weekly_hours"]) == ("DE", "Europe/Berlin", 12)
    assert body["hourly_rate"] == {"amount": "120.50", "currency": "EUR"}
    assert body["is_discoverable"] is False
    profile = ExpertProfile.objects.get(user=person)
    assert profile.hourly_rate_minor == 12050


def test_patch_leaves_other_fields_alone(person, api_as):
    client = api_as(person)
    client.patch(URL, {"headline": "First", "bio": "Keep me"})

    response = client.patch(URL, {"headline": "Second"})

    assert (response.json()["headline"], response.json()["bio"]) == ("Second", "Keep me")


def test_a_null_rate_clears_it(person, api_as):
    client = api_as(person)
    client.patch(URL, {"hourly_rate": "50.00"})

    response = client.patch(URL, {"hourly_rate": None})

    assert response.json()["hourly_rate"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"domains": ["astrology"]}, "domains"),
        ({"languages": ["klingon"]}, "languages"),
        ({"country": "XX"}, "country"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"weekly_hours": 200}, "weekly_hours"),
        ({"hourly_rate": "-5"}, "hourly_rate"),
        ({"hourly_rate": 85.5}, "hourly_rate"),
        ({"hourly_rate": "85.555"}, "hourly_rate"),
        ({"rate_currency": "XYZ"}, "rate_currency"),
        ({"nickname": "Doc"}, "nickname"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_saves_nothing(person, api_as, domains, body, field):
    client = api_as(person)
    before = client.get(URL).json()

    response = client.patch(URL, {"headline": "Changed", **body})

    assert response.status_code == 400, response.content
    assert list(response.json()["error"]["details"]) == [field]
    assert client.get(URL).json() == before


def test_a_lab_api_key_cannot_reach_the_profile(lab, lab_owner, key_client):
    response = key_client(lab_owner, lab).get(URL)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "api_key_out_of_scope"
    assert not ExpertProfile.objects.filter(user=lab_owner).exists()


def test_a_key_of_the_experts_own_individual_organisation_reaches_the_profile(person, key_client):
    own = account_services.organization_create(actor=person, name="Person Consulting", kind=OrgKind.INDIVIDUAL)

    response = key_client(person, own).patch(URL, {"headline": "By API"})

    assert response.status_code == 200
    assert response.json()["headline"] == "By API"


def test_anonymous_callers_are_refused(db, api_client):
    assert api_client.get(URL).status_code == 401
