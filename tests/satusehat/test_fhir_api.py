"""The FHIR read API (GET /api/fhir/...): every route for every role, refusals as OperationOutcome, one clinic's
records never seen at another's host, hostile input answered 4xx, clinical reads logged like a chart opening."""

import urllib.parse
from dataclasses import dataclass

import pytest
import yaml
from django_tenants.utils import schema_context
from fhir.resources.R4B import get_fhir_model_class

from records.models import ChartAccess
from tenants.accounts.models import Role
from tests.conftest import host_client, login
from tests.satusehat.factories import FinishedVisit, make_finished_visit

pytestmark = pytest.mark.django_db

FHIR_JSON = "application/fhir+json"
NIK_SYSTEM = "https://fhir.kemkes.go.id/id/nik"


@dataclass(frozen=True)
class Route:
    name: str
    path: str
    clinical: bool
    resource_type: str  # what a 200 answers


def routes(fv: FinishedVisit) -> list[Route]:
    patient, visit, vitals = fv.patient.pk, fv.visit.pk, fv.vitals.pk
    diagnosis, prescription = fv.diagnoses[0].pk, fv.prescriptions[0].pk
    return [
        Route("Patient read", f"/api/fhir/Patient/{patient}", False, "Patient"),
        Route("Patient by NIK", f"/api/fhir/Patient?identifier={NIK_SYSTEM}|3174015708900003", False, "Bundle"),
        Route("Encounter read", f"/api/fhir/Encounter/{visit}", False, "Encounter"),
        Route("Encounter by patient", f"/api/fhir/Encounter?patient={patient}", False, "Bundle"),
        Route("Condition read", f"/api/fhir/Condition/{diagnosis}", True, "Condition"),
        Route("Condition by encounter", f"/api/fhir/Condition?encounter={visit}", True, "Bundle"),
        Route("Condition by patient", f"/api/fhir/Condition?patient={patient}", True, "Bundle"),
        Route("Observation read", f"/api/fhir/Observation/{vitals}:8310-5", True, "Observation"),
        Route("Observation read (FHIR id)", f"/api/fhir/Observation/{vitals}-29463-7", True, "Observation"),
        Route("Observation by encounter", f"/api/fhir/Observation?encounter={visit}", True, "Bundle"),
        Route("Observation by patient", f"/api/fhir/Observation?patient=Patient/{patient}", True, "Bundle"),
        Route("MedicationRequest read", f"/api/fhir/MedicationRequest/{prescription}", True, "MedicationRequest"),
        Route("MedicationRequest by encounter", f"/api/fhir/MedicationRequest?encounter={visit}", True, "Bundle"),
        Route("MedicationRequest by patient", f"/api/fhir/MedicationRequest?patient={patient}", True, "Bundle"),
        Route("Medication read", f"/api/fhir/Medication/{prescription}", True, "Medication"),
    ]


def get(client, path: str, **headers):
    return client.get(path, HTTP_ACCEPT_LANGUAGE="en", **headers)


def outcome_text(response) -> str:
    body = response.json()
    assert body["resourceType"] == "OperationOutcome", body
    (issue,) = body["issue"]
    assert issue["severity"] == "error"
    return issue["details"]["text"]


def assert_valid_r4(body: dict) -> None:
    get_fhir_model_class(body["resourceType"]).model_validate(body)


@pytest.fixture
def clients(alpha):
    cache = {}

    def make(role: str):
        if role not in cache:
            cache[role] = login(alpha.host, alpha.email(role))
        return cache[role]

    return make


