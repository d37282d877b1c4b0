import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tenants.models import Salon
from tenants.phones import phone_parse

from .consent import CONSENT_TEXT_VERSION
from .gdpr import personal_data_registry
from .models import (
    Channel,
    ConsentChannel,
    ConsentEvent,
    ConsentSource,
    Customer,
    CustomerTag,
    Purpose,
    Tag,
)
from .preferences import preferences_check, preferences_health
from .search import search_text
from .selectors import consent_current

Actor = AbstractBaseUser | AnonymousUser | None


def contact_normalise(
    *, salon: Salon, phone: str | None, email: str | None
) -> tuple[str | None, str | None]:
    """(E.164 phone, lower-case e-mail), either None when not given.

    Raises ValidationError keyed by field when the phone is not a valid number.
    """
    e164 = None
    if phone and phone.strip():
        try:
            e164 = phone_parse(phone, country=salon.country).as_e164
        except ValidationError as exc:
            raise ValidationError({"phone": exc.messages}) from exc
    clean_email = email.strip().lower() if email and email.strip() else None
    return e164, clean_email


def _refresh_search_text(customer: Customer) -> None:
    customer.search_text = search_text(
        name=customer.name,
        email=customer.email,
        phone=str(customer.phone) if customer.phone else None,
    )


def contact_check(
    *, salon_id: int, phone: str | None, email: str | None, exclude_pk: int | None = None
) -> None:
    """Field messages for a phone or e-mail that is another customer's of the salon."""
    others = Customer.objects.filter(duplicate_of=None)
    others = others.exclude(pk=exclude_pk)
    errors: dict[str, list[str]] = {}
    if phone and others.filter(phone=phone).exists():
        errors["phone"] = [_("Another client of this salon has this phone number.")]
    if email and others.filter(email=email).exists():
        errors["email"] = [_("Another client of this salon has this e-mail address.")]
    if errors:
        raise ValidationError(errors)


def _check_unique(customer: Customer) -> None:
    if customer.duplicate_of_id is not None:
        return  # an unproven booker's record shares its contact details by design
    contact_check(
        salon_id=customer.salon_id,
        phone=str(customer.phone) if customer.phone else None,
        email=customer.email,
        exclude_pk=customer.pk,
    )


def _tags_set(customer: Customer, names: Iterable[str]) -> None:
    wanted = sorted({n.strip().lower() for n in names if n.strip()})
    tags = Tag.objects.all()
    links = CustomerTag.objects.filter(customer=customer)
    links.exclude(tag__name__in=wanted).delete()
    have = set(links.values_list("tag__name", flat=True))
    for name in wanted:
        if name not in have:
            tag, _created = tags.get_or_create(salon_id=customer.salon_id, name=name)
            CustomerTag.objects.create(salon_id=customer.salon_id, customer=customer, tag=tag)


def consent_record(
    *,
    customer: Customer,
    purpose: str,
    granted: bool,
    channel: str,
    source: str,
    actor: Actor = None,
    text_version: str = CONSENT_TEXT_VERSION,
    new_customer: bool = False,
) -> ConsentEvent | None:
    """Record a grant or withdrawal in the ledger.

    Nothing is recorded when it changes nothing (same answer to the same text), so a
    repeated click or a re-sent form does not pad the proof. A customer created in this
    transaction has no ledger yet: no need to read it.
    """
    latest = (
        None
        if new_customer
        else ConsentEvent.objects.filter(customer=customer, purpose=purpose).first()
    )
    if (
        latest is not None
        and latest.granted == granted
        and (not granted or latest.text_version == text_version)
    ):
        return None
    if latest is None and not granted:
        return None  # never granted: nothing to withdraw
    if purpose == Purpose.HEALTH and not granted:
        _health_forget(customer)
    return ConsentEvent.objects.create(
        salon_id=customer.salon_id,
        customer=customer,
        purpose=Purpose(purpose),
        granted=granted,
        text_version=text_version,
        channel=ConsentChannel(channel),
        source=ConsentSource(source),
        recorded_by=actor if actor is not None and actor.is_authenticated else None,
    )


def _health_forget(customer: Customer) -> None:
    """The consent to keep health data withdrawn: what was kept of it goes."""
    if "allergies" in customer.preferences:
        customer.preferences = {k: v for k, v in customer.preferences.items() if k != "allergies"}
        Customer.objects.filter(pk=customer.pk).update(preferences=customer.preferences)


