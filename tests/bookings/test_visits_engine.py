"""The visit engine (bookings/visits.py) against a brute-force oracle, and named salon cases.

The oracle reads the rules of the engine's docstring minute by minute, with no interval
arithmetic: a visit start t is offered when person 0's first item starts on the grid of
a working run of the staff member who does it, within the notice and advance bounds, and
the items, laid out from t (people together, else back to back; each item after the
previous one of the same person by 0, 1, 2... steps up to the salon's `max_gap`, the
first such layout in that order), can be given:
- staff members who offer the service and have every minute of its busy time (the
  service with its buffers, less its processing period) working and free of other
  bookings; one staff member may take several items of the visit whose core times (the
  service less its processing period) do not overlap;
- when the service needs one, a unit of its resource kind free for the whole service;
  one unit may take several items of the visit whose times do not overlap.
"""

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bookings.availability import ServiceShape, StaffWeek, WeeklyRange, availability
from bookings.visits import (
    ItemShape,
    Placement,
    UnitWeek,
    VisitShape,
    VisitSlot,
    visit_availability,
    visit_place,
)

DAY = dt.date(2027, 6, 8)  # a Tuesday, far from any DST change
ZONES = ("UTC", "Europe/Paris", "America/Toronto", "Asia/Kolkata")
SHIFT = 600  # minute m is bit m + SHIFT of a minute mask (busy time may start before 0)


def minutes(first: int, last: int) -> int:
    """The mask of the minutes first..last - 1."""
    return ((1 << (last - first)) - 1) << (first + SHIFT) if last > first else 0


def covers(free: int, first: int, last: int) -> bool:
    need = minutes(first, last)
    return free & need == need


@dataclass(frozen=True)
class Service:
    id: int
    duration: int
    before: int = 0
    after: int = 0
    offset: int = 0
    processing: int = 0
    kind: int | None = None
    staff: frozenset[int] = frozenset()

    def busy(self, start: int) -> int:
        """The staff member's busy minutes: buffers in, processing out."""
        out = minutes(start - self.before, start + self.duration + self.after)
        return out & ~minutes(start + self.offset, start + self.offset + self.processing)

    def core(self, start: int) -> int:
        out = minutes(start, start + self.duration)
        return out & ~minutes(start + self.offset, start + self.offset + self.processing)

    def shape(self) -> ItemShape:
        m = lambda n: dt.timedelta(minutes=n)  # noqa: E731
        return ItemShape(
            service_id=self.id,
            duration=m(self.duration),
            before=m(self.before),
            after=m(self.after),
            processing_offset=m(self.offset),
            processing=m(self.processing),
            resource_kind=self.kind,
            staff_ids=self.staff,
        )


