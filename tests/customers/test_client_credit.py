"""A proven client's credit pays her next deposit, in the checkout itself: the amount due is
the deposit less her credit, the ledger says what paid what, and two checkouts at once
never spend the same credit."""

import threading

import pytest
from django.db import connection
from django.db.models import Sum

from bookings.models import Booking, Status
from core.errors import SlotTaken
from deposits.checkout import CheckoutRequest, CustomerDetails, checkout_place
from deposits.credit import credit_balance, credit_grant
from deposits.models import CreditEntry, CreditKind, Payment
from deposits.payments import booking_cancel_with_money
from tenants.scoping import salon_scope
from tests.conftest import book, local, policy_put
from tests.factories import CustomerFactory

LEA_E164 = "+33612345678"


def _lea(team, catalogue, credit=1000):
    """A client of the salon (not trusted: she pays deposits) with `credit` cents of credit."""
    with salon_scope(team.salon):
        lea = CustomerFactory(salon=team.salon, name="Léa Martin", phone=LEA_E164, email=None)
    earlier = book(catalogue, lea, local(team.salon, 1, 10))
    with salon_scope(team.salon):
        credit_grant(customer=lea, amount=credit, currency="EUR", valid_days=90, booking=earlier)
    return lea


def _checkout(team, catalogue, lea, *, day=8, hour=10, proven=True, service=None):
    with salon_scope(team.salon):
        return checkout_place(
            CheckoutRequest(
                salon=team.salon,
                service_id=(service or catalogue.cut).pk,
                start=local(team.salon, day, hour),
                staff_id=catalogue.alice.pk,
                customer=CustomerDetails(name="Léa Martin", phone=LEA_E164),
                proven=lea if proven else None,
            )
        )


def _used(booking):
    return int(
        CreditEntry.objects.filter(booking=booking, kind=CreditKind.USED).aggregate(
            total=Sum("amount")
        )["total"]
        or 0
    )


@pytest.mark.django_db
def test_her_credit_pays_part_of_the_deposit_and_the_rest_is_charged(
    api, stripe_api, team_a, catalogue_a, monday
):
    policy_put(api, team_a)  # €15 deposit
    lea = _lea(team_a, catalogue_a, credit=1000)
    checkout = _checkout(team_a, catalogue_a, lea)
    with salon_scope(team_a.salon):
        assert checkout.deposit == 1500
        assert checkout.payment is not None and checkout.payment.amount == 500
        assert checkout.booking.status == Status.PENDING_PAYMENT
        assert _used(checkout.booking) == 1000
        assert credit_balance(customer=lea) == 0


@pytest.mark.django_db
def test_credit_covering_the_deposit_confirms_at_once_and_keeps_the_rest(
    api, stripe_api, team_a, catalogue_a, monday
):
    policy_put(api, team_a)
    lea = _lea(team_a, catalogue_a, credit=2000)
    checkout = _checkout(team_a, catalogue_a, lea)
    with salon_scope(team_a.salon):
        assert checkout.payment is None
        assert checkout.booking.status == Status.CONFIRMED
        assert _used(checkout.booking) == 1500
        assert credit_balance(customer=lea) == 500
        assert not Payment.objects.filter(booking=checkout.booking).exists()


@pytest.mark.django_db
def test_without_a_proof_her_credit_is_not_spent(api, stripe_api, team_a, catalogue_a, monday):
    policy_put(api, team_a)
    lea = _lea(team_a, catalogue_a, credit=1000)
    checkout = _checkout(team_a, catalogue_a, lea, proven=False)
    with salon_scope(team_a.salon):
        assert checkout.payment is not None and checkout.payment.amount == 1500
        assert checkout.booking.customer_id != lea.pk  # typed details prove nothing
        assert credit_balance(customer=lea) == 1000


