"""URLs of the apex domain: landing, clinic signup, operator sign-in, console and admin."""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from config import pwa
from config.views import email_management_disabled, healthz
from tenants import views as tenant_views

# The admin's own login form would skip two-factor and rate limits: send it through allauth's.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", tenant_views.landing, name="landing"),
    path("signup/", tenant_views.signup, name="clinic_signup"),
    path("console/", include("console.urls")),
    path("admin/", admin.site.urls),
    path("accounts/email/", email_management_disabled),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", pwa.favicon, name="favicon"),
]

handler500 = "config.resilience.server_error"
