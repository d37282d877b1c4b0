"""The deposit named in law (acompte or arrhes) on every surface that states the terms,
the terms each booking keeps, the right of withdrawal and the express request, and what a
salon that cancels arrhes owes its client (settled once)."""

import json
import re

import pytest

from deposits.models import BookingTerms, CreditEntry, OwedEntry, Refund
from deposits.services import policy_set
from messaging.models import Message, MessageKind
from messaging.outbox import messages_run
from tenants.scoping import salon_scope
from tests.conftest import local, policy_put, stripe_signature

pytestmark = pytest.mark.django_db

BOOK = "/api/v1/salons/bella/bookings/"
A = "/api/v1/salons/bella/backoffice"
B = "/api/v1/salons/rival/backoffice"
NB = "\u00a0"


def _book(api, catalogue, day=9, hour=10, **extra):
    body = {
        "service": catalogue.cut.pk,
        "start": local(catalogue.salon, day, hour).isoformat(),
        "staff": catalogue.alice.pk,
        "customer": {"name": "Léa", "phone": "06 12 34 56 78"},
        **extra,
    }
    return api().post(f"/api/v1/salons/{catalogue.salon.slug}/bookings/", body, format="json")


def _paid(api, client, settings, stripe_api, catalogue, **extra):
    answer = _book(api, catalogue, **extra)
    assert answer.status_code == 201, answer.json()
    booking = answer.json()
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
                "currency": catalogue.salon.currency.lower(),
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


# The policy's words ----------------------------------------------------------------------------


def test_the_policy_names_the_deposit_and_moves_its_version_on_each_change(api, team_a):
    url = f"{A}/deposit-policy/"
    before = api(team_a.owner).get(url).json()
    assert before["deposit_kind"] == "acompte" and before["withdrawal_refund"] == "policy"
    policy_put(api, team_a, deposit_kind="arrhes", withdrawal_refund="full")
    first = api(team_a.manager).get(url).json()
    assert (first["deposit_kind"], first["withdrawal_refund"]) == ("arrhes", "full")
    policy_put(api, team_a, deposit_kind="arrhes", withdrawal_refund="full")
    assert api(team_a.owner).get(url).json()["version"] == first["version"] + 1
    bad = api(team_a.owner).put(
        url, {"rule": {"kind": "none"}, "deposit_kind": "caution"}, format="json"
    )
    assert bad.status_code == 400 and "deposit_kind" in bad.json()["fields"]
    assert api(team_a.staff).get(url).status_code == 403


@pytest.mark.parametrize("kind", ["acompte", "arrhes"])
def test_public_terms_say_the_word_and_its_consequences_in_french_and_english(
    api, team_a, team_b, kind, monday
):
    policy_put(api, team_a, deposit_kind=kind, late_cancellation="forfeit")
    salon = api().get("/api/v1/salons/bella/").json()
    english, french = salon["deposit_terms"], salon["deposit_terms_translations"]["fr"]
    assert salon["deposit_kind"] == kind
    assert salon["deposit_terms_translations"]["en"] == english
    assert "€15.00" in english and f"15,00{NB}€" in french
    if kind == "arrhes":
        assert "as arrhes (either side may withdraw" in english
        assert "if the salon cancels, it repays them twice" in english
        assert "à titre d\u2019arrhes (chacun peut se dédire" in french
        assert "restitue au double" in french and "acompte" not in french
    else:
        assert "as a deposit (acompte: the booking is firm)" in english
        assert "à titre d\u2019acompte (la réservation est ferme)" in french
        assert "arrhes" not in english + french
    assert salon["terms_url"].endswith("/bella/terms/")
    # The other salon's terms are its own.
    assert api().get("/api/v1/salons/rival/").json()["deposit_kind"] == "acompte"


