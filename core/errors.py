"""The domain's errors: what a service says when it will not do what it was asked.

Services raise these (or Django's `ValidationError`, which a model's or a form's own
checks raise) and know nothing of HTTP. Each door turns them into its own answer in one
place: the API into API.md's error shape (`web/errors.py`), the pages and the desk into
form errors or a message (`web/problems.py`). A code is API.md's machine code.
"""

from typing import Any

from django.core.exceptions import ValidationError


class ApplicationError(Exception):
    """A request the domain refuses; `code` says why, `detail` says it to a person."""

    code = "error"
    default_message = "The request could not be carried out."

    def __init__(self, detail: str | None = None) -> None:
        self.detail = str(detail or self.default_message)
        super().__init__(self.detail)


class SlotTaken(ApplicationError):
    """The time is not offered, or someone took it a moment ago."""

    code = "slot_unavailable"
    default_message = "This time is no longer available. Please choose another slot."


class OfferExpired(ApplicationError):
    """A waitlist offer past its time: it went to the next client."""

    code = "offer_expired"
    default_message = "This offer has expired; you keep your place on the waitlist."


class ProviderUnavailable(ApplicationError):
    """The payment provider failed or did not answer: nothing was kept."""

    code = "payment_provider_error"
    default_message = "The payment provider could not be reached. Nothing was kept; please retry."


class NotAllowed(ApplicationError):
    """The person asking may not do this."""

    code = "not_allowed"
    default_message = "You are not allowed to do this."


class Conflict(ApplicationError):
    """The request does not fit the state the object is in (done already, nothing to do,
    a fee on a booking that was kept)."""

    code = "conflict"
    default_message = "This cannot be done in the object's current state."


class NotFound(ApplicationError):
    code = "not_found"
    default_message = "Not found."


class Invalid(ApplicationError, ValidationError):
    """The request is wrong, field by field or as a whole; `fields` is shaped like the
    request (`{"customer": {"phone": ["..."]}}`), nested as deep as the request is.

    It is Django's `ValidationError` too, so model and form checks and the services'
    own read the same way everywhere: there, a nested field's messages are its top
    field's (`message_dict == {"customer": ["..."]}`)."""

    code = "invalid"
    default_message = "The request is invalid."

    def __init__(self, errors: Any = None) -> None:
        self.fields: Any = errors if errors is not None else self.default_message
        ValidationError.__init__(self, _flat(self.fields))
        self.detail = str(next(iter(self.messages), self.default_message))


def _messages(errors: Any) -> list[Any]:
    if isinstance(errors, dict):
        return [m for value in errors.values() for m in _messages(value)]
    if isinstance(errors, list | tuple):
        return [m for value in errors for m in _messages(value)]
    return [errors]


def _flat(errors: Any) -> Any:
    """What Django's `ValidationError` takes: one level of fields at most."""
    if isinstance(errors, dict):
        return {key: _messages(value) for key, value in errors.items()}
    return errors
