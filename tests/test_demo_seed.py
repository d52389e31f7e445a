"""`make run`'s demo: the clinics come with their letterhead, SIP numbers, today's queue and a display
link that works, and running it again adds nothing twice."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tenants.utils import schema_context

from records.models import Visit
from tenants.accounts.models import User
from tenants.management.commands import seed_demo
from tenants.models import Clinic
from tests.conftest import host_client

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_letterhead_a_queue_and_a_display_link(alpha, monkeypatch):
    monkeypatch.setattr(seed_demo, "DEMO_PATIENTS", 8)
    monkeypatch.setattr(seed_demo, "DEMO_VISITS", 10)
    out = StringIO()
    call_command("seed_demo", stdout=out)
    clinic = Clinic.objects.get(subdomain="demo")
    assert clinic.licence_number == seed_demo.DEMO_DETAILS["licence_number"]
    with schema_context(clinic.schema_name):
        assert User.objects.get(email="doctor@demo.test").sip_number.startswith("446/SIP")
        today = Visit.objects.filter(queue_day=timezone.localdate()).order_by("queue_number")
        assert list(today.values_list("queue_number", flat=True)) == [1, 2, 3, 4, 5]
        assert today.filter(called_at__isnull=False).count() == 1
    path = re.search(r"http://demo\.localhost(?::\d+)?(/display/[^/\s]+/)", out.getvalue()).group(1)
    calls = host_client("demo.localhost").get(path + "calls/").json()["calls"]
    assert [call["number"] for call in calls] == [1]

    call_command("seed_demo", stdout=StringIO())  # again: the same queue, a new link
    with schema_context(clinic.schema_name):
        assert Visit.objects.filter(queue_day=timezone.localdate()).count() == 5
    assert host_client("demo.localhost").get(path + "calls/").status_code == 404
