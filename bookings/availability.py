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


@dataclass(frozen=True)
class WeeklyRange:
    weekday: int  # Monday 0
    start: dt.time
    end: dt.time


@dataclass(frozen=True)
class StaffWeek:
    staff_id: int
    ranges: Sequence[WeeklyRange]
    busy: Sequence[Interval] = field(default_factory=tuple)  # time off and bookings


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


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, with overlapping or touching intervals joined."""
    out: list[Interval] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def working_intervals(
    ranges: Iterable[WeeklyRange], first: dt.date, last: dt.date, tz: ZoneInfo
) -> list[Interval]:
    """Working ranges expanded over the local dates first..last, in UTC, merged."""
    by_weekday: defaultdict[int, list[WeeklyRange]] = defaultdict(list)
    for r in ranges:
        by_weekday[r.weekday].append(r)
    out = []
    day = first
    while day <= last:
        for r in by_weekday.get(day.weekday(), ()):
            start, end = local_moment(day, r.start, tz), local_moment(day, r.end, tz)
            if start < end:
                out.append((start, end))
        day += dt.timedelta(days=1)
    return merge(out)


def subtract(intervals: Sequence[Interval], busy: Iterable[Interval]) -> list[Interval]:
    """`intervals` (sorted, disjoint) minus every busy interval."""
    cuts = merge(b for b in busy if b[0] < b[1])
    out: list[Interval] = []
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
    working = working_intervals(week.ranges, first, last, tz)
    free = subtract(working, week.busy)
    starts: list[dt.datetime] = []
    p = 0  # free pieces are sorted, and so are the times asked of them
    for range_start, range_end in working:
        t = range_start
        while t + shape.duration + shape.after <= range_end:
            need_start, need_end = t - shape.before, t + shape.duration + shape.after
            if need_start >= range_start and earliest <= t <= latest:
                while p < len(free) and free[p][1] <= need_start:
                    p += 1
                if p < len(free) and free[p][0] <= need_start and need_end <= free[p][1]:
                    starts.append(t)
            t += step
    return starts


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
    free_by_start: defaultdict[dt.datetime, list[int]] = defaultdict(list)
    for week in staff:
        for start in staff_slots(week, shape, first=first, last=last, tz=tz, step=step,
                                 earliest=earliest, latest=latest):  # fmt: skip
            free_by_start[start].append(week.staff_id)
    return [
        Slot(start, start + shape.duration, tuple(sorted(ids)))
        for start, ids in sorted(free_by_start.items())
    ]
