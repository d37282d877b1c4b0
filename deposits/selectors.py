import datetime as dt
from collections.abc import Sequence

from django.db.models import Count, Q

from bookings.models import Booking, Service, Status
from core.cache import (
    cache_get_versioned,
    cache_set_versioned,
    version_bump,
    version_get,
)
from core.dates import today_in
from customers.models import Customer
from customers.selectors import customers_sharing_contact
from tenants.models import Salon
from tenants.versions import durable_version_bump, durable_version_get

from .models import DepositPolicy, RampStep, policy_values
from .rules import Client, Quote, Rule, VisitQuote, quote_visit

POLICY_CACHE_SECONDS = 600


def _policy_version_key(salon_id: int) -> str:
    return f"deposit-policy:version:{salon_id}"


def policy_changed(salon_id: int) -> None:
    version_bump(_policy_version_key(salon_id))
    durable_version_bump(_policy_version_key(salon_id))


def policy_get(*, salon: Salon) -> tuple[DepositPolicy, list[RampStep]]:
    """The salon's policy and ramp; an unsaved default (no deposit) when it has none.

    Read by every booking and every price shown, so cached under a version that every
    change of the policy moves on, in its transaction (kept in the database: a change is
    seen at once even when Redis missed it), and Redis's own (core/cache.py)."""
    name = _policy_version_key(salon.pk)
    key = f"deposit-policy:{salon.pk}:{durable_version_get(name)}:{version_get(name)}"
    cached = cache_get_versioned(key)
    if isinstance(cached, tuple):
        return cached
    policy = DepositPolicy.objects.filter(salon=salon).first()
    if policy is None:
        answer: tuple[DepositPolicy, list[RampStep]] = (DepositPolicy(salon=salon), [])
    else:
        steps = list(RampStep.objects.filter(policy=policy))
        answer = (policy, steps)
    cache_set_versioned(key, answer, POLICY_CACHE_SECONDS)
    return answer


def client_record(*, policy: DepositPolicy, customer: Customer) -> Client:
    """What the policy's client rules need to know of the client: their visits and
    no-shows are counted only when the policy has such rules.

    An unproven online booker (a record sharing a client's phone or e-mail) is never
    trusted and has no visits but its own; the no-shows of every record with its contact
    details count against it, so typing someone's number never dodges full prepayment."""
    trusted = customer.trusted and not customer.unproven
    if policy.trusted_after_visits is None and policy.full_prepayment_after_no_shows is None:
        return Client(trusted=trusted)
    bookings = Booking.objects.all()
    counts = bookings.filter(customer=customer).aggregate(
        visits=Count("pk", filter=Q(status=Status.COMPLETED)),
        no_shows=Count("pk", filter=Q(status=Status.NO_SHOW)),
    )
    no_shows = counts["no_shows"]
    if customer.unproven:
        no_shows = bookings.filter(
            customer__in=customers_sharing_contact(customer=customer), status=Status.NO_SHOW
        ).count()
    return Client(visits=counts["visits"], no_shows=no_shows, trusted=trusted)


def salon_today(salon: Salon) -> dt.date:
    return today_in(salon.tz)


def deposit_quote(
    *,
    salon: Salon,
    service: Service,
    day: dt.date,
    customer: Customer | None = None,
    policy: tuple[DepositPolicy, list[RampStep]] | None = None,
    language: str | None = None,
) -> Quote:
    """What a client (a new one when None) would pay as deposit for `service` on `day`;
    the reason's amounts written as `language` writes them (by default English, the
    language the reason is written in). A visit of that one service."""
    return deposit_quote_visit(
        salon=salon,
        services=[service],
        day=day,
        customer=customer,
        policy=policy,
        language=language,
    ).as_quote()


def deposit_quote_visit(
    *,
    salon: Salon,
    services: Sequence[Service],
    day: dt.date,
    customer: Customer | None = None,
    policy: tuple[DepositPolicy, list[RampStep]] | None = None,
    language: str | None = None,
) -> VisitQuote:
    """What a client (a new one when None) would pay as deposit for a visit of `services`
    (in the visit's order, a service twice for two people) on `day`: each service's rule
    on its price, the policy's min and max once for the visit, and each item's part."""
    policy_row, steps = policy or policy_get(salon=salon)
    client = None if customer is None else client_record(policy=policy_row, customer=customer)
    return quote_visit(
        policy_values(policy_row, steps),
        items=[(s.price, Rule.parse_or_none(s.deposit_override)) for s in services],
        day=day,
        client=client,
        currency=salon.currency,
        language=language or "en",
    )


def deposits_today(*, salon: Salon, services: list[Service]) -> dict[int, int]:
    """What a new client booking now pays for each service (two queries for all)."""
    policy = policy_get(salon=salon)
    today = salon_today(salon)
    return {
        s.pk: deposit_quote(salon=salon, service=s, day=today, policy=policy).amount
        for s in services
    }


def deposit_terms(*, salon: Salon, language: str | None = None) -> str:
    """The policy in force today, in one paragraph for clients, in `language` (by default
    English, the API's language), its amounts written as that language writes them."""
    from django.utils import translation

    from .terms import policy_sentence

    policy, steps = policy_get(salon=salon)
    with translation.override(language or "en"):
        return policy_sentence(policy, steps, currency=salon.currency, today=salon_today(salon))
