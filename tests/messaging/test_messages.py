"""The client's messages: planned from what happened to their booking and money, written
once in the outbox, sent once by their channel, in their language."""

import _thread
import datetime as dt
import email
import json
import signal
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from django.core import mail

from bookings.services import booking_cancel
from customers.services import customer_erase
from deposits.credit import credit_grant, credits_expire
from messaging import sms
from messaging.models import Message, MessageKind, MessageStatus
from messaging.outbox import messages_run, quiet_until
from tenants.scoping import salon_scope
from tests.conftest import book, local, stripe_signature
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

POLICY = "/api/v1/salons/bella/backoffice/deposit-policy/"


@pytest.fixture
def texts(settings):
    settings.SMS_BACKEND = "locmem"
    sms.outbox.clear()
    return sms.outbox


def _run(salon, now=None):
    with salon_scope(salon):
        return messages_run(salon=salon, now=now)


def _messages(salon, **filters):
    with salon_scope(salon):
        return list(Message.objects.filter(**filters).order_by("id"))


def test_a_confirmed_booking_is_announced_once(texts, catalogue_a, catalogue_b, monday):
    lea = CustomerFactory(salon=catalogue_a.salon, phone="+33612345678")
    sam = CustomerFactory(salon=catalogue_b.salon, phone="+14165550199", language="en")
    mine = book(catalogue_a, lea, local(catalogue_a.salon, 1, 10))
    theirs = book(catalogue_b, sam, local(catalogue_b.salon, 1, 10))
    _run(catalogue_a.salon)
    _run(catalogue_a.salon)
    # A's sweep sent A's confirmation only.
    assert [(t.to, mine.reference in t.body) for t in texts] == [("+33612345678", True)]
    assert "mardi 2 mars 2027 à 10:00" in texts[0].body
    _run(catalogue_b.salon)
    assert len(texts) == 2
    assert texts[1].to == "+14165550199"
    assert "confirmed" in texts[1].body and theirs.reference in texts[1].body
    assert "Tuesday 2 March 2027 at 10:00" in texts[1].body  # Toronto time, in English
    (message,) = _messages(catalogue_a.salon, kind=MessageKind.CONFIRMATION)
    assert (message.status, message.channel, message.language) == ("sent", "sms", "fr")
    assert message.provider_ref and message.sent_at == monday_now()


def monday_now():
    return dt.datetime(2027, 3, 1, 7, 0, tzinfo=dt.UTC)


def test_a_french_text_travels_in_the_gsm_alphabet_and_the_outbox_keeps_its_typography(
    texts, catalogue_a, monday
):
    lea = CustomerFactory(salon=catalogue_a.salon, phone="+33612345678")
    book(catalogue_a, lea, local(catalogue_a.salon, 1, 10))
    _run(catalogue_a.salon)
    body = texts[0].body
    # One no-break space or curly apostrophe would send the whole text as UCS-2 (70
    # characters a part instead of 160).
    assert not set(body) & set("\u00a0\u202f\u2019\u00ab\u00bb\u2026")
    assert "est confirmé : Coupe avec Alice" in body
    assert "ou l'annuler :" in body
    # The outbox keeps the text as written: an e-mail of it keeps the typography.
    stored = _messages(catalogue_a.salon)[0].body
    assert "est confirmé\u00a0: Coupe avec Alice" in stored
    assert "ou l\u2019annuler\u00a0:" in stored


def test_no_text_goes_to_a_landline(texts, catalogue_a, monday):
    """A French 01 number cannot receive an SMS: the message goes by e-mail when the
    client gave one, and is skipped with its reason when not."""
    with_email = CustomerFactory(
        salon=catalogue_a.salon, phone="+33143556677", email="paul@example.org"
    )
    without = CustomerFactory(salon=catalogue_a.salon, phone="+33143556688", email="")
    book(catalogue_a, with_email, local(catalogue_a.salon, 1, 10))
    book(catalogue_a, without, local(catalogue_a.salon, 1, 11))
    _run(catalogue_a.salon)
    assert texts == []
    assert [m.to for m in mail.outbox] == [["paul@example.org"]]
    (skipped,) = _messages(catalogue_a.salon, customer=without)
    assert skipped.status == "skipped" and "landline" in skipped.status_detail


