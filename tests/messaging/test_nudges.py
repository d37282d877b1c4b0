"""The invitation to come back: a service's rebooking interval has run since a client's
visit and she has not booked since; one message by her channel, with her consent to
offers, never to a blocked client, never twice for one visit, with a link that opens the
booking steps on the same service and staff member, and the owner's figures counting
those sent and those that brought the client back. Salon B's clients are never touched
by salon A's run."""

import datetime as dt
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings.models import Booking, Status
from bookings.selectors import catalogue_get, visit_parts
from bookings.services import booking_cancel, booking_complete, catalogue_service_save
from bookings.tokens import comeback_token, comeback_token_read
from customers.services import customer_update
from deposits.history import HONOURED, PastVisit, past_visits_import
from messaging import sms
from messaging.models import Message, MessageKind, MessageStatus
from messaging.outbox import nudges_due, nudges_run
from messaging.tasks import nudges_sweep
from support.figures import salon_figures
from tenants.scoping import salon_scope
from tests.conftest import MONDAY, book, local
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

INTERVAL = 42  # six weeks after a cut


@pytest.fixture
def texts(settings):
    settings.SMS_BACKEND = "locmem"
    sms.outbox.clear()
    return sms.outbox


@pytest.fixture
def cut_a(catalogue_a):
    with salon_scope(catalogue_a.salon):
        catalogue_service_save(
            salon=catalogue_a.salon, service=catalogue_a.cut, rebook_after_days=INTERVAL
        )
    return catalogue_a


@pytest.fixture
def cut_b(catalogue_b):
    with salon_scope(catalogue_b.salon):
        catalogue_service_save(
            salon=catalogue_b.salon, service=catalogue_b.cut, rebook_after_days=INTERVAL
        )
    return catalogue_b


def client_of(cat, phone, *, marketing=True, **fields):
    with salon_scope(cat.salon):
        return CustomerFactory(
            salon=cat.salon, phone=phone, consents={"marketing": marketing}, **fields
        )


def visit(cat, customer, days_ago, *, staff=None, service=None, ended=HONOURED):
    """A visit `days_ago` days before the frozen Monday, at 10:00 in the salon, over."""
    start = local(cat.salon, -days_ago, 10)
    with salon_scope(cat.salon):
        (booking,) = past_visits_import(
            salon=cat.salon,
            visits=[
                PastVisit(
                    customer=customer,
                    service=service or cat.cut,
                    staff=staff or cat.bob,
                    start=start,
                    booked_at=start - dt.timedelta(days=7),
                    source="web",
                    ended=ended,
                )
            ],
        )
    return booking


def run(cat, now=None):
    with salon_scope(cat.salon):
        return nudges_run(salon=cat.salon, now=now)


def nudges(cat):
    with salon_scope(cat.salon):
        return list(Message.objects.filter(kind=MessageKind.REBOOK_NUDGE).order_by("pk"))


def test_a_client_is_invited_once_when_the_interval_has_run_with_a_link_to_the_same_cut(
    texts, cut_a, monday
):
    lea = client_of(cut_a, "+33612345678", name="Léa Martin")
    cut = visit(cut_a, lea, INTERVAL, staff=cut_a.bob)
    assert run(cut_a) == {"nudges": 1, "sent": 1}
    (message,) = nudges(cut_a)
    assert message.status == MessageStatus.SENT and message.booking_id == cut.pk
    assert message.key == f"nudge:{cut.pk}" and message.channel == "sms"
    (text,) = texts
    assert text.to == "+33612345678"
    assert "Coupe avec Bob" in text.body and "18 janvier" in text.body
    url = next(word for word in text.body.split() if "/book/" in word)
    parts = urlsplit(url)
    assert parts.path == "/bella/book/"
    query = parse_qs(parts.query)
    assert query["service"] == [str(cut_a.cut.pk)] and query["staff"] == [str(cut_a.bob.pk)]
    assert query["step"] == ["time"]
    assert comeback_token_read(query["n"][0], salon_id=cut_a.salon.pk) == cut.pk
    assert "/bella/unsubscribe/" in text.body  # an offer carries its way out
    # Run again, the same day and the next: nothing more.
    assert run(cut_a) == {"nudges": 0, "sent": 0}
    assert run(cut_a, now=MONDAY + dt.timedelta(days=1)) == {"nudges": 0, "sent": 0}
    assert len(texts) == 1 and len(nudges(cut_a)) == 1


