"""config.fast_insert writes rows with COPY: every kind of value must come back as the ORM saves it."""

import datetime
import io
import json
import uuid
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from config import fast_insert
from config.fast_insert import insert_rows
from records.models import Patient, Revision, Visit, VitalSigns
from records.services import snapshot
from sync.models import Change
from tenants.accounts.models import Role, User

pytestmark = pytest.mark.django_db

TRICKY = "tab\there\r\nnew line, back\\slash, \\N, é 😀"


def _columns(instance: models.Model) -> dict[str, object]:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def _patient(user: User, number: str, **values: object) -> Patient:
    """An unsaved patient with every required value, record number `number`."""
    defaults = {"full_name": "Siti", "birth_date": datetime.date(1990, 1, 2), "sex": "F"}
    return Patient(
        id=uuid.uuid4(), medical_record_number=number, created_by=user, updated_by=user, **{**defaults, **values}
    )


def _saved_both_ways(make, key: str = "pk"):
    """The same row saved by the ORM and by insert_rows, each read back from the database (found by
    `key`: insert_rows does not return ids the database makes)."""
    by_orm, by_copy = make(), make()
    by_orm.save(force_insert=True)
    insert_rows(type(by_copy), [by_copy])
    model = type(by_orm)
    return (
        _columns(model.objects.get(**{key: getattr(by_orm, key)})),
        _columns(model.objects.get(**{key: getattr(by_copy, key)})),
        by_copy,
    )


@pytest.mark.filterwarnings("ignore:DateTimeField Visit.started_at received a naive datetime:RuntimeWarning")
def test_values_come_back_as_the_orm_saves_them(alpha):
    with schema_context(alpha.clinic.schema_name):
        user = User.objects.get(email=alpha.email(Role.DOCTOR))
        numbers = iter(range(10**6))
        orm, copied, instance = _saved_both_ways(
            lambda: _patient(user, f"FI-{next(numbers)}", full_name=TRICKY, address="\\N")
        )
        for row in (orm, copied):
            row.pop("id"), row.pop("medical_record_number"), row.pop("created_at"), row.pop("updated_at")
        assert copied == orm
        assert copied["full_name"] == TRICKY
        assert copied["address"] == "\\N"
        assert copied["voided_by_id"] is None
        assert instance.created_at is not None  # stamped on the instance, as pre_save does
        assert instance.created_at == instance.updated_at

        # A date field given an aware datetime stores its date in the platform's zone, as the ORM does.
        evening_utc = datetime.datetime(2026, 3, 2, 20, 0, tzinfo=datetime.UTC)  # 03:00 on the 3rd in Jakarta
        orm, copied, _ = _saved_both_ways(
            lambda: _patient(user, f"FI-{next(numbers)}", full_name=TRICKY, birth_date=evening_utc)
        )
        assert copied["birth_date"] == orm["birth_date"] == datetime.date(2026, 3, 3)

        patient = Patient.objects.get(full_name=TRICKY, medical_record_number="FI-1")
        naive = datetime.datetime(2026, 3, 2, 9, 30)  # the ORM makes it aware in the current time zone
        orm, copied, _ = _saved_both_ways(
            lambda: Visit(id=uuid.uuid4(), patient=patient, started_at=naive, created_by=user, updated_by=user)
        )
        assert copied["started_at"] == orm["started_at"] == timezone.make_aware(naive)
        jakarta = datetime.datetime.fromisoformat("2026-03-02T09:30:00+07:00")
        orm, copied, _ = _saved_both_ways(
            lambda: Visit(id=uuid.uuid4(), patient=patient, started_at=jakarta, created_by=user, updated_by=user)
        )
        assert copied["started_at"] == orm["started_at"] == jakarta

        visit = Visit.objects.filter(patient=patient).first()
        orm, copied, _ = _saved_both_ways(
            lambda: VitalSigns(
                id=uuid.uuid4(),
                visit=visit,
                measured_at=timezone.now(),
                temperature_c=Decimal("37.2"),
                pulse=80,
                created_by=user,
                updated_by=user,
            )
        )
        assert copied["temperature_c"] == orm["temperature_c"] == Decimal("37.2")
        assert copied["pulse"] == orm["pulse"] == 80

        after = {**snapshot(patient), "note": TRICKY, "nested": {"list": [1, None, True, "\t"]}}
        orm, copied, _ = _saved_both_ways(
            lambda: Revision(
                entity="patient",
                record_id=uuid.uuid4(),
                version=1,
                action=Revision.Action.CREATE,
                user=user,
                device_id="dev",
                before=None,
                after=after,
                reason=TRICKY,
            ),
            key="record_id",
        )
        assert copied["after"] == orm["after"] == after
        assert copied["before"] is None
        assert orm["before"] is None
        assert copied["reason"] == TRICKY

        seq = iter(range(10**9, 10**9 + 10))
        for voided in (True, False):  # both booleans: a converter writing one of them always fails here
            orm, copied, _ = _saved_both_ways(
                lambda voided=voided: Change(
                    entity="patient", record_id=uuid.uuid4(), seq=next(seq), version=3, voided=voided
                ),
                key="seq",
            )
            for column in ("id", "record_id", "seq"):
                orm.pop(column)
                copied.pop(column)
            assert copied == orm == {"entity": "patient", "version": 3, "voided": voided}


def test_a_nul_character_is_refused_rather_than_cut(alpha):
    with schema_context(alpha.clinic.schema_name):
        user = User.objects.get(email=alpha.email(Role.DOCTOR))
        with pytest.raises(ValueError, match="NUL"):
            insert_rows(Patient, [_patient(user, "FI-NUL", full_name="a\x00b")])


def test_a_clash_raises_djangos_integrity_error(alpha):
    """Callers catch django.db.IntegrityError (as from the ORM), not the driver's own exception."""
    with schema_context(alpha.clinic.schema_name):
        user = User.objects.get(email=alpha.email(Role.DOCTOR))
        patient = _patient(user, "FI-CLASH")
        patient.save(force_insert=True)
        with pytest.raises(IntegrityError), transaction.atomic():
            insert_rows(Patient, [patient])


def test_json_from_an_encoder_that_writes_raw_newlines_is_still_read_whole():
    """JSON is copied with only its backslashes escaped, unless its text holds raw control characters."""

    class Indented(json.JSONEncoder):
        def __init__(self, **kwargs: object) -> None:
            super().__init__(**{**kwargs, "indent": 2})

    value = {"note": TRICKY, "list": [1, None, "\t"]}
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE fi_json (value jsonb)")
        for encoder in (None, Indented):
            text = fast_insert._json(value, encoder)
            cursor.cursor.copy_expert("COPY fi_json (value) FROM STDIN", io.StringIO(text + "\n"))
        cursor.execute("SELECT value::text FROM fi_json")
        assert [json.loads(row[0]) for row in cursor.fetchall()] == [value, value]


def test_a_date_stamped_on_save_is_todays_date_as_the_orm_sets_it():
    """Only datetimes share the one stamp of an insert; a date field stamped on save gets today's date
    from Django's own `pre_save`, set on the instance too (no model has one yet)."""
    field = models.DateField(auto_now=True)
    field.set_attributes_from_name("day")
    instance = SimpleNamespace()
    now = timezone.now()
    text = fast_insert._converter(field)(instance, (now, now.isoformat()))
    assert text == instance.day.isoformat() == datetime.date.today().isoformat()
