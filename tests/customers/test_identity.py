"""A phone number or an e-mail address proves nothing: online, a client's privileges,
credit and record are hers only after a one-time code sent to the contact on file."""

import datetime as dt
import json
import re
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from bookings.models import Booking, Status
from customers.identity import (
    contact_code_check,
    contact_code_issue,
    contact_codes_purge,
    contact_read,
)
from customers.models import ContactCode, Customer
from customers.services import customer_merge
from deposits.credit import credit_balance, credit_grant
from messaging.models import Message
from tenants.scoping import salon_scope
from tests.conftest import book, local, policy_put, stripe_signature
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

BOOK = "/api/v1/salons/bella/bookings/"
LEA_PHONE = "06 12 34 56 78"
LEA_E164 = "+33612345678"


def _policy(api, team, **changes):
    """The policy of these tests: full prepayment after two no-shows."""
    policy_put(api, team, full_prepayment_after_no_shows=2, **changes)


@pytest.fixture
def lea(team_a, catalogue_a, monday):
    """A trusted client of salon A with 20.00 of credit from an earlier appointment."""
    with salon_scope(team_a.salon):
        customer = CustomerFactory(
            salon=team_a.salon,
            name="Léa Martin",
            phone=LEA_E164,
            email="lea@example.org",
            trusted=True,
        )
    earlier = book(catalogue_a, customer, local(team_a.salon, 1, 10))
    with salon_scope(team_a.salon):
        credit_grant(customer=customer, amount=2000, currency="EUR", valid_days=90, booking=earlier)
    return customer


def _request(
    catalogue, *, name="Tom Vidal", phone=LEA_PHONE, email=None, day="2027-03-10", hour=10
):
    customer = {"name": name, "phone": phone}
    if email:
        customer["email"] = email
    return {
        "service": catalogue.cut.pk,
        "start": f"{day}T{hour:02}:00:00+01:00",
        "staff": catalogue.alice.pk,
        "customer": customer,
    }


def _pay(client, settings, stripe_api, booking):
    intent = booking["payment"]["payment_intent"]
    stripe_api.pay(intent)
    event = {
        "id": f"evt_{intent}",
        "object": "event",
        "type": "payment_intent.succeeded",
        "data": {"object": {"id": intent, "object": "payment_intent"}},
    }
    payload = json.dumps(event).encode()
    signature = stripe_signature(payload, settings.STRIPE_WEBHOOK_SECRET)
    client.generic(
        "POST",
        "/api/v1/stripe/webhook/",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )


def _cancel_for_credit(api, booking):
    answer = api().post(
        f"/api/v1/manage/{booking['manage_token']}/cancel/", {"resolution": "credit"}, format="json"
    )
    assert answer.status_code == 200, answer.json()
    return answer.json()


def _shows_20(page):
    """Whether the page states 20.00 (her credit), in French or English."""
    text = page.content.decode()
    return "20,00" in text or "20.00" in text


def _code_sent(salon, to):
    """The code in the latest message of the outbox to `to` (the record of what was sent)."""
    with salon_scope(salon):
        message = Message.objects.filter(kind="identity_code", recipient=to).latest("id")
    return re.search(r"\b(\d{6})\b", message.body).group(1)


def test_a_stranger_typing_a_trusted_clients_phone_pays_the_deposit(
    api, team_a, catalogue_a, lea, stripe_api
):
    _policy(api, team_a)
    answer = api().post(BOOK, _request(catalogue_a), format="json")
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert (body["status"], body["amount_due_now"]) == ("pending_payment", 1500)
    with salon_scope(team_a.salon):
        booking = Booking.objects.get(pk=body["id"])
        assert booking.customer_id != lea.pk
        assert booking.customer.duplicate_of_id == lea.pk
        assert not booking.customer.trusted