@dataclass
class Unit:
    kind: int
    resource: int
    unit: int
    busy: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class World:
    """A small salon over a day or two, times in minutes from the first local midnight."""

    zone: str
    step: int
    max_gap: int
    earliest: int
    latest: int
    hours: dict[int, list[tuple[int, int]]]  # staff -> working ranges
    busy: dict[int, list[tuple[int, int]]]  # staff -> other bookings, time off
    units: list[Unit]
    people: list[list[Service]]
    days: int = 1

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    @property
    def midnight(self) -> dt.datetime:
        return dt.datetime.combine(DAY, dt.time(), tzinfo=self.tz)

    def at(self, minute: int) -> dt.datetime:
        return (self.midnight + dt.timedelta(minutes=minute)).astimezone(dt.UTC)

    def minute(self, moment: dt.datetime) -> int:
        seconds = (moment - self.midnight).total_seconds()
        assert seconds % 60 == 0
        return int(seconds // 60)

    def items(self) -> list[tuple[int, Service]]:
        return [(p, s) for p, services in enumerate(self.people) for s in services]

    # What the engine reads.

    def staff_weeks(self, as_seconds: bool = False) -> list[StaffWeek]:
        weeks = []
        for staff, ranges in self.hours.items():
            week_ranges = [
                WeeklyRange(
                    (DAY + dt.timedelta(days=a // 1440)).weekday(),
                    dt.time(a % 1440 // 60, a % 60),
                    dt.time(b % 1440 // 60, b % 60),
                )
                for a, b in ranges
            ]
            busy: list = [(self.at(a), self.at(b)) for a, b in self.busy.get(staff, ())]
            if as_seconds:
                busy = [(int(a.timestamp()), int(b.timestamp())) for a, b in busy]
            weeks.append(StaffWeek(staff, week_ranges, busy))
        return weeks

    def unit_weeks(self) -> list[UnitWeek]:
        return [
            UnitWeek(u.kind, u.resource, u.unit, [(self.at(a), self.at(b)) for a, b in u.busy])
            for u in self.units
        ]

    def visit(self) -> VisitShape:
        return VisitShape(
            people=tuple(tuple(s.shape() for s in person) for person in self.people),
            max_gap=dt.timedelta(minutes=self.max_gap),
        )


# The oracle ------------------------------------------------------------------------------


class Oracle:
    def __init__(self, world: World) -> None:
        self.world = world
        self.working = {
            s: _union(minutes(a, b) for a, b in ranges) for s, ranges in world.hours.items()
        }
        self.free = {
            s: self.working[s] & ~_union(minutes(a, b) for a, b in world.busy.get(s, ()))
            for s in world.hours
        }
        self.unit_free = [
            minutes(-SHIFT, 4000) & ~_union(minutes(a, b) for a, b in u.busy) for u in world.units
        ]
        self.items = world.items()
        step, max_gap = world.step, world.max_gap
        self.gaps = [g * step for g in range(max_gap // step + 1)]

    def on_grid(self, staff: int, t: int, before: int) -> bool:
        """t starts the first item on the staff member's grid: in a working run, a whole
        number of steps after its start, the buffer inside it."""
        working = self.working[staff]
        if not covers(working, t, t + 1):
            return False
        run_start = t
        while covers(working, run_start - 1, run_start):
            run_start -= 1
        return (t - run_start) % self.world.step == 0 and t - before >= run_start

    def layouts(self) -> list[tuple[int, ...]]:
        """Item offsets from the visit start, in the order the engine tries them."""
        out = []
        people = self.world.people
        follows = sum(len(p) - 1 for p in people)
        modes = ("together", "back to back") if len(people) > 1 else ("together",)
        for mode in modes:
            for gaps in itertools.product(self.gaps, repeat=follows):
                offsets: list[int] = []
                g = iter(gaps)
                end = 0
                for person in people:
                    o = 0 if mode == "together" else end
                    for k, service in enumerate(person):
                        if k:
                            o = end + next(g)
                        offsets.append(o)
                        end = o + service.duration
                out.append(tuple(offsets))
        return out

    def staff_options(self, t: int, offsets: Sequence[int]) -> list[list[int]]:
        options = []
        for i, ((_p, service), o) in enumerate(zip(self.items, offsets, strict=True)):
            options.append(
                [
                    s
                    for s in sorted(service.staff & self.free.keys())
                    if self.free[s] & service.busy(t + o) == service.busy(t + o)
                    and (i or self.on_grid(s, t, service.before))
                ]
            )
        return options

    def unit_options(self, t: int, offsets: Sequence[int]) -> list[list[int]]:
        options = []
        for (_p, service), o in zip(self.items, offsets, strict=True):
            if service.kind is None:
                options.append([-1])
                continue
            options.append(
                [
                    u
                    for u, unit in enumerate(self.world.units)
                    if unit.kind == service.kind
                    and covers(self.unit_free[u], t + o, t + o + service.duration)
                ]
            )
        return options

    def staff_fits(self, t: int, offsets: Sequence[int], chosen: Sequence[int]) -> bool:
        """Items given one staff member do not overlap in their core times."""
        taken: dict[int, int] = {}
        for (_p, service), o, s in zip(self.items, offsets, chosen, strict=False):
            core = service.core(t + o)
            if taken.get(s, 0) & core:
                return False
            taken[s] = taken.get(s, 0) | core
        return True

    def units_fit(self, t: int, offsets: Sequence[int], chosen: Sequence[int]) -> bool:
        taken: dict[int, int] = {}
        for (_p, service), o, u in zip(self.items, offsets, chosen, strict=False):
            if u < 0:
                continue
            use = minutes(t + o, t + o + service.duration)
            if taken.get(u, 0) & use:
                return False
            taken[u] = taken.get(u, 0) | use
        return True

    def assign(self, options, fits, prefix: Sequence[int] = ()) -> list[int] | None:
        """A full choice extending `prefix`, by depth-first search, or None."""
        chosen = list(prefix)

        def go(i: int) -> bool:
            if i == len(options):
                return True
            for x in options[i]:
                chosen.append(x)
                if fits(chosen) and go(i + 1):
                    return True
                chosen.pop()
            return False

        if not fits(chosen) or any(x not in options[i] for i, x in enumerate(chosen)):
            return None
        return chosen if go(len(chosen)) else None

    def first_layout(self, t: int) -> tuple[tuple[int, ...], list[list[int]]] | None:
        """The layout the visit takes at t and its staff options, or None: not feasible.
        The notice and advance bounds are left to the caller."""
        for offsets in self.layouts():
            staff = self.staff_options(t, offsets)
            units = self.unit_options(t, offsets)
            staff_fits = lambda c, offsets=offsets: self.staff_fits(t, offsets, c)  # noqa: E731
            units_fit = lambda c, offsets=offsets: self.units_fit(t, offsets, c)  # noqa: E731
            if (
                self.assign(staff, staff_fits) is not None
                and self.assign(units, units_fit) is not None
            ):
                return offsets, staff
        return None

    def usable(self, t: int, offsets, staff: list[list[int]]) -> list[list[int]]:
        """Per item, the staff members who do it in some full assignment."""
        fits = lambda c: self.staff_fits(t, offsets, c)  # noqa: E731
        out = []
        for i, options in enumerate(staff):
            free = []
            for s in options:
                trial = [*staff[:i], [s], *staff[i + 1 :]]
                if self.assign(trial, fits) is not None:
                    free.append(s)
            out.append(free)
        return out


def _union(masks) -> int:
    out = 0
    for m in masks:
        out |= m
    return out


# Checks ----------------------------------------------------------------------------------


def candidates(world: World) -> list[int]:
    """Every minute a visit could start at: a working minute of any staff member."""
    out: set[int] = set()
    for ranges in world.hours.values():
        for a, b in ranges:
            out.update(range(a, b))
    return sorted(out)


def engine_slots(world: World, *, as_seconds: bool = False) -> list[VisitSlot]:
    return visit_availability(
        world.staff_weeks(as_seconds),
        world.unit_weeks(),
        world.visit(),
        first=DAY,
        last=DAY + dt.timedelta(days=world.days - 1),
        tz=world.tz,
        step=dt.timedelta(minutes=world.step),
        earliest=world.at(world.earliest),
        latest=world.at(world.latest),
    )


def engine_place(world: World, t: int, prefer=lambda s: s) -> list[Placement] | None:
    return visit_place(
        world.staff_weeks(),
        world.unit_weeks(),
        world.visit(),
        world.at(t),
        tz=world.tz,
        step=dt.timedelta(minutes=world.step),
        prefer=prefer,
    )


def check_placement(world: World, t: int, placements: list[Placement]) -> None:
    """The placement itself, read directly: nobody double booked, nothing outside hours."""
    oracle = Oracle(world)
    items = world.items()
    assert len(placements) == len(items)
    staff_core: dict[int, int] = {}
    unit_use: dict[tuple[int, int], int] = {}
    for k, ((person, service), placed) in enumerate(zip(items, placements, strict=True)):
        start = world.minute(placed.start)
        assert (placed.service_id, placed.person) == (service.id, person)
        assert world.minute(placed.end) == start + service.duration
        assert placed.staff_id in service.staff
        # The busy time written for the staff member is the service with its buffers,
        # without its processing period; all of it working time free of other bookings.
        busy = _union(minutes(world.minute(a), world.minute(b)) for a, b in placed.staff_busy)
        assert busy == service.busy(start)
        assert oracle.free[placed.staff_id] & busy == busy
        if k == 0:
            assert start == t
            assert oracle.on_grid(placed.staff_id, t, service.before)
        core = service.core(start)
        assert not staff_core.get(placed.staff_id, 0) & core, "a staff member twice at once"
        staff_core[placed.staff_id] = staff_core.get(placed.staff_id, 0) | core
        if service.kind is None:
            assert placed.resource is None and placed.resource_busy is None
            continue
        assert placed.resource is not None and placed.resource_busy is not None
        (unit,) = [u for u in world.units if (u.resource, u.unit) == placed.resource]
        assert unit.kind == service.kind
        a, b = (world.minute(x) for x in placed.resource_busy)
        assert (a, b) == (start, start + service.duration)
        use = minutes(a, b)
        assert not use & ~oracle.unit_free[world.units.index(unit)], "a unit already taken"
        assert not unit_use.get(placed.resource, 0) & use, "a unit twice at once"
        unit_use[placed.resource] = unit_use.get(placed.resource, 0) | use
    # Items of one person follow each other, never more than max_gap apart.
    for person in range(len(world.people)):
        own = sorted(
            (world.minute(p.start), world.minute(p.end)) for p in placements if p.person == person
        )
        assert all(0 <= b[0] - a[1] <= world.max_gap for a, b in itertools.pairwise(own))


def check_world(world: World, seed: int, *, as_seconds: bool = False) -> None:
    oracle = Oracle(world)
    slots = engine_slots(world, as_seconds=as_seconds)
    got = {world.minute(s.start): s for s in slots}
    assert len(got) == len(slots), "a start listed twice"
    assert [s.start for s in slots] == sorted(s.start for s in slots)
    layouts = {t: oracle.first_layout(t) for t in candidates(world)}
    feasible = {t: found for t, found in layouts.items() if found is not None}
    expected = {t for t in feasible if world.earliest <= t <= world.latest}
    # (b) every feasible start is offered, and (a) every offered start is feasible.
    assert sorted(got) == sorted(expected), (
        f"missing {sorted(expected - got.keys())}, extra {sorted(got.keys() - expected)}"
    )
    items = world.items()
    for t, slot in got.items():
        offsets, staff = feasible[t]
        assert [
            (i.service_id, i.person, world.minute(i.start), world.minute(i.end)) for i in slot.items
        ] == [
            (service.id, person, t + o, t + o + service.duration)
            for (person, service), o in zip(items, offsets, strict=True)
        ], "not the first layout in the design's order"
        assert world.minute(slot.end) == max(world.minute(i.end) for i in slot.items)
        assert [list(i.staff_ids) for i in slot.items] == oracle.usable(t, offsets, staff)
    # Placing: every feasible start (whatever the notice), and some that are not.
    infeasible = [t for t in candidates(world) if t not in feasible]
    some = infeasible[seed % max(len(infeasible), 1) :][:6]
    # A preference among the staff that the seed turns and flips.
    order = sorted(world.hours)
    order = order[seed % len(order) :] + order[: seed % len(order)]
    rank = {s: k for k, s in enumerate(order[:: -1 if seed // len(order) % 2 else 1])}
    for t in sorted(feasible) + some:
        placed = engine_place(world, t, prefer=rank.__getitem__)
        if t not in feasible:
            assert placed is None, f"placed at {t}, which is not feasible"
            continue
        assert placed is not None, f"not placed at {t}, which is feasible"
        check_placement(world, t, placed)
        offsets, staff = feasible[t]
        assert [world.minute(p.start) - t for p in placed] == list(offsets)
        # Item by item, the most preferred staff member that still lets all be placed.
        fits = lambda c, t=t, offsets=offsets: oracle.staff_fits(t, offsets, c)  # noqa: E731
        chosen: list[int] = []
        for i, options in enumerate(staff):
            best = min(
                (s for s in options if oracle.assign(staff, fits, [*chosen, s]) is not None),
                key=rank.__getitem__,
            )
            assert placed[i].staff_id == best
            chosen.append(best)


# Random salons ---------------------------------------------------------------------------

OPEN, CLOSE = 8 * 60, 13 * 60  # a morning keeps the oracle quick


@st.composite
def worlds(draw) -> World:
    step = draw(st.sampled_from([10, 15, 15, 30]))
    n_staff = draw(st.integers(1, 4))
    five = st.integers(OPEN // 5, CLOSE // 5).map(lambda m: m * 5)
    hours: dict[int, list[tuple[int, int]]] = {}
    busy: dict[int, list[tuple[int, int]]] = {}
    days = draw(st.sampled_from([1, 1, 2]))
    for s in range(1, n_staff + 1):
        hours[s], busy[s] = [], []
        for day in range(days):
            ranges = draw(
                st.lists(
                    st.tuples(five, st.integers(12, 60).map(lambda n: n * 5)).map(
                        lambda r: (r[0], min(r[0] + r[1], CLOSE + 60))
                    ),
                    min_size=1 - day,
                    max_size=2,
                )
            )
            hours[s] += [(a + 1440 * day, b + 1440 * day) for a, b in ranges]
            taken = draw(
                st.lists(
                    st.tuples(
                        st.integers(OPEN - 60, CLOSE), st.sampled_from([5, 15, 30, 45, 90])
                    ).map(lambda b: (b[0], b[0] + b[1])),
                    max_size=3,
                )
            )
            busy[s] += [(a + 1440 * day, b + 1440 * day) for a, b in taken]
    units: list[Unit] = []
    for kind in range(1, draw(st.integers(0, 2)) + 1):
        quantities = draw(st.sampled_from([[1], [2], [3], [1, 1], [1, 2]]))
        for r, quantity in enumerate(quantities):
            for unit in range(1, quantity + 1):
                unit_busy = draw(
                    st.lists(
                        st.tuples(
                            st.integers(OPEN - 30, CLOSE + 1440 * (days - 1)),
                            st.sampled_from([15, 30, 60]),
                        ).map(lambda b: (b[0], b[0] + b[1])),
                        max_size=2 * days,
                    )
                )
                units.append(Unit(kind, 10 * kind + r, unit, unit_busy))
    kinds = sorted({u.kind for u in units})
    staff_ids = sorted(hours)

    @st.composite
    def services(draw, id_: int) -> Service:
        duration = draw(st.sampled_from([15, 20, 30, 45, 60]))
        processing = draw(st.sampled_from([0, 0, 15, 20, 30, duration]))
        processing = processing if processing <= duration else 0
        offset = draw(st.integers(0, (duration - processing) // 5).map(lambda n: n * 5))
        return Service(
            id=id_,
            duration=duration,
            before=draw(st.sampled_from([0, 0, 5, 10])),
            after=draw(st.sampled_from([0, 0, 5, 15])),
            offset=offset if processing else 0,
            processing=processing,
            kind=draw(st.sampled_from([None, None, *kinds])),
            staff=frozenset(draw(st.sets(st.sampled_from(staff_ids), min_size=1))),
        )

    catalogue = [draw(services(id_)) for id_ in range(1, 4)]
    n_people = draw(st.sampled_from([1, 2, 2]))
    people = [
        draw(st.lists(st.sampled_from(catalogue), min_size=1, max_size=3 if n_people == 1 else 2))
        for _ in range(n_people)
    ]
    earliest = draw(
        st.one_of(st.just(OPEN - 60), st.integers(OPEN - 30, CLOSE + 1440 * (days - 1)))
    )
    return World(
        zone=draw(st.sampled_from(ZONES)),
        step=step,
        max_gap=draw(st.sampled_from([0, 15, 15])),
        earliest=earliest,
        latest=earliest + draw(st.one_of(st.just(48 * 60), st.integers(0, 6 * 60))),
        hours=hours,
        busy=busy,
        units=units,
        people=people,
        days=days,
    )


@settings(max_examples=250, deadline=None)
@given(world=worlds(), seed=st.integers(0, 1000), as_seconds=st.booleans())
def test_the_engine_offers_exactly_the_starts_the_oracle_finds(world, seed, as_seconds):
    check_world(world, seed, as_seconds=as_seconds)


# Named salon cases -----------------------------------------------------------------------


def _world(**kw) -> World:
    defaults = {
        "zone": "Europe/Paris",
        "step": 15,
        "max_gap": 0,
        "earliest": 0,
        "latest": 24 * 60,
        "busy": {},
        "units": [],
    }
    return World(**{**defaults, **kw})


def _hm(slot_or_minute, world: World | None = None) -> str:
    minute = slot_or_minute if world is None else world.minute(slot_or_minute)
    return f"{minute // 60:02}:{minute % 60:02}"


ALICE, BOB = 1, 2


def test_the_stylist_cuts_another_client_during_the_colour_processing():
    colour = Service(1, 60, after=15, offset=15, processing=30, staff=frozenset({ALICE}))
    cut = Service(2, 30, staff=frozenset({ALICE}))
    # Another client's cut is booked with Alice at 09:15-09:45, inside the colour's setting.
    world = _world(
        hours={ALICE: [(9 * 60, 12 * 60)]},
        busy={ALICE: [(9 * 60 + 15, 9 * 60 + 45)]},
        people=[[colour, cut]],
    )
    check_world(world, 1)
    starts = [_hm(s.start, world) for s in engine_slots(world)]
    assert starts[0] == "09:00"  # the colour, the other cut in its setting, then the cut
    placed = engine_place(world, 9 * 60)
    assert placed is not None
    assert [(p.staff_id, _hm(p.start, world), _hm(p.end, world)) for p in placed] == [
        (ALICE, "09:00", "10:00"),
        (ALICE, "10:00", "10:30"),
    ]
    assert [(_hm(a, world), _hm(b, world)) for a, b in placed[0].staff_busy] == [
        ("09:00", "09:15"),
        ("09:45", "10:15"),
    ]
    # The other way round: the visit booked first, the setting time is offered to a cut.
    free_world = _world(hours={ALICE: [(9 * 60, 12 * 60)]}, people=[[colour, cut]])
    placed = engine_place(free_world, 9 * 60)
    assert placed is not None
    busy = [interval for p in placed for interval in p.staff_busy]
    week = StaffWeek(ALICE, free_world.staff_weeks()[0].ranges, busy)
    cuts = availability(
        [week],
        ServiceShape(dt.timedelta(minutes=30)),
        first=DAY,
        last=DAY,
        tz=free_world.tz,
        step=dt.timedelta(minutes=15),
        earliest=free_world.at(0),
        latest=free_world.at(24 * 60),
    )
    assert _hm(cuts[0].start, free_world) == "09:15"
    # Within one visit too: while Bob does her fringe, the client's colour sets, then
    # Alice cuts the friend's hair during the setting time.
    fringe = Service(3, 15, staff=frozenset({BOB}))
    guest = _world(
        hours={ALICE: [(9 * 60, 12 * 60)], BOB: [(9 * 60, 12 * 60)]},
        people=[[colour], [fringe, cut]],
    )
    check_world(guest, 2)
    placed = engine_place(guest, 9 * 60)
    assert placed is not None
    assert [(p.staff_id, _hm(p.start, guest), _hm(p.end, guest)) for p in placed] == [
        (ALICE, "09:00", "10:00"),
        (BOB, "09:00", "09:15"),
        (ALICE, "09:15", "09:45"),
    ]


def test_two_friends_at_the_same_hour_need_two_pairs_of_hands():
    manicure = Service(1, 45, staff=frozenset({ALICE, BOB}))
    hours = {ALICE: [(9 * 60, 12 * 60)], BOB: [(9 * 60, 12 * 60)]}
    world = _world(hours=hours, busy={BOB: [(10 * 60, 11 * 60)]}, people=[[manicure], [manicure]])
    check_world(world, 3)
    slots = {_hm(s.start, world): s for s in engine_slots(world)}
    together = slots["09:00"]
    assert [(_hm(i.start, world), i.staff_ids) for i in together.items] == [
        ("09:00", (ALICE, BOB)),
        ("09:00", (ALICE, BOB)),
    ]
    placed = engine_place(world, 9 * 60)
    assert placed is not None and {p.staff_id for p in placed} == {ALICE, BOB}
    # At 10:00 Bob is busy: one after the other, both with Alice.
    after = slots["10:00"]
    assert [(_hm(i.start, world), i.staff_ids) for i in after.items] == [
        ("10:00", (ALICE,)),
        ("10:45", (ALICE,)),
    ]


def test_the_only_basin_is_not_given_twice():
    wash = Service(1, 30, kind=7, staff=frozenset({ALICE, BOB}))
    hours = {ALICE: [(9 * 60, 12 * 60)], BOB: [(9 * 60, 12 * 60)]}
    basin = Unit(7, 70, 1, [(10 * 60 + 30, 11 * 60)])  # another client's wash at 10:30
    world = _world(hours=hours, units=[basin], people=[[wash], [wash]])
    check_world(world, 4)
    slots = {_hm(s.start, world): s for s in engine_slots(world)}
    # Never side by side: one basin. One after the other, and not across 10:30-11:00.
    assert all(s.items[0].end <= s.items[1].start for s in slots.values())
    assert list(slots) == ["09:00", "09:15", "09:30", "11:00"]
    placed = engine_place(world, 9 * 60)
    assert placed is not None
    assert [(p.resource, _hm(p.start, world)) for p in placed] == [
        ((70, 1), "09:00"),
        ((70, 1), "09:30"),
    ]
    assert engine_place(world, 10 * 60) is None
    # With a second basin they sit side by side, each at her own.
    two = _world(hours=hours, units=[basin, Unit(7, 70, 2)], people=[[wash], [wash]])
    check_world(two, 5)
    placed = engine_place(two, 10 * 60 + 30)
    assert placed is not None
    assert [(p.resource, _hm(p.start, two)) for p in placed] == [
        ((70, 2), "10:30"),
        ((70, 1), "11:00"),
    ]
    placed = engine_place(two, 9 * 60)
    assert placed is not None
    assert [(p.resource, _hm(p.start, two)) for p in placed] == [
        ((70, 1), "09:00"),
        ((70, 2), "09:00"),
    ]


def test_a_gap_is_waited_only_when_no_closer_layout_fits():
    cut, colour = Service(1, 30, staff=frozenset({ALICE})), Service(2, 30, staff=frozenset({BOB}))
    hours = {ALICE: [(9 * 60, 12 * 60)], BOB: [(9 * 60, 12 * 60)]}
    world = _world(
        hours=hours, busy={BOB: [(9 * 60 + 30, 9 * 60 + 45)]}, people=[[cut, colour]], max_gap=15
    )
    check_world(world, 6)
    slots = {_hm(s.start, world): s for s in engine_slots(world)}
    assert [_hm(i.start, world) for i in slots["09:00"].items] == ["09:00", "09:45"]
    assert [_hm(i.start, world) for i in slots["09:15"].items] == ["09:15", "09:45"]
    # Without a gap allowed, 09:00 and 09:15 are not offered.
    strict = _world(hours=hours, busy=world.busy, people=[[cut, colour]], max_gap=0)
    check_world(strict, 7)
    assert "09:00" not in {_hm(s.start, strict) for s in engine_slots(strict)}
