"""Stemcrate settings: one file, read from the environment, with defaults that run locally.

Every knob is an environment variable (see README "Configuration"). Local defaults: SQLite and media under
var/, console email, Redis on localhost. Production: DEBUG=0 and a SECRET_KEY (or SECRET_KEY_FILE).
"""

import json
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=None):
    """A variable from the environment, or from the file named by NAME_FILE (Docker/K8s secrets)."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text().strip()
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = env(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def env_int(name, default):
    value = env(name)
    return int(value) if value not in (None, "") else default


def env_list(name, default=""):
    return [item.strip() for item in (env(name, default) or "").split(",") if item.strip()]


VAR_DIR = Path(env("STEMCRATE_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (or give SECRET_KEY_FILE).")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105 (DEBUG only)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "allauth",
    "allauth.account",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "django_dramatiq",
    "stemcrate",
    "accounts",
    "core",
    "jobs",
    "tracks",
    "stems",
    "samples",
    "midi",
    "lyrics",
    "exports",
    "pipelines",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "stemcrate.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "stemcrate.urls"
WSGI_APPLICATION = "stemcrate.wsgi.application"
ASGI_APPLICATION = "stemcrate.asgi.application"

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
            ],
        },
    },
]

# Database: SQLite under var/ unless DATABASE_URL points elsewhere (postgres://user:pass@host:5432/name).
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Workers are other processes: tests that run a real worker need an on-disk test database they can open.
    # One per test process, so two test runs on one machine do not recreate each other's database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# Static files: WhiteNoise serves them in development and production alike; nothing comes from a CDN.
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every start when it is missing

# Media: local files under var/media, or S3-compatible storage (AWS, MinIO) when a bucket is configured.
MEDIA_ROOT = Path(env("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME")
if AWS_STORAGE_BUCKET_NAME:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env("AWS_S3_ENDPOINT_URL"),
            "region_name": env("AWS_S3_REGION_NAME"),
            "access_key": env("AWS_ACCESS_KEY_ID"),
            "secret_key": env("AWS_SECRET_ACCESS_KEY"),
            "default_acl": None,
            "querystring_auth": True,  # private objects; playback gets short-lived presigned URLs
            "signature_version": "s3v4",
            "querystring_expire": env_int("AWS_QUERYSTRING_EXPIRE", 600),
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Uploads stream to a temporary file on disk (never held in memory), hashed as they arrive.
FILE_UPLOAD_HANDLERS = ["tracks.uploads.HashingUploadHandler"]
FILE_UPLOAD_TEMP_DIR = env("FILE_UPLOAD_TEMP_DIR") or None
UPLOAD_MAX_SIZE = env_int("UPLOAD_MAX_SIZE_MB", 500) * 1_000_000
UPLOAD_MAX_DURATION = env_int("UPLOAD_MAX_DURATION_MINUTES", 30) * 60
# Per-user limits (core.quotas); 0 turns one off. Megabytes are decimal, as in UPLOAD_MAX_SIZE.
STORAGE_QUOTA = env_int("STORAGE_QUOTA_MB", 20000) * 1_000_000
UPLOAD_RATE_LIMIT = env_int("UPLOAD_RATE_LIMIT", 120)  # uploads per user per hour
JOB_RATE_LIMIT = env_int("JOB_RATE_LIMIT", 300)  # jobs a user asks for per hour (a pipeline counts once)
# Form fields besides the file; the file itself is not bound by this.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Email: the console unless an SMTP host is configured.
EMAIL_HOST = env("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Stemcrate <stemcrate@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Accounts (django-allauth).
SITE_ID = 1
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "tracks:index"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
# "none" by default so a fresh install works without mail; "mandatory" requires a confirmed address.
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", "none")
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_ALLOW_SIGNUPS = env_bool("ACCOUNT_ALLOW_SIGNUPS", True)
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}

# REST API.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Stemcrate API",
    "DESCRIPTION": "Your music library, stems, samples, MIDI and lyrics. "
    "Authenticate with `Authorization: Token <key>` (get one from POST /api/auth/token/).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Tracks and jobs both have a "status" with different choices: name each set explicitly.
    "ENUM_NAME_OVERRIDES": {
        "TrackStatusEnum": "tracks.models.Track.Status",
        "JobStatusEnum": "jobs.models.Job.Status",
        "SampleCategoryEnum": "samples.models.SampleCategory",
        "PipelineStatusEnum": "pipelines.models.Pipeline.Status",
        "ExportScopeEnum": "exports.models.Export.Scope",
    },
}

# Background work: Dramatiq on Redis, two queues. The GPU worker consumes only "gpu".
REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:6379/0")
DRAMATIQ_NAMESPACE = env("DRAMATIQ_NAMESPACE", "stemcrate")
DRAMATIQ_BROKER = {
    "BROKER": "dramatiq.brokers.redis.RedisBroker",
    "OPTIONS": {"url": REDIS_URL, "namespace": DRAMATIQ_NAMESPACE},
    "MIDDLEWARE": [
        "dramatiq.middleware.AgeLimit",
        "dramatiq.middleware.TimeLimit",
        "dramatiq.middleware.Callbacks",
        "dramatiq.middleware.Retries",
        "dramatiq.middleware.ShutdownNotifications",
        "dramatiq.middleware.CurrentMessage",
        "django_dramatiq.middleware.DbConnectionsMiddleware",
        "jobs.heartbeat.WorkerHeartbeat",
    ],
}
DRAMATIQ_TASKS_DATABASE = "default"
DRAMATIQ_AUTODISCOVER_MODULES = ["actors"]
QUEUES = ("cpu", "gpu")
# A worker that has not written its heartbeat for this long is considered dead.
WORKER_HEARTBEAT_INTERVAL = env_int("WORKER_HEARTBEAT_INTERVAL", 5)
WORKER_HEARTBEAT_TTL = env_int("WORKER_HEARTBEAT_TTL", 20)
# How often each worker looks for running jobs whose lease lapsed (their worker died) and re-queues them.
JOB_SWEEP_INTERVAL = env_int("JOB_SWEEP_INTERVAL", 30)
# A running job whose worker has not renewed its claim for this long is taken to be orphaned.
JOB_LEASE_SECONDS = env_int("JOB_LEASE_SECONDS", 60)
# A queued job is checked for a lost broker message (a Redis restart drops them) once it has waited this long.
JOB_REQUEUE_SECONDS = env_int("JOB_REQUEUE_SECONDS", 120)
# /healthz answers 503 unless every queue here has a live worker.
HEALTHZ_REQUIRED_QUEUES = env_list("HEALTHZ_REQUIRED_QUEUES", ",".join(QUEUES))

# Production hardening. DEBUG off turns these on; each can still be set explicitly.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_HTTPS_PROXY", not DEBUG) else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Everything is served from our own origin, so the policy can be strict. 'unsafe-inline' is absent on purpose.
# 'wasm-unsafe-eval' lets WebAssembly compile (the audition's time-stretch, static/vendor/signalsmith-stretch/,
# docs/audition.md); it allows no eval() of JavaScript, unlike 'unsafe-eval', and no blob: scripts.
CONTENT_SECURITY_POLICY = env(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: https:; "
    "style-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'",
)
if not DEBUG:
    SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS")

# Where model weights live, laid out as each library reads them (see audio/weights.py).
MODEL_DIR = Path(env("MODEL_DIR", VAR_DIR / "models"))
# "auto" uses CUDA when the worker has it; "cpu", "cuda" or "cuda:1" force a device.
STEMCRATE_DEVICE = env("STEMCRATE_DEVICE", "auto")
# Extra decoding options as JSON for each lyrics backend's transcribe(), named as that library names them, e.g.
# {"beam_size": 5}. Empty: the lyrics engine's own settings. (The tests cap decoding of their random tiny
# openai-whisper checkpoints with {"temperature": 0, "sample_len": 24}.)
WHISPER_DECODE_OPTIONS = json.loads(env("WHISPER_DECODE_OPTIONS", "") or "{}")  # openai-whisper
FASTER_WHISPER_OPTIONS = json.loads(env("FASTER_WHISPER_OPTIONS", "") or "{}")  # faster-whisper
# The lyrics engine: faster-whisper (CTranslate2 models in MODEL_DIR/faster-whisper/) or openai-whisper (.pt files
# in MODEL_DIR/whisper/). A job may choose the other one; pages and the API offer the models installed for this one.
LYRICS_BACKEND = env("STEMCRATE_LYRICS_BACKEND", "faster-whisper").strip().lower()
if LYRICS_BACKEND not in ("faster-whisper", "openai-whisper"):
    raise ImproperlyConfigured(f"STEMCRATE_LYRICS_BACKEND is faster-whisper or openai-whisper, not {LYRICS_BACKEND!r}")
LYRICS_THREADS = env_int("LYRICS_THREADS", 0)  # CTranslate2's CPU threads per lyrics job; 0: its default (4 at most)
# Threads onnxruntime may use for Basic Pitch in one worker process (0: onnxruntime's choice).
MIDI_THREADS = env_int("MIDI_THREADS", 0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
