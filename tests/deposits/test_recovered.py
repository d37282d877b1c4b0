"""The owner's dashboard: what deposits recovered, by month and by ramp step."""

import datetime as dt

import pytest
from django.utils import timezone

from bookings.services import booking_cancel, booking_complete, booking_mark_no_show
from customers.figures import with_figures
from customers.models import Customer
from deposits.credit import credit_balance, credit_grant
from deposits.models import CreditEntry, Payment
from deposits.recovered import deposits_recovered
from deposits.services import policy_set
from tenants.scoping import salon_scope
from tests.conftest import book, local
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

URL = "/admin/deposits/depositpolicy/recovered/"


def _paid(booking, amount, outcome=""):
    Payment.objects.create(
        salon_id=booking.salon_id,
        booking=booking,
        kind="deposit",
        amount=amount,
        currency="EUR",
        status="succeeded",
        outcome=outcome,
    )


def test_the_dashboard_counts_what_deposits_recovered(
    client, team_a, team_b, catalogue_a, catalogue_b, monday
):
    salon = team_a.salon
    with salon_scope(salon):
        step = {"starts_on": dt.date(2027, 3, 3), "rule": {"kind": "fixed", "value": 2000}}
        policy_set(salon=salon, rule={"kind": "fixed", "value": 1500}, ramp=[step])
    lea = CustomerFactory(salon=salon)
    b1 = book(catalogue_a, lea, local(salon, 1, 10))
    b2 = book(catalogue_a, lea, local(salon, 1, 11))
    monday.shift(dt.timedelta(days=2))  # Wednesday: the ramp step is in force
    b3 = book(catalogue_a, lea, local(salon, 3, 10))
    b4 = book(catalogue_a, lea, local(salon, 3, 11))
    with salon_scope(salon):
        for booking, amount in ((b1, 1500), (b2, 1500), (b3, 2000)):
            _paid(booking, amount)
        _paid(b4, 2000, outcome="credited")
        booking_cancel(booking=b4)
        credit_grant(customer=lea, amount=2000, currency="EUR", valid_days=90, booking=b4)
    monday.shift(dt.timedelta(days=3))
    with salon_scope(salon):
        booking_complete(booking=b1)
        booking_mark_no_show(booking=b2)
        booking_complete(booking=b3)
    theirs = CustomerFactory(salon=team_b.salon, phone="+14165550100")
    book(catalogue_b, theirs, local(team_b.salon, 8, 10))

    client.force_login(team_a.owner)
    page = client.get(URL)
    assert page.status_code == 200
    march = page.context["months"][-1]
    assert march["label"] == "2027-03"
    assert (march["appointments"], march["no_shows"], march["cancelled"], march["rate"]) == (
        3,
        1,
        1,
        "33.3\u00a0%",
    )
    assert (march["paid"], march["kept"], march["credited"], march["refunded"]) == (
        "€70.00",
        "€15.00",
        "€20.00",
        "€0.00",
    )
    assert len(page.context["months"]) == 12
    base, step = page.context["periods"]
    assert (base["label"], base["appointments"], base["no_shows"], base["paid"]) == (
        "Base rule: €15.00 a booking",
        2,
        1,
        "€30.00",
    )
    assert (step["label"], step["appointments"], step["cancelled"], step["paid"]) == (
        "From 03/03/2027: €20.00 a booking",
        1,
        1,
        "€40.00",
    )
    assert page.context["outstanding"] == "€20.00"
    html = page.content.decode()
    assert "<svg" in html and "Bella Coiffure" in html

    # The other salon's owner sees their own figures, whatever they ask for.
    client.force_login(team_b.owner)
    theirs_page = client.get(URL, {"salon": team_a.salon.pk})
    assert theirs_page.context["salon"] == team_b.salon
    assert theirs_page.context["months"][-1]["paid"] == "CA$0.00"
    client.force_login(team_a.staff)  # front-desk staff do not use the admin
    assert client.get(URL).status_code == 302


def test_the_admin_index_links_the_dashboard(client, team_a):
    client.force_login(team_a.owner)
    assert URL in client.get("/admin/").content.decode()


def test_the_client_the_customer_list_and_the_dashboard_agree_on_the_credit_owed(team_a):
    # No frozen clock: the customer list's figure reads the database's own.
    salon = team_a.salon
    lea = CustomerFactory(salon=salon)

    def owed():
        with salon_scope(salon):
            listed = with_figures(Customer.objects.filter(pk=lea.pk)).get().credit_balance
            return (
                credit_balance(customer=lea),
                listed,
                deposits_recovered(salon=salon).credit_outstanding,
            )

    with salon_scope(salon):
        kept = credit_grant(customer=lea, amount=3000, currency="EUR", valid_days=30)
        lapsing = credit_grant(customer=lea, amount=2000, currency="EUR", valid_days=5)
        for grant, kind, amount in (
            (kept, "used", 500),
            (lapsing, "used", 1000),
            (lapsing, "refunded", 200),
        ):
            CreditEntry.objects.create(
                salon_id=salon.pk,
                customer=lea,
                kind=kind,
                amount=amount,
                currency="EUR",
                grant=grant,
            )
    assert owed() == (3300, 3300, 3300)
    with salon_scope(salon):  # the smaller grant lapsed: what was spent of it no longer counts
        CreditEntry.objects.filter(pk=lapsing.pk).update(
            expires_at=timezone.now() - dt.timedelta(minutes=1)
        )
    assert owed() == (2500, 2500, 2500)
