"""Acompte settings, read from the environment (see README, "Configuration").

Every variable is optional except `DJANGO_SECRET_KEY` outside debug; a missing one falls
back to the embedded default: SQLite, eager tasks, local-memory cache, console e-mail and
SMS, and the test-mode payment gateway.
"""

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 1 or 0, not {value!r}.")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is 0.")
    SECRET_KEY = "dev-only-insecure-key-acompte-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")

SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
_site = urlsplit(SITE_URL)
CSRF_TRUSTED_ORIGINS = [f"{_site.scheme}://{_site.netloc}"]

INSTALLED_APPS = [
    "tenants.admin_apps.AcompteAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "phonenumber_field",
    "django_celery_beat",
    "core",
    "tenants",
    "customers",
    "bookings",
    "deposits",
    "messaging",
    "support",
    "web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "web.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "web.middleware.TenantScopeMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

# Database -----------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, which also sets the tenant of the current scope for row-level
    # security, per transaction (tenants/db/postgresql/base.py, tenants/rls.py).
    DATABASES["default"]["ENGINE"] = "tenants.db.postgresql"
    # Act as a role that owns no table, so that row-level security binds every statement
    # (tenants/rls.py, README "Row-level security"). The product's connections log in as
    # DATABASE_APP_LOGIN, a login that is only a member of that role and whose sessions
    # start as it (the server applies it to every session, so a pooler such as PgBouncer
    # cannot hand a statement a connection acting as anyone else). `migrate`, run as the
    # DATABASE_URL login (the tables' owner), like `flush`, creates both and grants the
    # role the rights to rows. Empty DATABASE_APP_ROLE: act as the DATABASE_URL login.
    if _app_role := os.environ.get("DATABASE_APP_ROLE", "acompte_app"):
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            assume_role=_app_role,
            app_login=os.environ.get("DATABASE_APP_LOGIN") or f"{_app_role}_login",
            app_password=os.environ.get("DATABASE_APP_PASSWORD", ""),
        )
    # psycopg 3's pool: connections are reused across requests without CONN_MAX_AGE.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Server-side parameters let psycopg prepare the statements a process repeats (the
    # availability and booking queries): PostgreSQL then plans them once per connection.
    if env_bool("DATABASE_PREPARED_STATEMENTS", True):
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=5
        )
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(os.environ.get("DATABASE_POOL_MIN_SIZE", "1")),
        "max_size": int(os.environ.get("DATABASE_POOL_MAX_SIZE", "20")),
        "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT", "10")),
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers take the lock when their transaction begins, so a check-then-insert inside
    # one transaction is serialised (the embedded default's guard against double booking).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache and Celery ---------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL") or None

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "acompte",
            # A call that takes longer gives up, and the breaker (core/cache.py) then
            # skips the cache for a while: a hanging Redis costs one timeout, not one per
            # call. Not shorter: a busy server's Redis calls may take some 100 ms.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# After a cache call fails (Redis down or hanging), the cache is not called for this long.
CACHE_BREAKER_SECONDS = float(os.environ.get("CACHE_BREAKER_SECONDS", "5"))

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = REDIS_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", "60"))
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", "90"))
# Tasks are idempotent, so a task lost with its worker is delivered again.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
}
# A request never waits long on a broker that is down: what it sends is also recorded in
# the database (booking events, the message outbox), and beat's sweeps catch up.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.1,
    "interval_max": 0.1,
}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "bookings-holds": {
        "task": "bookings.holds_sweep",
        "schedule": 60.0,
    },
    "deposits-payments": {
        "task": "deposits.payments_sweep",
        "schedule": 60.0,
    },
    "deposits-credit": {
        "task": "deposits.credit_sweep",
        "schedule": crontab(hour=3, minute=0),
    },
    "deposits-figures": {
        "task": "deposits.figures_sweep",
        "schedule": crontab(hour=4, minute=0),
    },
    "support-fees": {
        "task": "support.fees_sweep",
        "schedule": 60.0,
    },
    "messaging-messages": {
        "task": "messaging.messages_sweep",
        "schedule": 60.0,
    },
    "support-waitlist": {
        "task": "support.waitlist_sweep",
        "schedule": 60.0,
    },
    "messaging-nudges": {
        "task": "messaging.nudges_sweep",
        "schedule": crontab(minute=20),
    },
    "customers-retention": {
        "task": "customers.retention_sweep",
        "schedule": crontab(hour=3, minute=30),
    },
}

# Auth, i18n, static ---------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("fr", "Français"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where `collectstatic` gathers the files the web server (WhiteNoise) serves.
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# What salons upload (logos, covers, staff photos), through the default storage: files
# under MEDIA_ROOT here, served at MEDIA_URL by `make run` (DEBUG); in production by the
# web server or a bucket (README, "Pictures").
MEDIA_URL = os.environ.get("MEDIA_URL", "/media/")
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

