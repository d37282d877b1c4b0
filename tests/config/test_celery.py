"""Jobs: enqueued only after commit, run inside their salon's scope (real worker, Redis)."""

import threading
from collections import defaultdict

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django_scopes import ScopeError

from config.celery import app
from core.tasks import enqueue
from tenants.models import Membership, Role
from tenants.tasks import SalonTask
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

SEEN: list[str] = []
DONE: defaultdict[str, threading.Event] = defaultdict(threading.Event)
RESULTS: dict[str, object] = {}


def _finish(mark: str, result: object = None) -> None:
    RESULTS[mark] = result
    SEEN.append(mark)
    DONE[mark].set()
    connection.close()  # the worker thread's connection goes back before the flush


@app.task(name="tests.record")
def record(*, mark: str) -> None:
    _finish(mark)


@app.task(name="tests.count_team", base=SalonTask)
def count_team(*, salon_id: int, mark: str) -> None:
    _finish(mark, Membership.objects.count())


@app.task(name="tests.count_everyone")
def count_everyone(*, mark: str) -> None:
    try:
        result: object = Membership.objects.count()
    except ScopeError as exc:
        result = exc
    _finish(mark, result)


def _wait(mark: str) -> None:
    assert DONE[mark].wait(timeout=30), f"the worker did not run {mark!r}"


def _queued() -> int:
    return int(redis.Redis.from_url(str(settings.REDIS_URL)).llen("celery"))


class Rollback(Exception):
    pass


def test_task_enqueued_in_a_rolled_back_transaction_is_never_sent(celery_worker):
    with pytest.raises(Rollback), transaction.atomic():  # noqa: PT012
        enqueue(record, mark="rolled-back")
        raise Rollback
    assert _queued() == 0

    with transaction.atomic():
        enqueue(record, mark="committed")
        assert _queued() == 0, "sent before the commit"
    _wait("committed")
    # One solo worker takes the queue in order: had the first been sent, it ran by now.
    assert "rolled-back" not in SEEN


def test_salon_task_runs_in_its_salons_scope(celery_worker, team_a, team_b):
    MembershipFactory(salon=team_b.salon, role=Role.STAFF)
    enqueue(count_team, salon_id=team_a.salon.pk, mark="a")
    enqueue(count_team, salon_id=team_b.salon.pk, mark="b")
    _wait("a")
    _wait("b")
    assert (RESULTS["a"], RESULTS["b"]) == (3, 4)


def test_task_without_a_scope_cannot_read_tenant_data(celery_worker, team_a):
    enqueue(count_everyone, mark="unscoped")
    _wait("unscoped")
    assert isinstance(RESULTS["unscoped"], ScopeError)


def test_salon_task_refuses_to_run_without_a_salon():
    with pytest.raises(TypeError, match="salon_id"):
        count_team(mark="x")


@pytest.mark.django_db(transaction=True)
def test_worker_with_beat_starts_with_redis_url():
    """`celery -A config worker -B`, as the README says, starts against Redis and the
    database, with the beat schedule from the database."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    db = connection.settings_dict
    # A Redis database of its own: what its beat sends at start goes nowhere near the
    # suite's own worker.
    redis_url = str(settings.REDIS_URL).rsplit("/", 1)[0] + "/14"
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-B",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--hostname",
            "startup@check",
        ],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while not any("ready." in line for line in seen):
            assert worker.poll() is None, "".join(seen)
            assert time.monotonic() < deadline, "".join(seen)
            seen.append(worker.stdout.readline())
        while not any("beat: Starting" in line for line in seen):
            assert time.monotonic() < deadline, "".join(seen)
            seen.append(worker.stdout.readline())
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        redis.Redis.from_url(redis_url).flushdb()