def _preferences_clean(preferences: Any, *, health_consent: bool) -> dict[str, Any]:
    """The preferences as stored, checked; allergies refused without the client's consent
    to keep health data."""
    try:
        clean = preferences_check(preferences or {})
    except ValidationError as exc:
        raise ValidationError({"preferences": exc.messages}) from exc
    if preferences_health(clean) and not health_consent:
        raise ValidationError(
            {
                "allergies": [
                    _(
                        "Allergies and health notes are kept only with the client's "
                        "consent: record it first."
                    )
                ]
            }
        )
    return clean


def customer_create(
    *,
    salon: Salon,
    name: str,
    phone: str | None = None,
    email: str | None = None,
    preferred_channel: str | None = None,
    language: str | None = None,
    notes: str = "",
    preferences: dict[str, Any] | None = None,
    tags: Iterable[str] = (),
    trusted: bool = False,
    blocked: bool = False,
    consents: dict[str, bool] | None = None,
    consent_channel: str = ConsentChannel.PHONE,
    consent_source: str = ConsentSource.STAFF,
    actor: Actor = None,
    matched_none: bool = False,
    duplicate_of: Customer | None = None,
) -> Customer:
    """A new client for the salon. Raises ValidationError (by field) on bad input.

    `matched_none`: the caller just normalised the contact details and found nobody with
    them, so neither is done again (the database's constraints settle races).
    `duplicate_of`: an unproven online booker's record, sharing that client's contact.
    """
    e164, clean_email = (
        (phone, email) if matched_none else contact_normalise(salon=salon, phone=phone, email=email)
    )
    if not e164 and not clean_email:
        raise ValidationError({"phone": [_("Give a phone number or an e-mail address.")]})
    preferences = _preferences_clean(
        preferences, health_consent=bool((consents or {}).get(Purpose.HEALTH))
    )
    customer = Customer(
        salon=salon,
        name=name.strip(),
        phone=e164,
        email=clean_email,
        preferred_channel=preferred_channel or (Channel.SMS if e164 else Channel.EMAIL),
        language=language or salon.languages[0],
        notes=notes,
        preferences=preferences,
        trusted=trusted,
        blocked=blocked,
        last_seen_at=timezone.now(),
        duplicate_of=duplicate_of,
    )
    if not matched_none:
        _check_unique(customer)
    _refresh_search_text(customer)
    # No savepoint of its own: a conflict (a race on the phone or e-mail) undoes the
    # caller's whole transaction, which customer_find_or_create retries.
    with transaction.atomic(savepoint=False):
        customer.save()
        if tags:
            _tags_set(customer, tags)
        for purpose, granted in (consents or {}).items():
            consent_record(
                customer=customer,
                purpose=purpose,
                granted=granted,
                channel=consent_channel,
                source=consent_source,
                actor=actor,
                new_customer=True,
            )
    return customer


def customer_update(
    *,
    customer: Customer,
    actor: Actor = None,
    tags: Iterable[str] | None = None,
    consents: dict[str, bool] | None = None,
    consent_channel: str = ConsentChannel.PHONE,
    **fields: Any,
) -> Customer:
    if customer.erased:
        raise ValidationError({"non_field_errors": [_("This client's data was erased.")]})
    if "phone" in fields or "email" in fields:
        e164, clean_email = contact_normalise(
            salon=customer.salon,
            phone=fields.pop("phone", str(customer.phone) if customer.phone else None),
            email=fields.pop("email", customer.email),
        )
        if not e164 and not clean_email:
            raise ValidationError({"phone": [_("Give a phone number or an e-mail address.")]})
        customer.phone, customer.email = e164, clean_email
    if "preferences" in fields:
        health = (consents or {}).get(Purpose.HEALTH)
        fields["preferences"] = _preferences_clean(
            fields["preferences"],
            health_consent=consent_current(customer=customer)[Purpose.HEALTH]
            if health is None
            else health,
        )
    for name, value in fields.items():
        setattr(customer, name, value)
    customer.last_seen_at = timezone.now()
    _check_unique(customer)
    _refresh_search_text(customer)
    with transaction.atomic():
        customer.save()
        if tags is not None:
            _tags_set(customer, tags)
        for purpose, granted in (consents or {}).items():
            consent_record(
                customer=customer,
                purpose=purpose,
                granted=granted,
                channel=consent_channel,
                source=ConsentSource.STAFF,
                actor=actor,
            )
    return customer


def _contact_required(
    *, salon: Salon, phone: str | None, email: str | None
) -> tuple[str | None, str | None]:
    """The phone (E.164, read in the salon's country) and e-mail as stored; one of them is
    required to record a client."""
    e164, clean_email = contact_normalise(salon=salon, phone=phone, email=email)
    if not e164 and not clean_email:
        raise ValidationError({"phone": [_("Give a phone number or an e-mail address.")]})
    return e164, clean_email