def test_email_goes_to_clients_who_prefer_it(texts, catalogue_a, monday):
    zoe = CustomerFactory(
        salon=catalogue_a.salon, preferred_channel="email", email="zoe@example.org"
    )
    booking = book(catalogue_a, zoe, local(catalogue_a.salon, 1, 10))
    _run(catalogue_a.salon)
    assert texts == []
    (email,) = mail.outbox
    assert email.to == ["zoe@example.org"]
    assert email.subject == "Bella Coiffure\u00a0: votre rendez-vous est confirmé"
    assert booking.reference in email.body
    assert "/manage/" in email.body
    assert "Bella Coiffure" in email.from_email


def test_nothing_is_sent_to_an_erased_client(texts, catalogue_a, monday):
    lea = CustomerFactory(salon=catalogue_a.salon)
    book(catalogue_a, lea, local(catalogue_a.salon, 1, 10))
    with salon_scope(catalogue_a.salon):
        customer_erase(customer=lea)
    _run(catalogue_a.salon)
    assert texts == [] and mail.outbox == []
    (message,) = _messages(catalogue_a.salon, kind=MessageKind.CONFIRMATION)
    assert message.status == MessageStatus.SKIPPED
    assert "erased" in message.status_detail


def test_a_cancellation_says_what_became_of_the_money(texts, catalogue_a, monday):
    lea = CustomerFactory(salon=catalogue_a.salon)
    booking = book(catalogue_a, lea, local(catalogue_a.salon, 1, 10))
    with salon_scope(catalogue_a.salon):
        booking_cancel(booking=booking, by_salon=True, reason="Coiffeuse malade")
    _run(catalogue_a.salon)
    cancelled = [t for t in texts if "annulé" in t.body]
    assert len(cancelled) == 1
    assert "par le salon (Coiffeuse malade)" in cancelled[0].body


# The reschedule offer: a cancellation that leaves credit --------------------------------


def _paid_booking(api, client, settings, stripe_api, catalogue):
    request = {
        "service": catalogue.cut.pk,
        "start": "2027-03-10T10:00:00+01:00",
        "staff": catalogue.alice.pk,
        "customer": {"name": "Léa", "phone": "06 12 34 56 78"},
    }
    booking = (
        api()
        .post(f"/api/v1/salons/{catalogue.salon.slug}/bookings/", request, format="json")
        .json()
    )
    intent = booking["payment"]["payment_intent"]
    stripe_api.pay(intent)
    event = {
        "id": f"evt_{intent}",
        "object": "event",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": intent,
                "object": "payment_intent",
                "currency": "eur",
                "amount": booking["amount_due_now"],
            }
        },
    }
    payload = json.dumps(event).encode()
    client.generic(
        "POST",
        "/api/v1/stripe/webhook/",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=stripe_signature(payload, settings.STRIPE_WEBHOOK_SECRET),
    )
    return booking


