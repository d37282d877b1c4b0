"""GDPR: export every stored fact, erase the person, retention, one-click withdrawal."""

import datetime as dt
import time

import pytest
import time_machine
from django.apps import apps
from django.db import connection
from django.utils import timezone

from bookings.models import Booking
from bookings.services import booking_complete
from customers.consent import withdraw_token, withdraw_url
from customers.gdpr import SECTIONS, personal_data_registry
from customers.models import ConsentEvent, Customer
from customers.selectors import consent_current
from customers.services import customers_anonymise_inactive
from customers.tasks import retention_sweep
from deposits.agreements import booking_terms_record
from deposits.credit import credit_grant
from deposits.models import FeeCharge, OwedEntry, Payment, SavedCard
from deposits.selectors import policy_get
from messaging.outbox import messages_run
from support.services import request_open
from support.waitlist import waitlist_join
from tenants.scoping import salon_scope
from tests.conftest import book, local
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

A = "/api/v1/salons/bella/backoffice/customers/"


@pytest.fixture
def lea(team_a):
    return CustomerFactory(
        salon=team_a.salon,
        name="Léandra Quesnel-Varin",
        phone="0612345678",
        email="lea.m@example.org",
        notes="Allergique au latex",
        tags=["vip"],
        preferences={"notes": "Thé vert"},
        consents={"marketing": True, "reminders": True},
    )


def test_every_field_of_a_registered_model_is_classified():
    for entry in personal_data_registry():
        fields = {f.name for f in entry.model._meta.get_fields() if f.concrete}
        fields |= {f.name for f in entry.model._meta.many_to_many}
        classified = {name.split("__")[0] for name in entry.exported} | set(entry.internal)
        assert fields == classified, f"{entry.model.__name__}: {fields ^ classified}"


def test_every_model_holding_a_customer_is_registered():
    registered = {entry.model for entry in personal_data_registry()}
    for model in apps.get_models():
        if any(getattr(f, "related_model", None) is Customer for f in model._meta.fields):
            assert model in registered or model._meta.model_name == "customertag", model


def test_export_holds_every_registered_field(api, team_a, lea, catalogue_a, monday):
    booking = book(catalogue_a, lea, local(team_a.salon, 1, 10), notes="Frange courte")
    with salon_scope(team_a.salon):
        payment = Payment.objects.create(
            salon=team_a.salon,
            booking=booking,
            kind="deposit",
            amount=1200,
            currency="EUR",
            status="succeeded",
        )
        credit_grant(
            customer=lea,
            amount=1200,
            currency="EUR",
            valid_days=90,
            booking=booking,
            payment=payment,
        )
        policy, _steps = policy_get(salon=team_a.salon)
        booking_terms_record(
            booking=booking, policy=policy, deposit=1200, language="fr", channel="web"
        )
        OwedEntry.objects.create(
            salon=team_a.salon,
            booking=booking,
            customer=lea,
            kind="owed",
            amount=1200,
            currency="EUR",
        )
        card = SavedCard.objects.create(
            salon=team_a.salon,
            customer=lea,
            booking=booking,
            status="saved",
            brand="visa",
            last4="4242",
            funding="credit",
            amount=2000,
            currency="EUR",
            authorisation_text="J\u2019autorise Bella Coiffure à débiter ma carte…",
            language="fr",
            accepted_at=timezone.now(),
            consent={"channel": "web"},
        )
        FeeCharge.objects.create(
            salon=team_a.salon,
            booking=booking,
            card=card,
            kind="no_show",
            amount=2000,
            currency="EUR",
        )
        messages_run(salon=team_a.salon)  # the booking's confirmation
        request_open(
            salon=team_a.salon,
            customer=lea,
            booking=booking,
            channel="phone",
            category="booking",
            summary="Arrivera en retard",
        )
        waitlist_join(
            salon=team_a.salon,
            customer=lea,
            services=[catalogue_a.cut],
            staff=None,
            first=local(team_a.salon, 2, 0).date(),
            last=local(team_a.salon, 9, 0).date(),
            parts_of_day=["morning"],
            consent=True,
            source="desk",
        )
    body = api(team_a.staff).get(f"{A}{lea.pk}/export/").json()
    assert set(body) == set(SECTIONS)
    for entry in personal_data_registry():
        section = body[entry.section]
        rows = [section] if isinstance(section, dict) else section
        assert rows, entry.section
        for row in rows:
            assert set(entry.exported) <= set(row), entry.section
    assert body["terms"][0]["booking"] == booking.pk
    assert body["terms"][0]["channel"] == "web"
    assert "acompte" in body["terms"][0]["text"]
    assert body["owed"][0]["amount"] == 1200
    assert body["waitlist"][0]["parts_of_day"] == ["morning"]
    assert body["customer"]["name"] == "Léandra Quesnel-Varin"
    assert body["customer"]["phone"] == "+33612345678"
    assert body["customer"]["tags"] == ["vip"]
    assert body["customer"]["consents_now"] == {
        "reminders": True,
        "marketing": True,
        "health": False,
    }
    assert len(body["consents"]) == 2
    assert body["bookings"][0]["notes"] == "Frange courte"
    assert body["bookings"][0]["service__name"] == "Coupe"


