"""Crossline settings: read from the environment, with a working embedded default.

With nothing set the app runs on SQLite and a Celery broker kept in folders under var/ (no server).
Set DATABASE_URL (PostgreSQL, psycopg 3 with Django's pool) and REDIS_URL to run on real services.
Every variable is listed in README.md and .env.example.

Three ways to run, one file:
- production (the default): debug off, HTTPS-only cookies, HSTS and a redirect to https, and start-up stops
  without DJANGO_SECRET_KEY;
- a local trial (`dev.py run` sets CROSSLINE_LOCAL=true) and the test suite: still no debug pages, but plain
  http on localhost, and a random secret key made once and kept in var/ when none is set;
- debugging: DJANGO_DEBUG=true, an explicit opt-in (its error pages list settings and every URL).
"""
import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("CROSSLINE_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env(
    DJANGO_DEBUG=(bool, False),  # debug pages are an opt-in: they show settings and every URL
    CROSSLINE_LOCAL=(bool, False),  # `dev.py run`: a trial on this machine over plain http
    DJANGO_ALLOWED_HOSTS=(list, ["localhost", "127.0.0.1", "[::1]", "testserver"]),
    SLA_SWEEP_SECONDS=(float, 10.0),
)
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env("DJANGO_DEBUG")
TESTING = "pytest" in sys.modules  # the test suite: plain http from the test client and live server
LOCAL = env("CROSSLINE_LOCAL") or TESTING


def _local_secret_key(path: Path) -> str:
    """A random key made once for this checkout and kept in var/ (0600), so sessions survive a restart."""
    if path.exists():
        return path.read_text().strip()
    tmp = path.with_name(f"{path.name}.{os.getpid()}")
    tmp.write_text(secrets.token_urlsafe(50))
    tmp.chmod(0o600)
    try:
        os.link(tmp, path)  # atomic: when web, worker and beat start together, the first one's key wins
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text().strip()


SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if DEBUG or LOCAL:
        SECRET_KEY = _local_secret_key(VAR_DIR / "secret_key")
    elif Path(sys.argv[0]).name != "manage.py" or sys.argv[1:2] == ["runserver"]:
        # Never a random or built-in key in production: a serving process (gunicorn, runserver, a Celery
        # worker or beat) stops here. One-off `manage.py` commands (migrate, makemigrations, check) still run;
        # Django refuses wherever one of them would need the key.
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random value (for example the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`), or try Crossline locally "
            "with `python3 dev.py run`."
        )
ALLOWED_HOSTS = env("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "template_partials",
    "django_htmx",
    "axes",
    "csp",
    "tracker",
    "sla",
    "itsm",
    "devflow",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "tracker.middleware.ConfigScopeMiddleware",  # one read of the configuration's stamp per request
    "tracker.middleware.BadInputMiddleware",  # NUL characters and oversized API bodies: a 400/413, not a 500
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "tracker.middleware.AuthenticationMiddleware",  # Django's, the user read with a compiled query
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tracker.middleware.CSPMiddleware",  # django-csp's, the header built once per process
    "django_htmx.middleware.HtmxMiddleware",
    "tracker.timezones.UserTimeZoneMiddleware",
    # Last: turns a login refused by the throttle into the "too many attempts" answer.
    "axes.middleware.AxesMiddleware",
]

# Django's database sessions, read with a query compiled once per process (tracker/sessions.py).
SESSION_ENGINE = "tracker.sessions"

ROOT_URLCONF = "tracker.urls"
WSGI_APPLICATION = "tracker.wsgi.application"
AUTH_USER_MODEL = "tracker.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTHENTICATION_BACKENDS = [
    "tracker.throttle.LoginThrottleBackend",  # first: refuses a locked-out username + address
    "django.contrib.auth.backends.ModelBackend",
]

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
                "tracker.context_processors.top_bar",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'crossline.sqlite3'}")}
if "postgresql" in DATABASES["default"]["ENGINE"]:
    # psycopg 3 connection pool; the pool replaces persistent connections, so CONN_MAX_AGE stays 0.
    DATABASES["default"]["OPTIONS"] = {"pool": {"min_size": 2, "max_size": env.int("DB_POOL_MAX", default=20)}}
    # JIT costs short page queries more than they run. Page queries join the ticket to six or seven rows
    # (requester, group, assignee, service, ...) in the order they are written: reordering only within groups of
    # four cut the queue query's planning from 6-8 ms to 1.3 ms at the same plan (PostgreSQL's default is 8).
    DATABASES["default"]["OPTIONS"]["options"] = "-c jit=off -c join_collapse_limit=4"
    # Parameters travel apart from the statement (server-side binding) and a statement run five times on a
    # connection is prepared there (psycopg's prepare_threshold): the pool keeps connections, so a create's
    # inserts are parsed and planned once per connection, not once per request (about a third of the
    # database's CPU per create).
    DATABASES["default"]["OPTIONS"]["server_side_binding"] = True
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 5
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("TEST", {})["NAME"] = env("TEST_DATABASE_NAME", default="test_crossline")
else:
    # SQLite: web, worker and beat share one file; writers queue (IMMEDIATE + timeout) instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests use a file too, not shared-cache memory: there a second thread (the Celery test worker, the
    # live server) gets "database table is locked" at once instead of waiting its turn.
    # One file per test run (pid), so parallel runs on one machine do not share it; Django removes it after.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test_crossline_{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise serves from the finders; the folder only has to exist
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the finders in every mode, so `runserver`, gunicorn and tests need no collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Security headers and HTTPS ------------------------------------------------------------------
# Production is served over HTTPS by a proxy in front that sets X-Forwarded-Proto; a local trial, the tests
# and debugging speak plain http to localhost, so the HTTPS-only settings default off there. Each variable
# overrides its setting alone (e.g. DJANGO_SECURE_SSL_REDIRECT=false when the proxy redirects already).
_HTTPS = not (DEBUG or LOCAL)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=_HTTPS)
_proxy_header = env("DJANGO_SECURE_PROXY_SSL_HEADER", default="X-Forwarded-Proto")
# Trust the header only behind a proxy that sets it (and drops a client's own); empty turns it off.
SECURE_PROXY_SSL_HEADER = (f"HTTP_{_proxy_header.upper().replace('-', '_')}", "https") if _proxy_header else None
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=_HTTPS)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=365 * 24 * 3600 if _HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
# Asking browsers to preload the domain is the domain owner's commitment, so it is opt-in and the
# deploy check's reminder about it is silenced.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): the app serves every script, style, font and image itself.
CONTENT_SECURITY_POLICY = {
    # Redoc's page starts with an inline script and web workers; it shows only the public API schema.
    # The Swagger UI page (/api/docs/) loads its start-up script as a file and stays under the policy.
    "EXCLUDE_URL_PREFIXES": ["/api/redoc/"],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        # Every style lives in static/css/app.css: no style="" attribute and no <style> element anywhere.
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Login throttling (django-axes) ---------------------------------------------------------------
# After N failed sign-ins for one username from one address, that pair is refused for the cool-off,
# on /login/, the admin login and POST /api/v1/auth/token/ alike.
AXES_FAILURE_LIMIT = env.int("CROSSLINE_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("CROSSLINE_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Attempts during a lock-out do not extend it: the cool-off runs from the last failure that counted.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "tracker.throttle.lockout_response"
AXES_VERBOSE = False

# --- REST API -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an unauthenticated call answers 401 with `WWW-Authenticate: Token`.
        "tracker.api.authentication.StampedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "tracker.api.errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "tracker.api.pagination.TicketCursorPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Crossline API",
    "DESCRIPTION": "One tracker for the service desk and the software teams.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TicketKindEnum": "tracker.choices.Kind",
        "EventKindEnum": "tracker.choices.EventKind",
        "StatusEnum": "tracker.choices.Status",
        "LevelEnum": "tracker.choices.Level",
        "PriorityEnum": "tracker.choices.Priority",
        "NotificationKindEnum": "sla.choices.NotificationKind",
    },
    # Served by the app itself: the interactive docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery ---------------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
if not REDIS_URL:
    # kombu's filesystem transport, writing each message whole before a worker can see it.
    CELERY_BROKER_TRANSPORT = "tracker.broker:Transport"
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        "control_folder": str(_broker_dir / "control"),
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
SLA_SWEEP_SECONDS = env("SLA_SWEEP_SECONDS")
# How many sweeps drain a burst of due clocks at once (PostgreSQL): a sweep whose first batch is full queues this
# many less one more, for idle workers of the pool.
SLA_SWEEP_PARALLEL = max(1, env.int("SLA_SWEEP_PARALLEL", default=2))
# A catalogue item's fulfilment handler that fails is retried by the workers with exponential backoff: the first
# wait in seconds (it doubles each retry, up to the maximum) and how many retries follow the first attempt.
# The test suite waits one second.
CROSSLINE_FULFILMENT_RETRY_BACKOFF = env.int("CROSSLINE_FULFILMENT_RETRY_BACKOFF", default=1 if TESTING else 30)
CROSSLINE_FULFILMENT_RETRY_BACKOFF_MAX = env.int("CROSSLINE_FULFILMENT_RETRY_BACKOFF_MAX", default=600)
CROSSLINE_FULFILMENT_RETRIES = env.int("CROSSLINE_FULFILMENT_RETRIES", default=3)

# --- Email and notifications ----------------------------------------------------------------------
EMAIL_CONFIG = env.email("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="crossline@localhost")
CROSSLINE_BASE_URL = env("CROSSLINE_BASE_URL", default="http://127.0.0.1:8000")
# An open ticket page asks this often whether someone else changed the ticket (the collision banner).
CROSSLINE_CHANGES_POLL_SECONDS = 10
# The problem manager's landing page lists open problems still without a root cause after this many days.
CROSSLINE_PROBLEM_RCA_DAYS = env.int("CROSSLINE_PROBLEM_RCA_DAYS", default=14)
# Outbound webhooks: a failed delivery waits base, 2 x base, 4 x base ... seconds (the suite: 1) and fails for good
# after this many attempts (a person may still redeliver it).
CROSSLINE_WEBHOOK_RETRY_BACKOFF = env.int("CROSSLINE_WEBHOOK_RETRY_BACKOFF", default=1 if TESTING else 30)
CROSSLINE_WEBHOOK_MAX_ATTEMPTS = env.int("CROSSLINE_WEBHOOK_MAX_ATTEMPTS", default=8)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="WARNING")},
}

# --- Attachments and the email channel ------------------------------------------------------------
# Files are kept by the default storage: the filesystem under var/media, or S3-compatible storage (AWS, MinIO,
# Ceph...) when CROSSLINE_S3_BUCKET is set. They are never served as public media: only through the ticket.
MEDIA_ROOT = Path(env("CROSSLINE_MEDIA_ROOT", default=str(VAR_DIR / "media")))
if env("CROSSLINE_S3_BUCKET", default=""):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("CROSSLINE_S3_BUCKET"),
            "endpoint_url": env("CROSSLINE_S3_ENDPOINT_URL", default=None),
            "region_name": env("CROSSLINE_S3_REGION", default=None),
            "access_key": env("CROSSLINE_S3_ACCESS_KEY", default=None),
            "secret_key": env("CROSSLINE_S3_SECRET_KEY", default=None),
            "default_acl": None,  # private: the bucket's own policy
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
CROSSLINE_ATTACHMENT_MAX_BYTES = env.int("CROSSLINE_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
CROSSLINE_ATTACHMENT_BLOCKED = env.list("CROSSLINE_ATTACHMENT_BLOCKED", default=[
    "exe", "com", "bat", "cmd", "scr", "msi", "msp", "dll", "cpl", "hta", "js", "jse", "vbs", "vbe", "wsf",
    "ps1", "psm1", "jar", "lnk", "reg", "sh", "app"])
# Inbound mail: a message larger than this is quarantined, not filed; a sender past the rate is ignored (loops).
CROSSLINE_MAIL_MAX_BYTES = env.int("CROSSLINE_MAIL_MAX_BYTES", default=25 * 1024 * 1024)
CROSSLINE_MAIL_RATE_PER_HOUR = env.int("CROSSLINE_MAIL_RATE_PER_HOUR", default=20)
# Outbound mail: the right-hand side of the Message-IDs we send (`<key@domain>`); a reply naming one threads back
# onto its ticket. Default: the domain of DEFAULT_FROM_EMAIL.
CROSSLINE_MAIL_DOMAIN = env("CROSSLINE_MAIL_DOMAIN", default="") or (
    DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "localhost")

# --- Intake mailboxes over IMAP ---------------------------------------------------------------------
# How often beat polls every active mailbox; CROSSLINE_MAILBOXES adds mailboxes from the environment (README
# "Mailboxes, polling and the quarantine list" gives the format), upserted by address on each poll.
CROSSLINE_MAIL_POLL_SECONDS = env.float("CROSSLINE_MAIL_POLL_SECONDS", default=60.0)
CROSSLINE_MAILBOXES = env("CROSSLINE_MAILBOXES", default="")
