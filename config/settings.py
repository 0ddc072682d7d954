"""Bookend settings: one file, read from the environment.

Every value comes from an environment variable with a safe default for the
embedded `make run` setup (SQLite, a filesystem broker, console email). A value
that cannot be parsed stops start-up with ImproperlyConfigured, never a silent
fallback. The README lists every variable.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
# Local state of the embedded setup (SQLite file, filesystem broker, beat schedule).
VAR_DIR = Path(os.environ.get("BOOKEND_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    """Strict boolean: "yes" and "no" mean something, "nope" is an error."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use 1/0, true/false, yes/no.")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at least {minimum}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-bookend-development-only-key-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Absolute base URL for links in emails and calendar feeds, where no request exists.
# Never derived from PORT: process managers (honcho, platforms) give each process
# its own PORT, and a worker's is not where anyone browses. `make run` sets SITE_URL
# for web, worker and beat alike.
SITE_URL = os.environ.get("SITE_URL", "http://localhost:8000").rstrip("/")
if not SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"SITE_URL={SITE_URL!r} must start with http:// or https://.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    # In INSTALLED_APPS so its docs page renders from its own static files, not a CDN.
    "ninja",
    "axes",
    "accounts",
    "meetings",
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
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.UserTimezoneMiddleware",
    # Last, as django-axes asks, so it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "accounts.teams.team_context",
            ],
        },
    }
]

# Databases: https://django-environ.readthedocs.io/en/latest/types.html#environ-env-db-url
# The default is a SQLite file so `make run` needs no server. WAL and IMMEDIATE
# transactions let the web process, the worker and beat share it without
# "database is locked" errors.
_SQLITE_DEFAULT = f"sqlite:///{VAR_DIR / 'bookend.sqlite3'}"
try:
    DATABASES = {"default": env.db_url("DATABASE_URL", default=_SQLITE_DEFAULT)}
except (ImproperlyConfigured, KeyError, ValueError) as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
if not DATABASES["default"].get("ENGINE"):
    raise ImproperlyConfigured("DATABASE_URL must be a postgres:// or sqlite:/// URL.")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
elif DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql"):
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # No JIT: it compiles for tens of milliseconds whenever the planner's cost
    # estimate passes jit_above_cost, which report queries over a few thousand
    # rows do, and then saves less than that (74 ms of a 158 ms report query).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
    _test_name = os.environ.get("TEST_DATABASE_NAME")
    if _test_name:
        DATABASES["default"]["TEST"] = {"NAME": _test_name}
else:
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL or SQLite.")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    # django-axes first so a locked-out login never reaches the password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "meetings:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Login throttling: https://django-axes.readthedocs.io/en/latest/4_configuration.html
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Count failures per address in any letter case, as login matches it.
AXES_USERNAME_CALLABLE = "accounts.throttle.login_key"
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_ENABLED = env_bool("AXES_ENABLED", True)
# Password-reset emails per hour, per address and per client IP: a reset form
# must not become a way to flood somebody's mailbox (accounts/throttle.py).
PASSWORD_RESETS_PER_ADDRESS = env_int("PASSWORD_RESETS_PER_ADDRESS", 3, minimum=1)
PASSWORD_RESETS_PER_CLIENT = env_int("PASSWORD_RESETS_PER_CLIENT", 20, minimum=1)
# Failed log-ins per address per hour from any number of client IPs (the lock-out
# above is per address and IP); past it only the emailed reset link or the hour's
# end lets anyone in. Counted for unknown addresses alike, so it reveals nothing.
LOGIN_FAILURES_PER_ACCOUNT = env_int("LOGIN_FAILURES_PER_ACCOUNT", 20, minimum=1)
# API requests per minute, per personal access token (and per signed-in browser
# user); past it the API answers 429 with Retry-After (meetings/api/auth.py).
API_REQUESTS_PER_MINUTE = env_int("API_REQUESTS_PER_MINUTE", 120, minimum=1)
# django-ninja: a page holds at most this many rows (`?limit=`), as the default page.
NINJA_PAGINATION_MAX_LIMIT = 100

