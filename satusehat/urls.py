"""The owner's SATUSEHAT pages (connection, failures, drug codes, exports) and the app's read of visits'
send states, under /satusehat/ at a clinic's host."""

from django.urls import path

from satusehat import status_api, views

urlpatterns = [
    path("", views.connection_page, name="satusehat"),
    path("test/", views.connection_test, name="satusehat_test"),
    path("failures/", views.failures_page, name="satusehat_failures"),
    path("failures/retry/", views.failures_retry, name="satusehat_retry"),
    path("kfa/", views.kfa_page, name="satusehat_kfa"),
    path("export/", views.export_page, name="satusehat_export"),
    path("export/<uuid:export_id>/link/", views.export_new_link, name="satusehat_export_link"),
    path("export/<uuid:export_id>/download/<str:token>/", views.export_download, name="satusehat_export_download"),
    path("api/visits/", status_api.VisitStatesApi.as_view(), name="api_satusehat_visits"),
]