@pytest.mark.parametrize("role", [Role.OWNER, Role.DOCTOR, Role.NURSE, Role.FRONT_DESK])
def test_every_route_for_every_role(alpha, finished_visit, clients, role):
    client = clients(role)
    for route in routes(finished_visit):
        response = get(client, route.path)
        assert response["Content-Type"] == FHIR_JSON, route.name
        if route.clinical and role == Role.FRONT_DESK:
            assert response.status_code == 403, route.name
            assert outcome_text(response) == "Your role cannot see this part of the record.", route.name
            continue
        assert response.status_code == 200, (route.name, response.content[:500])
        body = response.json()
        assert body["resourceType"] == route.resource_type, route.name
        assert_valid_r4(body)
        if body["resourceType"] == "Bundle":
            assert body["type"] == "searchset"
            assert body["total"] == len(body["entry"]) > 0, route.name
            for entry in body["entry"]:
                assert entry["fullUrl"].startswith(f"http://{alpha.host}/api/fhir/")
                assert entry["fullUrl"].endswith(f"/{entry['resource']['resourceType']}/{entry['resource']['id']}")


def test_a_read_answers_the_record_with_its_id_and_version(finished_visit, clients):
    fv = finished_visit
    doctor = clients(Role.DOCTOR)
    encounter = get(doctor, f"/api/fhir/Encounter/{fv.visit.pk}").json()
    assert encounter["id"] == str(fv.visit.pk)
    assert encounter["meta"]["versionId"] == str(fv.visit.version)
    assert encounter["status"] == "finished"
    assert encounter["subject"]["reference"] == f"Patient/{fv.patient.pk}"
    observation = get(doctor, f"/api/fhir/Observation/{fv.vitals.pk}:8310-5").json()
    assert observation["id"] == f"{fv.vitals.pk}-8310-5"
    assert observation["valueQuantity"] == {
        "value": 37.8,
        "unit": "°C",
        "system": "http://unitsofmeasure.org",
        "code": "Cel",
    }
    medication_request = get(doctor, f"/api/fhir/MedicationRequest/{fv.prescriptions[1].pk}").json()
    reference = medication_request["medicationReference"]["reference"]
    medication = get(doctor, f"/api/fhir/{reference}").json()  # the reference resolves in this API
    assert medication["code"]["text"] == "Paracetamol 500 mg"


def test_the_searches_find_what_they_name(finished_visit, clients, alpha):
    fv = finished_visit
    other = make_finished_visit(
        alpha,
        patient={"full_name": "Budi Santoso", "nik": "3174010901750001", "sex": "M", "birth_date": "1975-01-09"},
        diagnoses=[{"code": "I10"}],
    )
    doctor = clients(Role.DOCTOR)

    def ids(path: str) -> set[str]:
        return {entry["resource"]["id"] for entry in get(doctor, path).json()["entry"]}

    assert ids(f"/api/fhir/Patient?identifier={NIK_SYSTEM}|3174015708900003") == {str(fv.patient.pk)}
    mrn = other.patient.medical_record_number
    assert ids(f"/api/fhir/Patient?identifier=urn:klinik:mrn|{mrn}") == {str(other.patient.pk)}
    assert ids("/api/fhir/Patient?identifier=3174010901750001") == {str(other.patient.pk)}  # no system: either
    assert ids(f"/api/fhir/Patient?identifier={NIK_SYSTEM}|3174015708900099") == set()
    assert ids(f"/api/fhir/Encounter?patient=Patient/{fv.patient.pk}") == {str(fv.visit.pk)}
    assert ids(f"/api/fhir/Condition?patient={other.patient.pk}") == {str(other.diagnoses[0].pk)}
    assert ids(f"/api/fhir/Condition?encounter={fv.visit.pk}") == {str(d.pk) for d in fv.diagnoses}
    assert ids(f"/api/fhir/Condition?patient={other.patient.pk}&encounter={fv.visit.pk}") == set()
    assert len(ids(f"/api/fhir/Observation?encounter=Encounter/{fv.visit.pk}")) == 8
    assert ids(f"/api/fhir/MedicationRequest?encounter={other.visit.pk}") == {str(p.pk) for p in other.prescriptions}


