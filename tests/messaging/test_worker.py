"""The message jobs on a real Celery worker (Redis): the beat sweep, the messages sent
after a commit (a reschedule offer), a payment link; each message goes out once."""

import time

import pytest

from messaging import sms
from messaging.models import Message, MessageKind, MessageStatus
from messaging.tasks import messages_apply, messages_sweep
from tenants.scoping import salon_scope
from tests.conftest import book, local
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


@pytest.fixture
def texts(settings):
    settings.SMS_BACKEND = "locmem"
    sms.outbox.clear()
    return sms.outbox


def _wait_for(salon, until, **filters):
    deadline = time.monotonic() + 30
    while True:
        with salon_scope(salon):
            found = list(Message.objects.filter(**filters))
        if until(found):
            return found
        assert time.monotonic() < deadline, f"the worker did not send {filters}: {found}"
        time.sleep(0.1)


def _all_sent(found):
    return bool(found) and all(m.status == MessageStatus.SENT for m in found)


def test_the_beat_sweep_sends_each_salons_messages_once(
    celery_worker, texts, catalogue_a, catalogue_b, monday
):
    lea = CustomerFactory(salon=catalogue_a.salon, phone="+33612345678")
    sam = CustomerFactory(salon=catalogue_b.salon, phone="+14165550199")
    mine = book(catalogue_a, lea, local(catalogue_a.salon, 1, 10))
    theirs = book(catalogue_b, sam, local(catalogue_b.salon, 1, 10))
    messages_sweep.delay()
    messages_sweep.delay()  # twice, and the listener's own tasks too: nothing twice
    _wait_for(catalogue_a.salon, _all_sent, kind=MessageKind.CONFIRMATION)
    _wait_for(catalogue_b.salon, _all_sent, kind=MessageKind.CONFIRMATION)
    messages_apply.delay(salon_id=catalogue_a.salon.pk)
    time.sleep(0.5)
    by_number = sorted((t.to, t.body) for t in texts)
    assert [to for to, _ in by_number] == ["+14165550199", "+33612345678"]
    assert theirs.reference in by_number[0][1] and mine.reference in by_number[1][1]


def test_a_credited_cancellation_brings_the_reschedule_offer_through_the_broker(
    celery_worker, api, settings, texts, team_a, catalogue_a, monday
):
    settings.PAYMENTS_TEST_MODE = True
    policy = {"rule": {"kind": "fixed", "value": 1500}, "late_cancellation": "credit"}
    assert (
        api(team_a.owner)
        .put("/api/v1/salons/bella/backoffice/deposit-policy/", policy, format="json")
        .status_code
        == 200
    )
    request = {
        "service": catalogue_a.cut.pk,
        "start": "2027-03-10T10:00:00+01:00",
        "customer": {"name": "Léa", "phone": "06 12 34 56 78"},
    }
    booking = api().post("/api/v1/salons/bella/bookings/", request, format="json").json()
    payment = booking["payment"]
    paid = api().post(
        f"/api/v1/test-mode/payments/{payment['payment_intent']}/pay/",
        {"client_secret": payment["client_secret"]},
        format="json",
    )
    assert paid.status_code == 200
    _wait_for(catalogue_a.salon, _all_sent, kind=MessageKind.CONFIRMATION)
    answer = api().post(
        f"/api/v1/manage/{booking['manage_token']}/cancel/", {"resolution": "credit"}, format="json"
    )
    assert answer.json()["deposit"]["status"] == "credited"
    # No sweep is called: the commit of the cancellation sent the task.
    (offer,) = _wait_for(catalogue_a.salon, _all_sent, kind=MessageKind.RESCHEDULE_OFFER)
    assert len(offer.data["slots"]) == 3
    offers = [t for t in texts if "avoir de 15,00 €" in t.body]
    assert len(offers) == 1 and offers[0].to == "+33612345678"


def test_a_payment_link_is_sent_by_the_worker_after_commit(
    celery_worker, api, settings, texts, team_a, team_b, catalogue_a, monday
):
    settings.PAYMENTS_TEST_MODE = True
    policy = {"rule": {"kind": "fixed", "value": 1500}}
    api(team_a.owner).put("/api/v1/salons/bella/backoffice/deposit-policy/", policy, format="json")
    request = {
        "service": catalogue_a.cut.pk,
        "start": "2027-03-03T10:00:00+01:00",
        "customer": {"name": "Marcel Roux", "phone": "06 43 55 66 77"},
        "deposit_handling": "payment_link",
    }
    answer = api(team_a.staff).post(
        "/api/v1/salons/bella/backoffice/phone-bookings/", request, format="json"
    )
    assert answer.status_code == 201, answer.json()
    _wait_for(catalogue_a.salon, _all_sent, kind=MessageKind.PAYMENT_LINK)
    links = [t for t in texts if answer.json()["payment_link"]["url"] in t.body]
    assert len(links) == 1 and links[0].to == "+33643556677"
    with salon_scope(team_b.salon):
        assert not Message.objects.exists()
