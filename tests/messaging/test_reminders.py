"""Reminders: each booking gets each of its salon's reminders once, at the salon's local
time, never inside its quiet hours, never without the client's consent, never for a
cancelled booking; a sweep run twice sends nothing twice (DESIGN.md, "Reminders",
invariants 4 and 6). Time is moved with time-machine; a real worker runs the sweep."""

import datetime as dt
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

import pytest
from django.core import mail
from django.db import connection

from bookings.models import Booking
from bookings.services import booking_cancel, booking_reschedule
from config.celery import app
from customers.services import consent_withdraw_by_link
from messaging import sms
from messaging.models import Message, MessageKind, MessageStatus
from messaging.outbox import messages_run, quiet_until
from messaging.tasks import messages_apply, messages_sweep
from tenants.models import Salon
from tenants.scoping import salon_scope
from tests.conftest import MONDAY, book, local
from tests.factories import CustomerFactory

STEP = dt.timedelta(minutes=15)
CONSENT = {"reminders": True}


@pytest.fixture
def outboxes(settings) -> None:
    """SMS kept in `messaging.sms.outbox`, e-mail in `django.core.mail.outbox`, both empty."""
    settings.SMS_BACKEND = "locmem"
    sms.outbox.clear()
    mail.outbox.clear()


def utc(salon: Salon, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return local(salon, day, hour, minute).astimezone(dt.UTC)


def walk(
    traveller,
    salons: Iterable[Salon],
    until: dt.datetime,
    *,
    step: dt.timedelta = STEP,
    actions: dict[dt.datetime, Callable[[], object]] | None = None,
) -> None:
    """Move time forward from now to `until` by `step`: at each step, what `actions` says
    happens then, then each salon's sweep, twice. The second run must send nothing."""
    at = dt.datetime.now(dt.UTC)
    while at <= until:
        traveller.move_to(at)
        if actions and at in actions:
            actions.pop(at)()
        for salon in salons:
            with salon_scope(salon):
                messages_run(salon=salon)
                again = messages_run(salon=salon)
            assert again["sent"] == 0, f"{salon} sent again at {at:%a %H:%M} UTC: {again}"
        at += step
    assert not actions, f"actions never reached: {sorted(actions)}"


def in_quiet_hours(salon: Salon, at: dt.datetime) -> bool:
    """Read here from the salon's settings, not by the code under test."""
    if not salon.quiet_hours:
        return False
    wall = at.astimezone(salon.tz).strftime("%H:%M")
    start, end = salon.quiet_hours["start"], salon.quiet_hours["end"]
    return start <= wall < end if start < end else (wall >= start or wall < end)


def reminders(salon: Salon) -> list[Message]:
    with salon_scope(salon):
        return list(
            Message.objects.filter(kind=MessageKind.REMINDER)
            .select_related("booking")
            .order_by("id")
        )


def wall(salon: Salon, at: dt.datetime | str) -> str:
    """'Tue 10:00': a moment on the salon's wall clock."""
    moment = dt.datetime.fromisoformat(at) if isinstance(at, str) else at
    return moment.astimezone(salon.tz).strftime("%a %H:%M")


def sent_table(salon: Salon, names: dict[int | None, str]) -> list[tuple[str, int, str, str]]:
    """(booking, offset, appointment, sent at): every reminder sent, on the salon's clock."""
    return sorted(
        (names[m.booking_id], m.data["hours"], wall(salon, m.data["start"]), wall(salon, m.sent_at))
        for m in reminders(salon)
        if m.status == MessageStatus.SENT and m.sent_at is not None
    )


def not_sent_table(salon: Salon, names: dict[int | None, str]) -> list[tuple[str, int, str]]:
    return sorted(
        (names[m.booking_id], m.data["hours"], m.status_detail)
        for m in reminders(salon)
        if m.status != MessageStatus.SENT
    )


def transport_saw_each_message_once(*salons: Salon) -> None:
    """What the SMS and e-mail backends received is exactly what the outbox says it sent."""
    sent: Counter[str] = Counter()
    for salon in salons:
        with salon_scope(salon):
            sent.update(
                Message.objects.filter(status=MessageStatus.SENT).values_list("channel", flat=True)
            )
    assert len(sms.outbox) == sent["sms"]
    assert len({s.ref for s in sms.outbox}) == len(sms.outbox)
    assert len(mail.outbox) == sent["email"]


# Quiet hours, on the salon's wall clock ----------------------------------------------------


def paris(quiet_hours: dict[str, str] | None) -> Salon:
    return Salon(name="Paris", timezone="Europe/Paris", quiet_hours=quiet_hours)


def at_paris(day: dt.date, hour: int, minute: int = 0, fold: int = 0) -> dt.datetime:
    wall_clock = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=paris(None).tz)
    return wall_clock.replace(fold=fold).astimezone(dt.UTC)


