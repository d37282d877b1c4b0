"""Personal data kept out of logs: the credentials in links and what people searched for.

A client's links carry their credential in the path (`/manage/<token>/`, `/pay/<token>/`,
`/<salon>/booking/<token>/`, `/<salon>/unsubscribe/<token>/`, the API's
`/api/v1/manage/<token>/`), and query strings carry search terms (a client's name or
phone number typed into the staff search). Both appear in `django.request` warnings
("Not Found: /manage/…/") and in access logs. `mask` rewrites a log line so that neither
is left; the logging filter applies it to every record the product's handlers write, and
the gunicorn logger class to its access log (`--logger-class core.logmask.AccessLogger`).
"""

import logging
import re
from typing import Any

from gunicorn.glogging import Logger

MASK = "…"
# A path segment following one of these is a credential.
_CREDENTIAL = re.compile(r"(/(?:manage|pay|booking|unsubscribe)/)[^/\s?#\"']+")
# Any signed value (Django's signing: payload:timestamp:signature), wherever it appears.
_SIGNED = re.compile(r"[A-Za-z0-9_-]{6,}:[A-Za-z0-9_-]{4,}:[A-Za-z0-9_-]{20,}")
# The query string of a URL or a request line.
_QUERY = re.compile(r"(/[^\s?\"']*)\?[^\s\"']*")


def mask(text: str) -> str:
    """The line without link credentials or query strings."""
    text = _CREDENTIAL.sub(rf"\g<1>{MASK}", text)
    text = _SIGNED.sub(MASK, text)
    return _QUERY.sub(rf"\g<1>?{MASK}", text)


class PersonalDataFilter(logging.Filter):
    """Masks each record's message (see `mask`); drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # a malformed record is logging's own business
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class AccessLogger(Logger):
    """Gunicorn's logger, its access log masked: the request line, the path and the
    referrer go through `mask`, and a query string is shown as `…`."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "f", "{referer}i"):
            if isinstance(atoms.get(key), str):
                atoms[key] = mask(atoms[key])
        if atoms.get("q"):
            atoms["q"] = MASK
        return atoms
