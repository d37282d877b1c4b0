"""Clients' text replies (API.md, "Text replies"): each word does what it says to the
booking of the last text sent to the number, the money follows the cancellation rules the
manage link applies, anything else lands in the salon's requests log, a number nobody
texted lands in the log of the salon whose number it texted (or nowhere), and each
provider's message id acts once. Two salons text the same person: the most recent text
decides, and the other salon's data is never touched."""

import datetime as dt
import itertools
import json

import pytest
from django.core import mail

from bookings.models import Booking, BookingEvent, Status
from bookings.services import manage_url
from customers.models import ConsentEvent
from customers.selectors import consent_current
from deposits.models import CreditEntry, CreditKind, Payment
from messaging import sms
from messaging.models import Message, MessageKind, MessageStatus
from messaging.outbox import messages_run
from support.models import CustomerRequest, ReplyAction, TextReply
from support.replies import CANCEL_CONFIRM_MINUTES, TextIn, keyword_of, text_reply_receive
from tenants.models import Salon
from tenants.scoping import salon_scope
from tests.conftest import book, local, policy_put, stripe_signature
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

LEA = "+33612345678"
PLATFORM = "+33757000000"  # the number texts go out from (TWILIO_FROM)
BOOK = "/api/v1/salons/bella/bookings/"
_sids = itertools.count(1)


@pytest.fixture(autouse=True)
def _texts(settings):
    settings.SMS_BACKEND = "locmem"
    settings.TWILIO_AUTH_TOKEN = "twilio-test-token"
    sms.outbox.clear()
    mail.outbox.clear()


def reply(body: str, *, sid: str | None = None, sender: str = LEA, to: str = PLATFORM) -> str:
    sid = sid or f"SM{next(_sids):032d}"
    return text_reply_receive(text=TextIn(sid=sid, sender=sender, to=to, body=body))


def send_texts(salon: Salon) -> None:
    with salon_scope(salon):
        messages_run(salon=salon)


def fresh(salon: Salon, booking: Booking | int) -> Booking:
    with salon_scope(salon):
        return Booking.objects.get(pk=booking if isinstance(booking, int) else booking.pk)


def requests_of(salon: Salon) -> list[CustomerRequest]:
    with salon_scope(salon):
        return list(CustomerRequest.objects.select_related("customer", "booking"))


def client_of(salon: Salon, phone: str = LEA, **fields):
    with salon_scope(salon):
        return CustomerFactory(
            salon=salon, phone=phone, consents={"reminders": True, "marketing": True}, **fields
        )


def paid_booking(api, client, settings, stripe_api, catalogue, start: str) -> dict:
    """Booked online and paid through the stand-in, confirmed by Stripe's webhook."""
    booking = (
        api()
        .post(
            BOOK,
            {
                "service": catalogue.cut.pk,
                "start": start,
                "staff": catalogue.alice.pk,
                "customer": {"name": "Léa", "phone": "06 12 34 56 78"},
            },
            format="json",
        )
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
    answer = client.generic(
        "POST",
        "/api/v1/stripe/webhook/",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=stripe_signature(payload, settings.STRIPE_WEBHOOK_SECRET),
    )
    assert answer.status_code == 200
    send_texts(catalogue.salon)  # the confirmation, by SMS
    return booking


def refunds_asked(stripe_api) -> list[dict]:
    return [r for r in stripe_api.requests() if r["path"] == "/v1/refunds"]


# The words ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "keyword"),
    [
        ("OUI", "confirm"),
        ("oui", "confirm"),
        (" Oui ! ", "confirm"),
        ("yes", "confirm"),
        ("c", "confirm"),
        ("Annuler", "cancel"),
        ("annulér", "cancel"),
        ("CANCEL", "cancel"),
        ("Annuler oui", "cancel"),
        ("cancel yes", "cancel"),
        ("Reporter", "move"),
        ("reportér.", "move"),
        ("move", "move"),
        ("stop", "stop"),
        ("Stop.", "stop"),
        ("oui merci", ""),
        ("Annuler demain", ""),
        ("C'est bon", ""),
        ("stopper", ""),
        ("", ""),
    ],
)
def test_a_word_is_read_in_any_case_with_accents_and_punctuation_ignored(body, keyword):
    assert keyword_of(body) == keyword


# OUI ---------------------------------------------------------------------------------------