def test_a_cancellation_with_credit_offers_three_free_slots_that_reschedule_with_it(
    api, client, settings, stripe_api, texts, team_a, catalogue_a, monday
):
    policy = {
        "rule": {"kind": "fixed", "value": 1500},
        "late_cancellation": "credit",
        "credit_valid_days": 90,
    }
    assert api(team_a.owner).put(POLICY, policy, format="json").status_code == 200
    booking = _paid_booking(api, client, settings, stripe_api, catalogue_a)
    token = booking["manage_token"]
    # Someone else has the time just after the cancelled one, on the next day.
    other = CustomerFactory(salon=catalogue_a.salon)
    book(catalogue_a, other, local(catalogue_a.salon, 10, 10), staff=catalogue_a.alice)
    cancelled = (
        api()
        .post(f"/api/v1/manage/{token}/cancel/", {"resolution": "credit"}, format="json")
        .json()
    )
    assert cancelled["deposit"]["status"] == "credited"
    monday.shift(dt.timedelta(hours=2))  # 10:00 in Paris: not in quiet hours
    _run(catalogue_a.salon)
    _run(catalogue_a.salon)
    (offer,) = _messages(catalogue_a.salon, kind=MessageKind.RESCHEDULE_OFFER)
    assert offer.status == MessageStatus.SENT
    slots = offer.data["slots"]
    assert len(slots) == 3
    assert offer.data["credit"] == 1500
    # Three real free slots: each is offered by the public availability, on other days
    # than the cancelled one, near its time, and each one is named in the text.
    for slot in slots:
        day = slot["start"][:10]
        assert day != "2027-03-10"
        free = (
            api()
            .get(
                "/api/v1/salons/bella/availability/",
                {"service": catalogue_a.cut.pk, "from": day, "to": day},
            )
            .json()["slots"]
        )
        assert any(s["start"] == slot["start"] and slot["staff"] in s["staff_ids"] for s in free)
        assert abs(
            dt.datetime.fromisoformat(slot["start"])
            - dt.datetime.fromisoformat("2027-03-10T10:00:00+01:00")
        ) <= dt.timedelta(days=3)
    (text,) = [t for t in texts if "avoir de 15,00 €" in t.body]
    assert text.body.count("\n- ") == 3
    assert f"/manage/{token.split(':')[0]}:" in text.body  # the link, signed anew
    # Using one of them reschedules the booking with the credit: confirmed, nothing due.
    chosen = slots[0]
    back = api().post(
        f"/api/v1/manage/{token}/reschedule/",
        {"start": chosen["start"], "staff": chosen["staff"]},
        format="json",
    )
    assert back.status_code == 200, back.json()
    body = back.json()
    assert (body["status"], body["start"], body["amount_due_now"], body["credit_balance"]) == (
        "confirmed",
        chosen["start"],
        0,
        0,
    )
    # The rebooked booking is confirmed to the client; the offer is not sent again.
    _run(catalogue_a.salon)
    assert len(_messages(catalogue_a.salon, kind=MessageKind.RESCHEDULE_OFFER)) == 1
    assert any("nouvelle date" in t.body for t in texts)


# Credit about to lapse, and lapsed ------------------------------------------------------


def test_credit_is_announced_before_it_lapses_and_when_it_has(texts, catalogue_a, monday):
    lea = CustomerFactory(salon=catalogue_a.salon)
    booking = book(catalogue_a, lea, local(catalogue_a.salon, 1, 10))
    with salon_scope(catalogue_a.salon):
        credit_grant(customer=lea, amount=1500, currency="EUR", valid_days=30, booking=booking)
    _run(catalogue_a.salon)
    texts.clear()
    monday.shift(dt.timedelta(days=22))  # 8 days before: nothing yet
    _run(catalogue_a.salon)
    assert texts == []
    monday.shift(dt.timedelta(days=2, hours=3))  # 6 days before, 11:00 in Paris
    _run(catalogue_a.salon)
    _run(catalogue_a.salon)
    assert len(texts) == 1 and "expire le" in texts[0].body and "15,00 €" in texts[0].body
    monday.shift(dt.timedelta(days=7))
    with salon_scope(catalogue_a.salon):
        credits_expire(salon_id=catalogue_a.salon.pk)
    _run(catalogue_a.salon)
    _run(catalogue_a.salon)
    assert len(texts) == 2 and "a expiré" in texts[1].body


def test_a_credit_warning_waits_for_quiet_hours_to_end(texts, catalogue_a, monday):
    lea = CustomerFactory(salon=catalogue_a.salon)
    booking = book(catalogue_a, lea, local(catalogue_a.salon, 1, 10))
    with salon_scope(catalogue_a.salon):
        credit_grant(customer=lea, amount=1500, currency="EUR", valid_days=30, booking=booking)
    _run(catalogue_a.salon)
    texts.clear()
    night = dt.datetime(2027, 3, 24, 22, 30, tzinfo=dt.UTC)  # 23:30 in Paris, 6 days before
    monday.move_to(night)
    _run(catalogue_a.salon)
    assert texts == []
    (warning,) = _messages(catalogue_a.salon, kind=MessageKind.CREDIT_WARNING)
    assert warning.send_after == dt.datetime(2027, 3, 25, 7, 0, tzinfo=dt.UTC)  # 08:00 Paris
    monday.move_to(dt.datetime(2027, 3, 25, 7, 0, tzinfo=dt.UTC))
    _run(catalogue_a.salon)
    assert len(texts) == 1


