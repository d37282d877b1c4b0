"""The pages' and the desk's one place for what a service refused (core/errors.py).

- a refusal by field (`Invalid`, or a model's or form's `ValidationError`, nested like the
  request: `{"customer": {"phone": [...]}}`) goes on the form, each message on the
  deepest field the form has, else on the form as a whole (`form_errors`);
- a client page shows a slot taken or the payment provider down as its problem
  (`public/_problem.html`), with the API's status for it (`page_problem`);
- the desk says everything on its form: a slot taken on the time's field (`desk_problem`);
- a page that redirects says it in a message (`error_text`).
"""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.errors import ApplicationError, Invalid, ProviderUnavailable, SlotTaken

# The client pages' problems (`public/_problem.html`), with the API's statuses for them.
PAGE_PROBLEMS: list[tuple[type[ApplicationError], str, int]] = [
    (SlotTaken, "slot_taken", 409),
    (ProviderUnavailable, "payment_unavailable", 502),
]


def form_errors(form: forms.Form, error: ValidationError) -> None:
    """A refusal by field, on the form."""
    if isinstance(error, Invalid):
        detail: Any = error.fields
    elif hasattr(error, "error_dict"):
        detail = error.message_dict
    else:
        detail = error.messages
    _add(form, detail, None)


def _add(form: forms.Form, detail: Any, field: str | None) -> None:
    if isinstance(detail, dict):
        for key, value in detail.items():
            _add(form, value, key if key in form.fields else field)
    elif isinstance(detail, list | tuple):
        for message in detail:
            _add(form, message, field)
    else:
        form.add_error(field, str(detail))


def page_problem(form: forms.Form, error: ValidationError | ApplicationError) -> tuple[str, int]:
    """A client page's answer to a refusal: (its problem, the status). A refusal by field
    is on the form (no problem, 400)."""
    if isinstance(error, ValidationError):
        form_errors(form, error)
        return "", 400
    for cls, problem, status in PAGE_PROBLEMS:
        if isinstance(error, cls):
            return problem, status
    form.add_error(None, error_text(error))
    return "", 400


def desk_problem(form: forms.Form, error: ValidationError | ApplicationError, *, slot: str) -> None:
    """The desk's answer to a refusal, on its form: a slot taken on the `slot` field."""
    if isinstance(error, ValidationError):
        form_errors(form, error)
    elif isinstance(error, SlotTaken):
        form.add_error(slot, _("This time was just taken, or is no longer free: choose another."))
    else:
        form.add_error(None, error_text(error))


def error_text(error: ValidationError | ApplicationError) -> str:
    """A refusal in a sentence, for a message on the next page."""
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    if isinstance(error, ProviderUnavailable):
        return _("The payment provider could not be reached. Nothing was kept; please retry.")
    return error.detail
