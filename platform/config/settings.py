"""Django settings for the clinic platform, all read from the environment (see README, Configuration)."""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_int, env_str, is_production

ROOT_DIR = Path(__file__).resolve().parents[2]
PLATFORM_DIR = ROOT_DIR / "platform"

PRODUCTION = is_production()
DEBUG = env_bool("DEBUG", default=not PRODUCTION)
if PRODUCTION and DEBUG:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("DEBUG must not be true in production (PLATFORM_ENV=production).")

SECRET_KEY = env_str("SECRET_KEY", default="dev-only-insecure-key-never-use-in-production", required_in_production=True)

# --- Hosts: the platform domain and its subdomains, never "*" ------------------------------------
PLATFORM_DOMAIN = env_str("PLATFORM_DOMAIN", default="localhost", required_in_production=True).lower()
ALLOWED_HOSTS = [PLATFORM_DOMAIN, f".{PLATFORM_DOMAIN}"]
# Scheme of the links we build (signup redirect, invitation emails).
PLATFORM_SCHEME = "https" if PRODUCTION else env_str("PLATFORM_SCHEME", default="http")

# --- Applications: shared (public schema) and per clinic (tenant schemas) ------------------------
SHARED_APPS = [
    "django_tenants",
    "tenants",
    "config",
    "console",
    "tenants.accounts",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "rest_framework",
    "drf_spectacular",
    "django_tasks",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "tenants.accounts",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "records",
    "sync",
    # Each clinic's own task queue (a table in its schema), run by `manage.py run_worker`.
    "django_tasks_db",
    "satusehat",
]
INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Clinic"
TENANT_DOMAIN_MODEL = "tenants.Domain"
# New clinics are cloned from this template schema instead of running every migration.
TENANT_BASE_SCHEMA = "clinic_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_tenant"
DEFAULT_NOT_FOUND_TENANT_VIEW = "config.views.unknown_clinic"
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
# Issue `SET search_path` only when the schema changes (django-tenants forgets it on rollback, savepoint
# rollback, close and every tenant switch), not before every query.
TENANT_LIMIT_SET_CALLS = True

MIDDLEWARE = [
    "config.resilience.RequestSizeLimitMiddleware",  # before anything reads the body
    "config.middleware.ClinicMiddleware",  # Host -> clinic schema; first, before anything reads the DB
    "config.middleware.JsonGZipMiddleware",  # above all that write the body, so it compresses the final one
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "config.middleware.SuspendedClinicMiddleware",
    "tenants.accounts.middleware.RequireTwoFactorMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PLATFORM_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.platform",
            ],
        },
    }
]
WSGI_APPLICATION = "config.wsgi.application"

# --- Database ---------------------------------------------------------------------------------------
_database_url = env_str("DATABASE_URL", required_in_production=True)
if not _database_url:
    from config.embedded_db import embedded_database_url

    _database_url = embedded_database_url()
    os.environ["DATABASE_URL"] = _database_url  # child processes (runserver's reloader) reuse it
DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: shared across workers (Redis when set, else the database); keys carry the clinic ------
_redis_url = env_str("REDIS_URL")
if _redis_url:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _redis_url}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "django_cache"}}
CACHES["default"]["KEY_FUNCTION"] = "django_tenants.cache.make_key"
CACHES["default"]["KEY_PREFIX"] = env_str("CACHE_KEY_PREFIX", default="clinic")

# --- Auth: one user table per schema (clinic staff in clinics, operators in public) ---------------
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
# Clinic staff land in the clinic app after signing in (a safe `next` wins); operators, on the apex,
# land on the console (tenants/accounts/adapter.py).
LOGIN_REDIRECT_URL = "pwa"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

ACCOUNT_ADAPTER = "tenants.accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_PREVENT_ENUMERATION = True
# Rate limits; the cache's key function adds the clinic's schema, so each clinic counts on its own.
# Failed sign-ins: `key` is the email at one client address (tenants/accounts/login_limits.py), so a wrong
# password elsewhere never locks anyone out: 5 in 5 minutes per email and address. Per address, 30 a
# minute and 300 an hour: ~30 staff behind one NAT stay far below it with their typos, while spraying
# passwords from one address is capped at 300 guesses an hour. No per-email ceiling across addresses:
# anyone could fill it and lock the person out; two-factor is the answer to guessing from many addresses.
# Every sign-in form sent (right or wrong) counts in `login`: allauth's 30 a minute would answer a
# clinic's shift change behind one NAT with 429.
ACCOUNT_RATE_LIMITS = {
    "login": "60/m/ip",
    "login_failed": env_str("LOGIN_RATE_LIMIT", default="30/m/ip,300/h/ip,5/5m/key"),
    "reset_password": "20/m/ip,5/m/key",
    "clinic_signup": env_str("SIGNUP_RATE_LIMIT", default="10/h/ip"),
}
# Behind Heroku's router (one proxy) the client's address is the last hop of X-Forwarded-For; without
# this, every client would share the router's address and one attacker could lock out a whole clinic.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1 if PRODUCTION else 0)
# Operators can suspend any clinic: in production they must use two-factor authentication.
OPERATORS_REQUIRE_TWO_FACTOR = env_bool("OPERATORS_REQUIRE_TWO_FACTOR", PRODUCTION)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env_str("MFA_TOTP_ISSUER", default="Klinik Platform")

