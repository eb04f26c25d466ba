"""profile_update: every field validated first, a bad one named, nothing saved unless all are good."""

import pytest

from apps.core.errors import ValidationFailed
from apps.experts.models import ExpertProfile
from apps.experts.services import profile_get_or_create, profile_update
from tests.factories import ExpertProfileFactory, UserFactory


@pytest.fixture
def profile(domains):
    profile = ExpertProfileFactory(
        headline="Radiologist",
        languages=["en"],
        country="DE",
        timezone="Europe/Berlin",
        weekly_hours=20,
        hourly_rate_minor=9000,
        rate_currency="USD",
        domains=[domains.radiology],
    )
    return profile


def snapshot(profile: ExpertProfile) -> dict:
    profile = ExpertProfile.objects.get(pk=profile.pk)
    return {
        "headline": profile.headline,
        "bio": profile.bio,
        "languages": profile.languages,
        "country": str(profile.country),
        "timezone": profile.timezone,
        "weekly_hours": profile.weekly_hours,
        "hourly_rate_minor": profile.hourly_rate_minor,
        "rate_currency": profile.rate_currency,
        "is_discoverable": profile.is_discoverable,
        "domains": sorted(profile.domains.values_list("slug", flat=True)),
    }


def test_profile_get_or_create_makes_one_empty_profile_per_user(db):
    user = UserFactory()

    first = profile_get_or_create(user=user)
    second = profile_get_or_create(user=user)

    assert first.pk == second.pk
    assert first.handle.startswith("ex-")
    assert ExpertProfile.objects.filter(user=user).count() == 1


def test_profile_update_saves_every_field_normalised(profile, domains):
    profile_update(
        actor=profile.user,
        headline="  Neuroradiologist  ",
        bio="Reads brain MRI.",
        domains=["radiology", "law", "radiology"],
        languages=["EN", " de "],
        country="fr",
        timezone="Europe/Paris",
        weekly_hours="40",
        hourly_rate="85.50",
        rate_currency="eur",
        is_discoverable=False,
    )

    assert snapshot(profile) == {
        "headline": "Neuroradiologist",
        "bio": "Reads brain MRI.",
        "languages": ["en", "de"],
        "country": "FR",
        "timezone": "Europe/Paris",
        "weekly_hours": 40,
        "hourly_rate_minor": 8550,
        "rate_currency": "EUR",
        "is_discoverable": False,
        "domains": ["law", "radiology"],
    }


def test_profile_update_creates_the_profile_on_first_use(db):
    user = UserFactory()

    profile = profile_update(actor=user, headline="Tax lawyer")

    assert ExpertProfile.objects.get(user=user).pk == profile.pk
    assert profile.headline == "Tax lawyer"


def test_profile_update_twice_with_the_same_values_leaves_the_same_profile(profile):
    profile_update(actor=profile.user, weekly_hours=10, hourly_rate="70")
    first = snapshot(profile)

    profile_update(actor=profile.user, weekly_hours=10, hourly_rate="70")

    assert snapshot(profile) == first


@pytest.mark.parametrize(
    ("rate", "currency", "minor"),
    [
        ("85.50", "USD", 8550),
        ("0.1", "USD", 10),
        ("85.005", "USD", 8501),
        ("12000", "JPY", 12000),
        ("1.2345", "EUR", 123),
        ("0", "GBP", 0),
        ("1000000", "JPY", 1_000_000),
    ],
)
def test_profile_update_converts_the_hourly_rate_to_exact_minor_units(profile, rate, currency, minor):
    profile_update(actor=profile.user, hourly_rate=rate, rate_currency=currency)

    profile.refresh_from_db()
    assert (profile.hourly_rate_minor, profile.rate_currency) == (minor, currency)
    assert isinstance(profile.hourly_rate_minor, int)


@pytest.mark.parametrize("empty", [None, ""])
def test_profile_update_clears_the_hourly_rate(profile, empty):
    profile_update(actor=profile.user, hourly_rate=empty)

    profile.refresh_from_db()
    assert profile.hourly_rate_minor is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("domains", ["radiology", "astrology"]),
        ("languages", ["en", "klingon"]),
        ("languages", ["xx"]),
        ("country", "ZZ"),
        ("country", "Germany"),
        ("timezone", "Mars/Olympus_Mons"),
        ("weekly_hours", 169),
        ("weekly_hours", -1),
        ("weekly_hours", "lots"),
        ("weekly_hours", "12.5"),
        ("hourly_rate", "-1"),
        ("hourly_rate", "eighty"),
        ("hourly_rate", "NaN"),
        ("hourly_rate", "Infinity"),
        ("hourly_rate", "1e30"),
        ("hourly_rate", "99999999999999999999"),
        ("rate_currency", "XYZ"),
        ("rate_currency", ""),
        ("headline", "x" * 161),
        ("favourite_colour", "blue"),
    ],
)
def test_profile_update_refuses_a_bad_field_naming_it_and_saves_nothing(profile, field, value):
    before = snapshot(profile)

    with pytest.raises(ValidationFailed) as exc:
        profile_update(actor=profile.user, **{field: value})

    assert list(exc.value.details) == [field]
    assert snapshot(profile) == before


def test_profile_update_with_good_and_bad_fields_saves_none_of_them(profile):
    before = snapshot(profile)

    with pytest.raises(ValidationFailed) as exc:
        profile_update(
            actor=profile.user,
            headline="New headline",
            languages=["fr"],
            domains=["law"],
            weekly_hours=200,
            hourly_rate="-5",
        )

    assert sorted(exc.value.details) == ["hourly_rate", "weekly_hours"]
    assert snapshot(profile) == before


def test_profile_update_only_touches_the_actors_own_profile(profile):
    other = ExpertProfileFactory(headline="Someone else")

    profile_update(actor=profile.user, headline="Mine")

    other.refresh_from_db()
    assert other.headline == "Someone else"
