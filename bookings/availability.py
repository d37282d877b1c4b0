"""The availability engine: plain functions over intervals, no database.

Times are aware datetimes; intervals are half-open [start, end). A staff member's free
time is their working ranges (expanded per date in the salon's time zone, so DST changes
are honoured) minus time off minus what active bookings keep busy (buffers included).
A slot at t is offered when [t - buffer_before, t + duration + buffer_after) lies within
that free time, t being the start of a working range or a whole number of steps after it.

Inside, times are epoch seconds, and the time a staff member cannot give (outside the
working ranges, time off, bookings) is kept as two sorted columns, its starts and its
ends: with each start no later than its end, the i-th end and the (i+1)-th start bound a
free gap whenever the end comes first (no interval can cover a point once as many have
ended as have begun). Sorting and pairing the columns are done in C, so a month of 200
staff members costs no Python loop per booking.

Busy time may come as seconds after an epoch second of its own (`StaffWeek.busy_base`),
the one-service engine then working in that frame: a month's times are then a few
million seconds, integers of one machine digit that Python sorts, compares and adds
several times faster than epoch seconds (which need two).
"""

import datetime as dt
from bisect import bisect_right
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain, islice, repeat
from operator import ge
from typing import cast
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
    # More busy time, as two columns of seconds after `busy_base` (starts, ends): how the
    # database reads it, with no pair made per stretch.
    busy_columns: tuple[Sequence[int], Sequence[int]] = ((), ())
    busy_base: int = 0  # epoch seconds; 0: the columns are epoch seconds


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


def opening_hours(ranges: Iterable[WeeklyRange]) -> dict[int, list[tuple[dt.time, dt.time]]]:
    """When the salon is open, weekday by weekday (Monday 0): its staff's working ranges
    merged where they overlap or touch. A weekday nobody works is left out (closed)."""
    by_day: defaultdict[int, list[tuple[dt.time, dt.time]]] = defaultdict(list)
    for r in sorted(ranges, key=lambda r: (r.weekday, r.start)):
        merged = by_day[r.weekday]
        if merged and r.start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], r.end))
        else:
            merged.append((r.start, r.end))
    return dict(sorted(by_day.items()))


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
    ordered = iter(sorted(intervals))
    first = next(ordered, None)
    if first is None:
        return out
    append = out.append
    run_start, run_end = first
    for start, end in ordered:
        if start <= run_end:
            if end > run_end:
                run_end = end
        else:
            append((run_start, run_end))
            run_start, run_end = start, end
    append((run_start, run_end))
    return out


def _subtract(
    intervals: Sequence[tuple[int, int]], busy: Iterable[tuple[int, int]]
) -> list[tuple[int, int]]:
    """`intervals` (sorted, disjoint) minus every busy interval: one pass over both."""
    cuts = _merge(b for b in busy if b[0] < b[1])
    out: list[tuple[int, int]] = []
    append = out.append
    i, n = 0, len(cuts)
    for start, end in intervals:
        cursor = start
        while i < n and cuts[i][1] <= cursor:
            i += 1
        j = i
        while j < n:
            cut_start, cut_end = cuts[j]
            if cut_start >= end:
                break
            if cut_start > cursor:
                append((cursor, cut_start))
            if cut_end > cursor:
                cursor = cut_end
            j += 1
        if cursor < end:
            append((cursor, end))
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


def busy_columns(week: StaffWeek, base: int = 0) -> tuple[Sequence[int], Sequence[int]]:
    """All of a staff member's busy time as (starts, ends) in seconds after `base` (0:
    epoch seconds), each start before its end (an empty or reversed interval keeps
    nothing busy): the week's own columns, not copied, when they are all it has."""
    starts, ends = week.busy_columns
    if week.busy_base != base:
        shift = week.busy_base - base
        starts, ends = [a + shift for a in starts], [b + shift for b in ends]
    busy = week.busy
    if busy:
        starts, ends = list(starts), list(ends)
        if isinstance(busy[0][0], int):
            pairs = cast(Sequence[tuple[int, int]], busy)
        else:
            pairs = [(_ts(a), _ts(b)) for a, b in busy]
        starts += [a - base for a, _b in pairs]
        ends += [b - base for _a, b in pairs]
    if any(map(ge, starts, ends)):
        kept = [(a, b) for a, b in zip(starts, ends, strict=True) if a < b]
        return [a for a, _b in kept], [b for _a, b in kept]
    return starts, ends