def test_oui_confirms_attendance_once_and_says_thank_you_in_the_clients_language(
    team_a, catalogue_a, monday
):
    salon = team_a.salon
    booking = book(catalogue_a, client_of(salon), local(salon, 2, 10))
    send_texts(salon)
    answer = reply("Oui")
    assert answer == "Bella Coiffure : merci, à mercredi 3 mars à 10:00."
    confirmed = fresh(salon, booking).confirmed_by_client_at
    assert confirmed == dt.datetime.now(dt.UTC)
    monday.shift(dt.timedelta(minutes=5))
    reply("OUI")  # said again: the first time stands
    assert fresh(salon, booking).confirmed_by_client_at == confirmed
    with salon_scope(salon):
        assert BookingEvent.objects.filter(booking=booking, kind="client_confirmed").count() == 1
        assert list(TextReply.objects.values_list("action", flat=True)) == ["confirmed"] * 2


def test_an_english_client_is_answered_in_english(team_a, catalogue_a, monday):
    salon = team_a.salon
    Salon.objects.filter(pk=salon.pk).update(languages=["fr", "en"])
    salon.refresh_from_db()
    booking = book(catalogue_a, client_of(salon, language="en"), local(salon, 2, 10))
    send_texts(salon)
    assert reply("yes") == "Bella Coiffure: thank you, see you on Wednesday 3 March at 10:00."
    assert fresh(salon, booking).confirmed_by_client_at is not None
    assert reply("move").startswith("Bella Coiffure: to choose another time: http")


def test_oui_to_a_booking_that_is_over_confirms_nothing_and_is_logged(team_a, catalogue_a, monday):
    salon = team_a.salon
    booking = book(catalogue_a, client_of(salon), local(salon, 0, 10))
    send_texts(salon)
    monday.shift(dt.timedelta(hours=4))  # 12:00: the appointment is past
    assert reply("OUI") == "Bella Coiffure : merci, votre message est transmis au salon."
    assert fresh(salon, booking).confirmed_by_client_at is None
    [logged] = requests_of(salon)
    assert (logged.summary, logged.booking_id) == ("OUI", booking.pk)


# ANNULER -----------------------------------------------------------------------------------


def test_annuler_alone_cancels_nothing_says_the_refund_and_the_confirmation_refunds(
    api, client, settings, stripe_api, team_a, catalogue_a, monday
):
    policy_put(api, team_a)  # €15, 48 hours' notice, late cancellations as credit
    salon = team_a.salon
    booking = paid_booking(
        api, client, settings, stripe_api, catalogue_a, "2027-03-10T10:00:00+01:00"
    )

    asked = reply("Annuler")
    assert asked == (
        "Bella Coiffure : annuler votre rendez-vous du mercredi 10 mars à 10:00 ? "
        "Vos 15,00 € vous seront remboursés. Pour confirmer, répondez "
        f"ANNULER OUI dans les {CANCEL_CONFIRM_MINUTES} minutes."
    )
    assert fresh(salon, booking["id"]).status == Status.CONFIRMED
    assert refunds_asked(stripe_api) == []

    monday.shift(dt.timedelta(minutes=3))
    done = reply("annuler oui")
    assert done == (
        "Bella Coiffure : votre rendez-vous du mercredi 10 mars à 10:00 est annulé. "
        "Vos 15,00 € vous seront remboursés."
    )
    assert fresh(salon, booking["id"]).status == Status.CANCELLED
    [refund] = refunds_asked(stripe_api)
    assert refund["form"]["amount"] == "1500"
    # What the manage link shows is what the text said.
    managed = api().get(f"/api/v1/manage/{booking['manage_token']}/").json()
    assert managed["deposit"]["status"] == "refunded"
    # The cancellation's own message goes out as for any cancellation.
    send_texts(salon)
    with salon_scope(salon):
        assert Message.objects.filter(kind=MessageKind.CANCELLATION).count() == 1


def test_late_annuler_says_the_deposit_becomes_credit_and_the_same_word_again_confirms(
    api, client, settings, stripe_api, team_a, catalogue_a, monday
):
    policy_put(api, team_a)
    salon = team_a.salon
    # Tuesday 10:00: less than the 48 hours' notice the salon asks.
    booking = paid_booking(
        api, client, settings, stripe_api, catalogue_a, "2027-03-02T10:00:00+01:00"
    )
    asked = reply("ANNULER")
    assert "vos 15,00 € deviennent un avoir" in asked and "valable 90 jours" in asked
    assert "sans remboursement" in asked
    monday.shift(dt.timedelta(minutes=10))
    reply("ANNULER")
    assert fresh(salon, booking["id"]).status == Status.CANCELLED
    assert refunds_asked(stripe_api) == []
    with salon_scope(salon):
        grant = CreditEntry.objects.get(kind=CreditKind.GRANTED)
        assert grant.amount == 1500
        assert Payment.objects.get().outcome == "credited"


