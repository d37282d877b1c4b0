"""The Celery app `config`: `celery -A config worker`, `celery -A config beat`."""

import os
from typing import Any

from celery import Celery, Task
from django.db import transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def enqueue(task: Task, /, **kwargs: Any) -> None:
    """Send `task` with `kwargs` once the current transaction commits.

    Nothing is sent if the transaction rolls back, and a task never runs before the rows
    it reads are visible to the worker. Outside a transaction it is sent at once. A broker
    failure is logged rather than breaking the request that caused it.
    """
    transaction.on_commit(lambda: task.apply_async(kwargs=kwargs), robust=True)
