"""The availability engine against a brute-force oracle, and across DST changes."""

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bookings.availability import (
    ServiceShape,
    StaffWeek,
    WeeklyRange,
    availability,
    staff_slots,
    subtract,
)

UTC = ZoneInfo("UTC")
DAY = dt.date(2027, 6, 7)  # a Monday
MIDNIGHT = dt.datetime.combine(DAY, dt.time(), tzinfo=dt.UTC)
FAR_PAST = MIDNIGHT - dt.timedelta(days=10)
FAR_FUTURE = MIDNIGHT + dt.timedelta(days=10)


def at(minute: int) -> dt.datetime:
    return MIDNIGHT + dt.timedelta(minutes=minute)


def minute_of(moment: dt.datetime) -> int:
    return int((moment - MIDNIGHT).total_seconds() // 60)


five = st.integers(min_value=0, max_value=287).map(lambda m: m * 5)  # a time of the day
ranges_st = st.lists(st.tuples(five, five).filter(lambda r: r[0] < r[1]), min_size=0, max_size=4)
busy_st = st.lists(
    st.tuples(st.integers(-120, 1500), st.integers(5, 300)).map(lambda b: (b[0], b[0] + b[1])),
    max_size=8,
)
shape_st = st.tuples(
    st.sampled_from([15, 30, 45, 60, 90, 5]),
    st.sampled_from([0, 0, 5, 10, 15]),
    st.sampled_from([0, 0, 5, 10, 15, 30]),
)


def oracle(ranges, busy, shape, step, earliest, latest) -> list[int]:
    """Minute by minute: free minutes, and every step from the start of each working run."""
    working = set()
    for start, end in ranges:
        working |= set(range(start, end))
    free = working - {m for b_start, b_end in busy for m in range(b_start, b_end)}
    runs = sorted(m for m in working if m - 1 not in working)
    duration, before, after = shape
    offered = []
    for run_start in runs:
        run_end = run_start
        while run_end in working:
            run_end += 1
        t = run_start
        while t + duration + after <= run_end:
            need = range(t - before, t + duration + after)
            if t - before >= run_start and earliest <= t <= latest and all(m in free for m in need):
                offered.append(t)
            t += step
    return sorted(offered)


@settings(max_examples=400, deadline=None)
@given(
    ranges=ranges_st,
    busy=busy_st,
    shape=shape_st,
    step=st.sampled_from([5, 10, 15, 20, 30]),
    earliest=st.integers(-60, 1500),
    horizon=st.integers(0, 1500),
)
def test_engine_matches_the_oracle(ranges, busy, shape, step, earliest, horizon):
    week = StaffWeek(
        1,
        [WeeklyRange(DAY.weekday(), dt.time(s // 60, s % 60), _time(e)) for s, e in ranges],
        [(at(s), at(e)) for s, e in busy],
    )
    latest = earliest + horizon
    got = staff_slots(
        week,
        ServiceShape(*(dt.timedelta(minutes=m) for m in shape)),
        first=DAY,
        last=DAY,
        tz=UTC,
        step=dt.timedelta(minutes=step),
        earliest=at(earliest),
        latest=at(latest),
    )
    expected = oracle([(s, e) for s, e in ranges], busy, shape, step, earliest, latest)
    assert [minute_of(t) for t in got] == expected


@settings(max_examples=300, deadline=None)
@given(
    team=st.lists(
        st.tuples(ranges_st, busy_st, st.lists(st.booleans(), min_size=8, max_size=8)),
        min_size=1,
        max_size=4,
    ),
    # Minutes after midnight, or None: the epoch (busy time as epoch seconds).
    bases=st.lists(st.sampled_from([None, 0, -7, 1, 576_000]), min_size=4, max_size=4),
    shape=shape_st,
    step=st.sampled_from([5, 15, 30]),
    earliest=st.integers(-60, 1500),
    horizon=st.integers(0, 1500),
)
def test_a_team_with_busy_time_as_columns_after_any_base_matches_the_oracle(
    team, bases, shape, step, earliest, horizon
):
    """Each staff member's busy time split between pairs and columns of seconds after a
    base of its own (the epoch, just before or after the day, a year later): the same
    starts, each with everyone free for it."""
    weeks, expected = [], {}
    for staff_id, ((ranges, busy, as_column), base) in enumerate(
        zip(team, bases, strict=False), start=1
    ):
        origin = 0 if base is None else int(MIDNIGHT.timestamp()) + base * 60
        split = list(zip(busy, as_column[: len(busy)], strict=True))
        pairs = [(at(s), at(e)) for (s, e), column in split if not column]
        columned = [(s, e) for (s, e), column in split if column]
        weeks.append(
            StaffWeek(
                staff_id,
                [WeeklyRange(DAY.weekday(), dt.time(s // 60, s % 60), _time(e)) for s, e in ranges],
                pairs,
                (
                    [int(MIDNIGHT.timestamp()) + s * 60 - origin for s, _e in columned],
                    [int(MIDNIGHT.timestamp()) + e * 60 - origin for _s, e in columned],
                ),
                origin,
            )
        )
        for t in oracle(ranges, busy, shape, step, earliest, earliest + horizon):
            expected.setdefault(t, []).append(staff_id)
    slots = availability(
        reversed(weeks),
        ServiceShape(*(dt.timedelta(minutes=m) for m in shape)),
        first=DAY,
        last=DAY,
        tz=UTC,
        step=dt.timedelta(minutes=step),
        earliest=at(earliest),
        latest=at(earliest + horizon),
    )
    assert [(minute_of(s.start), list(s.staff_ids)) for s in slots] == sorted(expected.items())
    assert all(s.end - s.start == dt.timedelta(minutes=shape[0]) for s in slots)


def _time(minute: int) -> dt.time:
    return dt.time.max if minute >= 1440 else dt.time(minute // 60, minute % 60)


@settings(max_examples=200, deadline=None)
@given(
    intervals=st.lists(st.tuples(st.integers(0, 1000), st.integers(1, 200)), max_size=6),
    busy=busy_st,
)
def test_subtract_matches_set_difference(intervals, busy):
    minutes = set()
    for start, length in intervals:
        minutes |= set(range(start, start + length))
    runs = []
    for m in sorted(minutes):
        if runs and runs[-1][1] == m:
            runs[-1][1] = m + 1
        else:
            runs.append([m, m + 1])
    left = subtract([(at(s), at(e)) for s, e in runs], [(at(s), at(e)) for s, e in busy])
    got = {m for s, e in left for m in range(minute_of(s), minute_of(e))}
    assert got == minutes - {m for s, e in busy for m in range(s, e)}
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(left))


def test_no_offered_slot_overlaps_busy_time_or_leaves_hours():
    week = StaffWeek(
        1,
        [WeeklyRange(0, dt.time(9), dt.time(12)), WeeklyRange(0, dt.time(14), dt.time(18))],
        [(at(10 * 60), at(10 * 60 + 30))],
    )
    shape = ServiceShape(
        dt.timedelta(minutes=45), dt.timedelta(minutes=5), dt.timedelta(minutes=10)
    )
    got = staff_slots(
        week,
        shape,
        first=DAY,
        last=DAY,
        tz=UTC,
        step=dt.timedelta(minutes=15),
        earliest=FAR_PAST,
        latest=FAR_FUTURE,
    )
    assert [t.strftime("%H:%M") for t in got] == [
        "10:45",
        "11:00",
        "14:15",
        "14:30",
        "14:45",
        "15:00",
        "15:15",
        "15:30",
        "15:45",
        "16:00",
        "16:15",
        "16:30",
        "16:45",
        "17:00",
    ]


def test_any_staff_lists_each_start_once_with_everyone_free():
    hours = [WeeklyRange(0, dt.time(9), dt.time(11))]
    alice = StaffWeek(1, hours, [(at(9 * 60), at(10 * 60))])
    bob = StaffWeek(2, hours)
    slots = availability(
        [alice, bob],
        ServiceShape(dt.timedelta(minutes=60)),
        first=DAY,
        last=DAY,
        tz=UTC,
        step=dt.timedelta(minutes=30),
        earliest=FAR_PAST,
        latest=FAR_FUTURE,
    )
    assert [(s.start.strftime("%H:%M"), s.staff_ids) for s in slots] == [
        ("09:00", (2,)),
        ("09:30", (2,)),
        ("10:00", (1, 2)),
    ]


# DST ---------------------------------------------------------------------------------

HOUR = ServiceShape(dt.timedelta(hours=1))


def _local_starts(tz_name: str, day: dt.date, start: dt.time, end: dt.time) -> list[str]:
    tz = ZoneInfo(tz_name)
    week = StaffWeek(1, [WeeklyRange(day.weekday(), start, end)])
    got = staff_slots(
        week,
        HOUR,
        first=day,
        last=day,
        tz=tz,
        step=dt.timedelta(hours=1),
        earliest=FAR_PAST - dt.timedelta(days=400),
        latest=FAR_FUTURE + dt.timedelta(days=400),
    )
    return [t.astimezone(tz).isoformat() for t in got]


def test_paris_spring_forward_keeps_opening_hours_in_local_time():
    before = _local_starts("Europe/Paris", dt.date(2027, 3, 27), dt.time(9), dt.time(12))
    after = _local_starts("Europe/Paris", dt.date(2027, 3, 28), dt.time(9), dt.time(12))
    assert before == [f"2027-03-27T{h:02}:00:00+01:00" for h in (9, 10, 11)]
    assert after == [f"2027-03-28T{h:02}:00:00+02:00" for h in (9, 10, 11)]


def test_paris_spring_forward_night_has_one_hour_less():
    starts = _local_starts("Europe/Paris", dt.date(2027, 3, 28), dt.time(0), dt.time(5))
    assert starts == [
        "2027-03-28T00:00:00+01:00",
        "2027-03-28T01:00:00+01:00",
        "2027-03-28T03:00:00+02:00",
        "2027-03-28T04:00:00+02:00",
    ]


def test_paris_fall_back_night_has_one_hour_more():
    starts = _local_starts("Europe/Paris", dt.date(2027, 10, 31), dt.time(0), dt.time(5))
    assert starts == [
        "2027-10-31T00:00:00+02:00",
        "2027-10-31T01:00:00+02:00",
        "2027-10-31T02:00:00+02:00",
        "2027-10-31T02:00:00+01:00",
        "2027-10-31T03:00:00+01:00",
        "2027-10-31T04:00:00+01:00",
    ]


def test_toronto_changes_keep_nine_oclock_at_nine():
    spring = _local_starts("America/Toronto", dt.date(2027, 3, 14), dt.time(9), dt.time(10))
    autumn = _local_starts("America/Toronto", dt.date(2027, 11, 7), dt.time(9), dt.time(10))
    before = _local_starts("America/Toronto", dt.date(2027, 3, 13), dt.time(9), dt.time(10))
    assert before == ["2027-03-13T09:00:00-05:00"]
    assert spring == ["2027-03-14T09:00:00-04:00"]
    assert autumn == ["2027-11-07T09:00:00-05:00"]
