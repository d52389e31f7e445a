"""FHIR R4 read endpoints for the clinic's own staff (GET /api/fhir/...)."""

urlpatterns: list = []