def customer_find_or_create(
    *,
    salon: Salon,
    name: str,
    phone: str | None = None,
    email: str | None = None,
    language: str | None = None,
    consents: dict[str, bool] | None = None,
    consent_channel: str = ConsentChannel.WEB,
    consent_source: str = ConsentSource.ONLINE,
    actor: Actor = None,
) -> Customer:
    """The salon's customer with this phone or e-mail, created when there is none.

    For those who know who the person is: staff taking a booking by phone or at the desk,
    or a client who proved the contact (`customer_for_online_booking`). The phone (read in
    the salon's country) wins over the e-mail; a phone the person lacked is filled in when
    it is free, a new e-mail replaces the old one when it is free (it used to be dropped),
    and two existing customers are never merged. Two
    concurrent calls for one new person make one customer: the loser of the race finds
    the winner's row.
    """
    e164, clean_email = _contact_required(salon=salon, phone=phone, email=email)
    for _attempt in range(2):
        customer = _match(salon, e164, clean_email)
        if customer is not None:
            return _complete(
                customer,
                name=name,
                phone=e164,
                email=clean_email,
                consents=consents,
                channel=consent_channel,
                source=consent_source,
                actor=actor,
            )
        try:
            with transaction.atomic():
                return customer_create(
                    salon=salon,
                    name=name,
                    phone=e164,
                    email=clean_email,
                    language=language,
                    consents=consents,
                    consent_channel=consent_channel,
                    consent_source=consent_source,
                    actor=actor,
                    matched_none=True,
                )
        except (IntegrityError, ValidationError):
            continue  # someone created them meanwhile: match again
    raise ValidationError({"phone": [_("This client could not be recorded; please retry.")]})


def customer_for_online_booking(
    *,
    salon: Salon,
    name: str,
    phone: str | None = None,
    email: str | None = None,
    language: str | None = None,
    consents: dict[str, bool] | None = None,
    proven: Customer | None = None,
) -> Customer:
    """The record an online booking is made for, by someone who may be anybody.

    Knowing a phone number or an e-mail address proves nothing. A booker who proved who
    they are (`proven`, from a one-time code sent to the contact on file) books as that
    client. Otherwise, contact details nobody in the salon has make a new client, as
    before; details that are a client's make a record of the booking's own, marked as a
    possible duplicate of that client for staff: it gets none of the client's privileges
    (trusted status, credit, history, preferences), adds nothing to the client's record,
    and its no-shows are its own. What protects the salon still applies: a blocked
    client's contact details stay blocked (charging more or refusing is safe, granting
    is not), and the deposit rules count the no-shows of every record with those details.
    """
    e164, clean_email = _contact_required(salon=salon, phone=phone, email=email)
    if proven is not None:
        return _complete(
            proven,
            name=name,
            phone=e164,
            email=clean_email,
            consents=consents,
            channel=ConsentChannel.WEB,
            source=ConsentSource.ONLINE,
            actor=None,
        )
    for _attempt in range(2):
        matched = _matches(salon, e164, clean_email)
        try:
            with transaction.atomic():
                return customer_create(
                    salon=salon,
                    name=name,
                    phone=e164,
                    email=clean_email,
                    language=language,
                    consents=consents,
                    consent_channel=ConsentChannel.WEB,
                    consent_source=ConsentSource.ONLINE,
                    matched_none=True,
                    duplicate_of=matched[0] if matched else None,
                    blocked=any(customer.blocked for customer in matched),
                )
        except (IntegrityError, ValidationError):
            continue  # someone took these details meanwhile: match again
    raise ValidationError({"phone": [_("This client could not be recorded; please retry.")]})


def _matches(salon: Salon, phone: str | None, email: str | None) -> list[Customer]:
    """The salon's own clients (not unproven records) with this phone, then this e-mail."""
    customers = Customer.objects.filter(erased_at__isnull=True, duplicate_of=None)
    found: list[Customer] = []
    if phone:
        found.extend(customers.filter(phone=phone))
    if email:
        found.extend(c for c in customers.filter(email=email) if c not in found)
    return found


def _match(salon: Salon, phone: str | None, email: str | None) -> Customer | None:
    matched = _matches(salon, phone, email)
    return matched[0] if matched else None


