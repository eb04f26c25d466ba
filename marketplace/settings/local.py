"""Development: `make run`. SQLite and in-process tasks unless DATABASE_URL / CELERY_BROKER_URL."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="local-development-key-not-for-production-use-0123456789")
