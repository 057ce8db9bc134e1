"""Settings, all driven by the environment.

REFINERY_HOME      data folder (default ./var): SQLite database, secret key, uploads.
DATABASE_URL       use this database (PostgreSQL) instead of SQLite.
REFINERY_SECRET_KEY  secret key; generated once into REFINERY_HOME when absent.
REFINERY_ENV       "production" turns on HTTPS-only cookies, HSTS and friends.
REFINERY_DEBUG     "1" for Django debug pages (never in production).
REFINERY_ALLOWED_HOSTS  comma-separated host names (default 127.0.0.1,localhost).
See docs/configuration.md for the full list.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
import pycountry
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


PACKAGE_DIR = Path(__file__).resolve().parent
REFINERY_HOME = Path(os.environ.get("REFINERY_HOME", "var")).resolve()
REFINERY_HOME.mkdir(mode=0o700, parents=True, exist_ok=True)
MEDIA_ROOT = REFINERY_HOME / "uploads"


def _secret_key() -> str:
    given = os.environ.get("REFINERY_SECRET_KEY") or os.environ.get("DJANGO_SECRET_KEY")
    if given:
        return given
    key_file = REFINERY_HOME / "secret_key"
    if not key_file.exists():
        # Written once, readable by the owner only; every process then shares it.
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(64))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
# Earlier keys, still accepted after a rotation: old sessions stay valid, and the keyed hashes
# of erased contacts made under them still match (privacy/keys.py).
SECRET_KEY_FALLBACKS = [
    k for k in os.environ.get("REFINERY_SECRET_KEY_FALLBACKS", "").split(",") if k.strip()
]
PRODUCTION = os.environ.get("REFINERY_ENV", "").lower() == "production"
DEBUG = _env_bool("REFINERY_DEBUG", False) and not PRODUCTION
ALLOWED_HOSTS = _env_list("REFINERY_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver,[::1]")
CSRF_TRUSTED_ORIGINS = _env_list("REFINERY_CSRF_TRUSTED_ORIGINS", "")
SITE_URL = os.environ.get("REFINERY_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "template_partials",
    "django_q",
    "axes",  # login throttling: see AXES_* below
    "csp",
    "ninja",  # serves Swagger UI's files for /api/v1/docs from the package, not a CDN
    "leadrefinery.common",
    "leadrefinery.accounts",
    "leadrefinery.leads",
    "leadrefinery.routing",
    "leadrefinery.sla",
    "leadrefinery.notifications",
    "leadrefinery.dedupe",
    "leadrefinery.cadences",
    "leadrefinery.nurture",
    "leadrefinery.scoring",
    "leadrefinery.tracking",
    "leadrefinery.review",
    "leadrefinery.intake",
    "leadrefinery.reports",
    "leadrefinery.privacy",
    "leadrefinery.demo",
]

MIDDLEWARE = [
    "leadrefinery.common.logs.RequestId",
    "leadrefinery.metrics.RequestMetrics",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # the Content-Security-Policy header (CONTENT_SECURITY_POLICY)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "leadrefinery.urls"
WSGI_APPLICATION = "leadrefinery.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/leads/"
LOGOUT_REDIRECT_URL = "/login/"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",  # {{ CSP_NONCE }} for the rare inline <style>
            ],
        },
    }
]

# --- Database -----------------------------------------------------------------
# SQLite by default: WAL so readers never block the writer, IMMEDIATE transactions so
# that two writers queue on the busy timeout instead of failing with "database is locked"
# halfway through, and a long busy timeout for the worker and web server sharing one file.
SQLITE_PATH = REFINERY_HOME / "refinery.sqlite3"


def _owner_only(path: Path) -> None:
    """The SQLite file holds people's details and sessions: readable by its owner only.
    Created empty with mode 0600 before SQLite opens it (SQLite gives its -wal and -shm files
    the database file's mode); an existing file that others may read is tightened."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        try:
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)
        except OSError:  # not ours to change: leave it to the operator
            pass
    else:
        os.close(fd)