def test_a_voided_diagnosis_is_returned_entered_in_error(finished_visit, clients):
    voided = finished_visit.diagnoses[1]
    body = get(clients(Role.NURSE), f"/api/fhir/Condition/{voided.pk}").json()
    assert body["verificationStatus"]["coding"][0]["code"] == "entered-in-error"
    assert "clinicalStatus" not in body
    bundle = get(clients(Role.NURSE), f"/api/fhir/Condition?encounter={finished_visit.visit.pk}").json()
    assert {entry["resource"]["id"] for entry in bundle["entry"]} == {str(d.pk) for d in finished_visit.diagnoses}


def test_clinical_reads_are_logged_as_chart_openings(alpha, finished_visit, clients):
    fv = finished_visit
    doctor = clients(Role.DOCTOR)

    def openings() -> list[tuple]:
        with schema_context(alpha.clinic.schema_name):
            return list(ChartAccess.objects.order_by("id").values_list("patient_id", "user__email", "device_id"))

    before = openings()
    get(doctor, f"/api/fhir/Encounter/{fv.visit.pk}")
    get(doctor, f"/api/fhir/Patient/{fv.patient.pk}")
    assert openings() == before  # no clinical content: not a chart opening
    get(doctor, f"/api/fhir/Condition?encounter={fv.visit.pk}", HTTP_X_DEVICE_ID="tablet-poli-1")
    get(doctor, f"/api/fhir/Observation/{fv.vitals.pk}-8310-5")
    get(doctor, f"/api/fhir/MedicationRequest?patient={fv.patient.pk}")
    email = alpha.email(Role.DOCTOR)
    assert openings()[len(before) :] == [
        (fv.patient.pk, email, "tablet-poli-1"),
        (fv.patient.pk, email, ""),
        (fv.patient.pk, email, ""),
    ]
    get(clients(Role.FRONT_DESK), f"/api/fhir/Condition?encounter={fv.visit.pk}")  # refused: not logged
    assert len(openings()) == len(before) + 3


def test_not_signed_in_is_refused_everywhere(alpha, finished_visit):
    anonymous = host_client(alpha.host)
    for route in routes(finished_visit):
        response = get(anonymous, route.path)
        assert response.status_code in (401, 403), route.name
        assert response["Content-Type"] == FHIR_JSON
        assert outcome_text(response)
        assert "Siti" not in response.content.decode()


def test_another_clinics_host_never_sees_these_records(alpha, beta, finished_visit):
    beta_doctor = login(beta.host, beta.email(Role.DOCTOR))
    for route in routes(finished_visit):
        response = get(beta_doctor, route.path)
        if route.resource_type == "Bundle":
            assert response.status_code == 200, route.name
            assert response.json()["total"] == 0, route.name
        else:
            assert response.status_code == 404, route.name
            assert outcome_text(response) == "Nothing with this id at this clinic."
        assert "Siti" not in response.content.decode()
    # and alpha's own session means nothing at beta's host
    alpha_doctor = login(alpha.host, alpha.email(Role.DOCTOR))
    response = alpha_doctor.get(f"/api/fhir/Patient/{finished_visit.patient.pk}", HTTP_HOST=beta.host)
    assert response.status_code in (401, 403)


def test_an_unknown_id_is_404_as_an_operation_outcome(finished_visit, clients):
    doctor = clients(Role.DOCTOR)
    unknown = "0b7e0000-0000-4000-8000-000000000000"
    for kind in ("Patient", "Encounter", "Condition", "MedicationRequest", "Medication"):
        response = get(doctor, f"/api/fhir/{kind}/{unknown}")
        assert response.status_code == 404, kind
        assert outcome_text(response) == "Nothing with this id at this clinic."
        assert response.json()["issue"][0]["code"] == "not-found"
    assert get(doctor, f"/api/fhir/Observation/{unknown}-8310-5").status_code == 404
    # a sign that was not measured has no Observation
    no_spo2 = make_finished_visit(finished_visit.clinic, vitals={"spo2": None})
    assert get(doctor, f"/api/fhir/Observation/{no_spo2.vitals.pk}-59408-5").status_code == 404


