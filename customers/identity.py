"""Proving who one is: a one-time code sent to a contact on file, and the proof it earns.

Knowing a phone number or an e-mail address proves nothing (DESIGN.md): whoever types a
client's number gets none of her privileges. Receiving a code sent to that number does
prove it. The code is asked for a salon and a contact; it is sent only when the contact is
one of the salon's clients', and the answer is the same either way, so the request does
not tell who is a client. Verifying it yields a proof: a signed token naming the salon and
the client, valid for a while, that the doors accept (the manage view shows and spends her
credit; an online booking is made as her). Codes are per salon: a proof for one salon
names nobody in another.

Neither the contact nor the code is stored in the clear: the contact as a keyed digest,
the code as a keyed hash. A code lives `CODE_MINUTES`, allows `CODE_ATTEMPTS` tries and is
used once; asking again replaces it.
"""

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from tenants.models import Salon

from .models import Channel, ContactCode, Customer
from .services import contact_normalise

CODE_DIGITS = 6
CODE_MINUTES = 10
CODE_ATTEMPTS = 5
PROOF_SECONDS = 2 * 3600
_PROOF_SALT = "customers.identity.proof"


@dataclass(frozen=True)
class CodeToSend:
    """A code to send now to `customer` by `channel`, its contact on file."""

    customer: Customer
    channel: str
    code: str


@dataclass(frozen=True)
class Contact:
    channel: str  # sms or email
    value: str  # E.164 phone or lower-case e-mail


def contact_read(*, salon: Salon, phone: str | None = None, email: str | None = None) -> Contact:
    """The one contact a request names, normalised; ValidationError by field otherwise."""
    e164, clean_email = contact_normalise(salon=salon, phone=phone, email=email)
    if e164 and clean_email:
        raise ValidationError({"phone": [_("Give a phone number or an e-mail address, not both.")]})
    if e164:
        return Contact(Channel.SMS, e164)
    if clean_email:
        return Contact(Channel.EMAIL, clean_email)
    raise ValidationError({"phone": [_("Give a phone number or an e-mail address.")]})


def _digest(salon_id: int, contact: Contact) -> str:
    return salted_hmac(
        "customers.identity.contact", f"{salon_id}:{contact.value}", algorithm="sha256"
    ).hexdigest()


def _code_hash(code_row_digest: str, code: str) -> str:
    return salted_hmac(
        "customers.identity.code", f"{code_row_digest}:{code}", algorithm="sha256"
    ).hexdigest()


def customer_by_contact(*, salon: Salon, contact: Contact) -> Customer | None:
    """The salon's own client (not an unproven booker's record) with this contact."""
    field = "phone" if contact.channel == Channel.SMS else "email"
    return Customer.objects.filter(
        erased_at__isnull=True, duplicate_of=None, **{field: contact.value}
    ).first()


def contact_code_issue(*, salon: Salon, contact: Contact) -> CodeToSend | None:
    """A new code for `contact`, to be sent to it, when it is one of the salon's clients';
    None otherwise (the caller answers the same). Replaces any code asked before.

    A contact nobody has gets a code recorded all the same, never sent: the same work, so
    neither the answer nor its time tells who is a client. Checking it never proves
    anybody (`contact_code_check` finds no client)."""
    customer = customer_by_contact(salon=salon, contact=contact)
    digest = _digest(salon.pk, contact)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    now = timezone.now()
    codes = ContactCode.objects.all()
    with transaction.atomic():
        codes.filter(contact_digest=digest, used_at=None).update(used_at=now)
        codes.create(
            salon=salon,
            contact_digest=digest,
            code_hash=_code_hash(digest, code),
            expires_at=now + dt.timedelta(minutes=CODE_MINUTES),
        )
    if customer is None:
        return None
    return CodeToSend(customer=customer, channel=contact.channel, code=code)


def contact_code_check(*, salon: Salon, contact: Contact, code: str) -> Customer:
    """The client `contact` belongs to, when `code` is the live code sent to it: the code
    is then used up. A wrong code uses one attempt. ValidationError (on `code`) for a wrong,
    expired, used or exhausted code, and for a contact nobody has, alike."""
    digest = _digest(salon.pk, contact)
    now = timezone.now()
    right = False
    with transaction.atomic():
        row = (
            ContactCode.objects.select_for_update()
            .filter(
                contact_digest=digest, used_at=None, expires_at__gt=now, attempts__lt=CODE_ATTEMPTS
            )
            .first()
        )
        if row is not None:
            right = hmac.compare_digest(row.code_hash, _code_hash(digest, code.strip()))
            row.attempts += 1
            if right:
                row.used_at = now
            row.save(update_fields=["attempts", "used_at"])
    customer = customer_by_contact(salon=salon, contact=contact) if right else None
    if customer is None:
        raise ValidationError(
            {"code": [_("This code is wrong or has expired. Ask for a new one.")]}
        )
    return customer


def proof_issue(*, customer: Customer) -> tuple[str, dt.datetime]:
    """The proof that the bearer is `customer` (a code sent to her contact was entered),
    and until when it holds."""
    token = signing.dumps({"s": customer.salon_id, "c": customer.pk}, salt=_PROOF_SALT)
    return token, timezone.now() + dt.timedelta(seconds=PROOF_SECONDS)


def proof_customer(*, token: str | None, salon_id: int) -> Customer | None:
    """The client a proof names in this salon, or None: no proof, a forged, lapsed or
    other salon's one, or a client since erased or merged away."""
    if not token:
        return None
    try:
        data = signing.loads(token, salt=_PROOF_SALT, max_age=PROOF_SECONDS)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("s") != salon_id:
        return None
    return Customer.objects.filter(
        pk=data.get("c"), erased_at__isnull=True, duplicate_of=None
    ).first()


def proof_holds(*, customer: Customer, proven: Customer | None) -> bool:
    """Whether a proof (of `proven`) lets its bearer act as `customer`."""
    return proven is not None and proven.pk == customer.pk and not customer.unproven


PROOF_HEADER = "X-Client-Proof"


def proof_session_key(salon_id: int) -> str:
    return f"client_proof:{salon_id}"


def proof_from_request(request: HttpRequest, *, salon_id: int) -> Customer | None:
    """The client the request proved to be in this salon: the API's `X-Client-Proof`
    header, or the proof the pages keep in the session."""
    token = request.headers.get(PROOF_HEADER)
    if not token and hasattr(request, "session"):
        token = request.session.get(proof_session_key(salon_id))
    return proof_customer(token=token if isinstance(token, str) else None, salon_id=salon_id)


def contact_codes_purge(*, salon: Salon, now: dt.datetime | None = None) -> int:
    """Delete the salon's codes a day past their expiry (used or not): nothing to keep.
    Returns how many went."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=1)
    deleted, _by_model = ContactCode.objects.filter(expires_at__lt=cutoff).delete()
    return deleted