def test_a_late_annuler_under_a_forfeit_policy_says_the_salon_keeps_the_money(
    api, client, settings, stripe_api, team_a, catalogue_a, monday
):
    policy_put(api, team_a, late_cancellation="forfeit")
    booking = paid_booking(
        api, client, settings, stripe_api, catalogue_a, "2027-03-02T10:00:00+01:00"
    )
    asked = reply("Annuler")
    assert "le salon garde vos 15,00 €" in asked
    reply("Annuler oui")
    with salon_scope(team_a.salon):
        assert Payment.objects.get(booking_id=booking["id"]).outcome == "forfeited"


def test_a_confirmation_too_late_or_after_the_money_changed_asks_again(
    api, client, settings, stripe_api, team_a, catalogue_a, monday
):
    policy_put(api, team_a)
    salon = team_a.salon
    # Wednesday 10:00: the free cancellation ends Monday 10:00, two hours from now.
    booking = paid_booking(
        api, client, settings, stripe_api, catalogue_a, "2027-03-03T10:00:00+01:00"
    )
    assert "remboursé" in reply("Annuler")
    monday.shift(dt.timedelta(minutes=CANCEL_CONFIRM_MINUTES + 1))
    again = reply("Annuler oui")  # the question lapsed: asked again, nothing cancelled
    assert "Pour confirmer" in again
    assert fresh(salon, booking["id"]).status == Status.CONFIRMED
    monday.shift(dt.timedelta(hours=2))  # the deadline passed since that question
    changed = reply("Annuler oui")
    assert "avoir" in changed and "Pour confirmer" in changed
    assert fresh(salon, booking["id"]).status == Status.CONFIRMED
    monday.shift(dt.timedelta(minutes=1))
    reply("Annuler oui")
    assert fresh(salon, booking["id"]).status == Status.CANCELLED
    with salon_scope(salon):
        assert Payment.objects.get().outcome == "credited"
    assert reply("Annuler") == (
        "Bella Coiffure : votre rendez-vous du mercredi 3 mars à 10:00 est annulé."
    )


def test_nothing_paid_cancels_at_no_cost(team_a, catalogue_a, monday):
    salon = team_a.salon
    booking = book(catalogue_a, client_of(salon), local(salon, 2, 10))
    send_texts(salon)
    assert "Vous n'avez rien payé à l'avance" in reply("annuler")
    reply("annuler")
    assert fresh(salon, booking).status == Status.CANCELLED


def test_a_repeated_delivery_of_the_confirming_reply_cancels_and_refunds_once(
    api, client, settings, stripe_api, team_a, catalogue_a, monday
):
    policy_put(api, team_a)
    booking = paid_booking(
        api, client, settings, stripe_api, catalogue_a, "2027-03-10T10:00:00+01:00"
    )
    reply("Annuler")
    first = reply("Annuler oui", sid="SMconfirm")
    again = reply("Annuler oui", sid="SMconfirm")
    assert again == first and "est annulé" in first
    assert len(refunds_asked(stripe_api)) == 1
    with salon_scope(team_a.salon):
        assert BookingEvent.objects.filter(booking_id=booking["id"], kind="cancelled").count() == 1
        assert TextReply.objects.filter(sid="SMconfirm").count() == 1


# REPORTER, STOP ----------------------------------------------------------------------------


def test_reporter_answers_the_bookings_manage_link(api, team_a, catalogue_a, monday):
    salon = team_a.salon
    booking = book(catalogue_a, client_of(salon), local(salon, 2, 10))
    send_texts(salon)
    answer = reply("REPORTER")
    with salon_scope(salon):
        link = manage_url(fresh(salon, booking))
        assert link in Message.objects.get(kind=MessageKind.CONFIRMATION).body
    assert answer == f"Bella Coiffure : pour choisir une autre date : {link}"
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert api().get(f"/api/v1/manage/{token}/").json()["id"] == booking.pk
    assert fresh(salon, booking).status == Status.CONFIRMED


def test_stop_withdraws_each_consent_to_messages_by_sms(team_a, catalogue_a, monday):
    salon = team_a.salon
    lea = client_of(salon)
    book(catalogue_a, lea, local(salon, 2, 10))
    send_texts(salon)
    answer = reply("STOP")
    assert answer == (
        "Bella Coiffure : c'est noté, vous ne recevrez plus de rappels ni d'offres de notre part."
    )
    with salon_scope(salon):
        assert consent_current(customer=lea) == {
            "reminders": False,
            "marketing": False,
            "health": False,
        }
        withdrawals = ConsentEvent.objects.filter(customer=lea, granted=False)
        assert sorted(withdrawals.values_list("purpose", "channel", "source")) == [
            ("marketing", "sms", "online"),
            ("reminders", "sms", "online"),
        ]


