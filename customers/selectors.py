import datetime as dt
from typing import Any

from django.db.models import BooleanField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from tenants.models import Salon

from .figures import with_figures
from .gdpr import SECTIONS, personal_data_registry
from .models import Channel, ConsentEvent, Customer, Purpose, Tag
from .search import search_filter


def _latest_consent(salon: Salon, purpose: str) -> Coalesce:
    latest = (
        ConsentEvent.objects.filter(customer=OuterRef("pk"), purpose=purpose)
        .order_by("-recorded_at", "-id")
        .values("granted")[:1]
    )
    return Coalesce(Subquery(latest), Value(False), output_field=BooleanField())


def customer_list(
    *, salon: Salon, search: str | None = None, include_erased: bool = False
) -> QuerySet[Customer]:
    """The salon's customers with their figures, current consents and tags.

    Three queries whatever the page size: the count, the page, the tags.
    """
    customers: QuerySet[Customer] = Customer.objects.all()
    if not include_erased:
        customers = customers.filter(erased_at__isnull=True)
    if search and search.strip():
        customers = customers.filter(search_filter(search, country=salon.country))
    customers = customers.annotate(
        marketing_consent=_latest_consent(salon, Purpose.MARKETING),
        reminders_consent=_latest_consent(salon, Purpose.REMINDERS),
    ).prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
    return with_figures(customers).order_by("name", "id")


def customer_get(*, salon: Salon, pk: int) -> Customer | None:
    return customer_list(salon=salon, include_erased=True).filter(pk=pk).first()


def consent_current(*, customer: Customer) -> dict[str, bool]:
    current: dict[str, bool] = {}
    for event in ConsentEvent.objects.filter(customer=customer):  # newest first
        current.setdefault(event.purpose, event.granted)
    return {purpose: current.get(purpose, False) for purpose in Purpose.values}


def consent_history(*, customer: Customer) -> QuerySet[ConsentEvent]:
    return ConsentEvent.objects.filter(customer=customer).select_related("recorded_by")


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    return str(value)


def customer_export(*, customer: Customer) -> dict[str, Any]:
    """Every stored fact about the person (GDPR), walking the personal-data registry."""
    export: dict[str, Any] = {section: [] for section in SECTIONS}
    for entry in personal_data_registry():
        rows = (
            entry.model._default_manager.filter(**{entry.customer_lookup: customer.pk})
            .order_by("pk")
            .values(*entry.exported)
        )
        export[entry.section] += [{k: _plain(v) for k, v in row.items()} for row in rows]
    person = export["customer"][0] if export["customer"] else {}
    person["tags"] = [tag.name for tag in customer.tags.all()]
    person["consents_now"] = consent_current(customer=customer)
    export["customer"] = person
    return export


def customers_sharing_contact(*, customer: Customer) -> QuerySet[Customer]:
    """Every record of the salon with this one's phone or e-mail, itself included: the
    client's own and the unproven bookers' who typed them."""
    same = Q(pk=customer.pk)
    if customer.phone:
        same |= Q(phone=customer.phone)
    if customer.email:
        same |= Q(email=customer.email)
    return Customer.objects.filter(same)


def contact_for(customer: Customer, via: str | None) -> str | None:
    """The address a link would go to by `via` (or the client's preferred way), or None."""
    if via == Channel.SMS:
        return str(customer.phone) if customer.phone else None
    if via == Channel.EMAIL:
        return customer.email or None
    return str(customer.phone or "") or customer.email or None