@pytest.mark.parametrize("kind", ["acompte", "arrhes"])
def test_the_terms_clause_follows_the_policy_in_both_languages(
    client, api, team_a, catalogue_a, kind, monday
):
    policy_put(
        api,
        team_a,
        deposit_kind=kind,
        min_amount=500,
        ramp=[{"starts_on": "2027-06-01", "rule": {"kind": "percent", "value": 30}}],
    )
    fr = client.get("/bella/terms/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    en = client.get("/bella/terms/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "L214-1" in fr and "L214-1" in en
    assert "48 heures avant le rendez-vous" in fr and "48 hours before the appointment" in en
    assert "À partir du 1 juin 2027, 30" in fr and "From 1 June 2027, 30" in en
    assert f"au moins 5,00{NB}€" in fr and "at least €5.00" in en
    if kind == "arrhes":
        assert "constitue des arrhes" in fr and "restituant au double" in fr
        assert "is arrhes within the meaning" in en and "twice the arrhes" in en
    else:
        assert "constitue un acompte" in fr and "arrhes" not in fr
        assert "is a deposit (acompte)" in en
    # Kept in step: a change of the policy changes the page at once.
    policy_put(api, team_a, deposit_kind="arrhes", cancellation_window_hours=24)
    again = client.get("/bella/terms/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "24 heures avant le rendez-vous" in again and "constitue des arrhes" in again


def test_the_policy_page_explains_the_choice_and_shows_the_clause_to_copy(
    client, api, team_a, catalogue_a, monday
):
    policy_put(api, team_a, deposit_kind="arrhes")
    client.force_login(team_a.owner)
    with salon_scope(team_a.salon):
        from deposits.models import DepositPolicy

        policy = DepositPolicy.objects.get()
    page = client.get(
        f"/admin/deposits/depositpolicy/{policy.pk}/change/", HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    assert "Arrhes : chacun peut se dédire".replace(" :", f"{NB}:") in page
    assert "restituant au double" in page and "L221-28 12°" in page
    assert 'id="cgv-fr"' in page and 'id="cgv-en"' in page
    assert "constitue des arrhes" in page and "is arrhes within the meaning" in page


# The booking's terms ---------------------------------------------------------------------------


def test_a_booking_keeps_its_terms_through_policy_changes_and_shows_them(
    api, client, team_a, catalogue_a, settings, stripe_api, monday
):
    policy_put(api, team_a, deposit_kind="arrhes")
    booking = _paid(api, client, settings, stripe_api, catalogue_a, language="fr")
    terms = booking["terms"]
    assert terms["deposit_kind"] == "arrhes" and terms["channel"] == "api"
    assert terms["accepted_at"] == "2027-03-01T08:00:00+01:00"
    assert "sont des arrhes" in terms["text"] and "restitue au double (30,00" in terms["text"]
    assert "L221-28 12°" in terms["withdrawal_info"]
    assert terms["express_request"] is None  # no withdrawal period runs under this policy
    version = terms["policy_version"]
    policy_put(api, team_a, deposit_kind="acompte")
    managed = api().get(f"/api/v1/manage/{booking['manage_token']}/").json()
    assert managed["terms"] == terms and managed["terms"]["policy_version"] == version
    staff = api(team_a.staff).get(f"{A}/bookings/{booking['id']}/").json()
    assert staff["terms"] == terms and staff["owed_to_client"] == 0
    page = client.get(f"/manage/{booking['manage_token']}/").content.decode()
    assert 'id="booking-terms"' in page and "sont des arrhes" in page
    done = client.get(f"/bella/booking/{booking['manage_token']}/").content.decode()
    assert "sont des arrhes" in done


def test_refusing_the_terms_books_nothing(api, team_a, catalogue_a, monday):
    policy_put(api, team_a)
    answer = _book(api, catalogue_a, accept_terms=False)
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid" and "accept_terms" in answer.json()["fields"]
    with salon_scope(team_a.salon):
        assert not BookingTerms.objects.exists()


def test_the_express_request_is_recorded_when_the_right_of_withdrawal_applies(
    api, team_a, catalogue_a, monday, settings
):
    settings.PAYMENTS_TEST_MODE = True
    policy_put(api, team_a, withdrawal_refund="full")
    soon = _book(api, catalogue_a, day=3, express_request=True, language="en").json()
    assert soon["terms"]["express_request"] is True
    assert "14 days after booking" in soon["terms"]["withdrawal_info"]
    unticked = _book(api, catalogue_a, day=4).json()
    assert "terms" in unticked, unticked
    assert unticked["terms"]["express_request"] is False
    later = _book(api, catalogue_a, day=22, express_request=True).json()
    assert later["terms"]["express_request"] is None  # beyond the 14 days: not asked


def test_within_the_withdrawal_period_a_late_cancellation_gets_everything_back(
    api, client, team_a, catalogue_a, settings, stripe_api, monday
):
    policy_put(api, team_a, withdrawal_refund="full", late_cancellation="forfeit")
    booking = _paid(api, client, settings, stripe_api, catalogue_a, day=1, hour=15)
    # Inside the 48 hours' notice, but within 14 days of booking: refunded.
    answer = api().post(f"/api/v1/manage/{booking['manage_token']}/cancel/", {}, format="json")
    assert answer.json()["deposit"]["status"] == "refunded"


def test_a_phone_booking_s_terms_are_accepted_when_its_link_is_paid(
    api, client, team_a, catalogue_a, settings, stripe_api, monday
):
    policy_put(api, team_a, deposit_kind="arrhes")
    taken = api(team_a.staff).post(
        f"{A}/phone-bookings/",
        {
            "service": catalogue_a.cut.pk,
            "start": local(catalogue_a.salon, 9, 10).isoformat(),
            "customer": {"name": "Léa", "phone": "06 12 34 56 78"},
            "deposit_handling": "payment_link",
        },
        format="json",
    )
    assert taken.status_code == 201, taken.json()
    body = taken.json()
    assert body["terms"]["channel"] == "phone" and body["terms"]["accepted_at"] is None
    stripe_api.pay(body["payment"]["payment_intent"])
    event = {
        "id": "evt_phone",
        "object": "event",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": body["payment"]["payment_intent"],
                "object": "payment_intent",
                "currency": "eur",
                "amount": body["amount_due_now"],
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
    staff = api(team_a.staff).get(f"{A}/bookings/{body['id']}/").json()
    assert staff["terms"]["accepted_at"] is not None
    desk = (
        api(team_a.staff)
        .post(
            f"{A}/phone-bookings/",
            {
                "service": catalogue_a.cut.pk,
                "start": local(catalogue_a.salon, 9, 14).isoformat(),
                "customer": {"name": "Léa", "phone": "06 12 34 56 78"},
                "deposit_handling": "paid_at_desk",
            },
            format="json",
        )
        .json()
    )
    assert desk["terms"]["channel"] == "desk" and desk["terms"]["accepted_at"] is not None


# The recap and the messages, in both languages -------------------------------------------------


def _recap(client, catalogue, language, day=3):
    return client.post(
        "/bella/book/",
        {
            "action": "details",
            "services": [catalogue.cut.pk],
            "order": str(catalogue.cut.pk),
            "staff": str(catalogue.alice.pk),
            "start": local(catalogue.salon, day, 10).isoformat(),
            "name": "Léa Martin",
            "phone": "06 12 34 56 78",
            "email": "",
            "notes": "",
        },
        HTTP_ACCEPT_LANGUAGE=language,
    ).content.decode()


def test_the_recap_names_the_deposit_and_states_withdrawal(
    client, api, team_a, catalogue_a, monday
):
    policy_put(api, team_a, deposit_kind="arrhes", withdrawal_refund="full")
    fr = _recap(client, catalogue_a, "fr")
    kind = re.search(r'id="deposit-kind"><strong>([^<]+)', fr).group(1)
    assert "Les 15,00" in kind and "sont des arrhes" in kind and "au double (30,00" in kind
    assert 'id="withdrawal"' in fr and "Droit de rétractation" in fr
    assert 'type="checkbox" name="express_request" id="id_express_request">' in fr
    assert "/bella/terms/" in fr
    en = _recap(client, catalogue_a, "en")
    assert "are arrhes: either side may withdraw" in en and "twice the amount (€30.00)" in en
    policy_put(api, team_a, deposit_kind="acompte", withdrawal_refund="policy")
    fr = _recap(client, catalogue_a, "fr")
    assert "sont un acompte" in fr and "arrhes" not in fr
    assert "express_request" not in fr  # no withdrawal period: no box
    en = _recap(client, catalogue_a, "en")
    assert "are a deposit (acompte): the booking is firm" in en


@pytest.mark.parametrize("kind", ["acompte", "arrhes"])
def test_the_confirmation_and_reminder_name_the_deposit(
    api, client, team_a, catalogue_a, settings, stripe_api, monday, kind
):
    policy_put(api, team_a, deposit_kind=kind)
    _paid(api, client, settings, stripe_api, catalogue_a, language="fr")
    _paid(
        api,
        client,
        settings,
        stripe_api,
        catalogue_a,
        hour=14,
        language="en",
        customer={"name": "Ann", "email": "ann@example.org"},
    )
    with salon_scope(team_a.salon):
        messages_run(salon=team_a.salon)
        bodies = list(
            Message.objects.filter(kind=MessageKind.CONFIRMATION).values_list("body", flat=True)
        )
    french = next(b for b in bodies if "Bonjour" in b)
    english = next(b for b in bodies if "Hello" in b)
    if kind == "arrhes":
        assert "sont des arrhes" in french and "are arrhes" in english
    else:
        assert "sont un acompte" in french and "are a deposit (acompte)" in english


# The salon cancels arrhes: twice ---------------------------------------------------------------


def _cancel_by_salon(api, team, booking):
    answer = api(team.manager).post(
        f"/api/v1/salons/{team.salon.slug}/backoffice/bookings/{booking['id']}/cancel/",
        {"reason": "Fermeture exceptionnelle"},
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    return answer.json()


def test_a_salon_that_cancels_arrhes_refunds_and_owes_as_much_again_settled_as_credit(
    api, client, team_a, team_b, catalogue_a, catalogue_b, settings, stripe_api, monday
):
    policy_put(api, team_a, deposit_kind="arrhes")
    booking = _paid(api, client, settings, stripe_api, catalogue_a, language="fr")
    cancelled = _cancel_by_salon(api, team_a, booking)
    assert cancelled["owed_to_client"] == 1500
    managed = api().get(f"/api/v1/manage/{booking['manage_token']}/").json()
    assert managed["deposit"]["status"] == "refunded" and managed["owed_to_client"] == 1500
    with salon_scope(team_a.salon):
        assert Refund.objects.get().amount == 1500
        messages_run(salon=team_a.salon)
        told = Message.objects.get(kind=MessageKind.CANCELLATION).body
    assert f"il vous doit en plus 15,00{NB}€" in told
    page = client.get(f"/manage/{booking['manage_token']}/").content.decode()
    assert 'id="owed"' in page
    # Another salon neither sees nor settles it; staff may not settle.
    url = f"{A}/bookings/{booking['id']}/settle-owed/"
    assert api(team_b.owner).post(url, {"how": "credit"}, format="json").status_code == 403
    other = api(team_b.owner).post(
        f"{B}/bookings/{booking['id']}/settle-owed/", {"how": "credit"}, format="json"
    )
    assert other.status_code == 404
    assert api(team_a.staff).post(url, {"how": "credit"}, format="json").status_code == 403
    bad = api(team_a.manager).post(url, {"how": "cash"}, format="json")
    assert bad.status_code == 400 and "how" in bad.json()["fields"]
    settled = api(team_a.manager).post(url, {"how": "credit"}, format="json")
    assert settled.status_code == 200 and settled.json()["owed_to_client"] == 0
    managed = api().get(f"/api/v1/manage/{booking['manage_token']}/").json()
    assert managed["owed_to_client"] == 0 and managed["credit_balance"] == 1500
    # Once only.
    again = api(team_a.owner).post(url, {"how": "paid_by_salon"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "nothing_owed"
    with salon_scope(team_a.salon):
        entries = list(OwedEntry.objects.values_list("kind", "amount", "how"))
        assert entries == [("owed", 1500, ""), ("settled", 1500, "credit")]
        assert CreditEntry.objects.get().amount == 1500


def test_owed_arrhes_settled_as_paid_by_the_salon_at_the_desk(
    api, client, team_a, catalogue_a, settings, stripe_api, monday
):
    policy_put(api, team_a, deposit_kind="arrhes")
    booking = _paid(api, client, settings, stripe_api, catalogue_a)
    _cancel_by_salon(api, team_a, booking)
    desk = f"/desk/bella/bookings/{booking['id']}/"
    client.force_login(team_a.staff)
    page = client.get(desk).content.decode()
    assert 'id="booking-owed"' in page and 'id="settle-form"' not in page  # staff: no
    client.force_login(team_a.manager)
    page = client.get(desk).content.decode()
    assert 'id="settle-form"' in page
    client.post(f"{desk}settle-owed/", {"how": "paid_by_salon"})
    client.post(f"{desk}settle-owed/", {"how": "credit"})  # a second press: nothing more
    with salon_scope(team_a.salon):
        settled = OwedEntry.objects.get(kind="settled")
        assert (settled.how, settled.recorded_by_id) == ("paid_by_salon", team_a.manager.pk)
        assert not CreditEntry.objects.exists()
    staff = api(team_a.staff).get(f"{A}/bookings/{booking['id']}/").json()
    assert staff["owed_to_client"] == 0


def test_a_salon_that_cancels_an_acompte_owes_nothing_more(
    api, client, team_a, catalogue_a, settings, stripe_api, monday
):
    policy_put(api, team_a, deposit_kind="acompte")
    booking = _paid(api, client, settings, stripe_api, catalogue_a)
    assert _cancel_by_salon(api, team_a, booking)["owed_to_client"] == 0
    answer = api(team_a.owner).post(
        f"{A}/bookings/{booking['id']}/settle-owed/", {"how": "credit"}, format="json"
    )
    assert answer.status_code == 409


def test_the_owner_s_figures_show_what_is_owed(
    api, client, team_a, catalogue_a, settings, stripe_api, monday
):
    with salon_scope(team_a.salon):
        policy_set(
            salon=team_a.salon,
            rule={"kind": "fixed", "value": 2000},
            ramp=[],
            deposit_kind="arrhes",
        )
    booking = _paid(api, client, settings, stripe_api, catalogue_a)
    _cancel_by_salon(api, team_a, booking)
    client.force_login(team_a.owner)
    page = client.get("/admin/deposits/depositpolicy/recovered/", HTTP_ACCEPT_LANGUAGE="en")
    assert "<strong>€20.00</strong>" in page.content.decode().split('id="owed-total"')[1][:400]