def test_a_stranger_sees_none_of_her_credit_on_the_manage_view(
    api, client, team_a, catalogue_a, lea, stripe_api
):
    _policy(api, team_a)
    booking = api().post(BOOK, _request(catalogue_a), format="json").json()
    managed = api().get(f"/api/v1/manage/{booking['manage_token']}/").json()
    assert managed["credit_balance"] == 0
    page = client.get(f"/manage/{booking['manage_token']}/")
    assert page.status_code == 200
    assert not _shows_20(page)


def test_a_stranger_cannot_spend_her_credit(
    api, client, settings, team_a, catalogue_a, lea, stripe_api
):
    _policy(api, team_a)
    booking = api().post(BOOK, _request(catalogue_a), format="json").json()
    _pay(client, settings, stripe_api, booking)
    cancelled = _cancel_for_credit(api, booking)
    assert cancelled["credit_balance"] == 1500  # what his own money made, nothing of hers
    _policy(api, team_a, rule={"kind": "fixed", "value": 3000})
    url = f"/api/v1/manage/{booking['manage_token']}/reschedule/"
    back = api().post(url, {"start": "2027-03-12T11:00:00+01:00"}, format="json").json()
    assert (back["status"], back["amount_due_now"]) == ("pending_payment", 1500)
    with salon_scope(team_a.salon):
        assert credit_balance(customer=lea) == 2000


def test_her_no_show_count_is_unchanged_when_the_stranger_no_shows(
    api, team_a, catalogue_a, lea, monday
):
    booking = api().post(BOOK, _request(catalogue_a, day="2027-03-03"), format="json").json()
    assert booking["status"] == "confirmed"  # no deposit policy
    monday.move_to(dt.datetime(2027, 3, 3, 12, tzinfo=dt.UTC))
    staff = api(team_a.staff)
    marked = staff.post(f"/api/v1/salons/bella/backoffice/bookings/{booking['id']}/no-show/")
    assert marked.status_code == 200, marked.json()
    record = staff.get(f"/api/v1/salons/bella/backoffice/customers/{lea.pk}/").json()
    assert record["no_shows"] == 0


def test_a_stranger_adds_no_contact_detail_to_an_existing_client(api, team_a, catalogue_a, monday):
    with salon_scope(team_a.salon):
        chloe = CustomerFactory(
            salon=team_a.salon, name="Chloé", phone=None, email="chloe@example.org"
        )
    request = _request(catalogue_a, phone="07 81 22 33 44", email="chloe@example.org")
    answer = api().post(BOOK, request, format="json")
    assert answer.status_code == 201, answer.json()
    with salon_scope(team_a.salon):
        chloe.refresh_from_db()
        assert chloe.phone is None
        assert Customer.objects.filter(phone="+33781223344").get().duplicate_of_id == chloe.pk


def test_typing_the_number_of_a_client_who_misses_appointments_still_means_full_prepayment(
    api, team_a, catalogue_a, monday, stripe_api
):
    _policy(api, team_a)
    with salon_scope(team_a.salon):
        max_ = CustomerFactory(salon=team_a.salon, name="Max", phone="+33699887766")
    for day in (1, 2):
        missed = book(catalogue_a, max_, local(team_a.salon, day, 10))
        with salon_scope(team_a.salon):
            Booking.objects.filter(pk=missed.pk).update(status=Status.NO_SHOW)
    answer = (
        api()
        .post(BOOK, _request(catalogue_a, name="M.", phone="06 99 88 77 66"), format="json")
        .json()
    )
    assert answer["amount_due_now"] == catalogue_a.cut.price


def test_a_blocked_clients_number_stays_blocked_online(api, team_a, catalogue_a, monday):
    with salon_scope(team_a.salon):
        CustomerFactory(salon=team_a.salon, name="Max", phone="+33699887766", blocked=True)
    answer = api().post(BOOK, _request(catalogue_a, phone="06 99 88 77 66"), format="json")
    assert answer.status_code == 400


