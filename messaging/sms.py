"""Text messages: a small backend interface, like Django's e-mail backends.

`SMS_BACKEND` names the backend: `console` (the default: the message is printed, nothing
is sent), `locmem` (kept in `outbox`, for tests), `twilio` (Twilio's REST API: settings
`TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN`, `TWILIO_FROM`, and `TWILIO_API_BASE` for a
local stand-in), or the dotted path of a class with the same `send` method.
"""

import sys
import uuid
from dataclasses import dataclass
from functools import cache
from typing import Protocol

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string


class SmsError(Exception):
    """The provider did not take the message; `permanent` when trying again is useless."""

    def __init__(self, detail: str, *, permanent: bool = False) -> None:
        super().__init__(detail)
        self.permanent = permanent


class SmsBackend(Protocol):
    def send(self, *, to: str, body: str, sender: str) -> str:
        """Send `body` to the E.164 number `to`; returns the provider's reference."""
        ...


# Typographic characters outside the GSM 03.38 alphabet, with what a phone shows as well:
# one of them is enough to send the whole text as UCS-2, 70 characters a part instead of
# 160 (a French reminder would cost two or three messages instead of one).
GSM_EQUIVALENTS = str.maketrans(
    {
        "\u00a0": " ",  # no-break space (French typography, before : ; ! ?)
        "\u202f": " ",  # narrow no-break space (amounts: 48,00 €)
        "\u2019": "'",
        "\u2018": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
    }
)


def sms_text(body: str) -> str:
    """The text as it travels by SMS: typographic characters replaced by their GSM
    equivalents, so the message stays in the 7-bit alphabet whenever its words allow."""
    return body.translate(GSM_EQUIVALENTS)


def replies_received() -> bool:
    """Whether clients' text replies reach the product: the inbound webhook checks each
    one's signature with the Twilio auth token, and refuses them all without it."""
    return bool(getattr(settings, "TWILIO_AUTH_TOKEN", ""))


def number_mask(number: str) -> str:
    """A phone number as logs may show it: its country code and last two digits."""
    if len(number) <= 6:
        return "•" * len(number)
    return number[:3] + "•" * (len(number) - 5) + number[-2:]


class ConsoleSmsBackend:
    """Prints each message on standard output: the embedded default, nothing leaves.

    The text and the whole number are printed only when `SMS_CONSOLE_SHOW_TEXT` is on (by
    default, in debug: `make run`); otherwise, where standard output is a worker's log,
    the line says a message went out without the client's name, number or link."""

    def send(self, *, to: str, body: str, sender: str) -> str:
        ref = f"console-{uuid.uuid4().hex[:12]}"
        if getattr(settings, "SMS_CONSOLE_SHOW_TEXT", settings.DEBUG):
            sys.stdout.write(f"--- SMS {ref} from {sender} to {to}\n{body}\n---\n")
        else:
            sys.stdout.write(f"--- SMS {ref} to {number_mask(to)} ({len(body)} characters)\n")
        sys.stdout.flush()
        return ref


@dataclass(frozen=True)
class SentSms:
    to: str
    body: str
    sender: str
    ref: str


outbox: list[SentSms] = []


class LocmemSmsBackend:
    """Keeps each message in `messaging.sms.outbox` (tests)."""

    def send(self, *, to: str, body: str, sender: str) -> str:
        ref = f"locmem-{len(outbox) + 1}"
        outbox.append(SentSms(to, body, sender, ref))
        return ref


class TwilioSmsBackend:
    """Twilio's Programmable Messaging REST API."""

    def __init__(self) -> None:
        self.sid = getattr(settings, "TWILIO_ACCOUNT_SID", "")
        self.token = getattr(settings, "TWILIO_AUTH_TOKEN", "")
        self.default_from = getattr(settings, "TWILIO_FROM", "")
        self.base = getattr(settings, "TWILIO_API_BASE", "https://api.twilio.com").rstrip("/")
        if not (self.sid and self.token and self.default_from):
            raise ImproperlyConfigured(
                "SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM."
            )

    def send(self, *, to: str, body: str, sender: str) -> str:
        url = f"{self.base}/2010-04-01/Accounts/{self.sid}/Messages.json"
        try:
            response = requests.post(
                url,
                data={"To": to, "From": self.default_from, "Body": body},
                auth=(self.sid, self.token),
                timeout=10,
            )
        except requests.RequestException as exc:
            raise SmsError(f"Twilio could not be reached: {exc}") from exc
        if response.status_code >= 400:
            # 4xx: the number or the message is refused (trying again will not help),
            # except 429 (too many requests).
            permanent = response.status_code < 500 and response.status_code != 429
            raise SmsError(
                f"Twilio answered {response.status_code}: {response.text[:200]}",
                permanent=permanent,
            )
        return str(response.json().get("sid", ""))


BACKENDS: dict[str, type[SmsBackend]] = {
    "console": ConsoleSmsBackend,
    "locmem": LocmemSmsBackend,
    "twilio": TwilioSmsBackend,
}


@cache
def _backend_class(name: str) -> type[SmsBackend]:
    if name in BACKENDS:
        return BACKENDS[name]
    cls: type[SmsBackend] = import_string(name)
    return cls


def sms_backend() -> SmsBackend:
    return _backend_class(settings.SMS_BACKEND)()
