"""/healthz: 200 when what the site depends on answers, 503 naming what does not."""

import copy

import pytest
from django.db import connections

from marketplace.celery import app as celery_app

CLOSED_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def unreachable_database():
    """A real database connection whose server cannot be reached (a stopped server, a lost disk)."""
    default = connections["default"]
    settings_dict = copy.deepcopy(default.settings_dict)
    if default.vendor == "sqlite":
        settings_dict["NAME"] = "/nonexistent-directory/for-healthz/db.sqlite3"
    else:
        settings_dict.update(HOST="127.0.0.1", PORT="1")
    broken = type(default)(settings_dict, alias="healthz_unreachable")
    yield broken
    broken.close()


def test_healthz_is_ok_with_the_database_up_and_tasks_in_process(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "not_configured"}}
    assert "no-cache" in response.headers["Cache-Control"]


def test_healthz_answers_503_naming_the_database_when_it_is_unreachable(client, db, monkeypatch, unreachable_database):
    monkeypatch.setattr("apps.core.health.connection", unreachable_database)

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "failed"
    assert body["failed"]["database"].startswith("OperationalError")
    assert "broker" not in body["failed"]


def test_healthz_answers_503_naming_the_broker_when_it_is_unreachable(client, db, settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = CLOSED_BROKER
    # Celery reads its broker from the environment first, then from its own copy of the settings.
    monkeypatch.setenv("CELERY_BROKER_URL", CLOSED_BROKER)
    monkeypatch.setitem(celery_app.conf, "broker_url", CLOSED_BROKER)

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["checks"] == {"database": "ok", "broker": "failed"}
    assert list(body["failed"]) == ["broker"]
    assert body["failed"]["broker"]


def test_healthz_only_answers_get(client, db):
    assert client.post("/healthz").status_code == 405