def _outside(working: Sequence[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """The time outside the (sorted, disjoint) working ranges as (starts, ends), less the
    stretch before the first range (its start) and the one after the last (its end):
    those two lie before and after everything else, and pair with no end or start of
    another stretch, so that the free gaps are the pairs (i-th end, i-th start) of the
    sorted columns taken with them (see `free_gaps`)."""
    return [end for _start, end in working], [start for start, _end in working]


def free_gaps(
    working: Sequence[tuple[int, int]], starts: Sequence[int], ends: Sequence[int]
) -> list[tuple[int, int]]:
    """The working ranges (sorted, disjoint) minus the busy intervals given as columns
    (each start before its end): the free gaps, sorted, disjoint and never touching.

    With the stretch before the first range (from -infinity) and after the last (to
    +infinity), the sorted starts are [-inf, *S] and the ends [*E, +inf]: the gaps are the
    pairs (E[i], S[i]) whose end comes first."""
    out_starts, out_ends = _outside(working)
    starts, ends = sorted(out_starts + list(starts)), sorted(out_ends + list(ends))
    return [(e, s) for e, s in zip(ends, starts, strict=True) if e < s]


def _origins(working: Sequence[tuple[int, int]], step: int) -> frozenset[int]:
    """The grids the working ranges lie on: their starts modulo the step."""
    return frozenset(start % step for start, _end in working)


def _shifted(working: Sequence[tuple[int, int]], base: int) -> list[tuple[int, int]]:
    """Working ranges in seconds after `base`."""
    return [(start - base, end - base) for start, end in working] if base else list(working)


def _starts(
    week: StaffWeek,
    shape: ServiceShape,
    first: dt.date,
    last: dt.date,
    tz: ZoneInfo,
    step: int,
    earliest: int,
    latest: int,
    working: list[tuple[int, int]] | None = None,
    outside: tuple[list[int], list[int]] | None = None,
    origins: frozenset[int] | None = None,
    base: int = 0,
) -> list[range]:
    """Start times (seconds after `base`, 0: epoch seconds) at which one staff member can
    take the service, as ranges of the grid: one per free gap, never one step at a time.

    A start t is on the grid of its working range (its start, then every step), is
    between `earliest` and `latest`, and needs [t - before, t + duration + after) inside
    one free gap. The bounds become busy time too: t >= earliest is the window never
    reaching back before earliest - before, t <= latest its never reaching past
    latest + duration + after. A window inside a gap keeps its buffer inside the range.
    `working`, `outside` and `origins`, when given: the expanded ranges (after `base`),
    `_outside` of them and `_origins` of them. `earliest` and `latest` are after `base`.

    Two stretches start before everything else (the time before the first working
    range, and before earliest - before) and two end after it (after the last range,
    and after latest + duration + after): left out of the columns, the free gaps are
    the pairs (E[i + 1], S[i]) of the sorted ends E and starts S of the rest (see
    `free_gaps`).
    """
    if working is None:
        working = _shifted(_working(week.ranges, first, last, tz), base)
    if outside is None:
        outside = _outside(working)
    duration = int(shape.duration.total_seconds())
    before, after = int(shape.before.total_seconds()), int(shape.after.total_seconds())
    reach = duration + after
    need = max(before + reach, 1)  # a gap of no length offers nothing
    busy_starts, busy_ends = busy_columns(week, base)
    starts = sorted([*outside[0], latest + reach, *busy_starts])
    ends = sorted([*outside[1], earliest - before, *busy_ends])
    gaps = zip(islice(ends, 1, None), starts, strict=False)
    if origins is None:
        origins = _origins(working, step)
    if len(origins) == 1:  # every range on one grid: t = origin (mod step)
        shift = next(iter(origins)) - before
        return [
            range(e + before + (shift - e) % step, s - reach + 1, step)
            for e, s in gaps
            if s - e >= need
        ]
    # Ranges on different grids (a step that does not divide a DST change, say): each
    # gap takes the grid of the range it lies in.
    range_starts = [start for start, _end in working]
    return [
        range(
            e + before + (range_starts[bisect_right(range_starts, e) - 1] - e - before) % step,
            s - reach + 1,
            step,
        )
        for e, s in gaps
        if s - e >= need
    ]


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
    base = week.busy_base
    starts = _starts(
        week,
        shape,
        first,
        last,
        tz,
        int(step.total_seconds()),
        _ts(earliest) - base,
        _ts(latest) - base,
        base=base,
    )
    return [_moment(t + base) for run in starts for t in run]


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
    # Staff in id order, so that each start's list is built sorted; the working ranges
    # expanded once per distinct week (most of a salon's staff share theirs). Times in
    # the frame of the busy time (seconds after its base; the first staff member's when
    # several are given, which the database gives all the same).
    weeks = sorted(staff, key=lambda week: week.staff_id)
    base = weeks[0].busy_base if weeks else 0
    step_s, earliest_s, latest_s = int(step.total_seconds()), _ts(earliest), _ts(latest)
    earliest_s, latest_s = earliest_s - base, latest_s - base
    expanded: dict[
        tuple[WeeklyRange, ...],
        tuple[list[tuple[int, int]], tuple[list[int], list[int]], frozenset[int]],
    ] = {}
    # The same by the ranges' identity: a catalogue gives staff members of one week one
    # tuple, compared then without hashing each range.
    same: dict[int, tuple[list[tuple[int, int]], tuple[list[int], list[int]], frozenset[int]]]
    same = {}
    free_by_start: defaultdict[int, list[int]] = defaultdict(list)
    at, add = free_by_start.__getitem__, list.append
    for week in weeks:
        found = same.get(id(week.ranges))
        if found is None:
            ranges = tuple(week.ranges)
            found = expanded.get(ranges)
            if found is None:
                working = _shifted(_working(ranges, first, last, tz), base)
                found = expanded[ranges] = (working, _outside(working), _origins(working, step_s))
            same[id(week.ranges)] = found
        working, outside, origins = found
        if not working:  # works none of these dates
            continue
        runs = _starts(
            week,
            shape,
            first,
            last,
            tz,
            step_s,
            earliest_s,
            latest_s,
            working,
            outside,
            origins,
            base,
        )
        # Every start gets the staff member, in C: no Python loop per start.
        deque(map(add, map(at, chain.from_iterable(runs)), repeat(week.staff_id)), maxlen=0)
    duration = shape.duration
    slots = []
    for start in sorted(free_by_start):
        moment = _moment(start + base)
        slots.append(Slot(moment, moment + duration, tuple(free_by_start[start])))
    return slots