def test_after_a_valid_code_her_credit_is_shown_and_spendable(
    api, client, settings, team_a, catalogue_a, lea, stripe_api
):
    _policy(api, team_a)
    booking = api().post(BOOK, _request(catalogue_a, name="Léa"), format="json").json()
    assert booking["amount_due_now"] == 1500  # unproven: as a new client
    _pay(client, settings, stripe_api, booking)
    assert _cancel_for_credit(api, booking)["credit_balance"] == 1500
    token = booking["manage_token"]
    sent = api().post(f"/api/v1/manage/{token}/verify/", {}, format="json")
    assert sent.status_code == 202
    code = _code_sent(team_a.salon, LEA_E164)
    proven = api().post(f"/api/v1/manage/{token}/verify/confirm/", {"code": code}, format="json")
    assert proven.status_code == 200, proven.json()
    assert proven.json()["booking"]["credit_balance"] == 3500
    proof = proven.json()["proof"]
    with salon_scope(team_a.salon):
        assert Booking.objects.get(pk=booking["id"]).customer_id == lea.pk
    assert api().get(f"/api/v1/manage/{token}/").json()["credit_balance"] == 1500  # no proof
    shown = api().get(f"/api/v1/manage/{token}/", HTTP_X_CLIENT_PROOF=proof).json()
    assert shown["credit_balance"] == 3500
    _policy(api, team_a, rule={"kind": "fixed", "value": 3000})
    back = (
        api()
        .post(
            f"/api/v1/manage/{token}/reschedule/",
            {"start": "2027-03-12T11:00:00+01:00"},
            format="json",
            HTTP_X_CLIENT_PROOF=proof,
        )
        .json()
    )
    # She is trusted again (proven): nothing is due, and nothing of her credit is spent.
    assert (back["status"], back["amount_due_now"]) == ("confirmed", 0)


def test_a_proven_client_spends_her_other_credit_on_a_rebooking(
    api, client, settings, team_a, catalogue_a, lea, stripe_api
):
    _policy(api, team_a)
    with salon_scope(team_a.salon):
        type(lea).objects.filter(pk=lea.pk).update(trusted=False)
    request = _request(catalogue_a, name="Léa", email="Lea@Example.org")
    booking = api().post(BOOK, request, format="json").json()
    _pay(client, settings, stripe_api, booking)
    _cancel_for_credit(api, booking)
    token = booking["manage_token"]
    api().post(f"/api/v1/manage/{token}/verify/", {"channel": "email"}, format="json")
    code = _code_sent(team_a.salon, "lea@example.org")
    proof = (
        api()
        .post(
            f"/api/v1/manage/{token}/verify/confirm/",
            {"code": code, "channel": "email"},
            format="json",
        )
        .json()["proof"]
    )
    _policy(api, team_a, rule={"kind": "fixed", "value": 3000})
    back = (
        api()
        .post(
            f"/api/v1/manage/{token}/reschedule/",
            {"start": "2027-03-12T11:00:00+01:00"},
            format="json",
            HTTP_X_CLIENT_PROOF=proof,
        )
        .json()
    )
    assert (back["status"], back["amount_due_now"], back["credit_balance"]) == ("confirmed", 0, 500)


def test_a_booking_made_after_proof_is_the_proven_clients(
    api, team_a, catalogue_a, lea, stripe_api
):
    _policy(api, team_a)
    asked = api().post(
        "/api/v1/salons/bella/identity/code/", {"phone": "+33 6 12 34 56 78"}, format="json"
    )
    assert asked.status_code == 202
    code = _code_sent(team_a.salon, LEA_E164)
    proven = api().post(
        "/api/v1/salons/bella/identity/verify/", {"phone": LEA_PHONE, "code": code}, format="json"
    )
    assert proven.status_code == 200, proven.json()
    answer = (
        api()
        .post(
            BOOK,
            _request(catalogue_a, name="Léa"),
            format="json",
            HTTP_X_CLIENT_PROOF=proven.json()["proof"],
        )
        .json()
    )
    assert (answer["status"], answer["amount_due_now"]) == ("confirmed", 0)  # trusted
    with salon_scope(team_a.salon):
        assert Booking.objects.get(pk=answer["id"]).customer_id == lea.pk


