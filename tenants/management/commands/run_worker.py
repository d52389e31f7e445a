"""`manage.py run_worker`: run every clinic's background tasks (SATUSEHAT sends, exports).

Each clinic's tasks are queued in its own schema (django-tasks' database backend). The worker visits
the active clinics in turn, sets the schema, takes back tasks whose worker died (claimed longer ago than
TASK_LEASE_SECONDS: every task here is safe to run twice), and runs a few ready tasks with the
library's own worker before moving on, so one busy clinic does not starve the others. Every
`--sweep-seconds` it also sweeps each clinic: waiting SATUSEHAT sends whose wait is over get their
tasks (`satusehat.outbox.wake_waiting`), and expired exports' files are deleted. `make run` starts it
beside the web server; Heroku runs it as the Procfile's `worker:` process.
"""

import logging
import os
import signal
import socket
import time
from datetime import timedelta
from types import FrameType

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from satusehat.export import prune_exports
from satusehat.outbox import wake_waiting
from tenants.models import Clinic

logger = logging.getLogger("worker")


def take_back_stale_tasks(lease_seconds: int) -> int:
    """Tasks claimed by a worker that stopped (killed, dyno restarted) before finishing: ready again."""
    cutoff = timezone.now() - timedelta(seconds=lease_seconds)
    return DBTaskResult.objects.running().filter(started_at__lt=cutoff).update(status="READY", started_at=None)


def sweep_clinic() -> int:
    """The current clinic's sweep: tasks for the sends whose wait is over, expired exports pruned; how
    many tasks it queued."""
    prune_exports()
    return wake_waiting()


def run_clinic_tasks(worker_id: str, max_tasks: int) -> int:
    """Run up to `max_tasks` ready tasks of the current clinic schema; how many ran."""
    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=max_tasks,
        worker_id=worker_id,
        excluded_queue_names=[],
    )
    worker.run()
    return worker._run_tasks


class Command(BaseCommand):
    help = "Run the clinics' background tasks (SATUSEHAT sends, exports), clinic by clinic."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds to wait when no clinic has work.")
        parser.add_argument("--batch", action="store_true", help="Run until no clinic has work, then exit.")
        parser.add_argument("--per-clinic", type=int, default=10, help="Tasks run for a clinic before the next.")
        parser.add_argument("--clinic", help="Only this clinic (its subdomain).")
        parser.add_argument(
            "--sweep-seconds",
            type=float,
            default=30.0,
            help="How often each clinic is swept for sends whose wait is over (0: every round).",
        )

    def handle(self, *args: object, **options: object) -> None:
        logging.getLogger("django_tasks_db").setLevel(logging.WARNING)
        logging.getLogger("django.tasks").setLevel(logging.WARNING)
        logging.getLogger("django_tasks").setLevel(logging.WARNING)
        self.running = True
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        worker_id = f"{socket.gethostname()}:{os.getpid()}"[:64]
        self.stdout.write(f"Worker {worker_id} running the clinics' tasks.")
        self.sweep_seconds = float(options["sweep_seconds"])
        self.swept: dict[int, float] = {}
        while self.running:
            ran = self._round(worker_id, int(options["per_clinic"]), options.get("clinic"))
            if options["batch"] and ran == 0:
                return
            if ran == 0 and self.running:
                time.sleep(float(options["interval"]))

    def _round(self, worker_id: str, per_clinic: int, only: object) -> int:
        clinics = Clinic.objects.filter(status=Clinic.Status.ACTIVE).order_by("pk")
        if only:
            clinics = clinics.filter(subdomain=str(only))
        ran = 0
        for clinic in list(clinics):
            if not self.running:
                break
            connection.set_tenant(clinic)
            try:
                taken = take_back_stale_tasks(settings.TASK_LEASE_SECONDS)
                if taken:
                    logger.warning("Clinic %s: %d task(s) of a stopped worker taken back.", clinic.schema_name, taken)
                if time.monotonic() - self.swept.get(clinic.pk, -1e9) >= self.sweep_seconds:
                    self.swept[clinic.pk] = time.monotonic()
                    woken = sweep_clinic()
                    if woken:
                        logger.info("Clinic %s: %d waiting send(s) queued again.", clinic.schema_name, woken)
                ran += run_clinic_tasks(worker_id, per_clinic)
            finally:
                connection.set_schema_to_public()
        return ran

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        # Finish the task under way (its outcome is saved), then stop.
        self.running = False
