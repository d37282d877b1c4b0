"""The SMS provider's inbound webhook (API.md, "Text replies"): Twilio's signature checked
with its own helper over the address Twilio sent the request to (`SITE_URL` and the
path), a forged or missing one refused 403 in the error shape, TwiML in answer, each
message acted on once; texts that invite a reply say so in the GSM alphabet; the client's
confirmation shows in the manage view, the staff API and the desk."""

import datetime as dt
import re
from urllib.parse import urlencode

import pytest
from django.core import mail
from twilio.request_validator import RequestValidator

from bookings.models import Booking
from bookings.services import booking_manage_token
from messaging import sms
from messaging.models import Message
from messaging.outbox import messages_run
from support.models import CustomerRequest, TextReply
from tenants.scoping import salon_scope
from tests.conftest import book, local
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

INBOUND = "/api/v1/sms/inbound/"
FORM = "application/x-www-form-urlencoded"
TOKEN = "twilio-test-token"
LEA = "+33612345678"
GSM_7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


@pytest.fixture(autouse=True)
def _twilio(settings):
    settings.SMS_BACKEND = "locmem"
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.SITE_URL = "https://book.example.org"
    sms.outbox.clear()
    mail.outbox.clear()


def form(body: str, sid: str = "SM0001", sender: str = LEA) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "AccountSid": "AC0001",
        "From": sender,
        "To": "+33757000000",
        "Body": body,
        "NumMedia": "0",
    }


def post(client, params: dict[str, str], *, url: str | None = None, signature: str | None = None):
    """What Twilio sends: the form, signed over the URL it was configured with."""
    signed = url or f"https://book.example.org{INBOUND}"
    if signature is None:
        signature = RequestValidator(TOKEN).compute_signature(signed, params)
    return send(client, INBOUND, params, signature)


def send(client, path: str, params: dict[str, str], signature: str):
    """Form-encoded, as Twilio posts it."""
    return client.post(
        path, urlencode(params), content_type=FORM, HTTP_X_TWILIO_SIGNATURE=signature
    )


@pytest.fixture
def booked(team_a, catalogue_a, monday):
    """Léa's booking on Wednesday, its confirmation sent to her by SMS."""
    salon = team_a.salon
    with salon_scope(salon):
        lea = CustomerFactory(salon=salon, phone=LEA, consents={"reminders": True})
    booking = book(catalogue_a, lea, local(salon, 2, 10))
    with salon_scope(salon):
        messages_run(salon=salon)
    return booking


def confirmed_at(booking: Booking):
    with salon_scope(booking.salon_id):
        return Booking.objects.get(pk=booking.pk).confirmed_by_client_at