SPRING = dt.date(2027, 3, 28)  # Europe/Paris: 02:00 CET becomes 03:00 CEST
AUTUMN = dt.date(2027, 10, 31)  # Europe/Paris: 03:00 CEST becomes 02:00 CET


def test_quiet_hours_end_at_the_local_wall_clock_time_across_the_spring_dst_change():
    salon = paris({"start": "21:00", "end": "08:00"})
    end = dt.datetime(2027, 3, 28, 6, 0, tzinfo=dt.UTC)  # 08:00 CEST, ten hours after 21:00
    assert end == at_paris(SPRING, 8)
    assert quiet_until(salon, at_paris(SPRING - dt.timedelta(days=1), 21)) == end
    assert quiet_until(salon, at_paris(SPRING - dt.timedelta(days=1), 23, 30)) == end
    assert quiet_until(salon, at_paris(SPRING, 1, 59)) == end  # CET
    assert quiet_until(salon, at_paris(SPRING, 3)) == end  # CEST, an hour later
    assert quiet_until(salon, at_paris(SPRING, 7, 59)) == end
    assert quiet_until(salon, at_paris(SPRING, 8)) is None
    assert quiet_until(salon, at_paris(SPRING - dt.timedelta(days=1), 20, 59)) is None


def test_quiet_hours_end_at_the_local_wall_clock_time_across_the_autumn_dst_change():
    salon = paris({"start": "21:00", "end": "08:00"})
    end = dt.datetime(2027, 10, 31, 7, 0, tzinfo=dt.UTC)  # 08:00 CET, twelve hours after 21:00
    assert end == at_paris(AUTUMN, 8)
    assert quiet_until(salon, at_paris(AUTUMN - dt.timedelta(days=1), 21)) == end
    assert quiet_until(salon, at_paris(AUTUMN, 2, 30)) == end  # CEST
    assert quiet_until(salon, at_paris(AUTUMN, 2, 30, fold=1)) == end  # CET, an hour later
    assert quiet_until(salon, at_paris(AUTUMN, 8)) is None


def test_quiet_hours_within_one_day_end_the_same_day():
    salon = paris({"start": "12:00", "end": "14:00"})
    assert quiet_until(salon, at_paris(SPRING, 11, 59)) is None
    assert quiet_until(salon, at_paris(SPRING, 12)) == at_paris(SPRING, 14)
    assert quiet_until(salon, at_paris(SPRING, 13, 59)) == at_paris(SPRING, 14)
    assert quiet_until(salon, at_paris(SPRING, 14)) is None
    assert quiet_until(salon, at_paris(SPRING, 23)) is None


def test_a_salon_without_quiet_hours_is_never_quiet():
    salon = paris(None)
    for hour in (0, 3, 7, 12, 22):
        assert quiet_until(salon, at_paris(SPRING, hour)) is None


# Reminders over two days of sweeps ---------------------------------------------------------


