"""The card guarantee end to end: the real Stripe SDK over HTTP against the stand-in (which
knows SetupIntents, off-session charges, holds and Connect), signed webhooks, the fee's
link and the kind path."""

import datetime as dt
import json
import time

import pytest

from bookings.models import Booking, Status
from customers.models import Customer
from deposits.models import FeeCharge, FeeStatus, SavedCard, SavedCardStatus
from messaging.models import Message, MessageKind
from messaging.outbox import messages_run
from support.models import CustomerRequest, RequestCategory
from support.tasks import fees_apply
from tenants.scoping import salon_scope
from tests.conftest import local, policy_put, stripe_signature

BOOK = "/api/v1/salons/bella/bookings/"
WEBHOOK = "/api/v1/stripe/webhook/"
ACCOUNT = "acct_bella"

VISA = "4242424242424242"
ALWAYS_AUTHENTICATE = "4000002760003184"  # asks for 3-D Secure at saving, and off-session
PREPAID = "5105105105105100"  # Stripe's prepaid Mastercard
SAVED_THEN_DECLINED = "4000000000000341"  # saved fine, declined when charged


@pytest.fixture
def guarantee(api, team_a, catalogue_a, stripe_api, monday):
    """Bella asks nothing of new clients as deposit, but a card on file: a €20 fee for a
    no-show or a late cancellation, prepaid cards refused; its charges go to its own
    connected account."""
    salon = team_a.salon
    salon.stripe_account = ACCOUNT
    salon.save(update_fields=["stripe_account"])
    policy_put(
        api,
        team_a,
        rule={"kind": "none"},
        card_guarantee="when_no_deposit",
        no_show_fee={"kind": "fixed", "value": 2000},
        refuse_prepaid_cards=True,
    )
    return stripe_api