# Anything else -----------------------------------------------------------------------------


def test_any_other_text_is_a_client_request_with_its_clock_started(team_a, catalogue_a, monday):
    salon = team_a.salon
    lea = client_of(salon)
    booking = book(catalogue_a, lea, local(salon, 2, 10))
    send_texts(salon)
    answer = reply("Je serai en retard de 10 minutes, désolée")
    assert answer == "Bella Coiffure : merci, votre message est transmis au salon."
    [logged] = requests_of(salon)
    assert logged.channel == "sms"
    assert logged.summary == "Je serai en retard de 10 minutes, désolée"
    assert logged.category == "booking"
    assert logged.status == "open"
    assert logged.opened_at == dt.datetime.now(dt.UTC)
    assert logged.first_response_at is None
    assert (logged.booking_id, logged.customer_id) == (booking.pk, lea.pk)
    with salon_scope(salon):
        assert TextReply.objects.get().request_id == logged.pk


def test_a_number_nobody_texted_lands_in_the_log_of_the_salon_whose_number_it_texted(
    team_a, team_b, monday
):
    salon = team_a.salon
    Salon.objects.filter(pk=salon.pk).update(phone="+33140000000")
    known = client_of(salon, phone="+33699887766")
    reply("Bonjour, avez-vous de la place samedi ?", sender="+33611223344", to="+33140000000")
    reply("Et pour une couleur ?", sender="+33699887766", to="+33140000000")
    stranger, client = sorted(requests_of(salon), key=lambda r: r.pk)
    assert (stranger.channel, stranger.customer_id, stranger.booking_id) == ("sms", None, None)
    assert stranger.summary == "Bonjour, avez-vous de la place samedi ?"
    assert stranger.category == "other"
    assert client.customer_id == known.pk
    assert requests_of(team_b.salon) == []


def test_a_number_nobody_texted_to_no_salons_number_records_nothing(team_a, team_b, monday):
    assert reply("Bonjour", sender="+33611223344") == ""
    for salon in (team_a.salon, team_b.salon):
        with salon_scope(salon):
            assert not TextReply.objects.exists()
            assert not CustomerRequest.objects.exists()


def test_an_empty_text_is_recorded_and_answered_with_nothing(team_a, catalogue_a, monday):
    salon = team_a.salon
    book(catalogue_a, client_of(salon), local(salon, 2, 10))
    send_texts(salon)
    assert reply("   ") == ""
    assert requests_of(salon) == []
    with salon_scope(salon):
        assert TextReply.objects.get().action == ReplyAction.IGNORED


# Two salons, one number ----------------------------------------------------------------------


def test_the_most_recent_text_decides_and_the_other_salons_booking_is_never_touched(
    team_a, team_b, catalogue_a, catalogue_b, monday
):
    a, b = team_a.salon, team_b.salon
    at_a = book(catalogue_a, client_of(a), local(a, 2, 10))
    at_b = book(catalogue_b, client_of(b, language="en"), local(b, 2, 10))
    send_texts(a)
    monday.shift(dt.timedelta(minutes=1))
    send_texts(b)
    with salon_scope(b):
        assert Message.objects.get(status=MessageStatus.SENT).recipient == LEA

    assert reply("Yes").startswith("Rival Barbers: thank you")
    assert fresh(b, at_b).confirmed_by_client_at is not None
    assert fresh(a, at_a).confirmed_by_client_at is None
    reply("Running late")
    assert [r.summary for r in requests_of(b)] == ["Running late"]
    assert requests_of(a) == []

    # Salon A texts her last (a reminder): her next reply is about A's booking.
    monday.shift(dt.timedelta(hours=2))
    with salon_scope(a):
        Salon.objects.filter(pk=a.pk).update(reminder_offsets_hours=[48])
        a.refresh_from_db()
    send_texts(a)
    with salon_scope(a):
        assert Message.objects.filter(kind=MessageKind.REMINDER, status="sent").count() == 1
    reply("Annuler")
    reply("Annuler")
    assert fresh(a, at_a).status == Status.CANCELLED
    assert fresh(b, at_b).status == Status.CONFIRMED
    with salon_scope(b):
        assert TextReply.objects.count() == 2
        assert not BookingEvent.objects.filter(kind="cancelled").exists()