def test_not_before_the_interval_has_run_in_the_salons_days(texts, cut_a, monday):
    lea = client_of(cut_a, "+33612345678")
    cut = visit(cut_a, lea, INTERVAL - 1)
    assert run(cut_a)["nudges"] == 0
    # 23:30 in Paris on the Monday: still the 41st day there (22:30 UTC).
    assert run(cut_a, now=MONDAY + dt.timedelta(hours=15, minutes=30))["nudges"] == 0
    # Past midnight in Paris (23:05 UTC): the 42nd day, planned (sent after quiet hours).
    assert run(cut_a, now=MONDAY + dt.timedelta(hours=16, minutes=5))["nudges"] == 1
    (message,) = nudges(cut_a)
    assert message.booking_id == cut.pk and message.status == MessageStatus.PENDING
    assert message.send_after == dt.datetime(2027, 3, 2, 8, tzinfo=cut_a.salon.tz)
    assert texts == []


def test_not_when_the_visit_is_long_past_the_interval(texts, cut_a, monday):
    """Sixty days after the interval ran, a client who did not come back is not chased."""
    lea = client_of(cut_a, "+33612345678")
    max_ = client_of(cut_a, "+33612345679")
    visit(cut_a, lea, INTERVAL + 60)
    late_but_not_too_late = visit(cut_a, max_, INTERVAL + 59)
    run(cut_a)
    assert [m.booking_id for m in nudges(cut_a)] == [late_but_not_too_late.pk]


def test_never_to_a_blocked_client(texts, cut_a, monday):
    lea = client_of(cut_a, "+33612345678", blocked=True)
    visit(cut_a, lea, INTERVAL)
    run(cut_a)
    (message,) = nudges(cut_a)
    assert message.status == MessageStatus.SKIPPED
    assert message.status_detail == "The client is blocked."
    assert texts == []


def test_never_without_consent_to_offers_and_the_reason_is_kept(texts, cut_a, monday):
    lea = client_of(cut_a, "+33612345678", marketing=False)
    with salon_scope(cut_a.salon):
        customer_update(customer=lea, consents={"reminders": True})
    visit(cut_a, lea, INTERVAL)
    run(cut_a)
    run(cut_a)
    (message,) = nudges(cut_a)
    assert message.status == MessageStatus.SKIPPED
    assert "not agreed to receive offers" in message.status_detail
    assert message.body == "" and texts == []


def test_consent_withdrawn_while_it_waited_for_quiet_hours_stops_it(texts, cut_a, monday):
    lea = client_of(cut_a, "+33612345678")
    visit(cut_a, lea, INTERVAL)
    evening = MONDAY + dt.timedelta(hours=14)  # 22:00 in Paris
    run(cut_a, now=evening)
    with salon_scope(cut_a.salon):
        customer_update(customer=lea, consents={"marketing": False})
    run(cut_a, now=MONDAY + dt.timedelta(days=1, hours=1))
    (message,) = nudges(cut_a)
    assert message.status == MessageStatus.SKIPPED and "withdrew" in message.status_detail
    assert texts == []


def test_not_when_she_booked_since_whichever_way(texts, cut_a, monday):
    lea = client_of(cut_a, "+33612345678", name="Léa")
    max_ = client_of(cut_a, "+33612345679", name="Max")
    zoe = client_of(cut_a, "+33612345670", name="Zoé")
    ines = client_of(cut_a, "+33612345671", name="Inès")
    for client in (lea, max_, zoe, ines):
        visit(cut_a, client, INTERVAL)
    # Léa booked her next cut (any service counts); Max came back for a colour already.
    book(cut_a, lea, local(cut_a.salon, 3, 10), service=cut_a.colour)
    visit(cut_a, max_, 10, service=cut_a.colour, staff=cut_a.alice)
    # Zoé booked online with her number, unproven: a record of its own, still her.
    with salon_scope(cut_a.salon):
        again = CustomerFactory(salon=cut_a.salon, phone=str(zoe.phone), name="Z", duplicate_of=zoe)
    book(cut_a, again, local(cut_a.salon, 2, 11))
    # Inès booked and cancelled: that is no coming back.
    gone = book(cut_a, ines, local(cut_a.salon, 2, 15))
    with salon_scope(cut_a.salon):
        booking_cancel(booking=gone, reason="")
    run(cut_a)
    assert [m.customer_id for m in nudges(cut_a)] == [ines.pk]