def test_each_booking_gets_each_reminder_once_at_local_time_outside_quiet_hours(
    outboxes, catalogue_a, catalogue_b, monday
):
    a, b = catalogue_a.salon, catalogue_b.salon
    a.quiet_hours = {"start": "20:00", "end": "09:00"}
    a.save(update_fields=["quiet_hours"])  # salon B keeps the default, 21:00 to 08:00
    lea = CustomerFactory(salon=a, consents=CONSENT)
    max_ = CustomerFactory(salon=a, phone=None, email="max@example.org", consents=CONSENT)
    noe = CustomerFactory(salon=a)  # never agreed
    ines = CustomerFactory(salon=a, consents=CONSENT)  # withdraws on Monday morning
    sam = CustomerFactory(salon=b, phone="+14165550199", language="en", consents=CONSENT)

    bookings = {
        # The 2 h reminder falls at 08:00, in quiet hours: it waits until 09:00.
        "deferred": book(catalogue_a, lea, local(a, 1, 10)),
        # The 2 h reminder falls at 07:00, and quiet hours last until the appointment.
        "early": book(catalogue_a, max_, local(a, 1, 9)),
        "cancelled": book(catalogue_a, lea, local(a, 1, 12)),
        # Cancelled while its 2 h reminder waits for the end of quiet hours.
        "cancelled_waiting": book(catalogue_a, lea, local(a, 1, 10, 30)),
        "moved": book(catalogue_a, lea, local(a, 1, 14)),
        "no_consent": book(catalogue_a, noe, local(a, 1, 15)),
        "withdrawn": book(catalogue_a, ines, local(a, 1, 16)),
        # Toronto: 2 h before is 07:00 there, quiet until 08:00 (13:00 in Paris).
        "toronto": book(catalogue_b, sam, local(b, 1, 9)),
    }
    names = {booking.pk: name for name, booking in bookings.items()}

    def cancel(name: str) -> Callable[[], object]:
        def act() -> object:
            with salon_scope(a):
                return booking_cancel(booking=bookings[name], reason="Ill")

        return act

    def withdraw() -> bool:
        with salon_scope(a):
            return consent_withdraw_by_link(customer=ines, purpose="reminders")

    def move() -> Booking:
        with salon_scope(a):
            return booking_reschedule(booking=bookings["moved"], start=local(a, 1, 17))

    walk(
        monday,
        [a, b],
        utc(a, 1, 18),
        actions={
            utc(a, 0, 8, 30): cancel("cancelled"),
            utc(a, 0, 9, 30): withdraw,
            utc(a, 0, 16): move,  # after its first reminder (14:00), before the old second one
            utc(a, 1, 8, 45): cancel("cancelled_waiting"),
        },
    )

    assert sent_table(a, names) == sorted(
        [
            ("deferred", 24, "Tue 10:00", "Mon 10:00"),
            ("deferred", 2, "Tue 10:00", "Tue 09:00"),
            ("early", 24, "Tue 09:00", "Mon 09:00"),
            ("cancelled_waiting", 24, "Tue 10:30", "Mon 10:30"),
            ("moved", 24, "Tue 14:00", "Mon 14:00"),
            ("moved", 24, "Tue 17:00", "Mon 17:00"),
            ("moved", 2, "Tue 17:00", "Tue 15:00"),
        ]
    )
    assert sent_table(b, names) == [
        ("toronto", 2, "Tue 09:00", "Tue 08:00"),
        ("toronto", 24, "Tue 09:00", "Mon 09:00"),
    ]
    no_consent = "The client has not agreed to receive these messages."
    assert not_sent_table(a, names) == sorted(
        [
            ("early", 2, "Quiet hours last until the appointment."),
            ("cancelled_waiting", 2, "The booking changed since the reminder was planned."),
            ("no_consent", 24, no_consent),
            ("no_consent", 2, no_consent),
            ("withdrawn", 24, no_consent),
            ("withdrawn", 2, no_consent),
        ]
    )
    assert not_sent_table(b, names) == []
    for salon in (a, b):
        for message in reminders(salon):
            if message.status == MessageStatus.SENT:
                assert not in_quiet_hours(salon, message.sent_at), message
    transport_saw_each_message_once(a, b)

    # What the client reads gives the appointment on the salon's clock.
    to_lea = [s.body for s in sms.outbox if s.to == str(lea.phone) and "Rappel" in s.body]
    assert len(to_lea) == 6
    assert sum("à 10:00" in body for body in to_lea) == 2  # the deferred booking's two
    to_sam = [s.body for s in sms.outbox if s.to == "+14165550199" and "Reminder" in s.body]
    assert len(to_sam) == 2
    assert all("at 09:00" in body for body in to_sam)
    to_max = [m for m in mail.outbox if m.to == ["max@example.org"] and "Rappel" in m.body]
    assert len(to_max) == 1


