"""URLs of a clinic's subdomain: the clinic's pages, sign-in, and its JSON API."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from config import pwa
from config.views import email_management_disabled, healthz
from records.views import reports_page
from tenants.accounts.api import MeApi

urlpatterns = [
    path("", include("tenants.accounts.urls")),
    path("accounts/email/", email_management_disabled),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("reports/", reports_page, name="reports"),
    path("api/me/", MeApi.as_view(), name="api_me"),
    path("api/sync/", include("sync.urls")),
    path("api/", include("records.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", pwa.favicon, name="favicon"),
    path("app/", pwa.shell, name="pwa"),
    path("app/index.html", pwa.shell),
    path("app/sw.js", pwa.service_worker, name="pwa_sw"),
    path("app/manifest.webmanifest", pwa.manifest, name="pwa_manifest"),
    path("app/assets/<path:path>", pwa.asset),
    path("app/icons/<path:path>", pwa.icon),
]

handler500 = "config.resilience.server_error"
