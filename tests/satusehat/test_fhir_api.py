"""The FHIR read API (GET /api/fhir/...): every route for every role, refusals as OperationOutcome, one clinic's
records never seen at another's host, hostile input answered 4xx, clinical reads logged like a chart opening."""

import json
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
    "%C2%A8%0AYK%5CK",  # a line break in the id (found by schemathesis): no route matched, HTML came back
    "a%0A",
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


# --- _format and _count ------------------------------------------------------------------------------

JSON_FORMATS = [
    "json",
    "JSON",
    "application/json",
    "application/fhir+json",
    "application/fhir%2Bjson",
    "application/fhir+json;%20fhirVersion=4.0",
]


def test_format_json_is_served_and_any_other_is_406(finished_visit, clients):
    fv = finished_visit
    doctor = clients(Role.DOCTOR)
    paths = [f"/api/fhir/Patient/{fv.patient.pk}", f"/api/fhir/Condition?encounter={fv.visit.pk}"]
    for path in paths:
        for value in JSON_FORMATS:  # an unescaped "+" reads as a space: taken as meant
            response = get(doctor, f"{path}{'&' if '?' in path else '?'}_format={value}")
            assert response.status_code == 200, (path, value)
            assert response["Content-Type"] == FHIR_JSON
        for value in ("xml", "application/fhir+xml", "text/html", "ttl", "", "json2"):
            response = get(doctor, f"{path}{'&' if '?' in path else '?'}_format={value}")
            assert response.status_code == 406, (path, value)
            assert response["Content-Type"] == FHIR_JSON
            assert outcome_text(response) == (
                "Only JSON is served here: use _format=json or _format=application/fhir+json, or leave it out."
            )
            assert response.json()["issue"][0]["code"] == "not-supported"
    twice = get(doctor, f"/api/fhir/Patient/{fv.patient.pk}?_format=json&_format=json")
    assert twice.status_code == 400
    assert outcome_text(twice) == "_format: Give this parameter once."


def test_format_changes_no_role_rule(alpha, finished_visit, clients):
    visit = finished_visit.visit.pk
    front_desk = get(clients(Role.FRONT_DESK), f"/api/fhir/Condition?encounter={visit}&_format=xml")
    assert front_desk.status_code == 403  # the role is refused first, whatever format it asks for
    anonymous = get(host_client(alpha.host), f"/api/fhir/Patient/{finished_visit.patient.pk}?_format=json")
    assert anonymous.status_code in (401, 403)
    assert "Siti" not in anonymous.content.decode()


def _follow(client, path: str) -> tuple[list[dict], list[dict]]:
    """Every page of a search from `path`: the pages' bodies and all their entries."""
    pages, entries = [], []
    url = path
    while url:
        body = get(client, url).json()
        pages.append(body)
        entries += body["entry"]
        url = next((link["url"] for link in body["link"] if link["relation"] == "next"), None)
    return pages, entries


def test_count_pages_a_search_and_total_counts_every_match(alpha, finished_visit, clients):
    fv = finished_visit
    doctor = clients(Role.DOCTOR)
    everything = get(doctor, f"/api/fhir/Observation?encounter={fv.visit.pk}").json()
    assert everything["total"] == len(everything["entry"]) == 8
    assert [link["relation"] for link in everything["link"]] == ["self"]
    pages, entries = _follow(doctor, f"/api/fhir/Observation?encounter={fv.visit.pk}&_count=3")
    assert [len(page["entry"]) for page in pages] == [3, 3, 2]
    assert all(page["total"] == 8 for page in pages)
    assert [e["resource"]["id"] for e in entries] == [e["resource"]["id"] for e in everything["entry"]]
    second = pages[1]
    links = {link["relation"]: link["url"] for link in second["link"]}
    assert set(links) == {"self", "next", "previous"}
    assert links["next"].startswith(f"http://{alpha.host}/api/fhir/Observation?")
    assert "_offset=6" in links["next"]
    assert "_count=3" in links["next"]
    assert "_offset=0" in links["previous"]
    for page in pages:
        assert_valid_r4(page)
    beyond = get(doctor, f"/api/fhir/Observation?encounter={fv.visit.pk}&_offset=50").json()
    assert (beyond["total"], beyond["entry"]) == (8, [])