def _text_columns():
    """Every text-like column of every table in the database."""
    text_types = ("char", "text", "json")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND ("
            + " OR ".join(["data_type ILIKE %s"] * len(text_types))
            + ")",
            [f"%{t}%" for t in text_types],
        )
        return cursor.fetchall()


def _where_found(needle: str) -> list[str]:
    found = []
    with connection.cursor() as cursor:
        for table, column in _text_columns():
            cursor.execute(
                f'SELECT count(*) FROM "{table}" WHERE CAST("{column}" AS text) ILIKE %s',
                [f"%{needle}%"],
            )
            if cursor.fetchone()[0]:
                found.append(f"{table}.{column}")
    return found


def test_erasure_leaves_no_trace_of_the_person(api, team_a, team_b, lea, catalogue_a, monday):
    visit = book(catalogue_a, lea, local(team_a.salon, 1, 10), notes="Allergie latex")
    book(catalogue_a, lea, local(team_a.salon, 2, 10), notes="Thé vert merci")
    with salon_scope(team_a.salon):
        messages_run(salon=team_a.salon)  # confirmations naming the person
        booking_complete(booking=visit)
    other = CustomerFactory(salon=team_b.salon, name="Léandra Quesnel-Varin", phone="+33612345678")
    response = api(team_a.manager).post(f"{A}{lea.pk}/erase/")
    assert response.status_code == 200
    body = response.json()
    assert body["erased"] is True
    assert (body["name"], body["phone"], body["email"], body["notes"]) == ("", None, None, "")
    assert body["preferences"] == {}
    assert body["tags"] == []

    # The other salon's client of the same name and phone is someone else: untouched.
    other.refresh_from_db()
    assert other.name == "Léandra Quesnel-Varin"
    with salon_scope(team_b.salon):
        Customer.objects.filter(pk=other.pk).delete()
    for needle in (
        "Léandra Quesnel-Varin",
        "Quesnel",
        "lea.m@example.org",
        "612345678",
        "latex",
        "Thé vert",
    ):
        assert _where_found(needle) == [], needle
    assert api(team_a.staff).get(A, {"search": "Quesnel"}).json()["count"] == 0
    # Bookings stay for accounting, without identity, and still count.
    with salon_scope(team_a.salon):
        assert Booking.objects.filter(customer=lea).count() == 2
    assert api(team_a.staff).get(f"{A}{lea.pk}/").json()["visits"] == 1
    # The consent ledger stays, as proof of what was agreed, tied to nobody.
    with salon_scope(team_a.salon):
        assert ConsentEvent.objects.filter(customer=lea).count() == 2


def test_erasing_twice_changes_nothing_more(api, team_a, lea):
    client = api(team_a.owner)
    first = client.post(f"{A}{lea.pk}/erase/").json()
    second = client.post(f"{A}{lea.pk}/erase/").json()
    assert first == second


def test_front_desk_staff_may_not_erase(api, team_a, lea):
    response = api(team_a.staff).post(f"{A}{lea.pk}/erase/")
    assert response.status_code == 403
    lea.refresh_from_db()
    assert lea.erased_at is None


def test_an_erased_customer_cannot_be_edited(api, team_a, lea):
    api(team_a.owner).post(f"{A}{lea.pk}/erase/")
    response = api(team_a.owner).patch(f"{A}{lea.pk}/", {"name": "Back"}, format="json")
    assert response.status_code == 400


NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def _customer_seen(salon, name, at):
    with time_machine.travel(at, tick=False):
        return CustomerFactory(salon=salon, name=name)


def test_retention_erases_after_three_years_and_not_before(team_a):
    gone = _customer_seen(team_a.salon, "Ancienne", dt.datetime(2021, 5, 1, tzinfo=dt.UTC))
    kept = _customer_seen(team_a.salon, "Récente", dt.datetime(2023, 11, 24, 12, 0, tzinfo=dt.UTC))
    edge = _customer_seen(team_a.salon, "Limite", dt.datetime(2023, 11, 22, 12, 0, tzinfo=dt.UTC))
    with time_machine.travel(NOW, tick=False), salon_scope(team_a.salon):
        assert customers_anonymise_inactive(salon=team_a.salon) == 2
        snapshot = list(Customer.objects.order_by("pk").values())
        assert customers_anonymise_inactive(salon=team_a.salon) == 0
        assert list(Customer.objects.order_by("pk").values()) == snapshot
    for customer in (gone, kept, edge):
        customer.refresh_from_db()
    assert gone.erased_at is not None and gone.name == ""
    assert edge.erased_at is not None  # 3 years + 1 day
    assert kept.erased_at is None and kept.name == "Récente"  # 3 years - 1 day


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_retention_runs_on_a_real_worker_for_each_salon(celery_worker, team_a, team_b):
    old = timezone.now() - dt.timedelta(days=3 * 366 + 2)
    a = _customer_seen(team_a.salon, "Ancienne A", old)
    b = _customer_seen(team_b.salon, "Ancienne B", old)
    fresh = CustomerFactory(salon=team_b.salon, name="Fraîche")
    retention_sweep.delay()
    deadline = time.monotonic() + 30
    while True:
        a.refresh_from_db()
        b.refresh_from_db()
        if a.erased_at and b.erased_at:
            break
        assert time.monotonic() < deadline, "the worker did not erase both"
        time.sleep(0.1)
    fresh.refresh_from_db()
    assert fresh.erased_at is None