def test_she_booked_while_it_waited_for_quiet_hours(texts, cut_a, monday):
    lea = client_of(cut_a, "+33612345678")
    visit(cut_a, lea, INTERVAL)
    run(cut_a, now=MONDAY + dt.timedelta(hours=14))  # 22:00 in Paris: it waits
    book(cut_a, lea, local(cut_a.salon, 3, 10))
    run(cut_a, now=MONDAY + dt.timedelta(days=1, hours=1))
    (message,) = nudges(cut_a)
    assert message.status == MessageStatus.SKIPPED
    assert message.status_detail == "The client booked meanwhile."


def test_blocked_while_it_waited_for_quiet_hours(texts, cut_a, monday):
    lea = client_of(cut_a, "+33612345678")
    visit(cut_a, lea, INTERVAL)
    run(cut_a, now=MONDAY + dt.timedelta(hours=14))  # 22:00 in Paris: it waits
    with salon_scope(cut_a.salon):
        customer_update(customer=lea, blocked=True)
    run(cut_a, now=MONDAY + dt.timedelta(days=1, hours=1))
    (message,) = nudges(cut_a)
    assert message.status == MessageStatus.SKIPPED
    assert message.status_detail == "The client was blocked meanwhile."
    assert texts == []


def test_a_visit_of_several_services_is_due_from_one_with_an_interval(texts, cut_a):
    """Colour, then a cut: the cut's interval counts; the link is the visit's own
    service (its first) with its staff member."""
    lea = client_of(cut_a, "+33612345678")
    start = local(cut_a.salon, -INTERVAL, 10)
    with time_machine.travel(start - dt.timedelta(days=2), tick=False):
        booking = book(
            cut_a,
            lea,
            start,
            parts=visit_parts([cut_a.colour, cut_a.cut]),
            staff=cut_a.alice,
        )
    with time_machine.travel(start + dt.timedelta(hours=3), tick=False), salon_scope(cut_a.salon):
        booking_complete(booking=booking)
    with time_machine.travel(MONDAY, tick=False):
        run(cut_a)
    (message,) = nudges(cut_a)
    assert message.status == MessageStatus.SENT
    assert message.data["service"] == cut_a.colour.pk and message.data["staff"] == cut_a.alice.pk


