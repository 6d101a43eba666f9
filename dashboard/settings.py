"""Runboard settings: one module, configured only by environment variables.

Nothing set gives a zero-setup demo (SQLite under var/, a filesystem Celery broker).
DATABASE_URL switches to PostgreSQL, REDIS_URL to a Redis broker and cache.
"""

import logging
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from dashboard import log_formats

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

# Where the zero-setup defaults keep their state: SQLite file, broker folder, cache.
VAR_DIR = Path(env.str("RUNBOARD_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def secret(name: str) -> str:
    """A secret from NAME, or from the file named by NAME_FILE (Docker/Kubernetes secrets)."""
    if path := env.str(f"{name}_FILE", default=""):
        return Path(path).read_text().strip()
    return env.str(name, default="")


DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = secret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required unless DEBUG is set.")
    SECRET_KEY = "runboard-insecure-development-key"  # noqa: S105 - DEBUG only
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Key for credentials at rest; a separate secret so a leaked SECRET_KEY does not expose vendors.
CREDENTIALS_KEY = secret("CREDENTIALS_KEY") or SECRET_KEY
# The samples of .env.example and the development key are public: a deployment that kept one
# signs sessions and encrypts credentials with a key anyone can read.
SAMPLE_KEYS = {
    "runboard-insecure-development-key",
    "change-me-to-50-random-characters-change-me-to-50-random-chars",
    "change-me-too-a-separate-key-for-vendor-credentials-at-rest",
}
if not DEBUG and {SECRET_KEY, CREDENTIALS_KEY} & SAMPLE_KEYS:
    raise ImproperlyConfigured(
        "SECRET_KEY and CREDENTIALS_KEY must not be the published samples: generate your own."
    )

# Behind a TLS-terminating proxy: HTTPS only, secure cookies, HSTS. Load balancers probe
# /healthz over plain HTTP, so it is exempt from the redirect.
BEHIND_HTTPS = env.bool("RUNBOARD_BEHIND_HTTPS", default=False)
if BEHIND_HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    # Preloading puts the domain in browsers' own lists, hard to undo: only when asked.
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "instances",
    "instances.alerts",
    "instances.people",
    "instances.acting",
    "instances.lineage",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",  # the chosen language, else Accept-Language
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "dashboard.preferences.PreferencesMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"
# Password guessing: after RUNBOARD_LOGIN_FAILURES failed logins for one username, or from one
# address, that username or address is locked for RUNBOARD_LOCKOUT_MINUTES (admin → Axes →
# Access attempts unlocks earlier).
# Sign-in through the company's OpenID provider (dashboard/sign_in.py) when an issuer is set;
# password login stays for the first administrator unless RUNBOARD_PASSWORD_LOGIN is off.
RUNBOARD_OIDC_ISSUER = env.str("RUNBOARD_OIDC_ISSUER", default="")
RUNBOARD_OIDC_NAME = env.str("RUNBOARD_OIDC_NAME", default="your company's account")
RUNBOARD_PASSWORD_LOGIN = env.bool("RUNBOARD_PASSWORD_LOGIN", default=True)
OIDC_RP_CLIENT_ID = env.str("RUNBOARD_OIDC_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = secret("RUNBOARD_OIDC_CLIENT_SECRET")
OIDC_RP_SCOPES = env.str("RUNBOARD_OIDC_SCOPES", default="openid email profile groups")
OIDC_RP_SIGN_ALGO = env.str("RUNBOARD_OIDC_SIGN_ALGO", default="RS256")
OIDC_USE_PKCE = True
OIDC_STORE_ID_TOKEN = True  # the end-session endpoint's id_token_hint
OIDC_TIMEOUT = 10
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_callback"
OIDC_OP_LOGOUT_URL_METHOD = "dashboard.sign_in.end_session_url"
LOGIN_REDIRECT_URL_FAILURE = "/login/"
# the groups claim mapped to teams: "provider group=Team name:role, …" (role: viewer,
# operator or admin); a person's highest mapped role in a team wins
RUNBOARD_OIDC_GROUPS_CLAIM = env.str("RUNBOARD_OIDC_GROUPS_CLAIM", default="groups")
RUNBOARD_OIDC_TEAMS = {
    group.strip(): tuple(part.strip() for part in mapped.rsplit(":", 1))
    for group, mapped in (
        pair.split("=", 1) for pair in env.list("RUNBOARD_OIDC_TEAMS", default=[]) if "=" in pair
    )
}
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    *(["django.contrib.auth.backends.ModelBackend"] if RUNBOARD_PASSWORD_LOGIN else []),
    *(["dashboard.sign_in.Provider"] if RUNBOARD_OIDC_ISSUER else []),
]
# Failed logins lock a username from one address; an address for everyone only past a far
# higher count (dashboard/throttle.py). A lock guards the login form only: API tokens are
# separate credentials, revoked one by one or with their person's deactivation.
RUNBOARD_LOGIN_FAILURES = env.int("RUNBOARD_LOGIN_FAILURES", default=5)
RUNBOARD_LOGIN_ADDRESS_FAILURES = env.int("RUNBOARD_LOGIN_ADDRESS_FAILURES", default=50)
AXES_FAILURE_LIMIT = "dashboard.throttle.failure_limit"
AXES_COOLOFF_TIME = timedelta(minutes=env.int("RUNBOARD_LOCKOUT_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
if BEHIND_HTTPS:  # the client's address is the one the proxy appended, not the proxy's own
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    AXES_IPWARE_PROXY_ORDER = "right-most"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

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
                "django.template.context_processors.csp",
                "dashboard.views.runs.counters",
                "dashboard.preferences.context",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'runboard.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory, so Celery workers started by tests see the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
    # The demo's web server and workers share one file: readers never wait for a writer
    # (WAL), writers queue for the lock instead of failing at once, and a transaction takes
    # the write lock when it begins, so it never fails to upgrade a read lock halfway.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Covering indexes (INCLUDE) are PostgreSQL's; SQLite, the zero-setup default, just ignores
# their extra columns, which is fine for a demo and no reason to bury the demo's output.
# HSTS preload (security.W021) is the operator's choice, SECURE_HSTS_PRELOAD: it is hard to undo.
SILENCED_SYSTEM_CHECKS = ["models.W040", "security.W021"]

REDIS_URL = env.str("REDIS_URL", default="")
# Runboards (or test runs) sharing one Redis keep apart by this prefix of every key, the
# broker's and the cache's (RUNBOARD_BROKER_PREFIX is its former name).
REDIS_PREFIX = env.str(
    "RUNBOARD_REDIS_PREFIX", default=env.str("RUNBOARD_BROKER_PREFIX", default="")
)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_PREFIX,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
# English and Simplified Chinese (locale/zh_Hans, compiled by the setup scripts); the
# vendors' own words (statuses, names, errors) are shown as they come.
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["dashboard.formats"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
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

# Django 6's built-in CSP: no inline script or style, nothing from other origins.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# Celery: JSON only, no result backend, bounded tasks; beat schedule lives here.
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 30
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # workers log through LOGGING below, like the web
# Polls are idempotent: acknowledge late and requeue when a worker dies mid-poll, one at a time.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis redelivers unacknowledged tasks after this; it must exceed the longest task.
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": CELERY_TASK_TIME_LIMIT * 2}
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # a task a killed worker left unacknowledged is redelivered only to its own kind
    CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = REDIS_PREFIX
else:
    _broker_dir = VAR_DIR / "broker"
    for folder in ("processed", "control"):  # kombu will not create them
        (_broker_dir / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS |= {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        "control_folder": str(_broker_dir / "control"),  # default is ./control
    }
# Polls and alert deliveries on queues of their own, served by separate worker processes
# (docker-compose.yml, Procfile): a slow channel can never hold a poll.
CELERY_TASK_ROUTES = {
    "instances.poll_backend": {"queue": "polls"},
    "instances.deliver_alerts": {"queue": "deliveries"},
    # alerting's checks run beside the deliveries, not behind the polls: with every poll
    # worker down (or busy), "Runboard is not polling" is still found and told
    "instances.check_alerts": {"queue": "deliveries"},
}
# An accepted action on a vendor is read again this often until the vendor's state confirms
# it, for two poll intervals of its backend and at least this long (then: unconfirmed).
RUNBOARD_ACTION_FOLLOW_SECONDS = env.float("RUNBOARD_ACTION_FOLLOW_SECONDS", default=2.0)
RUNBOARD_ACTION_DEADLINE_SECONDS = env.float("RUNBOARD_ACTION_DEADLINE_SECONDS", default=120.0)
# OpenLineage intake (POST /api/v1/lineage): the largest request, and requests a minute, per
# push backend's token
RUNBOARD_LINEAGE_MAX_BYTES = env.int("RUNBOARD_LINEAGE_MAX_BYTES", default=2 * 1024 * 1024)
RUNBOARD_LINEAGE_REQUESTS_PER_MINUTE = env.int("RUNBOARD_LINEAGE_REQUESTS_PER_MINUTE", default=6000)
# How long a poll's claim on its backend lasts without a heartbeat (a live poll renews it every
# third of that): past it, the poll is presumed dead and its backend free for the next one.
RUNBOARD_CLAIM_SECONDS = env.int("RUNBOARD_CLAIM_SECONDS", default=30)
RUNBOARD_BEAT_SECONDS = env.float("RUNBOARD_BEAT_SECONDS", default=5.0)
# How often open run lists refresh themselves.
RUNBOARD_REFRESH_SECONDS = env.int("RUNBOARD_REFRESH_SECONDS", default=10)
# Runs older than this are pruned daily (hourly rollups are kept: they are the history).
RUNBOARD_RETENTION_DAYS = env.int("RUNBOARD_RETENTION_DAYS", default=90)
# Hourly rollups (the summaries' counts) outlive the runs, for this long: the oldest time any
# page or chart can ask for.
RUNBOARD_ROLLUP_DAYS = max(env.int("RUNBOARD_ROLLUP_DAYS", default=400), RUNBOARD_RETENTION_DAYS)
# A running run whose status has not moved for this long is stuck (overview, inbox).
RUNBOARD_STUCK_AFTER_MINUTES = env.int("RUNBOARD_STUCK_AFTER_MINUTES", default=120)
# Alerts: links in messages start with this; a failed delivery is retried after 2, 4, 8 … s,
# never longer apart than RUNBOARD_ALERT_RETRY_MAX_SECONDS; stuck runs, missed schedules and
# stale backends are checked every RUNBOARD_ALERT_CHECK_SECONDS.
RUNBOARD_BASE_URL = env.str("RUNBOARD_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
RUNBOARD_ALERT_RETRY_MAX_SECONDS = env.int("RUNBOARD_ALERT_RETRY_MAX_SECONDS", default=60)
RUNBOARD_ALERT_CHECK_SECONDS = env.float("RUNBOARD_ALERT_CHECK_SECONDS", default=30.0)
# A backend is called stale after three intervals without a successful poll, and not before
# this; no poll of any backend ending for as long is Runboard's own fault ("not polling").
RUNBOARD_STALE_PENDING_SECONDS = env.float("RUNBOARD_STALE_PENDING_SECONDS", default=120.0)
# Alert targets must be public hosts; these networks (CIDR, comma-separated) are allowed too,
# e.g. an intranet chat gateway. Every send ends within RUNBOARD_ALERT_SEND_SECONDS, whatever
# the channel does.
RUNBOARD_ALERT_ALLOWED_NETWORKS = env.list("RUNBOARD_ALERT_ALLOWED_NETWORKS", default=[])
RUNBOARD_ALERT_SEND_SECONDS = env.float("RUNBOARD_ALERT_SEND_SECONDS", default=15.0)
# Email alerts go through Django's mail backend: EMAIL_URL=smtp://user:password@host:587
# (smtp+tls://, smtp+ssl://); without it, messages are written to the log.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="runboard@localhost")
CELERY_BEAT_SCHEDULE = {
    "prune-old-runs": {"task": "instances.prune_old_runs", "schedule": 24 * 3600},
    "deliver-alerts": {
        "task": "instances.deliver_alerts",
        "schedule": RUNBOARD_BEAT_SECONDS,
        "options": {"expires": RUNBOARD_BEAT_SECONDS},
    },
    "check-alerts": {
        "task": "instances.check_alerts",
        "schedule": RUNBOARD_ALERT_CHECK_SECONDS,
        "options": {"expires": RUNBOARD_ALERT_CHECK_SECONDS},
    },
    "sweep-actions": {"task": "instances.sweep_actions", "schedule": 60.0},
    "learn-schedules": {"task": "instances.learn_schedules", "schedule": 3600.0},
    "poll-due-backends": {
        "task": "instances.poll_due_backends",
        "schedule": RUNBOARD_BEAT_SECONDS,
        "options": {"expires": RUNBOARD_BEAT_SECONDS},
    },
}

# Logs go to stdout: readable lines by default, one JSON object per line with LOG_FORMAT=json
# (dashboard/log_formats.py, which gunicorn's own logging shares).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": log_formats.FORMATTERS,
    "handlers": {"console": log_formats.CONSOLE},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # One line per vendor request is noise at INFO; errors surface through the connectors.
    # Failed logins and lockouts are warnings; axes's start-up banner is not worth a line.
    "loggers": {"httpx": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
# With JSON logs, Python's warnings (Celery's, Django's) are log records too, not plain lines.
logging.captureWarnings(log_formats.FORMAT == "json")
