"""A realistic salon for the schema-driven tests: a catalogue, clients, bookings (one
held with a test-mode deposit intent), a customer request and a time off; every id the
API's paths take has a real row behind it."""

import datetime as dt
from dataclasses import dataclass

from rest_framework.test import APIClient

from bookings.models import Booking, Resource, TimeOff
from bookings.services import (
    booking_manage_token,
    resource_kind_save,
    resource_save,
    time_off_save,
)
from customers.models import Customer
from deposits.services import policy_set
from support.models import CustomerRequest, WaitlistEntry, WaitlistOffer
from support.services import request_open
from support.waitlist import waitlist_join
from tenants.models import Membership
from tenants.scoping import salon_scope

from .conftest import MONDAY, Catalogue, Team, local
from .factories import CustomerFactory


@dataclass
class SalonWorld:
    team: Team
    catalogue: Catalogue
    customer: Customer
    booking: Booking  # confirmed, nothing due
    held: Booking  # pending payment, a test-mode intent
    intent_id: str
    customer_request: CustomerRequest
    time_off: TimeOff
    membership: Membership
    resource: Resource
    entry: WaitlistEntry  # waiting for a cut, with an offer past its time
    offer: WaitlistOffer

    @property
    def slug(self) -> str:
        return self.team.salon.slug

    def manage_token(self, booking: Booking | None = None) -> str:
        return booking_manage_token(booking or self.booking)


def salon_world(team: Team, catalogue: Catalogue) -> SalonWorld:
    """Needs `settings.PAYMENTS_TEST_MODE` and the frozen Monday."""
    salon = team.salon
    with salon_scope(salon):
        customer: Customer = CustomerFactory.create(salon=salon, name="Léa Martin")
        membership = Membership.objects.get(user=team.staff)
        time_off = time_off_save(
            salon=salon,
            staff=catalogue.bob,
            start=local(salon, 3, 9),
            end=local(salon, 3, 12),
            reason="Formation",
        )
        basins = resource_kind_save(salon=salon, kind=None, name="Bac")
        resource = resource_save(salon=salon, resource=None, name="Bacs", kind=basins, quantity=2)
    booking_id = _book(team, catalogue, local(salon, 1, 10))["id"]
    with salon_scope(salon):
        policy_set(salon=salon, rule={"kind": "fixed", "value": 1500}, ramp=[])
    held = _book(team, catalogue, local(salon, 2, 10))
    with salon_scope(salon):
        booking = Booking.objects.get(pk=booking_id)
        held_booking = Booking.objects.get(pk=held["id"])
        customer_request = request_open(
            salon=salon,
            channel="phone",
            category="booking",
            summary="Peut-on décaler ?",
            customer=booking.customer,
            booking=booking,
        )
        entry = waitlist_join(
            salon=salon,
            customer=customer,
            services=[catalogue.cut],
            staff=None,
            first=local(salon, 1, 0).date(),
            last=local(salon, 6, 0).date(),
            parts_of_day=[],
            consent=True,
            source="web",
        )
        offer = WaitlistOffer.objects.create(
            salon=salon,
            entry=entry,
            start=local(salon, 4, 10),
            end=local(salon, 4, 10, 45),
            staff=catalogue.alice,
            items=[],
            offered_at=MONDAY - dt.timedelta(hours=1),
            expires_at=MONDAY - dt.timedelta(minutes=30),
        )
    return SalonWorld(
        team=team,
        catalogue=catalogue,
        customer=customer,
        booking=booking,
        held=held_booking,
        intent_id=held["payment"]["payment_intent"],
        customer_request=customer_request,
        time_off=time_off,
        membership=membership,
        resource=resource,
        entry=entry,
        offer=offer,
    )


def _book(team: Team, catalogue: Catalogue, start) -> dict:
    response = APIClient().post(
        f"/api/v1/salons/{team.salon.slug}/bookings/",
        {
            "service": catalogue.cut.pk,
            "start": start.isoformat(),
            "staff": catalogue.alice.pk,
            "customer": {"name": "Paul Durand", "email": "paul@example.org"},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()