def test_the_link_opens_the_time_step_and_the_booking_records_where_it_came_from(
    client, texts, cut_a, monday
):
    lea = client_of(cut_a, "+33612345678", name="Léa Martin")
    cut = visit(cut_a, lea, INTERVAL, staff=cut_a.bob)
    run(cut_a)
    (message,) = nudges(cut_a)
    link = urlsplit(message.data["url"])
    page = client.get(f"{link.path}?{link.query}", HTTP_ACCEPT_LANGUAGE="fr")
    html = page.content.decode()
    assert page.status_code == 200
    assert page.context["step"] == "time"
    assert page.context["choice"].services == [cut_a.cut]
    assert page.context["choice"].staff_id == cut_a.bob.pk
    token = comeback_token(salon_id=cut_a.salon.pk, visit_id=cut.pk)
    assert f"n={token}" in html  # carried to the next step
    start = local(cut_a.salon, 2, 10)
    answer = client.post(
        "/bella/book/",
        {
            "services": [cut_a.cut.pk],
            "order": str(cut_a.cut.pk),
            "staff": cut_a.bob.pk,
            "start": start.isoformat(),
            "name": "Léa Martin",
            "phone": "06 99 88 77 66",
            "n": token,
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    with salon_scope(cut_a.salon):
        booking = Booking.objects.get(start=start)
    assert booking.comeback_of_id == cut.pk and booking.staff_id == cut_a.bob.pk
    # A forged marker is ignored, never refused.
    forged = client.post(
        "/bella/book/",
        {
            "services": [cut_a.cut.pk],
            "order": str(cut_a.cut.pk),
            "staff": cut_a.bob.pk,
            "start": local(cut_a.salon, 2, 14).isoformat(),
            "name": "Max",
            "phone": "06 99 88 77 55",
            "n": f"{cut.pk}-000000000000",
        },
    )
    assert forged.status_code == 302
    with salon_scope(cut_a.salon):
        assert Booking.objects.get(start=local(cut_a.salon, 2, 14)).comeback_of_id is None


def test_salon_bs_clients_are_never_invited_by_salon_as_run(texts, cut_a, cut_b, monday):
    lea = client_of(cut_a, "+33612345678")
    sam = CustomerFactory(salon=cut_b.salon, phone="+14165550199", consents={"marketing": True})
    mine = visit(cut_a, lea, INTERVAL)
    theirs = visit(cut_b, sam, INTERVAL)
    run(cut_a)
    assert [m.booking_id for m in nudges(cut_a)] == [mine.pk]
    assert nudges(cut_b) == []
    assert [t.to for t in texts] == ["+33612345678"]
    # B's own run: 02:00 in Toronto, quiet hours; it goes out at 08:00 there.
    run(cut_b)
    (message,) = nudges(cut_b)
    assert message.booking_id == theirs.pk and message.status == MessageStatus.PENDING
    assert message.send_after == dt.datetime(2027, 3, 1, 8, tzinfo=cut_b.salon.tz)
    # A's token means nothing in B.
    token = comeback_token(salon_id=cut_a.salon.pk, visit_id=mine.pk)
    assert comeback_token_read(token, salon_id=cut_b.salon.pk) is None


def test_the_selection_is_one_query_whatever_the_number_of_clients(cut_a, monday):
    def clients(first, count):
        people = [client_of(cut_a, f"+336{n:08d}") for n in range(first, first + count)]
        for n, person in enumerate(people):
            visit(cut_a, person, INTERVAL + n % 30)
        return people

    def selection():
        with salon_scope(cut_a.salon):
            catalogue = catalogue_get(salon=cut_a.salon)  # cached, apart from the selection
            with CaptureQueriesContext(connection) as queries:
                found = list(nudges_due(salon=cut_a.salon, now=MONDAY, catalogue=catalogue))
        return found, len(queries)

    clients(10, 3)
    few, few_queries = selection()
    clients(100, 60)
    many, many_queries = selection()
    assert (len(few), len(many)) == (3, 63)
    assert few_queries == many_queries == 1
    run(cut_a)
    # Once written, nothing is selected again: the same one query, finding nothing.
    done, done_queries = selection()
    assert done == [] and done_queries == 1
    assert len(nudges(cut_a)) == 63


def test_the_figures_count_invitations_sent_and_the_clients_they_brought_back(
    texts, cut_a, cut_b, monday
):
    lea, max_, zoe = (client_of(cut_a, f"+3361234567{n}") for n in range(3))
    sam = CustomerFactory(salon=cut_b.salon, phone="+14165550199", consents={"marketing": True})
    for person in (lea, max_, zoe):
        visit(cut_a, person, INTERVAL)
    visit(cut_b, sam, INTERVAL)
    run(cut_a)
    run(cut_b, now=MONDAY + dt.timedelta(hours=8))  # 08:00 in Toronto
    assert len(texts) == 4
    # Léa books through the link a week later; Max, by phone, 29 days later; Zoé, 31.
    with time_machine.travel(MONDAY + dt.timedelta(days=7), tick=False):
        (nudge,) = [m for m in nudges(cut_a) if m.customer_id == lea.pk]
        booking = book(cut_a, lea, local(cut_a.salon, 9, 10), comeback_of=nudge.booking_id)
        assert booking.comeback_of_id == nudge.booking_id
    with time_machine.travel(MONDAY + dt.timedelta(days=29), tick=False):
        book(cut_a, max_, local(cut_a.salon, 31, 10), source="phone")
    with time_machine.travel(MONDAY + dt.timedelta(days=31), tick=False):
        book(cut_a, zoe, local(cut_a.salon, 33, 10))
    with time_machine.travel(MONDAY + dt.timedelta(days=35), tick=False):
        with salon_scope(cut_a.salon):
            figures = salon_figures(salon=cut_a.salon)
        march = next(m for m in figures.months if m.key == dt.date(2027, 3, 1))
        assert (march.nudges, march.nudges_rebooked) == (3, 2)
        assert sum(m.nudges for m in figures.months) == 3
        bob = next(r for r in figures.staff if r.key == cut_a.bob.pk)
        assert (bob.nudges, bob.nudges_rebooked) == (3, 2)
        with salon_scope(cut_b.salon):
            theirs = salon_figures(salon=cut_b.salon)
        assert sum(m.nudges for m in theirs.months) == 1
        assert sum(m.nudges_rebooked for m in theirs.months) == 0


def test_the_figures_page_says_it_in_french(client, texts, team_a, cut_a, monday):
    lea = client_of(cut_a, "+33612345678")
    visit(cut_a, lea, INTERVAL)
    run(cut_a)
    monday.move_to(MONDAY + dt.timedelta(hours=2))
    book(cut_a, lea, local(cut_a.salon, 3, 10))
    client.force_login(team_a.owner)
    page = client.get("/admin/deposits/depositpolicy/recovered/", HTTP_ACCEPT_LANGUAGE="fr")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Messages de retour\u00a0: <strong>1</strong> envoyé" in html
    assert "<strong>1</strong> suivi d\u2019une réservation" in html
    csv = client.get(
        "/admin/deposits/depositpolicy/recovered/",
        {"format": "csv"},
        HTTP_ACCEPT_LANGUAGE="fr",
    ).content.decode()
    header, *rows = csv[1:].splitlines()
    assert header.split(";")[-2:] == [
        "Messages de retour envoyés",
        "Réservations après un message de retour",
    ]
    assert rows[-1].split(";")[-2:] == ["1", "1"]


def test_the_owner_sets_the_interval_in_the_admins_service_form(client, team_a, cut_a):
    client.force_login(team_a.owner)
    url = f"/admin/bookings/service/{cut_a.cut.pk}/change/"
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="fr")
    html = page.content.decode()
    assert 'name="rebook_after_days"' in html and 'value="42"' in html
    assert "par exemple 42 pour six semaines après une coupe" in html


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_beat_sweep_on_a_real_worker_invites_once(celery_worker, texts, cut_a, cut_b):
    lea = client_of(cut_a, "+33612345678")
    sam = CustomerFactory(salon=cut_b.salon, phone="+14165550199", consents={"marketing": True})
    # The worker runs on the real clock: visits the interval ago from today, at noon UTC.
    today = dt.datetime.now(dt.UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    for cat, person in ((cut_a, lea), (cut_b, sam)):
        start = today - dt.timedelta(days=INTERVAL + 1)
        with salon_scope(cat.salon):
            past_visits_import(
                salon=cat.salon,
                visits=[
                    PastVisit(
                        customer=person,
                        service=cat.cut,
                        staff=cat.bob,
                        start=start,
                        booked_at=start - dt.timedelta(days=7),
                        source="web",
                        ended=HONOURED,
                    )
                ],
            )
    nudges_sweep.delay()
    nudges_sweep.delay()
    deadline = time.monotonic() + 30

    def settled(message):
        if message.status == MessageStatus.PENDING:  # waits for the end of quiet hours
            return message.send_after > dt.datetime.now(dt.UTC)
        return message.status == MessageStatus.SENT

    while True:
        found = nudges(cut_a) + nudges(cut_b)
        if len(found) == 2 and all(settled(m) for m in found):
            break
        assert time.monotonic() < deadline, f"the worker did not send the invitations: {found}"
        time.sleep(0.1)
    time.sleep(0.5)  # the second sweep's tasks, had they anything to do
    assert len(nudges(cut_a)) == 1 and len(nudges(cut_b)) == 1
    (mine,) = nudges(cut_a)
    # Sent now, or waiting for the end of Paris's quiet hours when the suite runs at night.
    assert mine.status in {MessageStatus.SENT, MessageStatus.PENDING}
    assert len([t for t in texts if t.to == "+33612345678"]) == (
        1 if mine.status == MessageStatus.SENT else 0
    )
    (theirs,) = nudges(cut_b)
    assert len([t for t in texts if t.to == "+14165550199"]) == (
        1 if theirs.status == MessageStatus.SENT else 0
    )
    with salon_scope(cut_a.salon):
        assert Booking.objects.filter(status=Status.COMPLETED).count() == 1
