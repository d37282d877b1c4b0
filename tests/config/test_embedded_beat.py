"""The embedded default (`make run`: no Redis, tasks eager) runs beat's periodic sweeps
in the web process: holds lapsed, reminders and offers were never sent there."""

import datetime as dt

import pytest
from django.conf import settings as django_settings

from bookings.models import Booking, Status
from config.beat import EmbeddedBeat, embedded_beat_wanted
from config.celery import app
from deposits.services import policy_set
from tenants.scoping import salon_scope
from tests.conftest import local

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager():
    """Tasks run in process, as with no REDIS_URL."""
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_the_beat_keeps_every_entry_of_the_schedule():
    beat = EmbeddedBeat()
    assert sorted(e.task for e in beat.entries) == sorted(
        str(entry["task"]) for entry in django_settings.CELERY_BEAT_SCHEDULE.values()
    )
    assert {"bookings.holds_sweep", "messaging.messages_sweep"} <= {e.task for e in beat.entries}


def test_the_embedded_default_lapses_holds_in_process(
    api, settings, catalogue_a, monday, eager, caplog
):
    settings.PAYMENTS_TEST_MODE = True
    with salon_scope(catalogue_a.salon):
        policy_set(
            salon=catalogue_a.salon, rule={"kind": "fixed", "value": 1500}, ramp=[], hold_minutes=15
        )
    answer = api().post(
        "/api/v1/salons/bella/bookings/",
        {
            "service": catalogue_a.cut.pk,
            "start": local(catalogue_a.salon, 1, 10).isoformat(),
            "customer": {"name": "Léa Martin", "phone": "06 12 34 56 78"},
        },
        format="json",
    )
    assert answer.json()["status"] == "pending_payment"
    beat = EmbeddedBeat()  # the real schedule (CELERY_BEAT_SCHEDULE)

    assert beat.tick() <= 60  # nothing due yet: the sweeps run a minute apart
    monday.shift(dt.timedelta(minutes=16))
    beat.tick()
    with salon_scope(catalogue_a.salon):
        assert Booking.objects.get(pk=answer.json()["id"]).status == Status.EXPIRED
    assert [r.getMessage() for r in caplog.records if r.name == "config.beat"] == []


def test_the_beat_thread_starts_and_stops(eager):
    assert embedded_beat_wanted()
    beat = EmbeddedBeat({})
    beat.start()
    beat.stop()
    beat.join(timeout=5)
    assert not beat.is_alive()


def test_with_a_broker_beat_is_its_own_process():
    assert not app.conf.task_always_eager  # the suite runs on Redis
    assert not embedded_beat_wanted()
