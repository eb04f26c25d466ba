"""pytest: SQLite by default, PostgreSQL when DATABASE_URL is set (CI)."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = "test-key-not-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
# A fast hasher: PBKDF2 costs ~0.2 s per hash and dominates a suite that logs people in.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
API_KEY_CACHE_SECONDS = 0  # every request looks its key up (tests/api/test_key_cache.py turns it on)
# Tasks run in-process in tests; the one test that drives a real worker switches this off.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="memory://")
ALLOWED_HOSTS = ["*"]
# django-zeal (a dev dependency): every request of every test runs in its own zeal context and an N+1
# raises NPlusOneError (tests/zeal_support.py explains why per request rather than per test).
INSTALLED_APPS = [*INSTALLED_APPS, "zeal"]
MIDDLEWARE = ["tests.zeal_support.per_request_middleware", *MIDDLEWARE]
ZEAL_RAISE = True
# Two runs of one `.get()` in a request are a read and a re-read after a write (e.g. contract_response);
# a loop over a list shows as three or more. The page-size-1-vs-50 query-count tests back this up.
ZEAL_NPLUSONE_THRESHOLD = 3
ZEAL_SHOW_ALL_CALLERS = True

# Tests deliver webhooks to a receiver on 127.0.0.1; the SSRF tests switch these back.
WEBHOOK_ALLOW_PRIVATE_URLS = True
WEBHOOK_REQUIRE_HTTPS = False
# Stripe: never the real API from tests. The `stripe_emulator` fixture (tests/payments/conftest.py) points
# STRIPE_API_BASE at an in-process emulator; without it a call fails at once (nothing listens on port 9).
STRIPE_SECRET_KEY = ""
STRIPE_API_BASE = "http://127.0.0.1:9"
STRIPE_WEBHOOK_SECRET = "whsec_test_platform"
STRIPE_CONNECT_WEBHOOK_SECRET = "whsec_test_connect"
STRIPE_TIMEOUT_SECONDS = 5.0
# Retries are tested explicitly; by default one failed call is one error, which keeps fault tests deterministic.
STRIPE_MAX_NETWORK_RETRIES = 0
