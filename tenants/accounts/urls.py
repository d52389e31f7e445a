"""URLs of a clinic's account pages."""

from django.urls import path

from tenants.accounts import views

urlpatterns = [
    path("", views.home, name="home"),
    path("staff/", views.staff, name="staff"),
    path("staff/<int:user_id>/active/", views.staff_set_active, name="staff_set_active"),
    path("staff/<int:user_id>/role/", views.staff_role, name="staff_role"),
    path("staff/invitations/<int:invitation_id>/resend/", views.invitation_resend, name="invitation_resend"),
    path("staff/invitations/<int:invitation_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("staff/security/", views.security, name="clinic_security"),
    path("settings/", views.clinic_settings, name="clinic_settings"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
]
