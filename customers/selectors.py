import datetime as dt
from typing import Any

import phonenumbers
from django.db.models import BooleanField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from core.errors import Invalid
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


def phone_is_landline(phone: object) -> bool:
    """A fixed line (phonenumbers' FIXED_LINE): it cannot receive an SMS. A number that may
    be either (FIXED_LINE_OR_MOBILE, as North American numbers are) is taken to be
    reachable."""
    if not phone:
        return False
    try:
        number = phonenumbers.parse(str(phone))
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.FIXED_LINE)


def link_channel(customer: Customer, via: str | None) -> str:
    """The channel a link to the client goes by: `via` when asked, else the client's
    preferred way, else the other one; never an SMS to a landline. Raises Invalid on
    `send_via`, saying what is missing and what staff can do instead."""
    phone, email = customer.phone, customer.email
    landline = phone_is_landline(phone)
    number = getattr(phone, "as_national", str(phone or ""))
    if landline and email:
        fixed = _(
            "%(number)s is a landline: it cannot receive an SMS. Send the link by e-mail, "
            "or take the deposit at the desk."
        ) % {"number": number}
    else:
        fixed = _(
            "%(number)s is a landline: it cannot receive an SMS. Ask for a mobile number or "
            "an e-mail address, or take the deposit at the desk."
        ) % {"number": number}
    if via == Channel.SMS:
        if not phone:
            no_phone = _(
                "This client has no phone number: send the link by e-mail, or take the "
                "deposit at the desk."
            )
            raise Invalid({"send_via": [no_phone]})
        if landline:
            raise Invalid({"send_via": [fixed]})
        return Channel.SMS
    if via == Channel.EMAIL:
        if not email:
            no_email = (
                _(
                    "This client has no e-mail address: send the link by SMS, or take the "
                    "deposit at the desk."
                )
                if phone and not landline
                else _(
                    "This client has no e-mail address: ask for one, or take the deposit at "
                    "the desk."
                )
            )
            raise Invalid({"send_via": [no_email]})
        return Channel.EMAIL
    first = customer.preferred_channel
    for channel in [first] + [c for c in (Channel.SMS, Channel.EMAIL) if c != first]:
        if channel == Channel.SMS and phone and not landline:
            return Channel.SMS
        if channel == Channel.EMAIL and email:
            return Channel.EMAIL
    if landline:
        raise Invalid({"send_via": [fixed]})
    raise Invalid(
        {"send_via": [_("This client has no phone number or e-mail address to send the link to.")]}
    )
