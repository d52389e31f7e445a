"""URLs of the clinical record API (under /api/ at a clinic's host)."""

from django.urls import path

from records import api, report_api

PLURALS = {
    "patient": "patients",
    "visit": "visits",
    "vitals": "vitals",
    "diagnosis": "diagnoses",
    "prescription": "prescriptions",
}

urlpatterns = [
    path("patients/", api.PatientListApi.as_view(), name="api_patients"),
    path("patients/<str:record_id>/chart/", api.PatientChartApi.as_view(), name="api_patient_chart"),
    path("audit/", api.AuditApi.as_view(), name="api_audit"),
    path("icd10/", api.Icd10SearchApi.as_view(), name="api_icd10"),
    path("reports/visits/", report_api.VisitsReportApi.as_view(), name="api_report_visits"),
    path("reports/morbidity/", report_api.MorbidityReportApi.as_view(), name="api_report_morbidity"),
    path("reports/top/", report_api.TopReportApi.as_view(), name="api_report_top"),
]
for entity, plural in PLURALS.items():
    views = api.kind_views(entity)
    if entity != "patient":
        urlpatterns.append(path(f"{plural}/", views["create"].as_view(), name=f"api_{entity}_create"))
    urlpatterns += [
        path(f"{plural}/<str:record_id>/", views["detail"].as_view(), name=f"api_{entity}"),
        path(f"{plural}/<str:record_id>/void/", views["void"].as_view(), name=f"api_{entity}_void"),
        path(f"{plural}/<str:record_id>/revisions/", views["revisions"].as_view(), name=f"api_{entity}_revisions"),
    ]