JUNK = [
    "junk",
    "😀",
    "x" * 5000,
    "%00",
    "0b7e0000-0000-4000-8000-00000000000Z",
    "' OR 1=1 --",
    "..%2F..%2Fetc%2Fpasswd",
    "%F0%9F%98%80%ED%A0%80",
    "Patient/😀",
]


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.FRONT_DESK])
def test_junk_ids_and_parameters_are_4xx_never_500(finished_visit, clients, role):
    client = clients(role)
    visit = finished_visit.visit.pk
    paths = []
    for value in JUNK:
        for kind in ("Patient", "Encounter", "Condition", "Observation", "MedicationRequest", "Medication"):
            paths.append(f"/api/fhir/{kind}/{value}")
        paths += [
            f"/api/fhir/Patient?identifier={value}",
            f"/api/fhir/Patient?identifier={urllib.parse.quote(NIK_SYSTEM)}|{value}",
            f"/api/fhir/Encounter?patient={value}",
            f"/api/fhir/Condition?patient={value}",
            f"/api/fhir/Observation?encounter={value}",
            f"/api/fhir/MedicationRequest?encounter={value}&patient={value}",
            f"/api/fhir/Condition?{value}=1",
        ]
    paths += [
        "/api/fhir/Condition",
        "/api/fhir/Patient",
        "/api/fhir/Patient?identifier=",
        "/api/fhir/Patient?identifier=http://example.org/mrn|1",
        f"/api/fhir/Condition?encounter={visit}&encounter={visit}",
        f"/api/fhir/Observation/{finished_visit.vitals.pk}:1234-5",
        f"/api/fhir/Observation/{finished_visit.vitals.pk}",
        f"/api/fhir/Encounter?patient={visit}&_format=xml",
    ]
    for path in paths:
        response = get(client, path)
        if response.status_code == 200 and "identifier=" in path:  # a value no patient has: found none
            assert response.json()["total"] == 0, path[:120]
            continue
        assert 400 <= response.status_code < 500, (path[:120], response.status_code)
        assert response["Content-Type"] == FHIR_JSON, path[:120]
        assert outcome_text(response), path[:120]


def test_the_reply_is_fhir_json_whatever_is_asked(finished_visit, clients):
    doctor = clients(Role.DOCTOR)
    for accept in ("application/xml", "text/html", "application/json", "*/*", "application/fhir+xml"):
        response = get(doctor, f"/api/fhir/Patient/{finished_visit.patient.pk}", HTTP_ACCEPT=accept)
        assert response.status_code == 200, accept
        assert response["Content-Type"] == FHIR_JSON


def test_a_bad_id_says_what_to_send_in_indonesian_too(finished_visit, clients):
    response = clients(Role.DOCTOR).get("/api/fhir/Condition/bukan-uuid", HTTP_ACCEPT_LANGUAGE="id")
    assert response.status_code == 400
    assert outcome_text(response) == "id: Id tidak valid: gunakan UUID catatannya."


def test_the_operations_are_in_the_openapi_schema(clients):
    schema = yaml.safe_load(clients(Role.DOCTOR).get("/api/schema/").content)
    paths = schema["paths"]
    for path in (
        "/api/fhir/Patient",
        "/api/fhir/Patient/{resource_id}",
        "/api/fhir/Encounter/{resource_id}",
        "/api/fhir/Condition",
        "/api/fhir/Observation/{resource_id}",
        "/api/fhir/MedicationRequest",
        "/api/fhir/Medication/{resource_id}",
    ):
        responses = paths[path]["get"]["responses"]
        assert FHIR_JSON in responses["200"]["content"], path
        assert FHIR_JSON in responses["403"]["content"], path
        assert "application/json" in responses["403"]["content"], path  # the platform's own refusals
        assert FHIR_JSON in responses["404"]["content"], path
