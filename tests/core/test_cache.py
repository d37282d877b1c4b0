"""The cache speeds pages up but is never needed, and never shows what changed."""

import pytest

from tests.conftest import book, local
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

AVAILABILITY = "/api/v1/salons/bella/availability/"


def _starts(api, catalogue, day="2027-03-02"):
    body = (
        api()
        .get(
            AVAILABILITY,
            {"service": catalogue.cut.pk, "from": day, "to": day, "staff": catalogue.alice.pk},
        )
        .json()
    )
    return [s["start"] for s in body["slots"]]


@pytest.fixture
def dead_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "core.redis_cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }


def test_pages_and_bookings_work_with_the_cache_down(api, team_a, catalogue_a, monday, dead_cache):
    assert "2027-03-02T10:00:00+01:00" in _starts(api, catalogue_a)
    response = api().post(
        "/api/v1/salons/bella/bookings/",
        {
            "service": catalogue_a.cut.pk,
            "start": "2027-03-02T10:00:00+01:00",
            "staff": catalogue_a.alice.pk,
            "customer": {"name": "Léa", "phone": "0612345678"},
        },
        format="json",
    )
    assert response.status_code == 201
    assert "2027-03-02T10:00:00+01:00" not in _starts(api, catalogue_a)
    patched = api(team_a.owner).patch(
        "/api/v1/salons/bella/backoffice/settings/", {"name": "Bella"}, format="json"
    )
    assert patched.status_code == 200


def test_a_booking_made_elsewhere_shows_at_once(api, catalogue_a, monday):
    assert "2027-03-02T10:00:00+01:00" in _starts(api, catalogue_a)  # now cached
    book(
        catalogue_a,
        CustomerFactory(salon=catalogue_a.salon),
        local(catalogue_a.salon, 1, 10),
        staff=catalogue_a.alice,
    )
    assert "2027-03-02T10:00:00+01:00" not in _starts(api, catalogue_a)


def test_settings_changes_show_at_once(api, team_a, catalogue_a, monday):
    assert "2027-03-02T09:15:00+01:00" in _starts(api, catalogue_a)
    api(team_a.owner).patch(
        "/api/v1/salons/bella/backoffice/settings/", {"slot_step_minutes": 30}, format="json"
    )
    starts = _starts(api, catalogue_a)
    assert "2027-03-02T09:15:00+01:00" not in starts
    assert "2027-03-02T09:30:00+01:00" in starts


def test_admin_changes_show_at_once(client, api, team_a, catalogue_a, monday):
    assert _starts(api, catalogue_a)
    client.force_login(team_a.owner)
    response = client.post(
        "/admin/bookings/timeoff/add/",
        {
            "staff": catalogue_a.alice.pk,
            "start_0": "2027-03-02",
            "start_1": "00:00:00",
            "end_0": "2027-03-03",
            "end_1": "00:00:00",
            "reason": "Formation",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert _starts(api, catalogue_a) == []


def test_a_retired_service_or_staff_member_is_not_bookable_at_once(
    api, team_a, catalogue_a, monday
):
    booking = {
        "service": catalogue_a.cut.pk,
        "start": "2027-03-02T10:00:00+01:00",
        "customer": {"name": "Léa", "phone": "0612345678"},
    }
    assert _starts(api, catalogue_a)  # the catalogue is cached now
    owner = api(team_a.owner)
    owner.patch(
        f"/api/v1/salons/bella/backoffice/staff/{catalogue_a.alice.pk}/",
        {"active": False},
        format="json",
    )
    refused = api().post(
        "/api/v1/salons/bella/bookings/", {**booking, "staff": catalogue_a.alice.pk}, format="json"
    )
    assert refused.status_code == 400
    assert "staff" in refused.json()["fields"]
    owner.patch(
        f"/api/v1/salons/bella/backoffice/services/{catalogue_a.cut.pk}/",
        {"active": False},
        format="json",
    )
    refused = api().post("/api/v1/salons/bella/bookings/", booking, format="json")
    assert refused.status_code == 400
    assert "service" in refused.json()["fields"]


def test_nothing_stale_survives_redis_losing_its_data(api, catalogue_a, monday):
    from django.core.cache import cache

    from bookings.models import WorkingHours
    from tenants.scoping import salon_scope

    assert _starts(api, catalogue_a)  # the catalogue is cached, in Redis and in the process
    cache.clear()  # Redis restarts empty...
    with salon_scope(catalogue_a.salon):  # ...and the hours change behind the services' back
        WorkingHours.objects.filter(staff=catalogue_a.alice).delete()
    assert _starts(api, catalogue_a) == []


def test_the_redis_cache_keeps_one_client_and_finds_redis_again_after_losing_it():
    """One client per pool, not one per call (core/redis_cache.py); the pool behind it
    reconnects, so a Redis connection lost (a restart) costs nothing but that call."""
    from django.conf import settings
    from django.core.cache import caches

    from core.redis_cache import RedisCache

    assert settings.CACHES["default"]["BACKEND"] == "core.redis_cache.RedisCache"
    cache = caches["default"]
    assert isinstance(cache, RedisCache)
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is client
    cache.set("client-kept", "before", 30)
    client.connection_pool.disconnect()  # as when Redis restarts
    assert cache.get("client-kept") == "before"
    cache.set("client-kept", "after", 30)
    assert cache.get("client-kept") == "after"
    assert cache._cache.get_client(write=False) is cache._cache.get_client(write=False)
