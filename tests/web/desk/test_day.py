"""The desk's scheduler: the day as a time grid (a column per staff member and resource
unit, bookings placed by their minutes, coloured by status and money), a staff member's
week, the live version, a free time that starts a phone booking, and a booking moved by
the desk through the client's own rules. Another salon's staff and bookings never show."""

import datetime as dt
import re
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings.models import Booking, Status, TimeOff
from bookings.services import resource_kind_save, resource_save
from deposits.models import Payment, PaymentStatus
from deposits.services import policy_set
from tenants.scoping import salon_scope
from tests.conftest import MONDAY, book, local
from tests.factories import CustomerFactory

SCHEDULE = "/desk/bella/schedule/"
DAY = MONDAY.date().isoformat()


def _client(salon, name="Jeanne Martin", phone="+33612345678"):
    with salon_scope(salon):
        return CustomerFactory(salon=salon, name=name, phone=phone, email=None)


def _lane(page: str, key: str) -> str:
    """The HTML of one column of the grid."""
    found = re.search(rf'<section class="day-col[^"]*" id="{key}".*?</section>', page, re.S)
    assert found is not None, key
    return found.group(0)


def _blocks(lane: str) -> list[str]:
    return re.findall(r'<div class="day-block[^"]*"[^>]*>', lane)


