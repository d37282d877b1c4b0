"""The availability engine: plain functions over intervals, no database.

Times are aware datetimes; intervals are half-open [start, end). A staff member's free
time is their working ranges (expanded per date in the salon's time zone, so DST changes
are honoured) minus time off minus what active bookings keep busy (buffers included).
A slot at t is offered when [t - buffer_before, t + duration + buffer_after) lies within
that free time, t being the start of a working range or a whole number of steps after it.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

Interval = tuple[dt.datetime, dt.datetime]
# Busy time may also come as epoch seconds, straight from the database.
BusyInterval = Interval | tuple[int, int]


@dataclass(frozen=True)
class WeeklyRange:
    weekday: int  # Monday 0
    start: dt.time
    end: dt.time


@dataclass(frozen=True)
class StaffWeek:
    staff_id: int
    ranges: Sequence[WeeklyRange]
    busy: Sequence[BusyInterval] = field(default_factory=tuple)  # time off and bookings


@dataclass(frozen=True)
class ServiceShape:
    duration: dt.timedelta
    before: dt.timedelta = dt.timedelta()
    after: dt.timedelta = dt.timedelta()


@dataclass(frozen=True)
class Slot:
    start: dt.datetime
    end: dt.datetime
    staff_ids: tuple[int, ...]


def local_moment(day: dt.date, at: dt.time, tz: ZoneInfo) -> dt.datetime:
    """The instant a wall-clock time of a salon-local date names, in UTC.

    A time skipped by a DST change (02:30 on a spring-forward night) is read as if the
    clocks had not moved yet, which lands after the change; a repeated one (autumn) as its
    first occurrence.
    """
    return dt.datetime.combine(day, at, tzinfo=tz).astimezone(dt.UTC)


def _merge(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, with overlapping or touching intervals joined."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _subtract(
    intervals: Sequence[tuple[int, int]], busy: Iterable[tuple[int, int]]
) -> list[tuple[int, int]]:
    cuts = _merge(b for b in busy if b[0] < b[1])
    out: list[tuple[int, int]] = []
    i = 0
    for start, end in intervals:
        cursor = start
        while i < len(cuts) and cuts[i][1] <= cursor:
            i += 1
        j = i
        while j < len(cuts) and cuts[j][0] < end:
            if cuts[j][0] > cursor:
                out.append((cursor, cuts[j][0]))
            cursor = max(cursor, cuts[j][1])
            j += 1
        if cursor < end:
            out.append((cursor, end))
    return out


def _ts(moment: dt.datetime | int) -> int:
    return moment if isinstance(moment, int) else int(moment.timestamp())


def _moment(ts: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.UTC)


def _working(
    ranges: Iterable[WeeklyRange], first: dt.date, last: dt.date, tz: ZoneInfo
) -> list[tuple[int, int]]:
    by_weekday: defaultdict[int, list[WeeklyRange]] = defaultdict(list)
    for r in ranges:
        by_weekday[r.weekday].append(r)
    out = []
    day = first
    while day <= last:
        for r in by_weekday.get(day.weekday(), ()):
            start, end = _ts(local_moment(day, r.start, tz)), _ts(local_moment(day, r.end, tz))
            if start < end:
                out.append((start, end))
        day += dt.timedelta(days=1)
    return _merge(out)


def working_intervals(
    ranges: Iterable[WeeklyRange], first: dt.date, last: dt.date, tz: ZoneInfo
) -> list[Interval]:
    """Working ranges expanded over the local dates first..last, in UTC, merged."""
    return [(_moment(a), _moment(b)) for a, b in _working(ranges, first, last, tz)]


def subtract(intervals: Sequence[Interval], busy: Iterable[Interval]) -> list[Interval]:
    """`intervals` (sorted, disjoint) minus every busy interval."""
    left = _subtract([(_ts(a), _ts(b)) for a, b in intervals], [(_ts(a), _ts(b)) for a, b in busy])
    return [(_moment(a), _moment(b)) for a, b in left]


def _starts(
    week: StaffWeek,
    shape: ServiceShape,
    first: dt.date,
    last: dt.date,
    tz: ZoneInfo,
    step: int,
    earliest: int,
    latest: int,
) -> list[int]:
    """Start times (epoch seconds) at which one staff member can take the service.

    Integer seconds, not datetimes: a month for a whole salon is some ten thousand
    candidate times, and this loop is the hot path of every availability page.
    """
    working = _working(week.ranges, first, last, tz)
    busy = week.busy
    if busy and not isinstance(busy[0][0], int):
        busy = [(_ts(a), _ts(b)) for a, b in busy]
    free = _subtract(working, busy)  # type: ignore[arg-type]
    duration = int(shape.duration.total_seconds())
    before, after = int(shape.before.total_seconds()), int(shape.after.total_seconds())
    starts: list[int] = []
    append = starts.append
    p, n = 0, len(free)  # free pieces are sorted, and so are the times asked of them
    for range_start, range_end in working:
        t = range_start + before  # before that, the buffer would leave the working range
        if t > range_start:  # keep to the grid that starts with the range
            t = range_start + -(-before // step) * step
        t = max(t, range_start + -(-(earliest - range_start) // step) * step)
        last_t = min(range_end - duration - after, latest)
        while t <= last_t:
            need_start, need_end = t - before, t + duration + after
            while p < n and free[p][1] <= need_start:
                p += 1
            if p == n:
                return starts
            if free[p][0] <= need_start:
                if need_end <= free[p][1]:
                    append(t)
                    t += step
                else:
                    t += step  # the piece ends too soon; later times reach the next piece
            else:
                # Jump to the first grid time whose buffer starts inside this piece.
                gap = free[p][0] - need_start
                t += -(-gap // step) * step
    return starts


def staff_slots(
    week: StaffWeek,
    shape: ServiceShape,
    *,
    first: dt.date,
    last: dt.date,
    tz: ZoneInfo,
    step: dt.timedelta,
    earliest: dt.datetime,
    latest: dt.datetime,
) -> list[dt.datetime]:
    """The start times at which one staff member can take the service."""
    starts = _starts(
        week, shape, first, last, tz, int(step.total_seconds()), _ts(earliest), _ts(latest)
    )
    return [_moment(t) for t in starts]


def availability(
    staff: Iterable[StaffWeek],
    shape: ServiceShape,
    *,
    first: dt.date,
    last: dt.date,
    tz: ZoneInfo,
    step: dt.timedelta,
    earliest: dt.datetime,
    latest: dt.datetime,
) -> list[Slot]:
    """Slots for the service, once per start time, with every staff member free for it."""
    free_by_start: defaultdict[int, list[int]] = defaultdict(list)
    step_s, earliest_s, latest_s = int(step.total_seconds()), _ts(earliest), _ts(latest)
    for week in staff:
        for start in _starts(week, shape, first, last, tz, step_s, earliest_s, latest_s):
            free_by_start[start].append(week.staff_id)
    duration = shape.duration
    slots = []
    for start, ids in sorted(free_by_start.items()):
        moment = _moment(start)
        slots.append(Slot(moment, moment + duration, tuple(sorted(ids))))
    return slots