@pytest.mark.django_db
def test_a_retried_checkout_spends_nothing_more(api, stripe_api, team_a, catalogue_a, monday):
    policy_put(api, team_a)
    lea = _lea(team_a, catalogue_a, credit=1000)
    first = _checkout(team_a, catalogue_a, lea)
    with pytest.raises(SlotTaken):
        _checkout(team_a, catalogue_a, lea)  # the same request again
    with salon_scope(team_a.salon):
        assert _used(first.booking) == 1000
        assert CreditEntry.objects.filter(kind=CreditKind.USED).count() == 1
        assert credit_balance(customer=lea) == 0
        assert Booking.objects.filter(customer=lea).count() == 2  # the earlier and this one


@pytest.mark.django_db
def test_cancelling_in_time_gives_the_credit_back(api, stripe_api, team_a, catalogue_a, monday):
    policy_put(api, team_a)
    lea = _lea(team_a, catalogue_a, credit=2000)
    checkout = _checkout(team_a, catalogue_a, lea)
    with salon_scope(team_a.salon):
        booking_cancel_with_money(booking=checkout.booking, resolution="credit")
        booking_cancel_with_money(booking=checkout.booking, resolution="credit")  # twice
        assert credit_balance(customer=lea) == 2000


@pytest.mark.django_db
def test_another_salons_credit_is_not_spent(
    api, stripe_api, team_a, team_b, catalogue_a, catalogue_b, monday
):
    policy_put(api, team_a)
    policy_put(api, team_b)
    lea = _lea(team_a, catalogue_a, credit=1000)
    with salon_scope(team_b.salon):
        other = CustomerFactory(salon=team_b.salon, name="Léa M.", phone=LEA_E164)
    checkout = _checkout(team_b, catalogue_b, other)
    with salon_scope(team_b.salon):
        assert checkout.payment is not None and checkout.payment.amount == 1500
    with salon_scope(team_a.salon):
        assert credit_balance(customer=lea) == 1000


def _race(*calls):
    """Run the calls at once, each in its own thread and connection; their results (or
    what they raised)."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(n, call):
        try:
            barrier.wait(timeout=30)
            results[n] = call()
        except Exception as exc:
            results[n] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, c)) for n, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_checkouts_at_once_never_spend_the_same_credit(
    api, stripe_api, team_a, catalogue_a, monday
):
    policy_put(api, team_a)
    lea = _lea(team_a, catalogue_a, credit=2000)  # pays one deposit and a third of another
    for run in range(5):
        results = _race(
            lambda: _checkout(team_a, catalogue_a, lea, day=8 + run, hour=10),  # noqa: B023
            lambda: _checkout(team_a, catalogue_a, lea, day=8 + run, hour=11),  # noqa: B023
        )
        with salon_scope(team_a.salon):
            bookings = [r.booking for r in results if hasattr(r, "booking")]
            assert len(bookings) == 2, results
            spent = sum(_used(b) for b in bookings)
            dues = sorted(r.payment.amount if r.payment else 0 for r in results)
            assert spent == 2000 and dues == [0, 1000], (spent, dues)
            assert credit_balance(customer=lea) == 0
            for booking in bookings:  # the credit back for the next run
                booking_cancel_with_money(booking=booking, resolution="credit")
            assert credit_balance(customer=lea) == 2000


@pytest.mark.django_db
def test_when_the_provider_fails_her_credit_comes_back_at_once(
    api, stripe_api, team_a, catalogue_a, monday
):
    from core.errors import ProviderUnavailable
    from deposits.credit import credits_restore_lapsed

    policy_put(api, team_a)
    lea = _lea(team_a, catalogue_a, credit=1000)
    stripe_api.fail("500", times=10)
    with pytest.raises(ProviderUnavailable):
        _checkout(team_a, catalogue_a, lea)
    with salon_scope(team_a.salon):
        booking = Booking.objects.get(customer=lea, status=Status.EXPIRED)
        assert _used(booking) == 1000
        assert credit_balance(customer=lea) == 1000
        assert credits_restore_lapsed(salon_id=team_a.salon.pk) == 0  # nothing twice
        assert credit_balance(customer=lea) == 1000