# The cache holds the password-reset counters; shared (Redis) when several web
# processes run, so that the limits hold across them.
try:
    CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
except (ImproperlyConfigured, KeyError, ValueError) as exc:
    raise ImproperlyConfigured(f"CACHE_URL is not a valid cache URL: {exc}") from None

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns when it is missing
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
WHITENOISE_USE_FINDERS = DEBUG

# Email (Django 6.1 mailers): https://docs.djangoproject.com/en/6.1/topics/email/
# EMAIL_URL: devmail:// (the default, for `make run`) prints a short summary of each
# message and keeps it whole in var/mail/; consolemail:// prints raw MIME;
# smtp://host:port for a real server, smtp+tls://user:password@host:587 with STARTTLS.
_email_timeout = env_int("EMAIL_TIMEOUT", 10, minimum=1)
if os.environ.get("EMAIL_URL", "devmail://") == "devmail://":
    _email = {"EMAIL_BACKEND": "config.devmail.EmailBackend"}
    _mailer: dict = {
        "BACKEND": _email["EMAIL_BACKEND"],
        "OPTIONS": {"directory": VAR_DIR / "mail"},
    }
else:
    try:
        _email = env.email_url("EMAIL_URL")
    except (ImproperlyConfigured, KeyError, ValueError) as exc:
        raise ImproperlyConfigured(f"EMAIL_URL is not a valid email URL: {exc}") from None
    _mailer = {"BACKEND": _email["EMAIL_BACKEND"]}
if _email["EMAIL_BACKEND"].endswith("smtp.EmailBackend"):
    _mailer["OPTIONS"] = {
        "host": _email.get("EMAIL_HOST") or "localhost",
        "port": _email.get("EMAIL_PORT") or 25,
        "username": _email.get("EMAIL_HOST_USER") or "",
        "password": _email.get("EMAIL_HOST_PASSWORD") or "",
        "use_tls": bool(_email.get("EMAIL_USE_TLS")),
        "use_ssl": bool(_email.get("EMAIL_USE_SSL")),
        "timeout": _email_timeout,
    }
MAILERS = {"default": _mailer}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Bookend <bookend@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Security. Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER via SECURE_PROXY=1.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if env_bool("SECURE_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Content security policy (Django's built-in CSP middleware). No inline script or
# style and no third-party origins: htmx and our CSS come from our own static files.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}

# Signed links in emails (recap acknowledgement, invitations) expire after this.
EMAIL_LINK_MAX_AGE = timedelta(days=env_int("EMAIL_LINK_MAX_AGE_DAYS", 14, minimum=1))
INVITATION_MAX_AGE = timedelta(days=env_int("INVITATION_MAX_AGE_DAYS", 7, minimum=1))

# Celery: https://docs.celeryq.dev/en/stable/userguide/configuration.html
# The default broker is kombu's filesystem transport, so `make run` needs no Redis.
_broker_default = "filesystem://"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", _broker_default)
if not CELERY_BROKER_URL.startswith(("redis://", "rediss://", "filesystem://", "memory://")):
    raise ImproperlyConfigured(
        f"CELERY_BROKER_URL={CELERY_BROKER_URL!r}: use redis://, rediss:// or filesystem://."
    )
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# A broker that is down fails a publish at once instead of retrying inside a web
# request: what must happen is in the database (the outbox), and the re-drive
# queues it again once the broker is back.
CELERY_TASK_PUBLISH_RETRY = False
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Exchange tables (broadcasts such as `celery inspect`); kombu's default is ./control.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # The worker notices Ctrl-C only between polls (kombu's default is 1 s, on
        # top of Celery's 2 s drain); a directory listing ten times a second is cheap.
        "polling_interval": 0.1,
    }