def test_count_is_capped_at_the_page_size(finished_visit, clients, monkeypatch):
    from satusehat import fhir_api

    monkeypatch.setattr(fhir_api, "MAX_COUNT", 5)
    doctor = clients(Role.DOCTOR)
    path = f"/api/fhir/Observation?encounter={finished_visit.visit.pk}"
    for query in ("", "&_count=1000", "&_count=999999999"):
        body = get(doctor, path + query).json()
        assert (len(body["entry"]), body["total"]) == (5, 8), query
        assert any(link["relation"] == "next" for link in body["link"])


@pytest.mark.parametrize(
    "query",
    ["_count=0", "_count=-1", "_count=abc", "_count=1.5", "_count=", "_count=%D9%A3", "_count=" + "9" * 20],
)
def test_a_bad_count_is_400(finished_visit, clients, query):
    response = get(clients(Role.DOCTOR), f"/api/fhir/Encounter?patient={finished_visit.patient.pk}&{query}")
    assert response.status_code == 400
    assert outcome_text(response) == "_count: Give a whole number of 1 or more (a page holds at most 100)."


def test_a_bad_offset_or_a_repeated_count_is_400(finished_visit, clients):
    doctor = clients(Role.DOCTOR)
    path = f"/api/fhir/Patient?identifier={NIK_SYSTEM}|3174015708900003"
    response = get(doctor, f"{path}&_offset=-1")
    assert response.status_code == 400
    assert outcome_text(response) == "_offset: Give a whole number of 0 or more."
    response = get(doctor, f"{path}&_count=2&_count=3")
    assert response.status_code == 400
    assert outcome_text(response) == "_count: Give this parameter once."


def test_format_and_count_are_in_the_openapi_schema(clients):
    schema = yaml.safe_load(clients(Role.DOCTOR).get("/api/schema/").content)
    search = {p["name"] for p in schema["paths"]["/api/fhir/Condition"]["get"]["parameters"]}
    assert {"_format", "_count", "_offset", "patient", "encounter"} <= search
    read = {p["name"] for p in schema["paths"]["/api/fhir/Patient/{resource_id}"]["get"]["parameters"]}
    assert "_format" in read
    assert FHIR_JSON in schema["paths"]["/api/fhir/Patient/{resource_id}"]["get"]["responses"]["406"]["content"]


# --- what the mapping adds -------------------------------------------------------------------------------


def test_the_encounter_lists_its_diagnoses_as_bare_references_for_clinical_readers_only(alpha, finished_visit, clients):
    fv = finished_visit
    primary = fv.diagnoses[0]  # A09; J06.9 was voided
    for role in (Role.OWNER, Role.DOCTOR, Role.NURSE):
        encounter = get(clients(role), f"/api/fhir/Encounter/{fv.visit.pk}").json()
        (entry,) = encounter["diagnosis"]
        # No diagnosis name: the Encounter stays free of clinical content (the Condition tells it, logged).
        assert entry["condition"] == {"reference": f"Condition/{primary.pk}"}, role
        assert (entry["rank"], entry["use"]["coding"][0]["code"]) == (1, "DD")
        assert_valid_r4(encounter)
        condition = get(clients(role), f"/api/fhir/{entry['condition']['reference']}")
        assert condition.status_code == 200  # the reference resolves in this API
    front_desk = clients(Role.FRONT_DESK)
    encounter = get(front_desk, f"/api/fhir/Encounter/{fv.visit.pk}").json()
    assert "diagnosis" not in encounter
    bundle = get(front_desk, f"/api/fhir/Encounter?patient={fv.patient.pk}").json()
    assert all("diagnosis" not in entry["resource"] for entry in bundle["entry"])
    assert primary.title not in json.dumps(get(clients(Role.DOCTOR), f"/api/fhir/Encounter/{fv.visit.pk}").json())


def test_the_medication_keeps_its_profile_beside_its_version(finished_visit, clients):
    prescription = finished_visit.prescriptions[0]
    medication = get(clients(Role.DOCTOR), f"/api/fhir/Medication/{prescription.pk}").json()
    assert medication["meta"]["profile"] == ["https://fhir.kemkes.go.id/r4/StructureDefinition/Medication"]
    assert medication["meta"]["versionId"] == str(prescription.version)
    assert medication["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "NC"
    assert_valid_r4(medication)
    request = get(clients(Role.DOCTOR), f"/api/fhir/MedicationRequest/{prescription.pk}").json()
    assert {"system": "http://sys-ids.kemkes.go.id/prescription-item/alpha", "value": str(prescription.pk)} in (
        request["identifier"]
    )
