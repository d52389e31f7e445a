"""URLs of a clinic's subdomain: the clinic's pages, sign-in, and its JSON API."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from config.views import email_management_disabled, healthz
from tenants.accounts.api import MeApi

urlpatterns = [
    path("", include("tenants.accounts.urls")),
    path("accounts/email/", email_management_disabled),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/me/", MeApi.as_view(), name="api_me"),
    path("api/sync/", include("sync.urls")),
    path("api/", include("records.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("healthz", healthz, name="healthz"),
]
