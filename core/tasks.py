"""Tasks sent from a transaction go once it commits."""

from typing import Any

from celery import Task
from django.db import transaction


def enqueue(task: Task, /, **kwargs: Any) -> None:
    """Send `task` with `kwargs` once the current transaction commits.

    Nothing is sent if the transaction rolls back, and a task never runs before the rows
    it reads are visible to the worker. Outside a transaction it is sent at once. A broker
    failure is logged rather than breaking the request that caused it.
    """
    transaction.on_commit(lambda: task.apply_async(kwargs=kwargs), robust=True)