def test_reminders_follow_the_wall_clock_across_the_dst_change(
    outboxes, catalogue_a, catalogue_b, monday
):
    """Paris moves to summer time in the night of Sunday 28 March 2027, Toronto did on the
    14th: the reminders for Monday 29 come at the salons' wall-clock times."""
    a, b = catalogue_a.salon, catalogue_b.salon  # both quiet from 21:00 to 08:00
    monday.move_to(utc(a, 26, 9))  # Saturday 27 March, 09:00 in Paris
    lea = CustomerFactory(salon=a, consents=CONSENT)
    sam = CustomerFactory(salon=b, phone="+14165550199", consents=CONSENT)
    paris_booking = book(catalogue_a, lea, local(a, 28, 9))
    toronto_booking = book(catalogue_b, sam, local(b, 28, 9))
    names = {paris_booking.pk: "paris", toronto_booking.pk: "toronto"}
    monday.move_to(utc(a, 26, 21))  # nothing is due before Sunday: the walk starts that night

    walk(monday, [a, b], utc(b, 28, 10), step=dt.timedelta(minutes=30))

    # 24 hours before 09:00 CEST on Monday is 09:00 CEST on Sunday; 2 hours before is
    # 07:00 CEST, in quiet hours until 08:00 CEST (06:00 UTC, not 07:00 UTC as in winter).
    assert sent_table(a, names) == [
        ("paris", 2, "Mon 09:00", "Mon 08:00"),
        ("paris", 24, "Mon 09:00", "Sun 09:00"),
    ]
    assert [m.sent_at for m in reminders(a) if m.data["hours"] == 2] == [
        dt.datetime(2027, 3, 29, 6, 0, tzinfo=dt.UTC)
    ]
    assert sent_table(b, names) == [
        ("toronto", 2, "Mon 09:00", "Mon 08:00"),
        ("toronto", 24, "Mon 09:00", "Sun 09:00"),
    ]
    transport_saw_each_message_once(a, b)


def test_a_salon_without_quiet_hours_reminds_at_any_hour(
    outboxes, catalogue_a, catalogue_b, monday
):
    a, b = catalogue_a.salon, catalogue_b.salon
    a.quiet_hours = None
    a.save(update_fields=["quiet_hours"])
    lea = CustomerFactory(salon=a, consents=CONSENT)
    sam = CustomerFactory(salon=b, phone="+14165550199", consents=CONSENT)
    names = {
        book(catalogue_a, lea, local(a, 1, 9)).pk: "paris",
        book(catalogue_b, sam, local(b, 1, 9)).pk: "toronto",
    }
    walk(monday, [a, b], utc(b, 1, 9), step=dt.timedelta(minutes=30))

    assert sent_table(a, names) == [
        ("paris", 2, "Tue 09:00", "Tue 07:00"),
        ("paris", 24, "Tue 09:00", "Mon 09:00"),
    ]
    assert sent_table(b, names) == [
        ("toronto", 2, "Tue 09:00", "Tue 08:00"),  # quiet until 08:00
        ("toronto", 24, "Tue 09:00", "Mon 09:00"),
    ]