def _ask_and_verify(api, code, phone=LEA_PHONE, salon="bella"):
    return api().post(
        f"/api/v1/salons/{salon}/identity/verify/", {"phone": phone, "code": code}, format="json"
    )


def test_a_wrong_code_is_refused_and_attempts_are_limited(api, team_a, lea):
    api().post("/api/v1/salons/bella/identity/code/", {"phone": LEA_PHONE}, format="json")
    code = _code_sent(team_a.salon, LEA_E164)
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    refused = _ask_and_verify(api, wrong)
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid" and "code" in refused.json()["fields"]
    for _ in range(4):
        assert _ask_and_verify(api, wrong).status_code == 400
    assert _ask_and_verify(api, code).status_code == 400  # five wrong tries: the code is dead


def test_an_expired_code_is_refused(api, team_a, lea, monday):
    api().post("/api/v1/salons/bella/identity/code/", {"phone": LEA_PHONE}, format="json")
    code = _code_sent(team_a.salon, LEA_E164)
    monday.shift(dt.timedelta(minutes=11))
    assert _ask_and_verify(api, code).status_code == 400


def test_a_code_is_used_once(api, team_a, lea):
    api().post("/api/v1/salons/bella/identity/code/", {"phone": LEA_PHONE}, format="json")
    code = _code_sent(team_a.salon, LEA_E164)
    assert _ask_and_verify(api, code).status_code == 200
    assert _ask_and_verify(api, code).status_code == 400


def test_asking_for_a_code_answers_the_same_for_an_unknown_contact(api, team_a, lea):
    known = api().post("/api/v1/salons/bella/identity/code/", {"phone": LEA_PHONE}, format="json")
    unknown = api().post(
        "/api/v1/salons/bella/identity/code/", {"phone": "06 00 00 00 01"}, format="json"
    )
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    with salon_scope(team_a.salon):
        assert list(
            Message.objects.filter(kind="identity_code").values_list("recipient", flat=True)
        ) == [LEA_E164]
    assert _ask_and_verify(api, "000000", phone="06 00 00 00 01").json() == (
        _ask_and_verify(api, "000000").json()
    )


def test_codes_and_proofs_are_per_salon(api, team_a, team_b, catalogue_b, lea, monday):
    with salon_scope(team_b.salon):
        other = CustomerFactory(salon=team_b.salon, name="Léa M.", phone=LEA_E164, trusted=True)
    api().post("/api/v1/salons/bella/identity/code/", {"phone": LEA_PHONE}, format="json")
    code = _code_sent(team_a.salon, LEA_E164)
    assert _ask_and_verify(api, code, phone="+33 6 12 34 56 78", salon="rival").status_code == 400
    proof = _ask_and_verify(api, code).json()["proof"]  # still good in its own salon
    request = {
        "service": catalogue_b.cut.pk,
        "start": local(team_b.salon, 8, 10).isoformat(),
        "staff": catalogue_b.alice.pk,
        "customer": {"name": "Léa", "phone": "+33 6 12 34 56 78"},
    }
    answer = api().post(
        "/api/v1/salons/rival/bookings/", request, format="json", HTTP_X_CLIENT_PROOF=proof
    )
    assert answer.status_code == 201, answer.json()
    with salon_scope(team_b.salon):
        assert Booking.objects.get(pk=answer.json()["id"]).customer.duplicate_of_id == other.pk


def test_staff_still_find_the_client_by_phone(api, team_a, catalogue_a, lea):
    request = {
        **_request(catalogue_a, name="Léa"),
        "deposit_handling": "waived",
        "waiver_reason": "fidèle",
    }
    answer = api(team_a.staff).post(
        "/api/v1/salons/bella/backoffice/phone-bookings/", request, format="json"
    )
    assert answer.status_code == 201, answer.json()
    with salon_scope(team_a.salon):
        assert Booking.objects.get(pk=answer.json()["id"]).customer_id == lea.pk