PHONENUMBER_DEFAULT_FORMAT = "E164"
PHONENUMBER_DB_FORMAT = "E164"

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
# EMAIL_URL, when set, wins: smtp://user:password@host:587?tls=1, smtps://… or console://
if _email_url := os.environ.get("EMAIL_URL"):
    _email = urlsplit(_email_url)
    if _email.scheme == "console":
        EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    elif _email.scheme in {"smtp", "smtps"}:
        EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        EMAIL_HOST = _email.hostname or "localhost"
        EMAIL_PORT = _email.port or (465 if _email.scheme == "smtps" else 25)
        EMAIL_HOST_USER = unquote(_email.username or "")
        EMAIL_HOST_PASSWORD = unquote(_email.password or "")
        EMAIL_USE_SSL = _email.scheme == "smtps"
        EMAIL_USE_TLS = not EMAIL_USE_SSL and "tls=1" in _email.query
    else:
        raise ImproperlyConfigured(f"EMAIL_URL: unknown scheme {_email.scheme!r}.")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Acompte <noreply@localhost>")

# Security (production) -------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    # Load balancers and container health checks probe over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Abuse limits (core/ratelimit.py): attempts per window, counted in the cache ------------
RATE_LIMITS = os.environ.get("RATE_LIMITS", "on").lower() != "off"
# Bookings (the API and the booking page), per client address and per phone or e-mail.
RATE_LIMIT_BOOKING = os.environ.get("RATE_LIMIT_BOOKING", "10/minute")
# Sign-in (the API token, the desk's and the admin's login), per address and per username.
RATE_LIMIT_AUTH = os.environ.get("RATE_LIMIT_AUTH", "10/minute")
# One-time codes proving who a client is: asked for, and tried, per address and contact.
RATE_LIMIT_CODE = os.environ.get("RATE_LIMIT_CODE", "5/10m")
# Behind a reverse proxy, the header it puts the client's address in (`X-Forwarded-For`,
# `X-Real-IP`); unset, the connection's address counts. Set it only when every request
# comes through that proxy, or clients could name any address.
TRUSTED_PROXY_HEADER = os.environ.get("TRUSTED_PROXY_HEADER", "")
# The cache unreachable or failing: let the attempt through (core/ratelimit.py logs it).
RATELIMIT_FAIL_OPEN = True

# API -------------------------------------------------------------------------------------

REST_FRAMEWORK = {
    # Token first, so that a request without credentials is told 401 (with the
    # WWW-Authenticate header DRF takes from the first class), not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["web.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "web.errors.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "web.errors.exception_handler",
    "DEFAULT_METADATA_CLASS": "web.metadata.Metadata",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Acompte API",
    "DESCRIPTION": "Booking with deposit checkout for salons. See API.md for the contract.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "ConsentChannelEnum": "customers.models.ConsentChannel",
        "ContactChannelEnum": "customers.models.Channel",
        # Bookings keep the name they had before another "status" came.
        "StatusEnum": "bookings.models.Status",
        "RequestChannelEnum": "support.models.RequestChannel",
        "RequestCategoryEnum": "support.models.RequestCategory",
        "RequestStatusEnum": "support.models.RequestStatus",
        "FeeKindEnum": "deposits.models.FeeKind",
    },
}

# Payments and platform ---------------------------------------------------------------
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "https://api.stripe.com")
STRIPE_JS_URL = os.environ.get("STRIPE_JS_URL", "https://js.stripe.com/v3/")
STRIPE_TIMEOUT_SECONDS = float(os.environ.get("STRIPE_TIMEOUT_SECONDS", "10"))
# Without Stripe keys, a labelled test-mode gateway takes the payments (no money moves):
# always in debug, otherwise only when asked for.
PAYMENTS_TEST_MODE = env_bool("PAYMENTS_TEST_MODE", False)
PLATFORM_FEE_PERCENT = os.environ.get("PLATFORM_FEE_PERCENT", "0")
# The legal interest rate (percent a year) owed to consumers on sums paid in advance and
# held more than three months (Code de la consommation L214-2): the "taux de l'intérêt
# légal" for private persons, set each half-year by order of the Ministry of the Economy
# (6.65 for the second half of 2025). Update it when the new rate is published.
LEGAL_INTEREST_RATE = os.environ.get("LEGAL_INTEREST_RATE", "6.65")
SMS_BACKEND = os.environ.get("SMS_BACKEND", "console")  # console, locmem, twilio, dotted path
# The console backend prints the text and the whole number only when this is on (its
# output is a worker's log otherwise): by default under `make run` (debug).
SMS_CONSOLE_SHOW_TEXT = env_bool("SMS_CONSOLE_SHOW_TEXT", DEBUG)
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM = os.environ.get("TWILIO_FROM", "")
TWILIO_API_BASE = os.environ.get("TWILIO_API_BASE", "https://api.twilio.com")

# GDPR: a customer with no activity for this many years is anonymised (beat, daily).
CUSTOMER_RETENTION_YEARS = int(os.environ.get("CUSTOMER_RETENTION_YEARS", "3"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Link credentials and query strings (search terms) never reach a log line.
    "filters": {"personal_data": {"()": "core.logmask.PersonalDataFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["personal_data"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "stripe": {"level": "WARNING"},
        # runserver's request lines, through the masking handler too
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