def test_a_signed_reply_is_answered_with_twiml_and_acted_on(client, booked):
    response = post(client, form("OUI"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.decode() == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Message>'
        "Bella Coiffure : merci, à mercredi 3 mars à 10:00.</Message></Response>"
    )
    assert confirmed_at(booked) is not None


@pytest.mark.parametrize(
    "forge",
    [
        "another signature",  # made up
        "signed with another token",
        "signed over another address",  # as a proxy's internal address would be
        "signed, then the text changed",
        "no signature",
    ],
)
def test_a_forged_or_missing_signature_is_refused_and_nothing_is_done(client, booked, forge):
    params = form("ANNULER OUI")
    signature = None
    url = None
    if forge == "another signature":
        signature = "bm90IGEgc2lnbmF0dXJl"
    elif forge == "signed with another token":
        signature = RequestValidator("other").compute_signature(
            f"https://book.example.org{INBOUND}", params
        )
    elif forge == "signed over another address":
        url = f"http://10.0.0.7:8000{INBOUND}"
    elif forge == "signed, then the text changed":
        signature = RequestValidator(TOKEN).compute_signature(
            f"https://book.example.org{INBOUND}", form("OUI")
        )
    elif forge == "no signature":
        signature = ""
    response = post(client, params, url=url, signature=signature)
    assert response.status_code == 403
    assert response.json() == {
        "code": "not_allowed",
        "detail": "The message's signature does not check out.",
    }
    with salon_scope(booked.salon_id):
        assert not TextReply.objects.exists()
        assert not CustomerRequest.objects.exists()


def test_without_an_auth_token_every_reply_is_refused(client, booked, settings):
    settings.TWILIO_AUTH_TOKEN = ""
    params = form("OUI")
    signature = RequestValidator("").compute_signature(f"https://book.example.org{INBOUND}", params)
    assert post(client, params, signature=signature).status_code == 403
    assert confirmed_at(booked) is None


def test_the_query_string_is_part_of_the_signed_address(client, booked):
    params = form("OUI")
    signed = f"https://book.example.org{INBOUND}?salon=bella"
    signature = RequestValidator(TOKEN).compute_signature(signed, params)
    answer = send(client, f"{INBOUND}?salon=bella", params, signature)
    assert answer.status_code == 200
    refused = send(client, INBOUND, params, signature)
    assert refused.status_code == 403


def test_a_delivery_repeated_acts_once_and_answers_the_same(client, booked, monday):
    first = post(client, form("Je serai en retard", sid="SMdup"))
    monday.shift(dt.timedelta(minutes=2))
    again = post(client, form("Je serai en retard", sid="SMdup"))
    assert again.status_code == 200
    assert again.content == first.content
    assert b"transmis au salon" in first.content
    with salon_scope(booked.salon_id):
        assert CustomerRequest.objects.count() == 1
        assert TextReply.objects.count() == 1


def test_an_unknown_number_to_no_salons_number_gets_an_empty_answer(client, booked):
    response = post(client, form("Bonjour", sender="+33611223344"))
    assert response.status_code == 200
    assert response.content.decode() == '<?xml version="1.0" encoding="UTF-8"?><Response />'
    with salon_scope(booked.salon_id):
        assert not TextReply.objects.exists()


def test_a_signed_request_without_the_message_id_is_a_400(client, booked):
    params = form("OUI")
    del params["MessageSid"]
    response = post(client, params)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "MessageSid" in response.json()["fields"]


def test_json_is_not_what_twilio_sends(client, booked):
    response = client.post(
        INBOUND, {"From": LEA}, content_type="application/json", HTTP_X_TWILIO_SIGNATURE="x"
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


# The texts that invite a reply ---------------------------------------------------------------


def test_the_confirmation_and_the_reminder_by_sms_invite_a_reply_in_the_gsm_alphabet(
    team_a, catalogue_a, monday
):
    salon = team_a.salon
    salon.reminder_offsets_hours = [2]
    salon.save(update_fields=["reminder_offsets_hours"])
    with salon_scope(salon):
        lea = CustomerFactory(
            salon=salon, name="Léa Martin", phone=LEA, consents={"reminders": True}
        )
        sam = CustomerFactory(
            salon=salon,
            name="Sam Smith",
            phone="+33698765432",
            language="en",
            consents={"reminders": True},
        )
    book(catalogue_a, lea, local(salon, 1, 10))
    book(catalogue_a, sam, local(salon, 1, 11))
    with salon_scope(salon):
        messages_run(salon=salon)  # the confirmations
    monday.move_to(local(salon, 1, 9, 5))  # both reminders are due
    with salon_scope(salon):
        messages_run(salon=salon)
        kinds = sorted(Message.objects.filter(status="sent").values_list("kind", flat=True))
    assert kinds == ["confirmation", "confirmation", "reminder", "reminder"]
    assert len(sms.outbox) == 4
    for text in sms.outbox:
        invitation = (
            "Répondez OUI pour confirmer, ANNULER pour annuler, REPORTER pour déplacer."
            if text.to == LEA
            else "Reply YES to confirm, CANCEL to cancel, MOVE to move it."
        )
        assert text.body.endswith("\n" + invitation), text.body
        assert set(text.body) <= GSM_7, set(text.body) - GSM_7


def test_no_invitation_when_replies_cannot_be_received(settings, team_a, catalogue_a, monday):
    settings.TWILIO_AUTH_TOKEN = ""
    salon = team_a.salon
    with salon_scope(salon):
        lea = CustomerFactory(salon=salon, phone=LEA, email="lea@example.org")
        lea_mail = CustomerFactory(
            salon=salon, phone=None, email="lea.mail@example.org", preferred_channel="email"
        )
    book(catalogue_a, lea, local(salon, 1, 10))
    with salon_scope(salon):
        messages_run(salon=salon)
    [text] = sms.outbox
    assert "OUI" not in text.body
    settings.TWILIO_AUTH_TOKEN = TOKEN
    book(catalogue_a, lea_mail, local(salon, 1, 11))
    with salon_scope(salon):
        messages_run(salon=salon)
    [email] = mail.outbox
    assert "Répondez" not in email.body  # an e-mail is not answered by a word


# Where the client's confirmation shows ---------------------------------------------------------


def test_the_confirmation_shows_in_the_manage_view_the_staff_api_and_the_desk(
    api, client, team_a, team_b, booked
):
    manage = f"/api/v1/manage/{booking_manage_token(booked)}/"
    staff_api = f"/api/v1/salons/bella/backoffice/bookings/{booked.pk}/"
    assert api().get(manage).json()["confirmed_by_client_at"] is None
    assert api(team_a.staff).get(staff_api).json()["confirmed_by_client_at"] is None
    client.force_login(team_a.staff)
    day = client.get("/desk/bella/schedule/", {"date": "2027-03-03"}).content.decode()
    assert "day-confirmed" not in day

    post(client, form("C"))
    at = "2027-03-01T08:00:00+01:00"  # the frozen Monday, in Paris
    assert api().get(manage).json()["confirmed_by_client_at"] == at
    assert api(team_a.staff).get(staff_api).json()["confirmed_by_client_at"] == at
    day = client.get(
        "/desk/bella/schedule/", {"date": "2027-03-03"}, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    block = re.search(rf'data-booking="{booked.pk}".*?</div>', day, re.S)
    assert block is not None
    assert (
        '<span class="day-confirmed" title="Confirmed by the client">'
        '<span aria-hidden="true">\u2713</span>'
        '<span class="visually-hidden">Confirmed by the client</span></span>'
    ) in block.group(0)
    page = client.get(f"/desk/bella/bookings/{booked.pk}/").content.decode()
    assert 'id="booking-client-confirmed"' in page
    # Salon B's staff see nothing of it.
    assert api(team_b.staff).get(staff_api).status_code == 403
