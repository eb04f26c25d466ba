import re

import pytest
from django.core.cache import cache

from apps.accounts import services
from apps.accounts.roles import OrgKind
from tests.factories import UserFactory

RAW_API_KEY = re.compile(r"hdk_[0-9a-f]{8}_[A-Za-z0-9_-]{20,}")


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """allauth's rate limits live in the cache; each test starts with none used."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def as_user(client):
    """The test client, logged in as the given user."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def independent_expert(db):
    user = UserFactory(email="solo@expert.test", full_name="Dr Ada Solo")
    services.organization_create(actor=user, name="Dr Ada Solo", kind=OrgKind.INDIVIDUAL)
    return user


@pytest.fixture
def newcomer(db):
    """Signed up, e-mail verified, in no organisation."""
    return UserFactory(email="newcomer@example.test", full_name="Nina Newcomer")


def text(response) -> str:
    return response.content.decode()