def test_the_manage_page_shows_her_credit_once_she_enters_the_code(
    client, api, team_a, catalogue_a, lea
):
    booking = api().post(BOOK, _request(catalogue_a, name="Léa"), format="json").json()
    manage = f"/manage/{booking['manage_token']}/"
    assert not _shows_20(client.get(manage))
    verify = f"{manage}verify/"
    assert client.post(verify, {"action": "send"}).status_code == 200
    code = _code_sent(team_a.salon, LEA_E164)
    refused = client.post(verify, {"action": "check", "code": "12345x"})
    assert refused.status_code == 400
    assert client.post(verify, {"action": "check", "code": code}).status_code == 302
    assert _shows_20(client.get(manage))


def test_staff_merge_a_possible_duplicate_into_the_client(
    api, team_a, team_b, catalogue_a, lea, stripe_api
):
    booking = api().post(BOOK, _request(catalogue_a), format="json").json()
    with salon_scope(team_a.salon):
        duplicate = Booking.objects.get(pk=booking["id"]).customer
    staff = api(team_a.manager)
    shown = staff.get(f"/api/v1/salons/bella/backoffice/customers/{duplicate.pk}/").json()
    assert shown["duplicate_of"] == lea.pk
    # Another salon's manager cannot reach either record.
    other = api(team_b.manager).post(
        f"/api/v1/salons/rival/backoffice/customers/{duplicate.pk}/merge/",
        {"into": lea.pk},
        format="json",
    )
    assert other.status_code == 404
    merged = staff.post(
        f"/api/v1/salons/bella/backoffice/customers/{duplicate.pk}/merge/",
        {"into": lea.pk},
        format="json",
    )
    assert merged.status_code == 200, merged.json()
    assert merged.json()["id"] == lea.pk
    with salon_scope(team_a.salon):
        assert Booking.objects.get(pk=booking["id"]).customer_id == lea.pk
        assert not Customer.objects.filter(pk=duplicate.pk).exists()


@pytest.mark.rate_limits
def test_asking_for_codes_is_rate_limited_per_contact_whichever_door(
    api, team_a, catalogue_a, lea, monday
):
    code = "/api/v1/salons/bella/identity/code/"
    bookings = [
        api().post(
            BOOK, _request(catalogue_a, hour=10 + n), format="json", REMOTE_ADDR=f"10.0.0.{n}"
        )
        for n in range(3)
    ]
    for n in range(3):
        asked = api().post(code, {"phone": LEA_PHONE}, format="json", REMOTE_ADDR=f"10.0.1.{n}")
        assert asked.status_code == 202
    for n, booking in enumerate(bookings[:2]):
        url = f"/api/v1/manage/{booking.json()['manage_token']}/verify/"
        assert api().post(url, {}, format="json", REMOTE_ADDR=f"10.0.2.{n}").status_code == 202
    url = f"/api/v1/manage/{bookings[2].json()['manage_token']}/verify/"
    assert api().post(url, {}, format="json", REMOTE_ADDR="10.0.3.1").status_code == 429
    refused = api().post(code, {"phone": LEA_PHONE}, format="json", REMOTE_ADDR="10.0.3.2")
    assert refused.status_code == 429
    with salon_scope(team_a.salon):
        assert Message.objects.filter(kind="identity_code").count() == 5


