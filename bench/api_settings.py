"""Settings for the API benchmark (bench/api.py) only: local settings on PostgreSQL with persistent
connections, no throttle, and one extra URL: the plain Django JsonResponse baseline (bench/api_urls.py)."""

from marketplace.settings.local import *  # noqa: F403
from marketplace.settings.local import DATABASES, REST_FRAMEWORK

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
DATABASES["default"]["CONN_MAX_AGE"] = 600
ROOT_URLCONF = "bench.api_urls"
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