# Host-only cookies: a cookie set by clinic A is never sent to clinic B (no SESSION_COOKIE_DOMAIN).
SESSION_COOKIE_DOMAIN = None
CSRF_COOKIE_DOMAIN = None
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PRODUCTION else None
SECURE_SSL_REDIRECT = PRODUCTION and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 30 if PRODUCTION else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION  # every clinic subdomain is served over HTTPS
# Joining the browsers' preload list is the operator's decision for their domain; off unless asked for.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    # `__Host-` cookies are host-only and Secure by the browser's rules: no sibling subdomain (another
    # clinic) can set or overwrite them. No CSRF_TRUSTED_ORIGINS: a form posts only to its own host.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"

# --- Language: Bahasa Indonesia and English, browser default first --------------------------------
LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Bahasa Indonesia")), ("en", _("English"))]
LOCALE_PATHS = [PLATFORM_DIR / "locale"]
USE_I18N = True
# Dates on pages and in emails in the person's language, never the ambiguous US 12/07/2026
# (config/formats/: "7 Desember 2026" in Indonesian, "7 December 2026" in English).
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "Asia/Jakarta"
USE_TZ = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- Static files (WhiteNoise) ----------------------------------------------------------------------
# The clinic app (PWA) built by `make pwa` into pwa/dist, served at /app/ of every clinic's host.
PWA_DIST = Path(env_str("PWA_DIST", str(ROOT_DIR / "pwa" / "dist")))

STATIC_URL = "/static/"
STATIC_ROOT = ROOT_DIR / "staticfiles"
STATICFILES_DIRS = [PLATFORM_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Email: the console in development, SMTP from the environment in production -------------------
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", default="Klinik Platform <no-reply@localhost>")
if env_str("EMAIL_HOST", required_in_production=True):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env_str("EMAIL_HOST")
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = env_str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")

# --- Support: whom a clinic's staff contact (a suspended clinic's page and API answer name it) ------
SUPPORT_EMAIL = env_str("SUPPORT_EMAIL", default=f"support@{PLATFORM_DOMAIN}")
SUPPORT_PHONE = env_str("SUPPORT_PHONE")

# --- API ---------------------------------------------------------------------------------------------
# The largest request body taken (413 above it). The app sends push batches of at most 256 KiB, and
# one mutation with every text field full is under 300 KB, so an honest device never reaches it.
DATA_UPLOAD_MAX_MEMORY_SIZE = 4 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "config.openapi.ClinicAutoSchema",
    "EXCEPTION_HANDLER": "config.api_errors.exception_handler",
    "DEFAULT_PARSER_CLASSES": ["config.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Klinik Platform API",
    "DESCRIPTION": "The clinic's JSON API, served at the clinic's own subdomain.",
    "VERSION": "0.1.0",
    # The schema describes the API, not the page that serves it (config/openapi.py adds the error replies).
    "SERVE_INCLUDE_SCHEMA": False,
    # One name each for the push statuses (a result's `status` and a duplicate's `original_status`) and
    # a visit's `status`, which would otherwise collide.
    "ENUM_NAME_OVERRIDES": {
        "PushStatusEnum": "sync.api.PUSH_STATUSES",
        "VisitStatusEnum": "records.models.Visit.Status",
        "SuspendedCodeEnum": ["clinic_suspended"],
    },
}

# --- Background work: Django's task interface (django-tasks), queued in each clinic's schema --------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# A task claimed by a worker that died is run again after this long (a send is idempotent).
TASK_LEASE_SECONDS = env_int("TASK_LEASE_SECONDS", 600)

# --- SATUSEHAT -------------------------------------------------------------------------------------
# The key clinics' SATUSEHAT client secrets are encrypted with (Fernet; several, comma-separated, to
# rotate: the first encrypts). Development derives one from SECRET_KEY.
SATUSEHAT_SECRET_KEYS = env_str("SATUSEHAT_SECRET_KEYS", required_in_production=True)
# Where SATUSEHAT lives, per environment (the tests point both at their stand-in).
SATUSEHAT_URLS = {
    "sandbox": {
        "auth": env_str("SATUSEHAT_SANDBOX_AUTH_URL", default="https://api-satusehat-stg.dto.kemkes.go.id/oauth2/v1"),
        "fhir": env_str("SATUSEHAT_SANDBOX_FHIR_URL", default="https://api-satusehat-stg.dto.kemkes.go.id/fhir-r4/v1"),
    },
    "production": {
        "auth": env_str("SATUSEHAT_AUTH_URL", default="https://api-satusehat.kemkes.go.id/oauth2/v1"),
        "fhir": env_str("SATUSEHAT_FHIR_URL", default="https://api-satusehat.kemkes.go.id/fhir-r4/v1"),
    },
}
SATUSEHAT_TIMEOUT_SECONDS = env_int("SATUSEHAT_TIMEOUT_SECONDS", 20)
# The first wait before a send is tried again (doubled each try, at most an hour).
SATUSEHAT_BACKOFF_SECONDS = env_int("SATUSEHAT_BACKOFF_SECONDS", 30)
# Where clinic exports are written until their link expires.
EXPORT_DIR = Path(env_str("EXPORT_DIR", default=str(ROOT_DIR / "var" / "exports")))
EXPORT_LINK_HOURS = env_int("EXPORT_LINK_HOURS", 24)

# --- Logging and errors -----------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
    },
}

SENTRY_DSN = env_str("SENTRY_DSN")
if SENTRY_DSN:
    from config.sentry import init_sentry

    init_sentry(SENTRY_DSN, environment="production" if PRODUCTION else "development")

if not PRODUCTION:
    import warnings

    # Development serves static files from the apps; staticfiles/ exists only after collectstatic.
    warnings.filterwarnings("ignore", message="No directory at")
    WHITENOISE_USE_FINDERS = True