def test_one_click_withdraws_marketing_consent(client, team_a, lea):
    url = withdraw_url(customer=lea).removeprefix("http://127.0.0.1:8000")
    page = client.get(url)
    assert page.status_code == 200
    with salon_scope(team_a.salon):
        assert consent_current(customer=lea)["marketing"] is True  # a GET changes nothing

    done = client.post(url)  # the button, or the mail client's one-click POST
    assert done.status_code == 200
    with salon_scope(team_a.salon):
        assert consent_current(customer=lea) == {
            "reminders": True,
            "marketing": False,
            "health": False,
        }
        latest = ConsentEvent.objects.filter(customer=lea).first()
    assert (latest.granted, latest.source, latest.channel) == (False, "online", "email")


def test_withdrawal_link_is_bound_to_its_salon(client, team_a, team_b, lea):
    token = withdraw_token(customer=lea)
    assert client.post(f"/rival/unsubscribe/{token}/").status_code == 404
    assert client.post(f"/bella/unsubscribe/{token[:-2]}xx/").status_code == 404
    with salon_scope(team_a.salon):
        assert consent_current(customer=lea)["marketing"] is True


def test_erasure_leaves_the_person_in_no_reason_history_or_export(
    api, client, superuser, team_a, lea, catalogue_a, monday
):
    import json

    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.contenttypes.models import ContentType

    from bookings.services import booking_manage_token
    from messaging.models import Message

    policy = {"rule": {"kind": "fixed", "value": 1500}}
    assert (
        api(team_a.owner)
        .put("/api/v1/salons/bella/backoffice/deposit-policy/", policy, format="json")
        .status_code
        == 200
    )
    cancelled = book(catalogue_a, lea, local(team_a.salon, 1, 10))
    with salon_scope(team_a.salon):
        token = booking_manage_token(cancelled)
    answer = api(team_a.staff).post(
        f"/api/v1/salons/bella/backoffice/bookings/{cancelled.pk}/cancel/",
        {"reason": "Léandra Quesnel-Varin est malade, la rappeler au 0612345678"},
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    waived = api(team_a.staff).post(
        "/api/v1/salons/bella/backoffice/phone-bookings/",
        {
            "service": catalogue_a.cut.pk,
            "start": local(team_a.salon, 2, 11).isoformat(),
            "customer": {"id": lea.pk},
            "deposit_handling": "waived",
            "waiver_reason": "Mme Quesnel-Varin est la soeur de la gérante",
        },
        format="json",
    )
    assert waived.status_code == 201, waived.json()
    with salon_scope(team_a.salon):
        request_open(
            salon=team_a.salon,
            booking=cancelled,
            channel="phone",
            category="lost_item",
            summary="Écharpe oubliée par Mme Quesnel-Varin",
        )
        messages_run(salon=team_a.salon)
        Message.objects.filter(customer=lea).update(
            status_detail="550 lea.m@example.org: mailbox unavailable"
        )
    LogEntry.objects.create(
        user=superuser,
        content_type=ContentType.objects.get_for_model(Customer),
        object_id=str(lea.pk),
        object_repr=str(lea),
        action_flag=CHANGE,
        change_message="Téléphone de Léandra Quesnel-Varin corrigé",
    )

    assert api(team_a.manager).post(f"{A}{lea.pk}/erase/").status_code == 200

    for needle in ("Quesnel", "Léandra", "612345678", "lea.m@example.org"):
        assert _where_found(needle) == [], needle
    export = json.dumps(api(team_a.staff).get(f"{A}{lea.pk}/export/").json(), ensure_ascii=False)
    assert "Quesnel" not in export and "612345678" not in export
    staff_view = (
        api(team_a.staff).get(f"/api/v1/salons/bella/backoffice/bookings/{cancelled.pk}/").json()
    )
    assert staff_view["cancellation_reason"] == ""
    # The admin's recent actions no longer name her; who changed what, and when, stays.
    entry = LogEntry.objects.get(object_id=str(lea.pk))
    assert "Quesnel" not in entry.object_repr and entry.user == superuser
    # The links she was sent stop working.
    assert api().get(f"/api/v1/manage/{token}/").status_code == 404