def _complete(
    customer: Customer,
    *,
    name: str,
    phone: str | None,
    email: str | None,
    consents: dict[str, bool] | None,
    channel: str,
    source: str,
    actor: Actor,
) -> Customer:
    changed = False
    others = Customer.objects.filter(duplicate_of=None)
    others = others.exclude(pk=customer.pk)
    if phone and not customer.phone and not others.filter(phone=phone).exists():
        customer.phone, changed = phone, True
    # A new e-mail from someone who is known (staff know the person; a client proved who
    # she is) is her e-mail now, unless it is another client's.
    if email and email != customer.email and not others.filter(email=email).exists():
        customer.email, changed = email, True
    if name.strip() and not customer.name:
        customer.name, changed = name.strip(), True
    customer.last_seen_at = timezone.now()
    if changed:
        _refresh_search_text(customer)
    with transaction.atomic():
        customer.save()
        for purpose, granted in (consents or {}).items():
            # Online forms offer consent as an unticked box: an unticked box withdraws
            # nothing the person granted before.
            if granted:
                consent_record(
                    customer=customer,
                    purpose=purpose,
                    granted=True,
                    channel=channel,
                    source=source,
                    actor=actor,
                )
    return customer


def customer_touch(*, customer: Customer, at: dt.datetime | None = None) -> None:
    """Mark activity (a booking, a visit): retention counts from the latest.

    Retention counts in years: a customer seen within the last hour needs no write.
    """
    at = at or timezone.now()
    if customer.last_seen_at and abs(at - customer.last_seen_at) < dt.timedelta(hours=1):
        return
    Customer.objects.filter(pk=customer.pk).update(last_seen_at=at)
    customer.last_seen_at = at


def customer_erase(*, customer: Customer, actor: Actor = None) -> Customer:
    """Anonymise the person (GDPR erasure) and every personal field registered about them.

    Bookings and payments stay, without identity, for accounting; consents stay as the
    proof of what was agreed, tied to nobody. Erasing twice changes nothing more.
    """
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if locked.erased:
            return locked
        for entry in personal_data_registry():
            rows = entry.model._default_manager.filter(**{entry.customer_lookup: customer.pk})
            if entry.erase:
                rows.update(**entry.erase)
            if entry.erase_also is not None:
                entry.erase_also(customer.salon_id, customer.pk)
        CustomerTag.objects.filter(customer=customer).delete()
        Customer.objects.filter(pk=customer.pk).update(erased_at=timezone.now(), search_text="")
        _admin_history_erase(customer)
        locked.refresh_from_db()
    return locked


def _admin_history_erase(customer: Customer) -> None:
    """The admin's history ("Recent actions", an object's history) names each object as it
    was when changed, and says what changed: for the person's rows, both are rewritten
    from the erased rows. Who did what, and when, stays."""
    for entry in personal_data_registry():
        rows = entry.model._default_manager.filter(**{entry.customer_lookup: customer.pk})
        names = {str(row.pk): str(row)[:200] for row in rows}
        if not names:
            continue
        history = LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(entry.model),
            object_id__in=list(names),
        )
        for log_entry in history.only("pk", "object_id"):
            LogEntry.objects.filter(pk=log_entry.pk).update(
                object_repr=names[str(log_entry.object_id)], change_message=""
            )


def retention_cutoff(now: dt.datetime) -> dt.datetime:
    years = settings.CUSTOMER_RETENTION_YEARS
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February in a year that has none
        return now.replace(year=now.year - years, day=28)


