"""Who hears of what happens to bookings.

The apps on the right (messaging keeps the client informed) react to booking events without
bookings importing them (DESIGN.md, "Layout"): they register a listener when they load,
and each listener is called with the salon's id once the transaction that recorded events
commits. The events themselves are rows (`BookingEvent`), written in that transaction, so
a listener that fails or is never called (the broker down) loses nothing: the rows are
still there for the next sweep.
"""

import datetime as dt
from collections.abc import Callable
from functools import partial, update_wrapper

from django.db import transaction

Listener = Callable[[int], None]
# (salon id, staff ids (empty: every staff member), start, end, cause): a time became free
# without a booking event (time off removed), called inside the transaction that freed it.
TimeListener = Callable[[int, list[int], dt.datetime, dt.datetime, str], None]

_listeners: list[Listener] = []
_time_listeners: list[TimeListener] = []


def event_listener_add(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def events_recorded(salon_id: int) -> None:
    """Call the listeners after the current transaction commits (at once outside one)."""
    for listener in _listeners:
        # When a robust hook fails, Django logs it by its __qualname__, which a bare
        # partial lacks: the log call itself would raise, and the request that committed
        # the booking would answer 500 (the broker down, for instance).
        hook = update_wrapper(partial(listener, salon_id), listener)
        transaction.on_commit(hook, robust=True)


def time_freed_listener_add(listener: TimeListener) -> None:
    if listener not in _time_listeners:
        _time_listeners.append(listener)


def time_freed(
    salon_id: int, staff_ids: list[int], start: dt.datetime, end: dt.datetime, cause: str
) -> None:
    """A time became free that no booking event says (time off removed): the listeners
    record it in the same transaction, so it is never lost nor recorded twice."""
    for listener in _time_listeners:
        listener(salon_id, staff_ids, start, end, cause)
