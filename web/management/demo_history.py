"""A year of the demo salon's past, so that every figure an owner looks at shows something
real on first run: appointments honoured, missed and cancelled, deposits taken from the
day the salon turned them on (six months ago), kept after no-shows, refunded or turned
into credit after cancellations, and some of that credit spent since.

The salon's rates follow what the seed articles report: about one appointment in nine
missed before deposits, one in thirty after. Drawn here, written by the history import
(deposits/history.py); the same seed draws the same year."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass

from bookings.models import Service, Source, StaffMember
from customers.models import Customer
from customers.services import customer_create
from deposits.history import (
    CANCELLED_IN_TIME,
    CANCELLED_LATE,
    HONOURED,
    MISSED,
    PastVisit,
    past_visits_import,
)
from deposits.models import PaymentOutcome
from tenants.models import Salon

FIRST_NAMES = [
    "Camille",
    "Chloé",
    "Emma",
    "Inès",
    "Jade",
    "Julie",
    "Léna",
    "Louise",
    "Manon",
    "Margaux",
    "Nina",
    "Sarah",
    "Anaïs",
    "Clara",
    "Élise",
    "Lucie",
    "Mathilde",
    "Pauline",
    "Adam",
    "Arthur",
    "Gabriel",
    "Hugo",
    "Jules",
    "Louis",
    "Lucas",
    "Nathan",
    "Paul",
    "Raphaël",
    "Théo",
    "Victor",
]
LAST_NAMES = [
    "Bernard",
    "Dubois",
    "Durand",
    "Fontaine",
    "Garnier",
    "Girard",
    "Lambert",
    "Lefebvre",
    "Leroy",
    "Mercier",
    "Moreau",
    "Morel",
    "Perrin",
    "Robin",
    "Rousseau",
    "Simon",
    "Vincent",
    "Blanc",
    "Chevalier",
    "Faure",
]


# Where the salon's clients book from: mostly its page, a quarter by phone.
SOURCES = (Source.WEB, Source.PHONE, Source.GOOGLE, Source.INSTAGRAM, Source.WIDGET)
SOURCE_WEIGHTS = (50, 25, 12, 8, 5)


@dataclass(frozen=True)
class Rates:
    no_show: float
    late_cancel: float
    early_cancel: float


BEFORE_DEPOSITS = Rates(no_show=0.11, late_cancel=0.06, early_cancel=0.07)
WITH_DEPOSITS = Rates(no_show=0.03, late_cancel=0.03, early_cancel=0.08)


def history_seed(
    *,
    salon: Salon,
    staff: Sequence[tuple[StaffMember, Sequence[Service]]],
    customers: Sequence[Customer],
    now: dt.datetime,
    days: int = 365,
    seed: int = 7,
) -> int:
    """The last `days` days of `staff`'s appointments (each with the services they offer),
    for `customers` and some forty regulars more; deposits (20 %, at least €5; now and
    then the full price) from six months ago. Returns how many appointments were written."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not a secret
    tz = salon.tz
    today = now.astimezone(tz).date()
    deposits_from = (today - dt.timedelta(days=182)).replace(day=1)
    pool = list(customers) + _regulars(salon, rng, 40)
    # A few clients come back often; most now and then.
    weights = [6 if n < 12 else 1 for n in range(len(pool))]

    visits = []
    for back in range(days, 0, -1):
        day = today - dt.timedelta(days=back)
        if day.weekday() in (0, 6):  # closed on Sunday and Monday
            continue
        closes = dt.time(17) if day.weekday() == 5 else dt.time(19)
        for member, offered in staff:
            at = dt.datetime.combine(day, dt.time(9), tzinfo=tz)
            end_of_day = dt.datetime.combine(day, closes, tzinfo=tz)
            while True:
                at += dt.timedelta(minutes=rng.choice((0, 0, 15, 30, 45, 60, 90)))
                service = rng.choice(offered)
                end = at + dt.timedelta(minutes=service.duration_minutes)
                if end > end_of_day:
                    break
                booked = at - dt.timedelta(days=rng.randint(1, 21), hours=rng.randint(0, 9))
                with_deposit = booked.date() >= deposits_from
                ended = _ended(rng, WITH_DEPOSITS if with_deposit else BEFORE_DEPOSITS)
                cancelled_at = None
                if ended in (CANCELLED_LATE, CANCELLED_IN_TIME):
                    hours = rng.randint(2, 40) if ended == CANCELLED_LATE else rng.randint(50, 200)
                    cancelled_at = max(at - dt.timedelta(hours=hours), booked)
                full = rng.random() < 0.1
                paid = 0
                if with_deposit:
                    paid = (
                        service.price if full else min(service.price, max(500, service.price // 5))
                    )
                visits.append(
                    PastVisit(
                        customer=rng.choices(pool, weights)[0],
                        service=service,
                        staff=member,
                        start=at,
                        booked_at=booked,
                        source=rng.choices(SOURCES, SOURCE_WEIGHTS)[0],
                        ended=ended,
                        cancelled_at=cancelled_at,
                        paid=paid,
                        full=full,
                        money=rng.choice((PaymentOutcome.REFUNDED, PaymentOutcome.CREDITED))
                        if ended == CANCELLED_IN_TIME
                        else "",
                        credit_used=rng.random() < 0.5,
                    )
                )
                at = end + dt.timedelta(minutes=service.buffer_after_minutes)
    return len(past_visits_import(salon=salon, visits=visits))


def _ended(rng: random.Random, rates: Rates) -> str:
    draw = rng.random()
    if draw < rates.no_show:
        return MISSED
    if draw < rates.no_show + rates.late_cancel:
        return CANCELLED_LATE
    if draw < rates.no_show + rates.late_cancel + rates.early_cancel:
        return CANCELLED_IN_TIME
    return HONOURED


def _regulars(salon: Salon, rng: random.Random, count: int) -> list[Customer]:
    people = []
    for n in range(count):
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        people.append(
            customer_create(
                salon=salon,
                name=name,
                phone=f"06 {n // 100 + 20:02d} {n % 100:02d} {rng.randint(10, 99)} "
                f"{rng.randint(10, 99)}",
                consents={"reminders": True, "marketing": rng.random() < 0.5},
            )
        )
    return people