def _book(api, catalogue, day=1, hour=10, phone="06 12 34 56 78"):
    start = local(catalogue.salon, day, hour).isoformat()
    response = api().post(
        BOOK,
        {
            "service": catalogue.cut.pk,
            "start": start,
            "staff": catalogue.alice.pk,
            "customer": {"name": "Léa Martin", "phone": phone},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def _deliver(client, settings, event):
    payload = json.dumps(event).encode()
    signature = stripe_signature(payload, settings.STRIPE_WEBHOOK_SECRET)
    return client.generic(
        "POST", WEBHOOK, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )


def _setup_succeeded(client, settings, standin, setup_id, event_id, account=ACCOUNT):
    """Stripe's `setup_intent.succeeded`, carrying the SetupIntent as Stripe has it."""
    found = standin.retrieve("setup_intents", setup_id, ACCOUNT)
    event = {
        "id": event_id,
        "object": "event",
        "type": "setup_intent.succeeded",
        "account": account,
        "data": {"object": found},
    }
    return _deliver(client, settings, event)


def _status(api, booking):
    return api().get(f"/api/v1/manage/{booking['manage_token']}/").json()["status"]


def _saved(api, client, settings, standin, catalogue, number=VISA, **kw):
    booking = _book(api, catalogue, **kw)
    standin.save_card(booking["setup"], number, ACCOUNT)
    answer = _setup_succeeded(
        client, settings, standin, booking["setup"]["setup_intent"], f"evt_{booking['id']}"
    )
    assert answer.status_code == 200
    return booking


def _charges(standin):
    """The off-session charges the stand-in was asked to make (replays are not asked)."""
    return [
        r
        for r in standin.requests()
        if r["method"] == "POST"
        and r["path"] == "/v1/payment_intents"
        and r["form"].get("off_session") == "true"
    ]


def _no_show(api, team, monday, booking):
    monday.move_to(dt.datetime.fromisoformat(booking["start"]) + dt.timedelta(minutes=30))
    url = f"/api/v1/salons/bella/backoffice/bookings/{booking['id']}/no-show/"
    assert api(team.staff).post(url).status_code == 200


def _charge(api, user, booking, slug="bella", **body):
    url = f"/api/v1/salons/{slug}/backoffice/bookings/{booking['id']}/charge-fee/"
    return api(user).post(url, {"kind": "no_show", **body}, format="json")


@pytest.mark.django_db
def test_card_saved_with_sca_confirms_the_booking_only_then(
    api, client, settings, guarantee, catalogue_a
):
    booking = _book(api, catalogue_a)
    assert booking["status"] == "pending_payment"
    assert booking["payment"] is None and booking["amount_due_now"] == 0
    setup = booking["setup"]
    assert setup["setup_intent"].startswith("seti_") and setup["client_secret"]
    assert setup["amount"] == 2000
    assert setup["authorisation"] == (
        "J\u2019autorise Bella Coiffure à débiter ma carte jusqu\u2019à 20,00\xa0€ "
        "en cas d\u2019absence ou d\u2019annulation tardive, conformément aux conditions."
    )
    made = {r["path"]: r for r in guarantee.requests() if r["method"] == "POST"}
    assert made["/v1/customers"]["stripe_account"] == ACCOUNT
    created = made["/v1/setup_intents"]
    assert created["stripe_account"] == ACCOUNT
    assert created["form"]["usage"] == "off_session"
    assert created["form"]["customer"].startswith("cus_")
    assert created["form"]["automatic_payment_methods[enabled]"] == "true"
    assert created["idempotency_key"].startswith("card:") and created["form"]["metadata[booking]"]

    saved = guarantee.save_card(setup, ALWAYS_AUTHENTICATE, ACCOUNT)
    assert saved["statuses"] == ["requires_action", "succeeded"]
    assert _status(api, booking) == "pending_payment"  # the browser's word is not taken

    # Another account's event about this SetupIntent changes nothing.
    wrong = _setup_succeeded(
        client, settings, guarantee, setup["setup_intent"], "evt_other", account="acct_rival"
    )
    assert wrong.json()["outcome"] == "mismatch"
    assert _status(api, booking) == "pending_payment"

    answer = _setup_succeeded(client, settings, guarantee, setup["setup_intent"], "evt_saved")
    assert answer.json()["outcome"] == "applied"
    assert _status(api, booking) == "confirmed"
    again = _setup_succeeded(client, settings, guarantee, setup["setup_intent"], "evt_saved")
    assert again.json()["outcome"] == "duplicate"
    with salon_scope(catalogue_a.salon):
        card = SavedCard.objects.get()
        assert (card.status, card.last4, card.brand, card.funding) == (
            SavedCardStatus.SAVED,
            "3184",
            "visa",
            "credit",
        )
        assert card.provider_customer.startswith("cus_") and card.payment_method.startswith("pm_")
        assert card.accepted_at is not None
        assert card.consent["setup_intent"] == setup["setup_intent"]
        assert card.consent["text"] == setup["authorisation"] == card.authorisation_text
        assert card.consent["usage"] == "off_session"


@pytest.mark.django_db
def test_another_account_cannot_use_the_salons_setup(api, guarantee, catalogue_a):
    """Connect: the SetupIntent lives in the salon's account only."""
    booking = _book(api, catalogue_a)
    found = guarantee.retrieve("setup_intents", booking["setup"]["setup_intent"], "acct_rival")
    assert found["error"]["code"] == "resource_missing"


@pytest.mark.django_db
def test_prepaid_card_is_refused_and_the_client_saves_another(
    api, client, settings, guarantee, catalogue_a
):
    booking = _book(api, catalogue_a)
    first = booking["setup"]
    guarantee.save_card(first, PREPAID, ACCOUNT)
    _setup_succeeded(client, settings, guarantee, first["setup_intent"], "evt_prepaid")
    assert _status(api, booking) == "pending_payment"
    with salon_scope(catalogue_a.salon):
        refused = SavedCard.objects.get(setup_intent=first["setup_intent"])
        assert (refused.status, refused.funding, refused.brand) == (
            SavedCardStatus.REFUSED,
            "prepaid",
            "mastercard",
        )
        assert refused.accepted_at is None
    managed = api().get(f"/api/v1/manage/{booking['manage_token']}/").json()
    second = managed["setup"]
    assert second["setup_intent"] != first["setup_intent"]
    page = client.get(f"/bella/booking/{booking['manage_token']}/pay/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="card-refused"' in html and second["client_secret"] in html

    guarantee.save_card(second, VISA, ACCOUNT)
    _setup_succeeded(client, settings, guarantee, second["setup_intent"], "evt_visa")
    assert _status(api, booking) == "confirmed"


@pytest.mark.django_db
def test_card_saved_is_fetched_back_when_the_client_returns(
    api, client, settings, guarantee, catalogue_a
):
    """Back from saving the card (no webhook yet): the SetupIntent is fetched from Stripe."""
    booking = _book(api, catalogue_a)
    setup = booking["setup"]
    pay = f"/bella/booking/{booking['manage_token']}/pay/"
    # Saying it succeeded proves nothing.
    said = client.get(pay, {"redirect_status": "succeeded", "setup_intent": setup["setup_intent"]})
    assert said.status_code == 200 and _status(api, booking) == "pending_payment"
    assert 'id="authorisation"' in said.content.decode()
    guarantee.save_card(setup, VISA, ACCOUNT)
    back = client.get(pay, {"redirect_status": "succeeded", "setup_intent": setup["setup_intent"]})
    assert back.status_code == 302
    assert _status(api, booking) == "confirmed"


@pytest.mark.django_db
def test_no_show_fee_is_charged_once(
    api, client, settings, guarantee, catalogue_a, team_a, team_b, monday
):
    booking = _saved(api, client, settings, guarantee, catalogue_a)
    # Not before the booking is a no-show.
    early = _charge(api, team_a.staff, booking)
    assert early.status_code == 409 and early.json()["code"] == "conflict"
    _no_show(api, team_a, monday, booking)

    # Salon B's staff cannot see it, by its own salon's path or by A's.
    assert _charge(api, team_b.owner, booking, slug="rival").status_code == 404
    assert _charge(api, team_b.owner, booking).status_code == 403

    answer = _charge(api, team_a.staff, booking)
    assert answer.status_code == 201, answer.json()
    assert answer.json() == {
        "status": "succeeded",
        "amount": 2000,
        "currency": "EUR",
        "kind": "no_show",
        "pay_url": None,
    }
    charges = _charges(guarantee)
    assert len(charges) == 1
    assert charges[0]["idempotency_key"] == f"fee:{booking['id']}:no_show:create"
    assert charges[0]["stripe_account"] == ACCOUNT
    assert charges[0]["form"]["confirm"] == "true" and charges[0]["form"]["amount"] == "2000"

    again = _charge(api, team_a.staff, booking)
    assert (again.status_code, again.json()) == (201, answer.json())
    for _ in range(2):  # the sweep, run twice
        fees_apply(salon_id=catalogue_a.salon.pk)
    assert len(_charges(guarantee)) == 1
    with salon_scope(catalogue_a.salon):
        fee = FeeCharge.objects.get()
        assert fee.status == FeeStatus.SUCCEEDED and fee.paid_at is not None
        intent = guarantee.retrieve("payment_intents", fee.intent_id, ACCOUNT)
        assert intent["status"] == "succeeded" and intent["amount"] == 2000


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_fee_pending_after_a_provider_failure_is_charged_once_by_the_retried_task(
    api, client, settings, guarantee, catalogue_a, team_a, monday, celery_worker
):
    booking = _saved(api, client, settings, guarantee, catalogue_a)
    _no_show(api, team_a, monday, booking)
    guarantee.fail("500", 3)  # the SDK's own retries fail too
    failed = _charge(api, team_a.staff, booking)
    assert failed.status_code == 502 and failed.json()["code"] == "payment_provider_error"
    with salon_scope(catalogue_a.salon):
        fee = FeeCharge.objects.get()
    assert fee.status == FeeStatus.PENDING
    fees_apply.delay(salon_id=catalogue_a.salon.pk)  # the sweep, on a real worker
    deadline = time.monotonic() + 30
    while fee.status == FeeStatus.PENDING:
        assert time.monotonic() < deadline, "the worker did not charge the fee"
        time.sleep(0.1)
        with salon_scope(catalogue_a.salon):
            fee.refresh_from_db()
    assert fee.status == FeeStatus.SUCCEEDED
    fees_apply(salon_id=catalogue_a.salon.pk)  # run again: nothing more
    assert len(_charges(guarantee)) == 1
    answer = _charge(api, team_a.staff, booking)
    assert answer.json()["status"] == "succeeded"
    assert len(_charges(guarantee)) == 1


@pytest.mark.django_db
def test_fee_needing_authentication_becomes_a_link_the_client_pays(
    api, client, settings, guarantee, catalogue_a, team_a, monday
):
    booking = _saved(api, client, settings, guarantee, catalogue_a, number=ALWAYS_AUTHENTICATE)
    _no_show(api, team_a, monday, booking)
    answer = _charge(api, team_a.manager, booking).json()
    assert answer["status"] == "requires_action" and answer["amount"] == 2000
    assert answer["pay_url"].startswith(f"{settings.SITE_URL}/pay/fee/")
    with salon_scope(catalogue_a.salon):
        messages_run(salon=catalogue_a.salon)
        sent = Message.objects.get(kind=MessageKind.FEE_DUE)
        assert answer["pay_url"] in sent.body and "20,00" in sent.body
        fee = FeeCharge.objects.get()
        assert guarantee.retrieve("payment_intents", fee.intent_id, ACCOUNT)["status"] == (
            "requires_payment_method"
        )
    path = answer["pay_url"].removeprefix(settings.SITE_URL)
    page = client.get(path)
    assert page.status_code == 200 and fee.client_secret in page.content.decode()
    paid = guarantee.pay_with(fee.intent_id, ALWAYS_AUTHENTICATE, ACCOUNT)
    assert paid["status"] == "succeeded"
    back = client.get(path, {"redirect_status": "succeeded"})
    assert 'id="fee-paid"' in back.content.decode()
    with salon_scope(catalogue_a.salon):
        assert FeeCharge.objects.get().status == FeeStatus.SUCCEEDED
    assert _charge(api, team_a.staff, booking).json()["status"] == "succeeded"
    assert len(_charges(guarantee)) == 1


@pytest.mark.django_db
def test_declined_fee_starts_the_kind_path(
    api, client, settings, guarantee, catalogue_a, team_a, monday
):
    booking = _saved(api, client, settings, guarantee, catalogue_a, number=SAVED_THEN_DECLINED)
    _no_show(api, team_a, monday, booking)
    answer = _charge(api, team_a.staff, booking).json()
    assert answer["status"] == "failed" and answer["pay_url"]
    assert _charge(api, team_a.staff, booking).json() == answer
    with salon_scope(catalogue_a.salon):
        messages_run(salon=catalogue_a.salon)
        sent = Message.objects.get(kind=MessageKind.FEE_DUE)
        assert "refusés" in sent.body and answer["pay_url"] in sent.body
        assert "au salon" in sent.body
        task = CustomerRequest.objects.get()
        assert task.category == RequestCategory.PAYMENT and task.status == "open"
        assert task.booking_id == booking["id"] and "Appeler le client" in task.summary
        customer = Customer.objects.get()
        assert not customer.blocked
        fee = FeeCharge.objects.get()
        assert fee.error_code == "generic_decline"
    # She pays it with another card, through the link.
    assert guarantee.pay_with(fee.intent_id, VISA, ACCOUNT)["status"] == "succeeded"
    client.get(answer["pay_url"].removeprefix(settings.SITE_URL), {"redirect_status": "succeeded"})
    with salon_scope(catalogue_a.salon):
        assert FeeCharge.objects.get().status == FeeStatus.SUCCEEDED
    # And she may book again.
    assert _book(api, catalogue_a, day=3)["status"] == "pending_payment"


@pytest.mark.django_db
def test_fee_is_refused_beyond_the_policy_and_on_other_bookings(
    api, client, settings, guarantee, catalogue_a, team_a, monday
):
    booking = _saved(api, client, settings, guarantee, catalogue_a)
    _no_show(api, team_a, monday, booking)
    too_much = _charge(api, team_a.staff, booking, amount=2001)
    assert too_much.status_code == 400 and "amount" in too_much.json()["fields"]
    wrong_kind = _charge(api, team_a.staff, booking, kind="whatever")
    assert wrong_kind.status_code == 400 and "kind" in wrong_kind.json()["fields"]
    late = _charge(api, team_a.staff, booking, kind="late_cancellation")
    assert late.status_code == 409 and late.json()["code"] == "conflict"
    part = _charge(api, team_a.staff, booking, amount=1500)
    assert part.json()["amount"] == 1500
    assert _charges(guarantee)[0]["form"]["amount"] == "1500"


@pytest.mark.django_db
def test_late_cancellation_fee(api, client, settings, guarantee, catalogue_a, team_a, monday):
    booking = _saved(api, client, settings, guarantee, catalogue_a)
    cancelled = api().post(f"/api/v1/manage/{booking['manage_token']}/cancel/", format="json")
    assert cancelled.json()["status"] == "cancelled"
    answer = _charge(api, team_a.staff, booking, kind="late_cancellation")
    assert answer.status_code == 201 and answer.json()["status"] == "succeeded"
    assert _charges(guarantee)[0]["idempotency_key"].endswith(":late_cancellation:create")


@pytest.mark.django_db
def test_no_fee_for_an_early_cancellation(
    api, client, settings, guarantee, catalogue_a, team_a, monday
):
    booking = _saved(api, client, settings, guarantee, catalogue_a, day=5)
    api().post(f"/api/v1/manage/{booking['manage_token']}/cancel/", format="json")
    answer = _charge(api, team_a.staff, booking, kind="late_cancellation")
    assert answer.status_code == 409
    assert _charges(guarantee) == []


@pytest.fixture
def holds(api, team_a, guarantee):
    policy_put(
        api,
        team_a,
        rule={"kind": "none"},
        card_guarantee="always",
        no_show_fee={"kind": "fixed", "value": 2000},
        card_hold=True,
    )
    return guarantee


def _holds(standin):
    return [r for r in _charges(standin) if r["form"].get("capture_method") == "manual"]


@pytest.mark.django_db
def test_hold_within_five_days_is_captured_at_a_no_show(
    api, client, settings, holds, catalogue_a, team_a, monday
):
    booking = _saved(api, client, settings, holds, catalogue_a)
    held = _holds(holds)
    assert len(held) == 1 and held[0]["idempotency_key"] == f"fee:{booking['id']}:no_show:hold"
    with salon_scope(catalogue_a.salon):
        fee = FeeCharge.objects.get()
        assert fee.status == FeeStatus.HELD and fee.hold
    assert holds.retrieve("payment_intents", fee.intent_id, ACCOUNT)["status"] == (
        "requires_capture"
    )
    _no_show(api, team_a, monday, booking)
    captures = [r for r in holds.requests() if r["path"].endswith("/capture")]
    assert len(captures) == 1 and captures[0]["stripe_account"] == ACCOUNT
    assert holds.retrieve("payment_intents", fee.intent_id, ACCOUNT)["status"] == "succeeded"
    answer = _charge(api, team_a.staff, booking).json()
    assert (answer["status"], answer["amount"]) == ("succeeded", 2000)
    assert len(_charges(holds)) == 1  # the hold, nothing more


@pytest.mark.django_db
def test_hold_is_released_on_cancellation_and_at_completion(
    api, client, settings, holds, catalogue_a, team_a, monday
):
    cancelled = _saved(api, client, settings, holds, catalogue_a, hour=10)
    came = _saved(api, client, settings, holds, catalogue_a, hour=14, phone="06 98 76 54 32")
    assert len(_holds(holds)) == 2
    api().post(f"/api/v1/manage/{cancelled['manage_token']}/cancel/", format="json")
    monday.move_to(dt.datetime.fromisoformat(came["start"]) + dt.timedelta(minutes=50))
    done = f"/api/v1/salons/bella/backoffice/bookings/{came['id']}/complete/"
    assert api(team_a.staff).post(done).status_code == 200
    with salon_scope(catalogue_a.salon):
        fees = {f.booking_id: f for f in FeeCharge.objects.all()}
        assert {f.status for f in fees.values()} == {FeeStatus.RELEASED}
        for fee in fees.values():
            found = holds.retrieve("payment_intents", fee.intent_id, ACCOUNT)
            assert found["status"] == "canceled"
    assert not [r for r in holds.requests() if r["path"].endswith("/capture")]


@pytest.mark.django_db
def test_no_hold_beyond_five_days(api, client, settings, holds, catalogue_a):
    _saved(api, client, settings, holds, catalogue_a, day=5)
    assert _holds(holds) == []


@pytest.mark.django_db
def test_policy_says_the_card_guarantee(api, team_a, team_b):
    url = "/api/v1/salons/bella/backoffice/deposit-policy/"
    body = {
        "rule": {"kind": "percent", "value": 20},
        "card_guarantee": "after_no_show",
        "no_show_fee": {"kind": "percent", "value": 50},
        "refuse_prepaid_cards": True,
    }
    answer = api(team_a.owner).put(url, body, format="json")
    assert answer.status_code == 200
    got = answer.json()
    assert got["card_guarantee"] == "after_no_show"
    assert got["no_show_fee"] == {"kind": "percent", "value": 50}
    assert got["refuse_prepaid_cards"] is True and got["card_hold"] is False
    reset = api(team_a.owner).put(url, {**body, "no_show_fee": None}, format="json").json()
    assert reset["no_show_fee"] is None
    bad = api(team_a.owner).put(
        url,
        {**body, "card_guarantee": "sometimes", "no_show_fee": {"kind": "percent"}},
        format="json",
    )
    assert bad.status_code == 400
    assert set(bad.json()["fields"]) == {"card_guarantee", "no_show_fee"}
    # Salon B's policy is its own.
    other = api(team_b.owner).get("/api/v1/salons/rival/backoffice/deposit-policy/").json()
    assert other["card_guarantee"] == "off"


@pytest.mark.django_db
def test_after_no_show_asks_a_card_of_clients_who_missed_one(
    api, client, settings, guarantee, catalogue_a, team_a, monday
):
    policy_put(
        api,
        team_a,
        rule={"kind": "none"},
        card_guarantee="after_no_show",
        no_show_fee={"kind": "fixed", "value": 2000},
    )
    first = _book(api, catalogue_a)
    assert first["status"] == "confirmed" and first["setup"] is None
    with salon_scope(catalogue_a.salon):
        Booking.objects.filter(pk=first["id"]).update(status=Status.NO_SHOW)
    again = _book(api, catalogue_a, day=2)
    assert again["status"] == "pending_payment" and again["setup"] is not None


@pytest.mark.django_db
def test_desk_charges_the_fee_from_the_booking_page(
    api, client, settings, guarantee, catalogue_a, team_a, team_b, monday
):
    booking = _saved(api, client, settings, guarantee, catalogue_a, number=SAVED_THEN_DECLINED)
    _no_show(api, team_a, monday, booking)
    page = f"/desk/bella/bookings/{booking['id']}/"
    client.force_login(team_b.staff)  # another salon's staff: not even the page
    assert client.post(f"{page}charge-fee/", {"kind": "no_show"}).status_code in (403, 404)
    assert _charges(guarantee) == []
    client.force_login(team_a.staff)
    shown = client.get(page, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'id="charge-no_show"' in shown and "0341" in shown and "J\u2019autorise" in shown
    answer = client.post(f"{page}charge-fee/", {"kind": "no_show"}, follow=True)
    html = answer.content.decode()
    assert 'id="charge-no_show"' not in html and "/pay/fee/" in html
    client.post(f"{page}charge-fee/", {"kind": "no_show"})
    assert len(_charges(guarantee)) == 1
    with salon_scope(catalogue_a.salon):
        assert CustomerRequest.objects.count() == 1


@pytest.mark.django_db
def test_a_setup_event_stripe_cannot_confirm_now_is_sent_again_and_kept(
    api, client, settings, guarantee, catalogue_a
):
    booking = _book(api, catalogue_a)
    setup = booking["setup"]
    guarantee.save_card(setup, VISA, ACCOUNT)
    event = {
        "id": "evt_down",
        "object": "event",
        "type": "setup_intent.succeeded",
        "account": ACCOUNT,
        "data": {"object": guarantee.retrieve("setup_intents", setup["setup_intent"], ACCOUNT)},
    }
    guarantee.fail("500", 3)  # the card's details cannot be fetched: nothing is recorded
    down = _deliver(client, settings, event)
    assert down.status_code == 502 and down.json()["code"] == "payment_provider_error"
    assert _status(api, booking) == "pending_payment"
    again = _deliver(client, settings, event)
    assert again.json()["outcome"] == "applied"
    assert _status(api, booking) == "confirmed"