def test_quiet_hours_are_the_salons_wall_clock_across_dst(team_a):
    salon = team_a.salon  # Paris, 21:00 to 08:00; clocks go forward on 2027-03-28
    before = dt.datetime(2027, 3, 27, 23, 30, tzinfo=dt.UTC)  # 00:30 CET
    assert quiet_until(salon, before) == dt.datetime(2027, 3, 28, 6, 0, tzinfo=dt.UTC)  # 08:00 CEST
    assert quiet_until(salon, dt.datetime(2027, 3, 28, 6, 0, tzinfo=dt.UTC)) is None
    assert quiet_until(salon, dt.datetime(2027, 3, 28, 18, 59, tzinfo=dt.UTC)) is None
    assert quiet_until(salon, dt.datetime(2027, 3, 28, 19, 0, tzinfo=dt.UTC)) == dt.datetime(
        2027, 3, 29, 6, 0, tzinfo=dt.UTC
    )
    salon.quiet_hours = {"start": "12:00", "end": "14:00"}
    assert quiet_until(salon, dt.datetime(2027, 3, 1, 11, 0, tzinfo=dt.UTC)) == dt.datetime(
        2027, 3, 1, 13, 0, tzinfo=dt.UTC
    )
    salon.quiet_hours = None
    assert quiet_until(salon, before) is None


# SMS backends ---------------------------------------------------------------------------


def test_the_console_backend_prints_the_message(settings, catalogue_a, monday, capsys):
    settings.SMS_BACKEND = "console"
    settings.SMS_CONSOLE_SHOW_TEXT = True  # as under `make run`
    lea = CustomerFactory(salon=catalogue_a.salon, phone="+33612345678")
    booking = book(catalogue_a, lea, local(catalogue_a.salon, 1, 10))
    _run(catalogue_a.salon)
    out = capsys.readouterr().out
    assert "--- SMS console-" in out and "to +33612345678" in out
    assert booking.reference in out


