"""The owner's SATUSEHAT pages: connection, failures, drug codes, exports."""

urlpatterns: list = []
