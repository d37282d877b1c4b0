"""Beat inside the web process, for the embedded default only (`make run`: no Redis, so
tasks run eagerly and there is no `celery beat`). Without it, holds never lapsed,
reminders and waitlist offers were never sent while a newcomer tried the product.

A daemon thread keeps Celery's own schedule (CELERY_BEAT_SCHEDULE): each entry runs in
process, through the task itself, when its schedule says it is due. In production beat
is its own process (`celery -A config beat`) and this is never started."""

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from typing import Any

from celery.schedules import BaseSchedule, maybe_schedule
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from .celery import app

log = logging.getLogger(__name__)

# How long the thread sleeps at most between two looks at the schedule.
LONGEST_NAP_SECONDS = 30.0


@dataclass
class Entry:
    name: str
    task: str
    schedule: BaseSchedule
    last_run_at: dt.datetime


def _schedule(value: Any) -> BaseSchedule:
    """A schedule entry's `schedule` (seconds, a timedelta, a crontab) as Celery reads it."""
    found = maybe_schedule(value, app=app)
    if not isinstance(found, BaseSchedule):
        raise TypeError(f"Not a schedule: {value!r}")
    return found


class EmbeddedBeat(threading.Thread):
    def __init__(self, schedule: dict[str, dict[str, Any]] | None = None) -> None:
        super().__init__(name="embedded-beat", daemon=True)
        # Every app's tasks module, as a worker imports them: the web process may not have.
        app.loader.import_default_modules()
        now = timezone.now()
        entries = settings.CELERY_BEAT_SCHEDULE if schedule is None else schedule
        self.entries = [
            Entry(name, str(entry["task"]), _schedule(entry["schedule"]), now)
            for name, entry in entries.items()
        ]
        self.stopped = threading.Event()

    def tick(self) -> float:
        """Run every entry that is due; the seconds until the next one is."""
        nap = LONGEST_NAP_SECONDS
        for entry in self.entries:
            due, next_in = entry.schedule.is_due(entry.last_run_at)
            if due:
                entry.last_run_at = timezone.now()
                self._run(entry)
            nap = min(nap, max(float(next_in), 1.0))
        return nap

    def _run(self, entry: Entry) -> None:
        try:
            app.tasks[entry.task].apply(throw=True)
        except Exception:  # one failing sweep must not stop the others, nor the next run
            log.exception("periodic task %s (%s) failed", entry.name, entry.task)

    def run(self) -> None:
        log.info("embedded beat: %s", ", ".join(e.name for e in self.entries))
        while not self.stopped.is_set():
            # The thread's own database connection, kept fresh as a request's would be.
            close_old_connections()
            try:
                nap = self.tick()
            finally:
                close_old_connections()
            self.stopped.wait(nap)

    def stop(self) -> None:
        self.stopped.set()


def embedded_beat_wanted() -> bool:
    """Only when tasks run eagerly (no broker): then nothing else would run the sweeps."""
    return bool(app.conf.task_always_eager)