else:
    # Redis redelivers an unacknowledged message after this long; keep it well above
    # the longest task (CELERY_TASK_TIME_LIMIT) so acks_late tasks never run twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}

# The reminder sweep and the outbox re-drive run on beat; due times live in the
# database, so a missed beat is caught up by the next one.
REMINDER_SWEEP_SECONDS = env_int("REMINDER_SWEEP_SECONDS", 60, minimum=1)
OUTBOX_REDRIVE_SECONDS = env_int("OUTBOX_REDRIVE_SECONDS", 300, minimum=10)
SERIES_HORIZON_DAYS = env_int("SERIES_HORIZON_DAYS", 60, minimum=1)
# The outbox: a queued delivery task holds its row for this long before the
# re-drive queues it again; temporary SMTP failures retry with exponential
# backoff from the base to the cap (seconds), with jitter.
OUTBOX_LEASE_SECONDS = env_int("OUTBOX_LEASE_SECONDS", 600, minimum=60)
OUTBOX_RETRY_BASE_SECONDS = env_int("OUTBOX_RETRY_BASE_SECONDS", 30, minimum=1)
OUTBOX_RETRY_MAX_SECONDS = env_int("OUTBOX_RETRY_MAX_SECONDS", 300, minimum=1)
# A message the mail server refuses for now, or cannot take because it is down,
# is retried for this long after it was queued; then it expires and the team's
# admins are told. Staff can send failed and expired messages again.
OUTBOX_MAX_AGE = timedelta(days=env_int("OUTBOX_MAX_AGE_DAYS", 3, minimum=1))
# Integrations (webhooks and chat channels). Production posts only to https URLs
# on public addresses; this allows http and loopback too, for tests and `make run`
# (a local receiver standing in for the real one). Private ranges stay refused.
INTEGRATIONS_ALLOW_LOOPBACK = env_bool("INTEGRATIONS_ALLOW_LOOPBACK", DEBUG)
# One attempt's connect and read timeouts (seconds); a timeout is retried.
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)
# An endpoint is disabled, and its team's admins told, once it has failed this many
# attempts in a row over at least this many hours (a long run, not a blip).
WEBHOOK_DISABLE_AFTER_FAILURES = env_int("WEBHOOK_DISABLE_AFTER_FAILURES", 15, minimum=1)
WEBHOOK_DISABLE_AFTER_HOURS = env_int("WEBHOOK_DISABLE_AFTER_HOURS", 24, minimum=0)
DAILY_DIGEST_CHECK_SECONDS = env_int("DAILY_DIGEST_CHECK_SECONDS", 900, minimum=60)
# Each entry expires a little before its next run, so a backlog after an outage
# collapses into one run instead of a burst of stale ones.
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "sweep-reminders": {
        "task": "meetings.sweep_reminders",
        "schedule": timedelta(seconds=REMINDER_SWEEP_SECONDS),
        "options": {"expires": max(REMINDER_SWEEP_SECONDS - 1, 1)},
    },
    "redrive-outbox": {
        "task": "meetings.redrive_outbox",
        "schedule": timedelta(seconds=OUTBOX_REDRIVE_SECONDS),
        "options": {"expires": max(OUTBOX_REDRIVE_SECONDS - 5, 5)},
    },
    "queue-daily-digests": {
        "task": "meetings.queue_daily_digests",
        "schedule": timedelta(seconds=DAILY_DIGEST_CHECK_SECONDS),
        "options": {"expires": max(DAILY_DIGEST_CHECK_SECONDS - 30, 30)},
    },
    # Recurring meetings: top up generated meetings to SERIES_HORIZON_DAYS (each
    # series about once a day) and carry open items into the next agenda soon
    # after a recap is published. Idempotent, so a missed or doubled run is harmless.
    "generate-series-occurrences": {
        "task": "meetings.generate_series_occurrences",
        "schedule": timedelta(minutes=10),
        "options": {"expires": 540},
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