class _Twilio(BaseHTTPRequestHandler):
    """Twilio's Messages endpoint, as seen from the outside: answers from a script."""

    script: list[int] = []
    received: list[dict[str, list[str]]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        form = parse_qs(self.rfile.read(length).decode())
        _Twilio.received.append(
            {"path": [self.path], "auth": [self.headers["Authorization"]], **form}
        )
        status = _Twilio.script.pop(0) if _Twilio.script else 201
        body = {"sid": f"SM{len(_Twilio.received):032d}"} if status == 201 else {"code": status}
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def twilio(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Twilio)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Twilio.script, _Twilio.received = [], []
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID = "AC0123"
    settings.TWILIO_AUTH_TOKEN = "secret"
    settings.TWILIO_FROM = "+33700000000"
    settings.TWILIO_API_BASE = f"http://127.0.0.1:{server.server_address[1]}"
    yield _Twilio
    server.shutdown()


def test_the_twilio_backend_sends_and_a_provider_error_is_retried_once_later(
    twilio, catalogue_a, monday
):
    lea = CustomerFactory(salon=catalogue_a.salon, phone="+33612345678")
    book(catalogue_a, lea, local(catalogue_a.salon, 1, 10))
    twilio.script = [503]
    _run(catalogue_a.salon)
    (message,) = _messages(catalogue_a.salon, kind=MessageKind.CONFIRMATION)
    assert (message.status, message.attempts) == (MessageStatus.PENDING, 1)
    assert "503" in message.status_detail
    _run(catalogue_a.salon)  # not before the backoff
    assert len(twilio.received) == 1
    monday.shift(dt.timedelta(minutes=3))
    _run(catalogue_a.salon)
    _run(catalogue_a.salon)
    (message,) = _messages(catalogue_a.salon, kind=MessageKind.CONFIRMATION)
    assert (message.status, message.attempts) == (MessageStatus.SENT, 2)
    assert message.provider_ref == "SM" + "2".zfill(32)
    sent = twilio.received[-1]
    assert sent["path"] == ["/2010-04-01/Accounts/AC0123/Messages.json"]
    assert (sent["To"], sent["From"]) == (["+33612345678"], ["+33700000000"])
    assert sent["auth"][0].startswith("Basic ")


def test_a_number_the_provider_refuses_fails_without_retrying(twilio, catalogue_a, monday):
    lea = CustomerFactory(salon=catalogue_a.salon)
    book(catalogue_a, lea, local(catalogue_a.salon, 1, 10))
    twilio.script = [400]
    _run(catalogue_a.salon)
    monday.shift(dt.timedelta(hours=1))
    _run(catalogue_a.salon)
    (message,) = _messages(catalogue_a.salon, kind=MessageKind.CONFIRMATION)
    assert message.status == MessageStatus.FAILED
    assert len(twilio.received) == 1


def test_a_sender_that_died_mid_send_is_relieved_after_its_lease(texts, catalogue_a, monday):
    lea = CustomerFactory(salon=catalogue_a.salon)
    book(catalogue_a, lea, local(catalogue_a.salon, 1, 10))
    with salon_scope(catalogue_a.salon):
        from messaging.outbox import messages_plan_events

        messages_plan_events(salon=catalogue_a.salon, now=monday_now())
        # A sender claimed it, then its process died before sending.
        Message.objects.filter(kind=MessageKind.CONFIRMATION).update(
            status=MessageStatus.SENDING, claimed_at=monday_now()
        )
    _run(catalogue_a.salon)
    assert texts == []
    monday.shift(dt.timedelta(minutes=11))
    _run(catalogue_a.salon)
    assert len(texts) == 1


def test_a_move_is_not_followed_by_a_reminder_already_past(texts, catalogue_a, monday):
    from bookings.services import booking_reschedule

    lea = CustomerFactory(salon=catalogue_a.salon, consents={"reminders": True})
    booking = book(catalogue_a, lea, local(catalogue_a.salon, 1, 14))
    _run(catalogue_a.salon)
    monday.move_to(dt.datetime(2027, 3, 1, 11, 0, tzinfo=dt.UTC))  # Monday 12:00 in Paris
    with salon_scope(catalogue_a.salon):
        booking_reschedule(booking=booking, start=local(catalogue_a.salon, 1, 11))
    _run(catalogue_a.salon)
    # The notice of the move says the new time; the 24 h reminder, due at 11:00, is not
    # sent an hour after it.
    assert [m.kind for m in _messages(catalogue_a.salon, status=MessageStatus.SENT)] == [
        MessageKind.CONFIRMATION,
        MessageKind.RESCHEDULED,
    ]
    (reminder,) = _messages(catalogue_a.salon, kind=MessageKind.REMINDER)
    assert reminder.status == MessageStatus.SKIPPED and "moved" in reminder.status_detail
    monday.move_to(dt.datetime(2027, 3, 2, 8, 0, tzinfo=dt.UTC))  # Tuesday 09:00: 2 h before
    _run(catalogue_a.salon)
    assert [t.body for t in texts][-1].startswith("Rappel")


def test_the_console_backend_keeps_names_and_numbers_out_of_a_workers_log(
    settings, catalogue_a, monday, capsys
):
    settings.SMS_BACKEND = "console"
    settings.SMS_CONSOLE_SHOW_TEXT = False  # a worker's log: no debug
    lea = CustomerFactory(salon=catalogue_a.salon, name="Léandra Quesnel", phone="+33612345678")
    booking = book(catalogue_a, lea, local(catalogue_a.salon, 1, 10))
    _run(catalogue_a.salon)
    out = capsys.readouterr().out
    assert "--- SMS console-" in out
    assert "12345678" not in out and "Quesnel" not in out and "Léandra" not in out
    assert "/manage/" not in out and booking.reference not in out
    (message,) = _messages(catalogue_a.salon, kind=MessageKind.CONFIRMATION)
    assert message.status == MessageStatus.SENT


def test_a_message_that_cannot_be_built_fails_for_good_with_its_reason(catalogue_a, monday):
    from tenants.models import Salon

    salon = catalogue_a.salon
    Salon.objects.filter(pk=salon.pk).update(name="Bella\r\nBcc: victim@example.org")
    salon.refresh_from_db()
    lea = CustomerFactory(
        salon=salon, email="lea@example.org", phone=None, preferred_channel="email"
    )
    book(catalogue_a, lea, local(salon, 1, 10))
    _run(salon)
    (message,) = _messages(salon, kind=MessageKind.CONFIRMATION)
    assert message.status == MessageStatus.FAILED
    assert "BadHeaderError" in message.status_detail
    assert message.attempts == 1
    # Nothing tries it again, whatever time passes.
    for _hour in range(3):
        monday.shift(dt.timedelta(hours=1))
        _run(salon)
    (message,) = _messages(salon, kind=MessageKind.CONFIRMATION)
    assert (message.status, message.attempts) == (MessageStatus.FAILED, 1)
    assert mail.outbox == []


def test_a_sender_that_keeps_dying_stops_being_relieved(texts, catalogue_a, monday):
    from messaging.outbox.rules import MAX_ATTEMPTS

    lea = CustomerFactory(salon=catalogue_a.salon)
    book(catalogue_a, lea, local(catalogue_a.salon, 1, 10))
    with salon_scope(catalogue_a.salon):
        from messaging.outbox import messages_plan_events

        messages_plan_events(salon=catalogue_a.salon, now=monday_now())
        # Claimed and lost as many times as a message may be tried.
        Message.objects.filter(kind=MessageKind.CONFIRMATION).update(
            status=MessageStatus.SENDING, claimed_at=monday_now(), attempts=MAX_ATTEMPTS
        )
    monday.shift(dt.timedelta(minutes=11))
    _run(catalogue_a.salon)
    assert texts == []
    (message,) = _messages(catalogue_a.salon, kind=MessageKind.CONFIRMATION)
    assert message.status == MessageStatus.FAILED
    assert "stopped" in message.status_detail


class _Smtp(socketserver.StreamRequestHandler):
    """A real SMTP server, minimal: keeps what it accepted; on accepting the data of the
    message it was told to, it interrupts the sender (the test's main thread) as a kill
    would, before the sender can record anything."""

    accepted: list[bytes] = []
    interrupt_after: int | None = None

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        self.reply("220 mx.example.org ESMTP")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.reply("250 mx.example.org")
            elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                self.reply("250 OK")
            elif verb == b"DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk
                _Smtp.accepted.append(data)
                if _Smtp.interrupt_after == len(_Smtp.accepted):
                    # The worker dies now, the message taken by the server: it stops at
                    # the next instruction it runs, whether it read the 250 or not.
                    _thread.interrupt_main()
                self.reply("250 Queued")
            elif verb == b"QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Not implemented")


