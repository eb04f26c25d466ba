"""Settings shared by every environment. Everything that differs comes from the environment.

Environment variables (all optional here; production.py makes some mandatory):
  DATABASE_URL          e.g. postgres://user@host:5432/name; default SQLite under var/
  CELERY_BROKER_URL     redis://... or amqp://...; unset = tasks run in-process
  DJANGO_SECRET_KEY     secret key (mandatory in production)
  DJANGO_ALLOWED_HOSTS  comma-separated host names
  DJANGO_DEBUG          true/false
  DEFAULT_FROM_EMAIL    sender of account e-mails
  EMAIL_URL             smtp://user:pass@host:587 (console backend when unset)
  ACCOUNT_EMAIL_VERIFICATION  mandatory | optional | none (default mandatory)
  API_KEY_THROTTLE_RATE       requests per key, e.g. 1000/hour
  API_KEY_CACHE_SECONDS       how long a process reuses a verified API key (default 5; 0 = every request queries)
  INVITATION_TTL_HOURS        lifetime of an invitation link (default 168 = 7 days)
  PLATFORM_FEE_BPS            platform fee in basis points (used by payments)
  STRIPE_SECRET_KEY           sk_test_/sk_live_ key; empty = the local Stripe emulator (make run starts it)
  STRIPE_API_BASE             Stripe's API address (default https://api.stripe.com, or the emulator when no key)
  STRIPE_WEBHOOK_SECRET       whsec_ of the platform webhook endpoint
  STRIPE_CONNECT_WEBHOOK_SECRET  whsec_ of the Connect webhook endpoint
  STRIPE_TIMEOUT_SECONDS      per-request timeout of Stripe calls (default 30)
  STRIPE_MAX_NETWORK_RETRIES  automatic retries of a failed Stripe call, same idempotency key (default 2)
"""

from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_countries",
    "apps.core",
    "apps.accounts",
    "apps.notifications",
    "apps.experts",
    "apps.projects",
    "apps.assessments",
    "apps.bidding",
    "apps.contracts",
    "apps.work",
    "apps.quality",
    "apps.ledger",
    "apps.payments",
    "apps.integrations",
    "apps.api",
    "apps.dashboard",
    "apps.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "marketplace.urls"
WSGI_APPLICATION = "marketplace.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.accounts.context_processors.navigation",
                "apps.notifications.context_processors.unread_notifications",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Persistent connections: closing them per request costs 3-7x throughput
    # (shared/research/reliability_perf.md section 6).
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Prepared statements are allowed on the connection (Django's default, None, disables them), and
    # used only by the API's list row queries, which ask for them (apps/api/rows.py, KeyedQuery): Django's
    # own cursors bind on the client side and never prepare.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SIGNUP_FORM_CLASS = "apps.accounts.forms.SignupForm"
ACCOUNT_ADAPTER = "apps.accounts.adapters.AccountAdapter"
# allauth's own defaults, written out so that they are visible and reviewed: failed logins are
# limited per IP and per account, and a lockout expires by itself (no malicious lockout).
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/300s/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/180s/key",
    "change_password": "5/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Expert Data Marketplace"

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
FIXTURE_DIRS = [BASE_DIR / "fixtures"]

# --- Content security: every asset is served by the site itself ------------------------------
from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
}

# --- E-mail -------------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Expert Data Marketplace <noreply@localhost>")
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# --- Cache (allauth's rate limits need a real cache) ------------------------------------------
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# --- Celery -------------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
# No broker configured: run tasks in-process so the embedded default needs no extra service.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="")
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "accounts.expire_invitations": {"task": "accounts.expire_invitations", "schedule": 3600.0},
    "api.purge_idempotency_records": {"task": "api.purge_idempotency_records", "schedule": 3600.0},
    # Bidding closes at each project's deadline; a minute's delay at most.
    "bidding.close_due_projects": {"task": "bidding.close_due_projects", "schedule": 60.0},
    # Batches unreviewed past the contract's review window are accepted; five minutes late at most.
    "work.auto_accept_due_batches": {"task": "work.auto_accept_due_batches", "schedule": 300.0},
    "contracts.apply_due_amendments": {"task": "contracts.apply_due_amendments", "schedule": 3600.0},
    "contracts.recheck_assignments": {"task": "contracts.recheck_assignments", "schedule": 900.0},
    # Attempts past their time limit plus grace are submitted with what was saved.
    "assessments.close_overdue_attempts": {"task": "assessments.close_overdue_attempts", "schedule": 60.0},
    # Daily: expire credentials past their expiry date and send 30-day reminders.
    # Webhook deliveries due for a (re)try; retries are at least a minute apart anyway.
    "integrations.send_due_deliveries": {"task": "integrations.send_due_deliveries", "schedule": 60.0},
    "experts.daily_credential_maintenance": {
        "task": "experts.daily_credential_maintenance",
        "schedule": crontab(hour=3, minute=15),
    },
    # Nightly full quality recompute of every active contract (incremental scoring runs per batch).
    "quality.recompute_all": {"task": "quality.recompute_all", "schedule": crontab(hour=2, minute=30)},
    # Stripe: back-fill webhook events that never arrived and process any left over; reconcile daily.
    "payments.sweep_stripe_events": {"task": "payments.sweep_stripe_events", "schedule": 900.0},
    "payments.daily_reconciliation": {"task": "payments.daily_reconciliation", "schedule": crontab(hour=4, minute=0)},
}

