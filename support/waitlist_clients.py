"""Joining the waitlist for a person: the client found or recorded the way her door finds
her, then the entry (`support.waitlist.waitlist_join`), in one transaction.

Online (the booking page, the client space), knowing a phone number or an e-mail address
proves nothing: the entry is the proven client's (a one-time code), or goes through
`customer_for_online_booking`, as an online booking does. At the desk, staff know whom
they speak to: the client they chose, or the one with the phone or e-mail given (created
when there is none), as a phone booking does; the client states her consent on the phone.

The wishes are checked before anyone is recorded, so a refused entry leaves no client
behind. Each answers the entry, or raises `Invalid` by field (the client's own fields
under `customer`).
"""

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.models import Service, StaffMember
from core.errors import Invalid
from customers.models import ConsentChannel, ConsentSource, Customer
from customers.services import customer_find_or_create, customer_for_online_booking
from support.models import OfferStatus, WaitlistEntry, WaitlistSource
from support.services import Actor
from support.waitlist import waitlist_check, waitlist_join
from tenants.models import Salon


def _fields(exc: ValidationError) -> Any:
    if isinstance(exc, Invalid):
        return exc.fields
    return exc.message_dict if hasattr(exc, "error_dict") else exc.messages


def waitlist_join_online(
    *,
    salon: Salon,
    services: Sequence[Service],
    staff: StaffMember | None,
    first: dt.date,
    last: dt.date,
    parts_of_day: Sequence[str],
    consent: bool,
    name: str,
    phone: str | None,
    email: str | None,
    language: str | None = None,
    proven: Customer | None = None,
    source: str = WaitlistSource.WEB,
    now: dt.datetime | None = None,
) -> WaitlistEntry:
    """A client on the booking page (or in her space, `proven`) joins the waitlist."""
    now = now or timezone.now()
    wishes: dict[str, Any] = {
        "salon": salon,
        "services": services,
        "staff": staff,
        "first": first,
        "last": last,
        "parts_of_day": parts_of_day,
        "consent": consent,
    }
    waitlist_check(**wishes, now=now)
    with transaction.atomic(durable=True):
        try:
            customer = customer_for_online_booking(
                salon=salon,
                name=name,
                phone=phone,
                email=email,
                language=language,
                proven=proven,
            )
        except ValidationError as exc:
            raise Invalid({"customer": _fields(exc)}) from exc
        return waitlist_join(**wishes, customer=customer, source=source, now=now)


def waitlist_join_by_staff(
    *,
    salon: Salon,
    actor: Actor,
    services: Sequence[Service],
    staff: StaffMember | None,
    first: dt.date,
    last: dt.date,
    parts_of_day: Sequence[str],
    consent: bool,
    customer: Customer | None = None,
    name: str = "",
    phone: str | None = None,
    email: str | None = None,
    language: str | None = None,
    now: dt.datetime | None = None,
) -> WaitlistEntry:
    """Staff put a client on the waitlist, by phone or at the desk: `customer` when they
    chose her, else the client with these details (created when there is none). The
    consent is the one the client stated to them."""
    now = now or timezone.now()
    wishes: dict[str, Any] = {
        "salon": salon,
        "services": services,
        "staff": staff,
        "first": first,
        "last": last,
        "parts_of_day": parts_of_day,
        "consent": consent,
    }
    waitlist_check(**wishes, now=now)
    with transaction.atomic(durable=True):
        if customer is None:
            if not (phone or "").strip() and not (email or "").strip():
                raise Invalid(
                    {"customer": {"phone": [_("Give the client's phone number or e-mail.")]}}
                )
            try:
                customer = customer_find_or_create(
                    salon=salon,
                    name=name,
                    phone=phone,
                    email=email,
                    language=language,
                    consent_channel=ConsentChannel.PHONE,
                    consent_source=ConsentSource.PHONE,
                    actor=actor,
                )
            except ValidationError as exc:
                raise Invalid({"customer": _fields(exc)}) from exc
        elif customer.salon_id != salon.pk or customer.erased:
            raise Invalid({"customer": [_("No such client.")]})
        return waitlist_join(
            **wishes, customer=customer, source=WaitlistSource.DESK, actor=actor, now=now
        )


# Reading -----------------------------------------------------------------------------------


def waitlist_entries(
    *, salon: Salon, status: str | None = None, customer: Customer | None = None
) -> Any:
    """The salon's entries (of one status, of one client), in the order they joined, with
    their client and staff member, and how many offers each was made."""
    entries = WaitlistEntry.objects.filter(salon=salon).select_related("customer", "staff")
    if status is not None:
        entries = entries.filter(status=status)
    if customer is not None:
        entries = entries.filter(customer=customer)
    return entries.annotate(
        offers_made=Count("offers"),
        offers_open=Count("offers", filter=Q(offers__status=OfferStatus.OPEN)),
    ).order_by("joined_at", "id")


def waitlist_services(salon: Salon, entries: Sequence[WaitlistEntry]) -> dict[int, Service]:
    """The services the entries name, by id, in one query (another salon's are none)."""
    ids = {pk for entry in entries for pk in entry.service_ids}
    return {s.pk: s for s in Service.objects.filter(salon=salon, pk__in=ids)}