def test_on_the_booking_page_a_client_who_entered_her_code_books_as_herself(
    client, api, team_a, catalogue_a, lea, stripe_api
):
    _policy(api, team_a)
    form = {
        "service": catalogue_a.cut.pk,
        "staff": catalogue_a.alice.pk,
        "name": "Léa",
        "start": local(team_a.salon, 9, 10).isoformat(),
        "phone": LEA_PHONE,
        "email": "",
        "notes": "",
        "payment_option": "deposit",
        "action": "book",
    }
    stranger = client.post("/bella/book/", form)
    assert stranger.status_code == 302 and "/pay/" in stranger["Location"]  # a deposit is due
    details = {
        "services": catalogue_a.cut.pk,
        "staff": "any",
        "start": local(team_a.salon, 9, 11).isoformat(),
        "step": "details",
    }
    assert "/bella/verify/" in client.get("/bella/book/", details).content.decode()
    asked = client.post("/bella/verify/", {"phone": LEA_PHONE, "action": "send"})
    assert asked.status_code == 200
    code = _code_sent(team_a.salon, LEA_E164)
    assert client.post("/bella/verify/", {"phone": LEA_PHONE, "code": "000000x"}).status_code == 400
    proven = client.post("/bella/verify/", {"phone": LEA_PHONE, "code": code, "action": "check"})
    assert proven.status_code == 302
    assert "Léa Martin" in client.get("/bella/book/", details).content.decode()
    booked = client.post("/bella/book/", {**form, "start": local(team_a.salon, 9, 11).isoformat()})
    assert booked.status_code == 302 and "/pay/" not in booked["Location"]  # trusted: nothing due


@pytest.mark.django_db(transaction=True)
def test_a_code_entered_twice_at_once_proves_once(team_a, team_b):
    with salon_scope(team_a.salon):
        CustomerFactory(salon=team_a.salon, name="Léa", phone=LEA_E164)
        contact = contact_read(salon=team_a.salon, phone=LEA_PHONE)
        code = contact_code_issue(salon=team_a.salon, contact=contact).code
    barrier = threading.Barrier(6)
    proven, refused = [], []

    def enter():
        try:
            barrier.wait()
            with salon_scope(team_a.salon):
                proven.append(contact_code_check(salon=team_a.salon, contact=contact, code=code))
        except ValidationError:
            refused.append(1)
        finally:
            connection.close()

    threads = [threading.Thread(target=enter) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(proven), len(refused)) == (1, 5)


def test_long_expired_codes_are_purged(team_a, lea, monday):
    with salon_scope(team_a.salon):
        contact = contact_read(salon=team_a.salon, phone=LEA_PHONE)
        contact_code_issue(salon=team_a.salon, contact=contact)
        assert contact_codes_purge(salon=team_a.salon) == 0
        monday.shift(dt.timedelta(days=2))
        assert contact_codes_purge(salon=team_a.salon) == 1
        assert not ContactCode.objects.exists()


def test_merging_two_records_of_one_person_keeps_everything_once(team_a, catalogue_a, monday):
    with salon_scope(team_a.salon):
        phone_only = CustomerFactory(
            salon=team_a.salon, name="Léa", phone=LEA_E164, email=None, tags=["vip"]
        )
        email_only = CustomerFactory(
            salon=team_a.salon,
            name="L. Martin",
            phone=None,
            email="lea@example.org",
            tags=["vip", "colour"],
            notes="Allergic to ammonia",
        )
    visit = book(catalogue_a, email_only, local(team_a.salon, 1, 10))
    with salon_scope(team_a.salon):
        credit_grant(customer=email_only, amount=700, currency="EUR", valid_days=30, booking=visit)
        merged = customer_merge(source=email_only, into=phone_only)
        assert (merged.name, str(merged.phone), merged.email) == (
            "Léa",
            LEA_E164,
            "lea@example.org",
        )
        assert merged.notes == "Allergic to ammonia"
        assert sorted(t.name for t in merged.tags.all()) == ["colour", "vip"]
        assert Booking.objects.get(pk=visit.pk).customer_id == phone_only.pk
        assert credit_balance(customer=merged) == 700
        assert not Customer.objects.filter(pk=email_only.pk).exists()
        with pytest.raises(ValidationError):
            customer_merge(source=merged, into=merged)