@pytest.mark.django_db
def test_the_day_has_a_column_per_staff_member_and_resource_unit_and_blocks_placed_by_minutes(
    client, team_a, catalogue_a, monday
):
    salon = team_a.salon
    with salon_scope(salon):
        kind = resource_kind_save(salon=salon, kind=None, name="Bac")
        basin = resource_save(salon=salon, resource=None, name="Bac", kind=kind, quantity=2)
        TimeOff.objects.create(
            salon=salon,
            staff=catalogue_a.alice,
            start=local(salon, 0, 14),
            end=local(salon, 0, 15, 30),
            reason="Dentiste",
        )
    booking = book(catalogue_a, _client(salon), local(salon, 0, 10), staff=catalogue_a.bob)
    client.force_login(team_a.staff)
    page = client.get(SCHEDULE, {"date": DAY}, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    titles = re.findall(r'<h3 class="day-head" id="([^"]+)-title">', page)
    assert titles == [
        f"staff-{catalogue_a.alice.pk}",
        f"staff-{catalogue_a.bob.pk}",
        f"unit-{basin.pk}-1",
        f"unit-{basin.pk}-2",
    ]
    bob = _lane(page, f"staff-{catalogue_a.bob.pk}")
    # The grid starts at 08:00 and has a row every five minutes: 10:00-10:45 is rows 25-34.
    assert _blocks(bob) == [
        f'<div class="day-block status-confirmed money-none" style="grid-row: 25 / 34" '
        f'data-booking="{booking.pk}" draggable="true" '
        f'data-move-url="/desk/bella/bookings/{booking.pk}/move/">'
    ]
    assert "10:00\u201310:45" in bob and "Jeanne Martin" in bob and "Coupe" in bob
    # Working hours 09:00-19:00 shaded; Alice away 14:00-15:30.
    assert 'class="day-work" style="grid-row: 13 / 133"' in bob
    alice = _lane(page, f"staff-{catalogue_a.alice.pk}")
    assert _blocks(alice) == []
    assert re.search(r'class="day-away" style="grid-row: 73 / 91"><span>Dentiste', alice)
    # Free quarters are links to a phone booking there, named for a screen reader; none
    # where Bob is busy or Alice away.
    assert "10:00 with Bob, free" not in bob and "10:45 with Bob, free" in bob
    assert "14:15 with Alice, free" not in alice and "15:30 with Alice, free" in alice
    cell = re.search(r'<a class="day-cell"[^>]*href="([^"]+)"[^>]*><span[^>]*>11:00 with Bob', bob)
    assert cell is not None
    assert cell.group(1) == (
        f"/desk/bella/book/?day={DAY}&amp;staff={catalogue_a.bob.pk}"
        "&amp;start=2027-03-01T10%3A00%3A00%2B00%3A00"
    )


@pytest.mark.django_db
def test_a_break_between_two_working_ranges_is_shown(client, team_a, catalogue_a, monday):
    from bookings.services import staff_hours_set

    with salon_scope(team_a.salon):
        staff_hours_set(
            staff=catalogue_a.bob,
            ranges=[
                {"weekday": 0, "start": dt.time(9), "end": dt.time(12)},
                {"weekday": 0, "start": dt.time(13), "end": dt.time(18)},
            ],
        )
    client.force_login(team_a.staff)
    page = client.get(SCHEDULE, {"date": DAY}, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    bob = _lane(page, f"staff-{catalogue_a.bob.pk}")
    assert re.search(r'class="day-break" style="grid-row: 49 / 61"><span>Pause', bob)
    assert "12:15 avec Bob, libre" not in bob and "13:00 avec Bob, libre" in bob


@pytest.mark.django_db
def test_blocks_say_the_status_and_the_money_in_words_and_colour(
    client, settings, team_a, catalogue_a, monday
):
    settings.SMS_BACKEND = "console"
    settings.PAYMENTS_TEST_MODE = True
    salon = team_a.salon
    with salon_scope(salon):
        policy_set(salon=salon, rule={"kind": "fixed", "value": 1500}, ramp=[])
    client.force_login(team_a.staff)
    for hour, handling, reason in (
        (10, "payment_link", ""),
        (11, "paid_at_desk", ""),
        (12, "waived", "Fidèle"),
    ):
        form = {
            "step": "book",
            "customer": "new",
            "name": f"Client {hour}",
            "phone": f"06 12 34 56 {hour}",
            "service": str(catalogue_a.cut.pk),
            "staff": str(catalogue_a.alice.pk),
            "day": DAY,
            "start": local(salon, 0, hour).astimezone(dt.UTC).isoformat(),
            "deposit_handling": handling,
            "waiver_reason": reason,
            "send_via": "",
            "notes": "",
        }
        answer = client.post("/desk/bella/book/", form)
        assert answer.status_code == 302, answer.content.decode()[:2000]
    online = book(catalogue_a, _client(salon), local(salon, 0, 15), staff=catalogue_a.alice)
    with salon_scope(salon):
        Payment.objects.create(
            salon=salon,
            booking=online,
            kind="deposit",
            amount=1500,
            currency="EUR",
            status=PaymentStatus.SUCCEEDED,
            intent_id="pi_test_online",
        )
    page = client.get(SCHEDULE, {"date": DAY}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    alice = _lane(page, f"staff-{catalogue_a.alice.pk}")
    classes = re.findall(r'<div class="day-block ([^"]*)"', alice)
    assert classes == [
        "status-pending_payment money-pending",
        "status-confirmed money-paid_at_desk",
        "status-confirmed money-waived",
        "status-confirmed money-paid",
    ]
    states = re.findall(r'<span class="day-state">([^<]*)</span>', alice)
    assert states == [
        "Awaiting payment · Deposit awaited · €15.00",
        "Confirmed · Paid at the desk · €15.00",
        "Confirmed · Deposit waived · €15.00",
        "Confirmed · Deposit paid online · €15.00",
    ]


@pytest.mark.django_db
def test_a_visit_with_processing_time_shows_it_lighter_and_its_resource_unit(
    client, team_a, catalogue_a, monday
):
    from bookings.services import catalogue_service_save, staff_save

    salon = team_a.salon
    with salon_scope(salon):
        kind = resource_kind_save(salon=salon, kind=None, name="Fauteuil")
        chair = resource_save(salon=salon, resource=None, name="Fauteuil", kind=kind, quantity=1)
        colour = catalogue_service_save(
            salon=salon,
            service=None,
            name="Balayage",
            duration_minutes=90,
            price=12000,
            processing_offset_minutes=30,
            processing_minutes=30,
            resource_kind=kind,
        )
        staff_save(
            salon=salon,
            staff=catalogue_a.alice,
            name="Alice",
            service_ids=[catalogue_a.cut.pk, catalogue_a.colour.pk, colour.pk],
        )
    book(catalogue_a, _client(salon), local(salon, 0, 10), service=colour, staff=catalogue_a.alice)
    client.force_login(team_a.staff)
    page = client.get(SCHEDULE, {"date": DAY}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    alice = _lane(page, f"staff-{catalogue_a.alice.pk}")
    assert 'style="grid-row: 25 / 43"' in _blocks(alice)[0]  # 10:00-11:30
    assert re.search(
        r'class="day-processing" style="grid-row: 31 / 37"><span>Processing: Alice is free', alice
    )  # 10:30-11:00
    unit = _lane(page, f"unit-{chair.pk}-1")
    assert len(_blocks(unit)) == 1 and 'style="grid-row: 25 / 43"' in _blocks(unit)[0]


@pytest.mark.django_db
def test_another_salons_staff_and_bookings_never_show(
    client, team_a, team_b, catalogue_a, catalogue_b, monday
):
    theirs = book(
        catalogue_b,
        _client(team_b.salon, "Rival Client", "+14165550123"),
        local(team_b.salon, 0, 10),
    )
    ours = book(catalogue_a, _client(team_a.salon), local(team_a.salon, 0, 10))
    client.force_login(team_a.staff)
    page = client.get(SCHEDULE, {"date": DAY}).content.decode()
    assert f"staff-{catalogue_b.alice.pk}" not in page and f"staff-{catalogue_b.bob.pk}" not in page
    assert f'data-booking="{ours.pk}"' in page and f'data-booking="{theirs.pk}"' not in page
    assert "Rival Client" not in page
    # Their staff member's week, their booking's move: not found; their members: refused.
    assert client.get(f"/desk/bella/schedule/staff/{catalogue_b.alice.pk}/").status_code == 404
    assert client.get(f"/desk/bella/bookings/{theirs.pk}/move/").status_code == 404
    client.force_login(team_b.staff)
    for path in ("schedule/", "schedule/version/", f"schedule/staff/{catalogue_a.alice.pk}/"):
        assert client.get(f"/desk/bella/{path}").status_code == 403, path


@pytest.mark.django_db
def test_a_staff_members_week_has_a_column_a_day(client, team_a, catalogue_a, monday):
    salon = team_a.salon
    tuesday = book(catalogue_a, _client(salon), local(salon, 1, 11), staff=catalogue_a.bob)
    book(
        catalogue_a,
        _client(salon, "Autre", "+33611111111"),
        local(salon, 1, 11),
        staff=catalogue_a.alice,
    )
    client.force_login(team_a.staff)
    answer = client.get(
        f"/desk/bella/schedule/staff/{catalogue_a.bob.pk}/",
        {"date": DAY},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    page = answer.content.decode()
    days = re.findall(r'<h3 class="day-head" id="day-([0-9-]+)-title">', page)
    assert days == [(MONDAY.date() + dt.timedelta(days=n)).isoformat() for n in range(7)]
    assert re.findall(r'data-booking="(\d+)"', page) == [str(tuesday.pk)]
    tue = _lane(page, "day-2027-03-02")
    assert 'style="grid-row: 37 / 46"' in _blocks(tue)[0]  # 11:00-11:45
    sunday = _lane(page, "day-2027-03-07")
    assert "day-work" not in sunday and "day-cell" not in sunday  # Bob never works Sundays


@pytest.mark.django_db
def test_the_version_changes_when_a_booking_does_and_answers_304_otherwise(
    client, team_a, catalogue_a, monday
):
    client.force_login(team_a.staff)
    url = "/desk/bella/schedule/version/"
    first = client.get(url, {"date": DAY})
    assert first.status_code == 200
    etag = first["ETag"]
    assert first.json()["version"] in etag
    assert client.get(url, {"date": DAY}, HTTP_IF_NONE_MATCH=etag).status_code == 304
    booking = book(catalogue_a, _client(team_a.salon), local(team_a.salon, 0, 10))
    second = client.get(url, {"date": DAY}, HTTP_IF_NONE_MATCH=etag)
    assert second.status_code == 200 and second["ETag"] != etag
    with salon_scope(team_a.salon):
        Payment.objects.create(
            salon=team_a.salon,
            booking=booking,
            kind="deposit",
            amount=1000,
            currency="EUR",
            status=PaymentStatus.SUCCEEDED,
            intent_id="pi_x",
        )
    third = client.get(url, {"date": DAY}, HTTP_IF_NONE_MATCH=second["ETag"])
    assert third.status_code == 200 and third["ETag"] != second["ETag"]
    # Another day's version is not this one's.
    assert client.get(url, {"date": "2027-03-02"}).json()["version"] != third.json()["version"]


@pytest.mark.django_db
def test_a_free_time_opens_the_phone_booking_with_its_staff_member_and_time(
    client, team_a, catalogue_a, monday
):
    client.force_login(team_a.staff)
    start = local(team_a.salon, 0, 11).astimezone(dt.UTC).isoformat()
    page = client.get(
        "/desk/bella/book/", {"day": DAY, "staff": catalogue_a.bob.pk, "start": start}
    ).content.decode()
    assert re.search(rf'<option value="{catalogue_a.bob.pk}" selected>Bob</option>', page)
    assert re.search(rf'<input type="radio" name="start" value="{re.escape(start)}" checked>', page)


def _move(client, booking, **params):
    return client.get(f"/desk/bella/bookings/{booking.pk}/move/", params, HTTP_ACCEPT_LANGUAGE="en")


@pytest.mark.django_db
def test_a_move_states_what_happens_to_the_money_then_moves_through_the_service(
    client, api, team_a, catalogue_a, monday
):
    from tests.conftest import policy_put

    policy_put(api, team_a)  # 48 hours' notice
    salon = team_a.salon
    booking = book(catalogue_a, _client(salon), local(salon, 4, 10), staff=catalogue_a.alice)
    with salon_scope(salon):
        Payment.objects.create(
            salon=salon,
            booking=booking,
            kind="deposit",
            amount=1500,
            currency="EUR",
            status=PaymentStatus.SUCCEEDED,
            intent_id="pi_paid",
        )
    client.force_login(team_a.staff)
    page = _move(
        client, booking, review=1, staff=catalogue_a.bob.pk, day="2027-03-05", time="14:30"
    ).content.decode()
    assert "The booking moves to Friday 5 March 2027 at 14:30 with Bob." in page
    assert "The deposit of €15.00 already paid moves with the appointment" in page
    assert "may cancel for free until Wednesday 3 March 2027, 14:30" in page
    with salon_scope(salon):
        assert Booking.objects.get(pk=booking.pk).start == local(salon, 4, 10)  # not yet
    answer = client.post(
        f"/desk/bella/bookings/{booking.pk}/move/",
        {"staff": catalogue_a.bob.pk, "day": "2027-03-05", "time": "14:30"},
    )
    assert answer.status_code == 302 and answer["Location"] == f"{SCHEDULE}?date=2027-03-05"
    with salon_scope(salon):
        moved = Booking.objects.get(pk=booking.pk)
        event = moved.events.get(kind="rescheduled")
    assert moved.start == local(salon, 4, 14, 30) and moved.staff_id == catalogue_a.bob.pk
    assert event.actor == team_a.staff and event.by == "staff"


@pytest.mark.django_db
def test_a_late_move_keeps_the_deadline_as_the_clients_own_move_does(
    client, api, team_a, catalogue_a, monday
):
    from tests.conftest import policy_put

    policy_put(api, team_a)  # 48 hours' notice: a booking tomorrow is past its deadline
    salon = team_a.salon
    booking = book(catalogue_a, _client(salon), local(salon, 1, 10), staff=catalogue_a.alice)
    client.force_login(team_a.staff)
    page = _move(
        client, booking, review=1, staff=catalogue_a.alice.pk, day="2027-03-10", time="10:00"
    ).content.decode()
    assert "No deposit was asked" in page
    assert "deadline has passed (Sunday 28 February 2027, 10:00): the booking keeps it" in page
    client.post(
        f"/desk/bella/bookings/{booking.pk}/move/",
        {"staff": catalogue_a.alice.pk, "day": "2027-03-10", "time": "10:00"},
    )
    booking.refresh_from_db()
    assert booking.start == local(salon, 9, 10)
    assert booking.cancellation_deadline == local(salon, 1, 10) - dt.timedelta(hours=48)


@pytest.mark.django_db
def test_a_move_to_a_time_not_offered_is_refused_on_the_form(client, team_a, catalogue_a, monday):
    salon = team_a.salon
    booking = book(catalogue_a, _client(salon), local(salon, 1, 10), staff=catalogue_a.bob)
    other = book(
        catalogue_a,
        _client(salon, "Autre", "+33611111111"),
        local(salon, 1, 14),
        staff=catalogue_a.alice,
    )
    client.force_login(team_a.staff)
    answer = client.post(
        f"/desk/bella/bookings/{booking.pk}/move/",
        {"staff": catalogue_a.alice.pk, "day": "2027-03-02", "time": "14:00"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert answer.status_code == 400
    assert "no longer free" in answer.content.decode()
    booking.refresh_from_db()
    other.refresh_from_db()
    assert booking.start == local(salon, 1, 10) and booking.staff_id == catalogue_a.bob.pk
    # A booking that has begun is not moved from the desk either.
    monday.move_to(local(salon, 1, 10, 5))
    assert (
        client.post(
            f"/desk/bella/bookings/{booking.pk}/move/",
            {"staff": catalogue_a.alice.pk, "day": "2027-03-03", "time": "10:00"},
        ).status_code
        == 302
    )
    booking.refresh_from_db()
    assert booking.start == local(salon, 1, 10)
    assert booking.status == Status.CONFIRMED


def _big_day(salon, catalogue, staff_count: int, per_staff: int) -> None:
    from bookings.services import staff_hours_set, staff_save

    with salon_scope(salon):
        members = [catalogue.alice, catalogue.bob]
        for n in range(staff_count - 2):
            member = staff_save(
                salon=salon, staff=None, name=f"Staff {n}", service_ids=[catalogue.cut.pk]
            )
            staff_hours_set(
                staff=member, ranges=[{"weekday": 0, "start": dt.time(9), "end": dt.time(19)}]
            )
            members.append(member)
    for index, member in enumerate(members):
        for k in range(per_staff):
            customer = _client(salon, f"C{index}-{k}", f"+3361{index:03d}{k:04d}")
            booking = book(
                catalogue, customer, local(salon, 0, 9) + dt.timedelta(minutes=45 * k), staff=member
            )
            if k % 2:
                with salon_scope(salon):
                    Payment.objects.create(
                        salon=salon,
                        booking=booking,
                        kind="deposit",
                        amount=1000,
                        currency="EUR",
                        status=PaymentStatus.SUCCEEDED,
                        intent_id=f"pi_{booking.pk}",
                    )


@pytest.mark.django_db
def test_the_day_renders_in_the_same_number_of_queries_whatever_its_size(
    client, team_a, catalogue_a, monday
):
    client.force_login(team_a.staff)

    seen: list[list[str]] = []

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(SCHEDULE, {"date": DAY}).status_code == 200
        seen.append([q["sql"][:120] for q in captured.captured_queries])
        return len(captured)

    _big_day(team_a.salon, catalogue_a, 2, 1)
    count()  # warm: what the first page of a session reads once (then cached)
    small = count()
    _big_day(team_a.salon, catalogue_a, 6, 0)
    with salon_scope(team_a.salon):
        before = Booking.objects.count()
    # Four more staff members, each with a full day; more payments.
    from bookings.models import StaffMember

    with salon_scope(team_a.salon):
        extra = list(StaffMember.objects.filter(name__startswith="Staff"))
    for index, member in enumerate(extra):
        for k in range(1, 6):
            customer = _client(team_a.salon, f"X{index}-{k}", f"+3362{index:03d}{k:04d}")
            booking = book(
                catalogue_a,
                customer,
                local(team_a.salon, 0, 9) + dt.timedelta(minutes=45 * k),
                staff=member,
            )
            with salon_scope(team_a.salon):
                Payment.objects.create(
                    salon=team_a.salon,
                    booking=booking,
                    kind="deposit",
                    amount=1000,
                    currency="EUR",
                    status=PaymentStatus.SUCCEEDED,
                    intent_id=f"pi_{booking.pk}",
                )
    with salon_scope(team_a.salon):
        assert Booking.objects.count() == before + 5 * len(extra)
        assert Payment.objects.count() >= 5 * len(extra)  # each drawn with its money
    large = count()
    assert small == large, (
        Counter(seen[1]) - Counter(seen[2]),
        Counter(seen[2]) - Counter(seen[1]),
    )
    assert large <= 16