if os.environ.get("DATABASE_URL"):
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ["DATABASE_URL"], conn_max_age=600, conn_health_checks=True
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(SQLITE_PATH),
            "CONN_MAX_AGE": 600,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA busy_timeout=30000;"
                    "PRAGMA cache_size=-65536;"
                    # Read pages straight from the OS page cache, shared by all
                    # connections: dedupe's candidate reads got 20% faster at 100k people.
                    "PRAGMA mmap_size=268435456;"
                ),
            },
            # Tests use a real file (not :memory:) so threads and subprocesses share it.
            "TEST": {"NAME": str(REFINERY_HOME / "test-refinery.sqlite3")},
        }
    }
    _owner_only(SQLITE_PATH)
# Web processes checkpoint the SQLite WAL in a background thread this often (seconds; 0:
# leave it to the commit that fills the WAL, SQLite's default). See common/checkpoint.py.
REFINERY_SQLITE_CHECKPOINT_SECONDS = float(
    os.environ.get("REFINERY_SQLITE_CHECKPOINT_SECONDS", "1")
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Time, language -------------------------------------------------------------
USE_TZ = True
TIME_ZONE = os.environ.get("REFINERY_TIME_ZONE", "UTC")
LANGUAGE_CODE = "en-us"
USE_I18N = True

# --- Static files -----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = REFINERY_HOME / "static"
# The vendored CSS/JS live in the package, not in any one app: the finders need this.
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STATIC_ROOT.mkdir(
    exist_ok=True
)  # whitenoise serves from finders; collectstatic fills this for production
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Security -------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads it to send X-CSRFToken
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = _env_bool("REFINERY_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("REFINERY_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # The health check is polled over plain HTTP by load balancers.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# --- Content Security Policy (django-csp 4) ----------------------------------------------
# Scripts and styles only from our own origin (no inline script at all; an inline <style> needs
# the per-request nonce); no plugin, no foreign frame around the app. The public form pages
# (/f/<slug>/) replace frame-ancestors and form-action, since customers' sites frame them and
# their thank-you page may be on another site (intake/views_public.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "frame-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# --- Login throttling (django-axes) ---------------------------------------------------
# After this many wrong passwords for one username, or from one address, further logins for
# that username (or from that address) are refused for REFINERY_LOGIN_LOCKOUT_MINUTES, even
# with the right password. API tokens are not passwords: they are not counted nor locked.
# `refinery axes_reset_username NAME` / `refinery axes_reset` lift a lockout early.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("REFINERY_LOGIN_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("REFINERY_LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/login.html"  # the login page, saying why and how long
# The same client address as the form rate limits (REFINERY_TRUSTED_PROXY_COUNT).
AXES_CLIENT_IP_CALLABLE = "leadrefinery.intake.public_forms.client_ip"
AXES_VERBOSE = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

# --- Email ------------------------------------------------------------------------
EMAIL_HOST = os.environ.get("REFINERY_SMTP_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("REFINERY_SMTP_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("REFINERY_SMTP_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("REFINERY_SMTP_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("REFINERY_SMTP_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("REFINERY_FROM_EMAIL", "Lead Refinery <refinery@localhost>")

# --- Background work (django-q2, ORM broker on the same database) -------------------
Q_CLUSTER = {
    "name": "refinery",
    "orm": "default",
    "workers": int(os.environ.get("REFINERY_WORKERS", "2")),
    "timeout": 300,
    "retry": 360,
    "max_attempts": 3,
    "catch_up": False,
    "poll": 1,
    "ack_failures": True,
    "save_limit": 1000,
    "label": "Background jobs",
}
# REDIS_URL: the job queue lives in Redis (several workers on several machines take from it
# without polling the database); the schedule and task results stay in the database.
if os.environ.get("REDIS_URL"):
    Q_CLUSTER.pop("orm")
    Q_CLUSTER["redis"] = os.environ["REDIS_URL"]

# --- Product rules (defaults; the rules themselves are data in the database) ------
# "Lost: no response" needs at least this many sales touches spread over this many days.
REFINERY_PERSISTENCE_MIN_TOUCHES = int(os.environ.get("REFINERY_PERSISTENCE_MIN_TOUCHES", "6"))
REFINERY_PERSISTENCE_MIN_DAYS = int(os.environ.get("REFINERY_PERSISTENCE_MIN_DAYS", "14"))
# Hygiene: a lead being worked with no sales touch for this many days is flagged for review.
REFINERY_NO_TOUCH_DAYS = int(os.environ.get("REFINERY_NO_TOUCH_DAYS", "7"))
# A lead waiting in a sales queue is flagged when nobody has pulled it within this many hours.
REFINERY_QUEUE_PULL_HOURS = int(os.environ.get("REFINERY_QUEUE_PULL_HOURS", "4"))
# Public forms: submissions per IP address per hour before 429.
REFINERY_FORM_RATE_LIMIT_PER_HOUR = int(os.environ.get("REFINERY_FORM_RATE_LIMIT_PER_HOUR", "30"))
# Page visits, email opens and clicks per IP address per hour (each kind counted apart) before
# the tracking endpoints stop recording them (a visit beacon gets 429; the pixel and the click
# redirect still answer, unrecorded).
REFINERY_TRACKING_RATE_LIMIT_PER_HOUR = int(
    os.environ.get("REFINERY_TRACKING_RATE_LIMIT_PER_HOUR", "600")
)
# Engagement points that anonymous events (page visits, email opens and clicks, public form
# fills) add to one lead per UTC day, all together; -1 = no cap.
REFINERY_ANONYMOUS_DAILY_POINTS = int(os.environ.get("REFINERY_ANONYMOUS_DAILY_POINTS", "20"))
# Behind N reverse proxies, the client address is the Nth from the right of X-Forwarded-For
# (0 = use REMOTE_ADDR; never trust the header without a proxy that overwrites it).
REFINERY_TRUSTED_PROXY_COUNT = int(os.environ.get("REFINERY_TRUSTED_PROXY_COUNT", "0"))
# Intake records still unprocessed after this many seconds are retried by the sweep.
REFINERY_INTAKE_RETRY_AFTER_SECONDS = int(
    os.environ.get("REFINERY_INTAKE_RETRY_AFTER_SECONDS", "60")
)
# The import page's jobs: an import whose worker wrote no heartbeat for this long is taken to
# have died and is resumed by the `import-jobs` sweep; a job may run this long in the worker.
REFINERY_IMPORT_STALE_SECONDS = int(os.environ.get("REFINERY_IMPORT_STALE_SECONDS", "120"))
# An import of at least this many rows matches them in a second process while it writes
# (intake/import_planner.py); 0 = always in the importing process, before the writes.
REFINERY_IMPORT_PLAN_PROCESS_ROWS = int(os.environ.get("REFINERY_IMPORT_PLAN_PROCESS_ROWS", "2000"))
REFINERY_IMPORT_TIMEOUT_SECONDS = int(os.environ.get("REFINERY_IMPORT_TIMEOUT_SECONDS", "14400"))
# Uploaded import files and their rejected-rows files hold personal data: deleted this many
# days after their last job ended (0 = kept). A stopped import's file is kept until it ends.
REFINERY_IMPORT_FILES_KEEP_DAYS = int(os.environ.get("REFINERY_IMPORT_FILES_KEEP_DAYS", "30"))
# Default country for phone numbers written without +country code.
REFINERY_DEFAULT_COUNTRY = os.environ.get("REFINERY_DEFAULT_COUNTRY", "US")
# The worker's daily backup (common/backup.py): off unless a folder is given; keeps the newest
# REFINERY_BACKUP_KEEP archives there.
REFINERY_BACKUP_DIR = os.environ.get("REFINERY_BACKUP_DIR", "")
# GET /metrics: with a token, for callers that send it; without, for this machine only.
REFINERY_METRICS_TOKEN = os.environ.get("REFINERY_METRICS_TOKEN", "")
# How long a worker's claim on an email or webhook lasts before another worker takes it again
# (the first died mid-send); well above a send's timeout (30 s).
REFINERY_OUTBOX_LEASE_SECONDS = int(os.environ.get("REFINERY_OUTBOX_LEASE_SECONDS", "300"))
REFINERY_BACKUP_KEEP = int(os.environ.get("REFINERY_BACKUP_KEEP", "7"))
# The currency revenue is reported in, and that of a lead's amounts when the lead names none
# (ISO 4217). A code that is none stops the start, rather than mislabel every amount.
REFINERY_REPORTING_CURRENCY = os.environ.get("REFINERY_REPORTING_CURRENCY", "USD").strip().upper()
if not pycountry.currencies.get(alpha_3=REFINERY_REPORTING_CURRENCY):
    raise ImproperlyConfigured(
        f"REFINERY_REPORTING_CURRENCY={REFINERY_REPORTING_CURRENCY!r} is not an ISO 4217 "
        "currency code (e.g. USD, EUR, GBP)"
    )
# Dedupe (dedupe/domain.py): match score at or above AUTO attaches an inquiry to the existing
# person; between REVIEW and AUTO a possible duplicate goes to the review queue.
REFINERY_DEDUPE_AUTO = float(os.environ.get("REFINERY_DEDUPE_AUTO", "0.95"))
REFINERY_DEDUPE_REVIEW = float(os.environ.get("REFINERY_DEDUPE_REVIEW", "0.25"))

# Nurture email (nurture/, docs/nurture.md). Every message carries the sender's postal address.
REFINERY_POSTAL_ADDRESS = os.environ.get(
    "REFINERY_POSTAL_ADDRESS", "Lead Refinery, 1 Example Street, Springfield"
).replace("\\n", "\n")
REFINERY_NURTURE_FROM_EMAIL = os.environ.get("REFINERY_NURTURE_FROM_EMAIL", "")
REFINERY_NURTURE_UNSUBSCRIBE_MAILTO = os.environ.get("REFINERY_NURTURE_UNSUBSCRIBE_MAILTO", "")
# At most MESSAGES nurture emails per person per DAYS, across all programs.
REFINERY_NURTURE_CAP = os.environ.get("REFINERY_NURTURE_CAP", "2/7")
# Shared secret of the bounce/complaint webhook (POST /nurture/bounces); empty = disabled.
REFINERY_NURTURE_WEBHOOK_SECRET = os.environ.get("REFINERY_NURTURE_WEBHOOK_SECRET", "")
# Countries (ISO codes) where marketing email needs a recorded consent basis: EU/EEA, UK, CA, AU.
REFINERY_OPT_IN_COUNTRIES = _env_list(
    "REFINERY_OPT_IN_COUNTRIES",
    "AT,BE,BG,HR,CY,CZ,DK,EE,FI,FR,DE,GR,HU,IE,IT,LV,LT,LU,MT,NL,PL,PT,RO,SK,SI,ES,SE,"
    "IS,LI,NO,GB,CA,AU",
)

# Webhooks (docs/webhooks.md) go only to public addresses: a URL whose host resolves to a
# private, loopback or link-local address is refused. "1" allows them (development, tests).
REFINERY_WEBHOOK_ALLOW_PRIVATE = _env_bool("REFINERY_WEBHOOK_ALLOW_PRIVATE", False)

# Privacy (privacy/, docs/privacy.md): raw inquiry payloads of leads closed more than this
# many months ago are erased by the worker's privacy-retention job. Unset or 0: kept forever.
REFINERY_RAW_PAYLOAD_RETENTION_MONTHS = int(
    os.environ.get("REFINERY_RAW_PAYLOAD_RETENTION_MONTHS", "0") or "0"
)

# REFINERY_LOG_FORMAT=json: one JSON object per line, with the request or job id
# (common/logs.py); emails and phone numbers in messages are masked in both formats.
LOG_FORMAT = os.environ.get("REFINERY_LOG_FORMAT", "plain").strip().lower()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "leadrefinery.common.logs.ContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {
            "()": "leadrefinery.common.logs.Formatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(job_id)s "
            "%(job)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("REFINERY_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Tracking (tracking/, docs/tracking.md): pixel, click and visit requests only buffer a hit;
# the worker's tracking-flush job turns hits into touches and scores every minute. 0 or more:
# each web process also flushes after a response, at most once per this many seconds.
REFINERY_TRACKING_FLUSH_SECONDS = float(os.environ.get("REFINERY_TRACKING_FLUSH_SECONDS", "-1"))
