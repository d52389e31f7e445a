"""URLs of the operator console (apex domain only)."""

from django.urls import path

from console import views

app_name = "console"
urlpatterns = [
    path("", views.clinic_list, name="clinics"),
    path("clinics/<int:clinic_id>/", views.clinic_page, name="clinic"),
    path("clinics/<int:clinic_id>/suspend/", views.clinic_suspend_confirm, name="clinic_suspend"),
    path("clinics/<int:clinic_id>/status/", views.clinic_status, name="clinic_status"),
]