@pytest.fixture
def smtp_server(settings):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Smtp.accepted, _Smtp.interrupt_after = [], None
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.server_address[1]
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield _Smtp
    server.shutdown()
    server.server_close()


def _message_ids(raw: list[bytes]) -> list[str]:
    return [email.message_from_bytes(data)["Message-ID"] for data in raw]


def test_a_sender_killed_after_the_server_accepted_resends_the_same_message_id(
    smtp_server, catalogue_a, monday
):
    from messaging.outbox.send import message_id_header

    salon = catalogue_a.salon
    lea = CustomerFactory(
        salon=salon, email="lea@example.org", phone=None, preferred_channel="email"
    )
    book(catalogue_a, lea, local(salon, 1, 10))
    smtp_server.interrupt_after = 1
    # Python's own handler, whatever an earlier test (a Celery worker) installed.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            _run(salon)
    finally:
        signal.signal(signal.SIGINT, previous)
    (message,) = _messages(salon, kind=MessageKind.CONFIRMATION)
    # The server took it; the sender died before recording it.
    assert message.status == MessageStatus.SENDING
    assert len(smtp_server.accepted) == 1
    # Its lease over, the message goes again: the same message, by its Message-ID.
    monday.shift(dt.timedelta(minutes=11))
    _run(salon)
    _run(salon)
    (message,) = _messages(salon, kind=MessageKind.CONFIRMATION)
    assert message.status == MessageStatus.SENT
    assert len(smtp_server.accepted) == 2
    first, second = _message_ids(smtp_server.accepted)
    assert first == second == message_id_header(message) == message.provider_ref


def test_an_accepted_message_is_recorded_before_the_connection_closes(
    smtp_server, catalogue_a, monday
):
    salon = catalogue_a.salon
    lea = CustomerFactory(
        salon=salon, email="lea@example.org", phone=None, preferred_channel="email"
    )
    book(catalogue_a, lea, local(salon, 1, 10))
    _run(salon)
    monday.shift(dt.timedelta(hours=1))
    _run(salon)
    (message,) = _messages(salon, kind=MessageKind.CONFIRMATION)
    assert (message.status, message.attempts) == (MessageStatus.SENT, 1)
    assert len(smtp_server.accepted) == 1
