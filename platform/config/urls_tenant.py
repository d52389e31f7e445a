"""URLs of a clinic's subdomain: the clinic's pages, sign-in, and its JSON API."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from config import pwa
from config.views import email_management_disabled, healthz
from records import audit_views, queue_views
from records.views import reports_page
from sync import views as sync_views
from tenants.accounts.api import MeApi

urlpatterns = [
    path("", include("tenants.accounts.urls")),
    path("accounts/email/", email_management_disabled),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("reports/", reports_page, name="reports"),
    path("devices/", sync_views.devices_page, name="devices"),
    path("devices/<str:device_id>/revoke/", sync_views.device_revoke, name="device_revoke"),
    path("audit/", audit_views.audit_page, name="audit"),
    path("audit/export.csv", audit_views.audit_export, name="audit_export"),
    path("queue/displays/", queue_views.display_links_page, name="queue_display_links"),
    path("queue/displays/<int:link_id>/revoke/", queue_views.display_link_revoke, name="queue_display_link_revoke"),
    path("display/<str:token>/", queue_views.display_page, name="queue_display"),
    path("display/<str:token>/calls/", queue_views.display_calls, name="queue_display_calls"),
    path("api/me/", MeApi.as_view(), name="api_me"),
    path("api/sync/", include("sync.urls")),
    path("api/fhir/", include("satusehat.fhir_urls")),
    path("satusehat/", include("satusehat.urls")),
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