def customers_anonymise_inactive(*, salon: Salon, now: dt.datetime | None = None) -> int:
    """Erase the salon's customers with no activity for the retention period."""
    cutoff = retention_cutoff(now or timezone.now())
    stale = list(
        Customer.objects.filter(erased_at__isnull=True, last_seen_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
    for pk in stale:
        customer_erase(customer=Customer.objects.get(pk=pk))
    return len(stale)


def consent_withdraw_by_link(*, customer: Customer, purpose: str) -> bool:
    """One click from a message withdraws the consent. True when something changed."""
    was = consent_current(customer=customer).get(purpose, False)
    consent_record(
        customer=customer,
        purpose=purpose,
        granted=False,
        channel=ConsentChannel.EMAIL,
        source=ConsentSource.ONLINE,
    )
    return was


def customer_merge(
    *, source: Customer, into: Customer, actor: Actor = None, fill_contact: bool = True
) -> Customer:
    """Make `source` and `into` one client: everything held about `source` (bookings,
    payments through them, credit, consents, messages, requests, tags, the admin's history
    of the record) moves to `into`, and `source` is deleted.

    For staff, who know the person (and for a client who proved the contact `into` has):
    `into` keeps its own details and flags; with `fill_contact`, a phone or e-mail it
    lacks is taken from `source`, and one it cannot take (it has its own, or another
    client has it) is written in its notes, so no way to reach the person is lost; a
    block on either stays. Possible duplicates of `source` become possible duplicates of
    `into`. Two salons' clients are never merged (the rows move within the salon's scope,
    which the database's row-level security holds too). Staff's merges are written in the
    kept record's admin history, with what moved.
    """
    if source.pk == into.pk or source.salon_id != into.salon_id:
        raise ValidationError({"into": [_("Choose another client of this salon.")]})
    if into.duplicate_of_id is not None:
        raise ValidationError(
            {"into": [_("Merge into the client's own record, not a possible duplicate.")]}
        )
    if source.erased or into.erased:
        raise ValidationError({"into": [_("This client's data was erased.")]})
    salon_id = into.salon_id
    customers = Customer.objects.all()
    with transaction.atomic():
        # One fixed order, whichever way round the two are merged.
        locked = {
            c.pk: c
            for c in customers.select_for_update()
            .filter(pk__in=[source.pk, into.pk])
            .order_by("pk")
        }
        if len(locked) != 2:  # the other salon's record is out of this scope
            raise ValidationError({"into": [_("Choose another client of this salon.")]})
        source, into = locked[source.pk], locked[into.pk]
        moved = _move_everything(salon_id, source, into)
        phone, email = source.phone, source.email
        source_label, source_pk = str(source), source.pk
        into.blocked = into.blocked or source.blocked
        into.notes = "\n".join(n for n in (into.notes, source.notes) if n.strip())
        into.preferences = {**source.preferences, **into.preferences}
        into.last_seen_at = max(into.last_seen_at, source.last_seen_at)
        if not into.name:
            into.name = source.name
        source.delete()
        if fill_contact:
            free = customers.filter(duplicate_of=None).exclude(pk=into.pk)
            if phone and not into.phone and not free.filter(phone=phone).exists():
                into.phone = phone
            if email and not into.email and not free.filter(email=email).exists():
                into.email = email
            also = [
                str(value)
                for value in (phone, email)
                if value and str(value) not in (str(into.phone or ""), into.email or "")
            ]
            if also:
                line = _("Also reached at (merged record #%(id)s): %(contacts)s") % {
                    "id": source_pk,
                    "contacts": ", ".join(also),
                }
                into.notes = "\n".join(n for n in (into.notes, line) if n.strip())
        _refresh_search_text(into)
        into.save()
        _merge_audit(actor, source_pk, source_label, into, moved)
    return into


def _merge_audit(
    actor: Actor, source_pk: int, source_label: str, into: Customer, moved: dict[str, int]
) -> None:
    """The merge in the kept record's admin history (which erasure rewrites with the
    rest of the person's), and the merged record's history joined to it."""
    content_type = ContentType.objects.get_for_model(Customer)
    LogEntry.objects.filter(content_type=content_type, object_id=str(source_pk)).update(
        object_id=str(into.pk)
    )
    if actor is None or not actor.is_authenticated:
        return  # the client's own proof merged them; nobody of the staff to name
    what = ", ".join(f"{name}: {count}" for name, count in sorted(moved.items()) if count)
    LogEntry.objects.create(
        user_id=actor.pk,
        content_type=content_type,
        object_id=str(into.pk),
        object_repr=str(into)[:200],
        action_flag=CHANGE,
        change_message=_("Merged client #%(id)s (%(name)s) into this one. Moved: %(what)s.")
        % {"id": source_pk, "name": source_label, "what": what or _("nothing")},
    )


def _move_everything(salon_id: int, source: Customer, into: Customer) -> dict[str, int]:
    """Every row about `source` given to `into`; how many moved, by kind of row."""
    moved: dict[str, int] = {}
    have = set(CustomerTag.objects.filter(customer=into).values_list("tag_id", flat=True))
    tags = CustomerTag.objects.filter(customer=source)
    tags.filter(tag_id__in=have).delete()
    moved[str(CustomerTag._meta.verbose_name_plural)] = tags.update(customer=into)
    Customer.objects.filter(duplicate_of=source).exclude(pk=into.pk).update(duplicate_of=into)
    for model in apps.get_models():
        if model in (Customer, CustomerTag):
            continue
        for field in model._meta.fields:
            if getattr(field, "related_model", None) is Customer:
                count = model._default_manager.filter(**{field.name: source}).update(
                    **{field.name: into}
                )
                name = str(model._meta.verbose_name_plural)
                moved[name] = moved.get(name, 0) + count
    return moved
