"""Each API key has its own request budget; going over answers 429 ``throttled``."""

import pytest
from rest_framework.test import APIClient

from apps.api.throttling import CallerRateThrottle

LIMIT = 3


@pytest.fixture
def small_rate(monkeypatch):
    # DRF copies DEFAULT_THROTTLE_RATES onto the class at import; override the copy it reads.
    monkeypatch.setattr(CallerRateThrottle, "THROTTLE_RATES", {"caller": f"{LIMIT}/minute"})


def bearer(raw):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_a_key_over_its_limit_gets_429_and_another_key_does_not(small_rate, lab, lab_admin, make_api_key):
    _k1, raw1 = make_api_key(lab_admin, lab, name="first")
    _k2, raw2 = make_api_key(lab_admin, lab, name="second")
    first, second = bearer(raw1), bearer(raw2)

    statuses = [first.get("/api/v1/me/").status_code for _ in range(LIMIT)]
    over = first.get("/api/v1/me/")

    assert statuses == [200] * LIMIT
    assert over.status_code == 429
    body = over.json()["error"]
    assert body["code"] == "throttled"
    assert body["details"]["retry_after_seconds"] > 0
    assert int(over["Retry-After"]) > 0
    assert second.get("/api/v1/me/").status_code == 200


def test_a_session_user_has_a_budget_separate_from_their_keys(small_rate, lab, lab_admin, make_api_key, api_as):
    _key, raw = make_api_key(lab_admin, lab)
    for _ in range(LIMIT):
        bearer(raw).get("/api/v1/me/")

    assert bearer(raw).get("/api/v1/me/").status_code == 429
    assert api_as(lab_admin).get("/api/v1/me/").status_code == 200
