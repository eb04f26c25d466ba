"""API test helpers: clients authenticated by API key, a fresh throttle cache per test, the OpenAPI schema."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from apps.accounts import services


@pytest.fixture(autouse=True)
def _fresh_throttle_cache():
    # Throttle counters live in the cache; one test's requests must not spend another's budget.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_api_key():
    """Create an API key through the service; returns (key, raw secret)."""

    def make(user, organization, name="ci", **kwargs):
        return services.api_key_create(actor=user, organization=organization, name=name, **kwargs)

    return make


@pytest.fixture
def key_client(make_api_key):
    """An APIClient sending ``Authorization: Bearer <key>`` for a new key of ``user`` in ``organization``."""

    def make(user, organization, **kwargs):
        _key, raw = make_api_key(user, organization, **kwargs)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    return make


@pytest.fixture(scope="session")
def openapi_schema():
    """The public OpenAPI schema, generated once for the tests that read it (they must not change it)."""
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)
