"""URLs of the sync protocol (under /api/sync/ at a clinic's host)."""

from django.urls import path

from sync import api

urlpatterns = [
    path("push", api.PushApi.as_view(), name="sync_push"),
    path("pull", api.PullApi.as_view(), name="sync_pull"),
    path("devices/", api.DeviceListApi.as_view(), name="sync_devices"),
    path("devices/<str:device_id>/revoke/", api.DeviceRevokeApi.as_view(), name="sync_device_revoke"),
]
