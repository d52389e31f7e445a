"""The clinic's background tasks (django-tasks, database backend: queued in the clinic's own schema and
run by `manage.py run_worker`, which sets the schema before running them)."""

import uuid

from django_tasks import task


@task()
def send_visit(visit_id: str) -> str:
    """Send one visit to SATUSEHAT (or its amendment); the outcome is kept on its `VisitSend`."""
    from satusehat.sender import send_visit as send

    return send(uuid.UUID(visit_id))


@task()
def make_export(export_id: str) -> str:
    """Build a whole-clinic export (a zip), reporting progress on its `Export` row."""
    from satusehat.export import build_export_once

    return build_export_once(uuid.UUID(export_id))