# --- REST API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "apps.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["apps.api.throttling.CallerRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "caller": env.str("API_KEY_THROTTLE_RATE", default="1000/hour"),
    },
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.URLPathVersioning",
    "DEFAULT_VERSION": "v1",
    "ALLOWED_VERSIONS": ["v1"],
    "EXCEPTION_HANDLER": "apps.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["apps.api.renderers.ApiJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}
# A verified API key is reused by its process for this long (apps/api/authentication.py): no query per request.
API_KEY_CACHE_SECONDS = env.int("API_KEY_CACHE_SECONDS", default=5)
SPECTACULAR_SETTINGS = {
    "TITLE": "Expert Data Marketplace API",
    "DESCRIPTION": (
        "Programmatic project management for labs, vendors and experts. "
        "Authenticate with `Authorization: Bearer <api key>`. Errors share one envelope: "
        '`{"error": {"code": "...", "message": "...", "details": {...}}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.api.schema.link_created_resources",
    ],
}

# --- Product settings -----------------------------------------------------------------------------
INVITATION_TTL_HOURS = env.int("INVITATION_TTL_HOURS", default=168)
IDEMPOTENCY_KEY_TTL_HOURS = env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=24)
PLATFORM_FEE_BPS = env.int("PLATFORM_FEE_BPS", default=1000)
# A payout run whose total (minor units) exceeds this needs two different finance approvers.
PAYOUT_FOUR_EYES_LIMIT_MINOR = env.int("PAYOUT_FOUR_EYES_LIMIT_MINOR", default=1_000_000)

# --- Stripe (apps/payments/gateway.py is the only code that talks to it) ----------------------------
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
# No key: the project's local Stripe emulator (docs/stripe-emulator.md), started by `make run` on this port.
STRIPE_EMULATOR_PORT = env.int("STRIPE_EMULATOR_PORT", default=12111)
STRIPE_API_BASE = env.str(
    "STRIPE_API_BASE",
    default="https://api.stripe.com" if STRIPE_SECRET_KEY else f"http://127.0.0.1:{STRIPE_EMULATOR_PORT}",
)
# Webhook signing secrets. Without a real key the emulator signs with these well-known local secrets;
# with a real key they must come from the environment (empty = every webhook is refused).
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="" if STRIPE_SECRET_KEY else "whsec_local_platform")
STRIPE_CONNECT_WEBHOOK_SECRET = env.str(
    "STRIPE_CONNECT_WEBHOOK_SECRET", default="" if STRIPE_SECRET_KEY else "whsec_local_connect"
)
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=30.0)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)

CREDENTIAL_EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
CREDENTIAL_EXPIRY_REMINDER_DAYS = 30
CREDENTIAL_REVERIFY_DAYS = env.int("CREDENTIAL_REVERIFY_DAYS", default=365)
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # stripe-python logs every request at INFO; the gateway's errors say what matters.
    "loggers": {"stripe": {"level": env.str("STRIPE_LOG_LEVEL", default="WARNING")}},
}
# Absolute base of links in e-mails sent outside a request (invitations, reminders).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# Seconds after an attempt's time limit during which answers are still accepted (network latency).
ASSESSMENT_GRACE_SECONDS = 30

# Outbound webhooks (apps/integrations, docs/webhooks.md).
# Loopback/private receivers: allowed only in development and tests (SSRF guard, apps/integrations/ssrf.py).
WEBHOOK_ALLOW_PRIVATE_URLS = env.bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=False)
WEBHOOK_REQUIRE_HTTPS = env.bool("WEBHOOK_REQUIRE_HTTPS", default=True)
# Hours the previous secret keeps signing after a rotation.
WEBHOOK_SECRET_GRACE_HOURS = env.int("WEBHOOK_SECRET_GRACE_HOURS", default=24)
# Seconds to connect and to read a receiver's answer (no redirects are followed).
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)
# Fernet keys (comma-separated, newest first) encrypting endpoint secrets at rest; default: derived from SECRET_KEY.
WEBHOOK_SECRET_KEYS = env.list("WEBHOOK_SECRET_KEYS", default=[])