def test_consent_withdrawn_while_a_reminder_waits_for_quiet_hours_to_end_stops_it(
    outboxes, catalogue_a, catalogue_b, monday
):
    a, b = catalogue_a.salon, catalogue_b.salon  # both quiet from 21:00 to 08:00
    lea = CustomerFactory(salon=a, consents=CONSENT)
    sam = CustomerFactory(salon=b, phone="+14165550199", consents=CONSENT)
    names = {
        book(catalogue_a, lea, local(a, 1, 9, 30)).pk: "paris",
        book(catalogue_b, sam, local(b, 1, 9, 30)).pk: "toronto",
    }
    # Paris's 2 h reminder comes due at 07:30 and waits for 08:00.
    walk(monday, [a, b], utc(a, 1, 7, 30), step=dt.timedelta(minutes=30))
    [waiting] = [m for m in reminders(a) if m.data["hours"] == 2]
    assert (waiting.status, waiting.send_after) == (MessageStatus.PENDING, utc(a, 1, 8))

    def withdraw() -> bool:
        with salon_scope(a):
            return consent_withdraw_by_link(customer=lea, purpose="reminders")

    walk(monday, [a, b], utc(b, 1, 9), actions={utc(a, 1, 7, 45): withdraw})

    assert sent_table(a, names) == [("paris", 24, "Tue 09:30", "Mon 09:30")]
    assert not_sent_table(a, names) == [
        ("paris", 2, "The client withdrew their consent to these messages."),
    ]
    assert sent_table(b, names) == [
        ("toronto", 2, "Tue 09:30", "Tue 08:00"),
        ("toronto", 24, "Tue 09:30", "Mon 09:30"),
    ]


# A real worker -----------------------------------------------------------------------------

DRAINED: defaultdict[str, threading.Event] = defaultdict(threading.Event)


@app.task(name="tests.reminders_drained")
def drained(*, mark: str) -> None:
    DRAINED[mark].set()
    connection.close()  # the worker thread's connection goes back before the flush


def drain(label: str) -> None:
    """Wait until the worker has run everything sent so far, and what that sent in turn:
    one solo worker takes the queue in order."""
    for stage in ("first", "then"):
        mark = f"{label}:{stage}"
        drained.delay(mark=mark)
        assert DRAINED[mark].wait(timeout=30), f"the worker did not reach {mark!r}"


def reminders_by_booking(salon: Salon) -> dict[int | None, list[tuple[int, str]]]:
    found: dict[int | None, list[tuple[int, str]]] = defaultdict(list)
    for message in reminders(salon):
        found[message.booking_id].append((message.data["hours"], message.status))
    return dict(found)


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_reminder_sweep_on_a_real_worker_sends_each_salons_reminders_once(
    celery_worker, outboxes, catalogue_a, catalogue_b, monday
):
    a, b = catalogue_a.salon, catalogue_b.salon
    lea = CustomerFactory(salon=a, consents=CONSENT)
    sam = CustomerFactory(salon=b, phone="+14165550199", language="en", consents=CONSENT)
    # Both at 14:00 UTC on Tuesday: 15:00 in Paris, 09:00 in Toronto.
    in_paris = book(catalogue_a, lea, local(a, 1, 15))
    in_toronto = book(catalogue_b, sam, local(b, 1, 9))
    drain("booked")  # the commits sent each salon's run: the confirmations are out
    assert len(sms.outbox) == 2
    assert reminders(a) == reminders(b) == []

    monday.move_to(MONDAY.replace(hour=14))  # the 24 h reminders are due in both salons
    messages_apply.delay(salon_id=a.pk)
    messages_apply.delay(salon_id=a.pk)
    drain("salon a")
    assert reminders_by_booking(a) == {in_paris.pk: [(24, "sent")]}
    assert reminders(b) == [], "salon A's run touched salon B's messages"

    messages_sweep.delay()
    messages_sweep.delay()
    drain("swept")
    assert reminders_by_booking(a) == {in_paris.pk: [(24, "sent")]}
    assert reminders_by_booking(b) == {in_toronto.pk: [(24, "sent")]}
    assert [wall(a, m.sent_at) for m in reminders(a)] == ["Mon 15:00"]
    assert [wall(b, m.sent_at) for m in reminders(b)] == ["Mon 09:00"]
    reminded = Counter(s.to for s in sms.outbox if "Rappel" in s.body or "Reminder" in s.body)
    assert reminded == {str(lea.phone): 1, "+14165550199": 1}
    transport_saw_each_message_once(a, b)
