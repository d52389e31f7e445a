"""URLs of a clinic's account pages."""

from django.urls import path

from tenants.accounts import views

urlpatterns = [
    path("", views.home, name="home"),
    path("staff/", views.staff, name="staff"),
    path("staff/<int:user_id>/active/", views.staff_set_active, name="staff_set_active"),
    path("staff/security/", views.security, name="clinic_security"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
]
