"""URLs of the apex domain: landing, clinic signup, operator sign-in, console and admin."""

from django.contrib import admin
from django.urls import include, path

from config.views import healthz
from tenants import views as tenant_views

urlpatterns = [
    path("", tenant_views.landing, name="landing"),
    path("signup/", tenant_views.signup, name="clinic_signup"),
    path("console/", include("console.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", healthz, name="healthz"),
]
