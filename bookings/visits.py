"""The visit engine: several items (a service for one person each) placed as one booking.

Plain functions over plain values, like `bookings.availability`, whose rules it extends:
a visit start t is offered when its first item (person 0's first service) starts on the
grid of the staff member who does it, and every item, laid out from t, finds a staff
member free for its busy time (buffers in, processing period out) and, when it needs one,
a unit of its resource kind free for the whole service. Inside the visit one staff member
may take several items whose core times do not overlap (a cut during a colour's
processing), and one unit several items whose times do not overlap.

People are laid out together (each person's first item at t) or, failing that, back to
back; each item follows the previous one of the same person after a gap of 0, 1, 2...
steps up to the salon's `max_gap`, smallest gaps first, item by item.

Times are epoch seconds inside, as in `availability._starts`: a month for a whole salon
is about a thousand candidate starts. For one layout and one choice of gaps every item
sits at a fixed offset from t, so which items may conflict (same staff member, same unit)
does not depend on t: the search runs once per layout over all candidate starts at once,
with per-item bit masks of the staff (and units) free at each start, and only items that
can conflict go through the (memoised) assignment search.
"""

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from .availability import (
    BusyInterval,
    Interval,
    StaffWeek,
    _moment,
    _subtract,
    _ts,
    _working,
    busy_columns,
    free_gaps,
)


@dataclass(frozen=True)
class ItemShape:
    service_id: int
    duration: dt.timedelta
    before: dt.timedelta = dt.timedelta()
    after: dt.timedelta = dt.timedelta()
    processing_offset: dt.timedelta = dt.timedelta()
    processing: dt.timedelta = dt.timedelta()
    resource_kind: int | None = None
    staff_ids: frozenset[int] = frozenset()  # who may do it; nobody when empty


@dataclass(frozen=True)
class VisitShape:
    people: tuple[tuple[ItemShape, ...], ...]  # person 0 (the contact) first; each non-empty
    max_gap: dt.timedelta = dt.timedelta()


@dataclass(frozen=True)
class UnitWeek:
    """One unit of a resource (a resource of quantity q has units 1..q)."""

    kind: int
    resource_id: int
    unit: int
    busy: Sequence[BusyInterval] = ()


@dataclass(frozen=True)
class ItemSlot:
    service_id: int
    person: int
    start: dt.datetime
    end: dt.datetime
    staff_ids: tuple[int, ...]


@dataclass(frozen=True)
class VisitSlot:
    start: dt.datetime
    end: dt.datetime  # end of the last item
    items: tuple[ItemSlot, ...]  # person 0's items, then person 1's...

    @property
    def staff_ids(self) -> tuple[int, ...]:
        return self.items[0].staff_ids


@dataclass(frozen=True)
class Placement:
    service_id: int
    person: int
    start: dt.datetime
    end: dt.datetime
    staff_id: int
    staff_busy: tuple[Interval, ...]  # UTC, buffers in, processing out
    resource: tuple[int, int] | None  # (resource_id, unit)
    resource_busy: Interval | None


_FAR = 1 << 62  # beyond any time: a unit's free time is everything its bookings leave


def _seconds(delta: dt.timedelta) -> int:
    return int(delta.total_seconds())


def _seconds_of(busy: Sequence[BusyInterval]) -> Sequence[tuple[int, int]]:
    """Busy time as epoch seconds (the database gives them so already)."""
    if busy and isinstance(busy[0][0], int):
        return busy  # type: ignore[return-value]
    return [(_ts(a), _ts(b)) for a, b in busy]


def _staff_pieces(shape: ItemShape) -> tuple[tuple[int, int], ...]:
    """The staff busy pieces of the item, relative to its start (seconds)."""
    d, before, after = _seconds(shape.duration), _seconds(shape.before), _seconds(shape.after)
    offset, processing = _seconds(shape.processing_offset), _seconds(shape.processing)
    pieces: tuple[tuple[int, int], ...]
    if processing > 0:
        pieces = ((-before, offset), (offset + processing, d + after))
    else:
        pieces = ((-before, d + after),)
    return tuple(p for p in pieces if p[0] < p[1])


def _core_pieces(shape: ItemShape) -> tuple[tuple[int, int], ...]:
    d = _seconds(shape.duration)
    offset, processing = _seconds(shape.processing_offset), _seconds(shape.processing)
    pieces = ((0, offset), (offset + processing, d)) if processing > 0 else ((0, d),)
    return tuple(p for p in pieces if p[0] < p[1])


def item_staff_busy(shape: ItemShape, start: dt.datetime) -> tuple[Interval, ...]:
    """What the item keeps its staff member busy for: buffers in, processing out (UTC)."""
    t = _ts(start)
    return tuple((_moment(t + a), _moment(t + b)) for a, b in _staff_pieces(shape))


def item_resource_busy(shape: ItemShape, start: dt.datetime) -> Interval | None:
    """What the item keeps its unit busy for: the whole service, without buffers."""
    if shape.resource_kind is None:
        return None
    moment = start.astimezone(dt.UTC)
    return moment, moment + shape.duration


# The world: staff and units, precomputed ---------------------------------------------


def _within(free: Sequence[tuple[int, int]], a: int, b: int) -> list[tuple[int, int]]:
    """The starts t (closed intervals) at which [t + a, t + b) lies in one free piece."""
    need = b - a
    return [(s - a, e - b) for s, e in free if e - s >= need]


def _intersect(x: Sequence[tuple[int, int]], y: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Two sorted lists of disjoint closed intervals, intersected."""
    out: list[tuple[int, int]] = []
    append = out.append
    i = j = 0
    nx, ny = len(x), len(y)
    while i < nx and j < ny:
        x_lo, x_hi = x[i]
        y_lo, y_hi = y[j]
        lo = x_lo if x_lo > y_lo else y_lo
        if x_hi < y_hi:
            hi = x_hi
            i += 1
        else:
            hi = y_hi
            j += 1
        if lo <= hi:
            append((lo, hi))
    return out


def _feasible_starts(
    free: Sequence[tuple[int, int]], pieces: Sequence[tuple[int, int]]
) -> list[tuple[int, int]]:
    """The starts at which every piece (relative to the start) lies in free time."""
    if not pieces:
        return [(-_FAR, _FAR)]
    out = _within(free, *pieces[0])
    for a, b in pieces[1:]:
        out = _intersect(out, _within(free, a, b))
    return out


@dataclass
class _Item:
    index: int
    person: int
    shape: ItemShape
    duration: int
    before: int
    after: int
    core: tuple[tuple[int, int], ...]
    kind: int | None
    # (bit, closed intervals of starts at which that staff member / unit is free for it)
    staff: list[tuple[int, list[tuple[int, int]]]]
    units: list[tuple[int, list[tuple[int, int]]]]


class _World:
    def __init__(
        self,
        staff: Iterable[StaffWeek],
        units: Iterable[UnitWeek],
        visit: VisitShape,
        first: dt.date,
        last: dt.date,
        tz: ZoneInfo,
        step: int,
    ) -> None:
        self.step = step
        weeks: dict[int, StaffWeek] = {}
        for week in staff:
            weeks.setdefault(week.staff_id, week)
        wanted = {s for person in visit.people for item in person for s in item.staff_ids}
        self.staff_ids = sorted(wanted & weeks.keys())  # bit i is staff_ids[i]
        bit_of = {s: 1 << i for i, s in enumerate(self.staff_ids)}
        self.working: dict[int, list[tuple[int, int]]] = {}
        free: dict[int, list[tuple[int, int]]] = {}
        expanded: dict[tuple[Any, ...], list[tuple[int, int]]] = {}  # most share a week
        for staff_id in self.staff_ids:
            week = weeks[staff_id]
            ranges = tuple(week.ranges)
            working = expanded.get(ranges)
            if working is None:
                working = expanded[ranges] = _working(ranges, first, last, tz)
            self.working[staff_id] = working
            free[staff_id] = free_gaps(working, *busy_columns(week))
        kinds = {i.resource_kind for p in visit.people for i in p if i.resource_kind is not None}
        unit_list = sorted(
            (u for u in units if u.kind in kinds), key=lambda u: (u.resource_id, u.unit)
        )
        self.units = [(u.resource_id, u.unit) for u in unit_list]  # bit i is units[i]
        unit_free = [(u.kind, _subtract([(-_FAR, _FAR)], _seconds_of(u.busy))) for u in unit_list]
        self.items: list[_Item] = []
        for person, shapes in enumerate(visit.people):
            for shape in shapes:
                pieces = _staff_pieces(shape)
                d = _seconds(shape.duration)
                item = _Item(
                    index=len(self.items),
                    person=person,
                    shape=shape,
                    duration=d,
                    before=_seconds(shape.before),
                    after=_seconds(shape.after),
                    core=_core_pieces(shape),
                    kind=shape.resource_kind,
                    staff=[
                        (bit_of[s], _feasible_starts(free[s], pieces))
                        for s in self.staff_ids
                        if s in shape.staff_ids
                    ],
                    units=[
                        (1 << i, _feasible_starts(f, ((0, d),)))
                        for i, (kind, f) in enumerate(unit_free)
                        if kind == shape.resource_kind
                    ],
                )
                self.items.append(item)
        self._names: dict[int, tuple[int, ...]] = {}

    def first_item_masks(self, earliest: int, latest: int) -> dict[int, int]:
        """Start -> staff mask for person 0's first item: the single-service grid rule."""
        item, step = self.items[0], self.step
        masks: dict[int, int] = {}
        get = masks.get
        for bit, starts in item.staff:
            staff_id = self.staff_ids[bit.bit_length() - 1]
            lo_i, n = 0, len(starts)
            for run_start, run_end in self.working[staff_id]:
                # On the grid of the run, the buffer inside it, starting inside it.
                t0 = run_start + -(-item.before // step) * step
                t0 = max(t0, run_start + -(-(earliest - run_start) // step) * step)
                t1 = min(run_end - 1, latest)
                if t0 > t1:
                    continue
                while lo_i < n and starts[lo_i][1] < t0:
                    lo_i += 1
                k = lo_i
                while k < n and starts[k][0] <= t1:
                    lo, hi = max(starts[k][0], t0), min(starts[k][1], t1)
                    a = t0 + -(-(lo - t0) // step) * step
                    for t in range(a, hi + 1, step):
                        masks[t] = get(t, 0) | bit
                    k += 1
        return masks

    def names(self, mask: int) -> tuple[int, ...]:
        """The staff ids of a mask, sorted."""
        try:
            return self._names[mask]
        except KeyError:
            out = self._names[mask] = tuple(
                s for i, s in enumerate(self.staff_ids) if mask >> i & 1
            )
            return out


def _masks(
    options: Sequence[tuple[int, list[tuple[int, int]]]], offset: int, alive: list[int]
) -> dict[int, int]:
    """Visit start -> mask of the options (staff or units) free for an item at t + offset."""
    masks: dict[int, int] = {}
    if not alive:
        return masks
    get = masks.get
    first, last = alive[0] + offset, alive[-1] + offset
    for bit, starts in options:
        k = bisect_left(starts, (first,))
        if k:
            k -= 1  # the interval before may still reach `first`
        while k < len(starts) and starts[k][0] <= last:
            lo, hi = starts[k]
            if hi >= first:
                i = bisect_left(alive, lo - offset)
                j = bisect_right(alive, hi - offset)
                for t in alive[i:j]:
                    masks[t] = get(t, 0) | bit
            k += 1
    return masks


# Assignment: list colouring of the items that may conflict ----------------------------


def _colouring(masks: Sequence[int], earlier: Sequence[Sequence[int]]) -> list[int] | None:
    """One bit per item from its mask, neighbours (earlier[i]: those before i) apart."""
    n = len(masks)
    chosen = [0] * n

    def go(i: int) -> bool:
        if i == n:
            return True
        m = masks[i]
        for j in earlier[i]:
            m &= ~chosen[j]
        while m:
            bit = m & -m
            chosen[i] = bit
            if go(i + 1):
                return True
            m ^= bit
        return False

    return chosen if go(0) else None


def _usable(masks: Sequence[int], earlier: Sequence[Sequence[int]]) -> tuple[int, ...] | None:
    """Per item, the bits it takes in some full colouring; None when there is none."""
    found = _colouring(masks, earlier)
    if found is None:
        return None
    usable = list(found)
    for i, mask in enumerate(masks):
        rest = mask & ~usable[i]
        while rest:
            bit = rest & -rest
            rest ^= bit
            trial = list(masks)
            trial[i] = bit
            other = _colouring(trial, earlier)
            if other is not None:
                for j, b in enumerate(other):
                    usable[j] |= b
    return tuple(usable)


def _overlap(x: Sequence[tuple[int, int]], ox: int, y: Sequence[tuple[int, int]], oy: int) -> bool:
    return any(a + ox < d + oy and c + oy < b + ox for a, b in x for c, d in y)


@dataclass
class _Graph:
    """Which items of a layout may not share a staff member (or a unit)."""

    members: tuple[int, ...]  # items of one connected group, in order
    earlier: tuple[tuple[int, ...], ...]  # per member, positions of its earlier neighbours
    memo: dict[tuple[int, ...], tuple[int, ...] | None]

    def usable(self, masks: tuple[int, ...]) -> tuple[int, ...] | None:
        if masks not in self.memo:
            self.memo[masks] = _usable(masks, self.earlier)
        return self.memo[masks]


def _groups(edges: dict[int, set[int]], items: Sequence[int]) -> list[_Graph]:
    """Connected groups (of more than one item) of the conflict graph."""
    seen: set[int] = set()
    groups = []
    for i in items:
        if i in seen or not edges.get(i):
            continue
        stack, group = [i], set()
        while stack:
            j = stack.pop()
            if j not in group:
                group.add(j)
                stack.extend(edges.get(j, ()))
        seen |= group
        members = tuple(sorted(group))
        position = {m: p for p, m in enumerate(members)}
        earlier = tuple(tuple(sorted(position[j] for j in edges[m] if j < m)) for m in members)
        groups.append(_Graph(members, earlier, {}))
    return groups


@dataclass
class _Leaf:
    """One full layout (offsets of every item) and its masks per visit start."""

    offsets: tuple[int, ...]
    staff: tuple[dict[int, int], ...]
    units: tuple[dict[int, int] | None, ...]
    staff_groups: list[_Graph]
    unit_groups: list[_Graph]

    def staff_usable(self, t: int) -> list[int]:
        usable = [m[t] for m in self.staff]
        for g in self.staff_groups:
            got = g.usable(tuple(usable[i] for i in g.members))
            for i, mask in zip(g.members, got or (), strict=False):  # never None here
                usable[i] = mask
        return usable


def _edges(
    items: Sequence[_Item], offsets: Sequence[int]
) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    """Conflicts among the items placed so far: cores overlap; resource times overlap."""
    staff_edges: dict[int, set[int]] = {}
    unit_edges: dict[int, set[int]] = {}
    n = len(offsets)
    for i in range(n):
        a = items[i]
        for j in range(i + 1, n):
            b = items[j]
            if _overlap(a.core, offsets[i], b.core, offsets[j]):
                staff_edges.setdefault(i, set()).add(j)
                staff_edges.setdefault(j, set()).add(i)
            if (
                a.kind is not None
                and a.kind == b.kind
                and offsets[i] < offsets[j] + b.duration
                and offsets[j] < offsets[i] + a.duration
            ):
                unit_edges.setdefault(i, set()).add(j)
                unit_edges.setdefault(j, set()).add(i)
    return staff_edges, unit_edges


def _assignable(
    alive: list[int], group: "_Graph", masks: Sequence[dict[int, int] | None]
) -> list[int]:
    """The starts at which the group's items can be given distinct staff (or units)."""
    ms = [m for m in (masks[i] for i in group.members) if m is not None]
    return [t for t in alive if group.usable(tuple(m[t] for m in ms)) is not None]


class _Search:
    """Layouts and gaps in the design's order, over many visit starts at once."""

    def __init__(self, world: _World, visit: VisitShape) -> None:
        self.world = world
        self.items = world.items
        step = world.step
        max_gap = _seconds(visit.max_gap)
        self.gaps = [g * step for g in range(max_gap // step + 1)] if max_gap > 0 else [0]
        self.layouts = ("together", "back to back") if len(visit.people) > 1 else ("together",)
        self.found: dict[int, _Leaf] = {}

    def run(self, first_masks: dict[int, int]) -> dict[int, _Leaf]:
        starts = sorted(first_masks)
        for layout in self.layouts:
            alive = [t for t in starts if t not in self.found]
            if not alive:
                break
            self._node(layout, 0, (0,), alive, [first_masks], [])
        return self.found

    def _node(
        self,
        layout: str,
        k: int,
        offsets: tuple[int, ...],
        alive: list[int],
        staff: list[dict[int, int]],  # per item before k; item k's too when k == 0
        units: list[dict[int, int] | None],
    ) -> None:
        item, o = self.items[k], offsets[k]
        if k:
            staff.append(_masks(item.staff, o, alive))
        sm = staff[k]
        alive = [t for t in alive if t in sm]
        um = None
        if item.kind is not None:
            um = _masks(item.units, o, alive)
            alive = [t for t in alive if t in um]
        units.append(um)
        try:
            staff_edges, unit_edges = _edges(self.items, offsets)
            # The group k joins is checked now; groups without k were checked before.
            if staff_edges.get(k):
                alive = _assignable(alive, _groups(staff_edges, [k])[0], staff)
            if unit_edges.get(k):
                alive = _assignable(alive, _groups(unit_edges, [k])[0], units)
            if not alive:
                return
            if k + 1 == len(self.items):
                leaf = _Leaf(
                    offsets,
                    tuple(staff),
                    tuple(units),
                    _groups(staff_edges, range(len(self.items))),
                    _groups(unit_edges, range(len(self.items))),
                )
                for t in alive:
                    self.found[t] = leaf
                return
            end = o + item.duration
            following = self.items[k + 1]
            if following.person == item.person:
                children = [end + g for g in self.gaps]
            elif layout == "together":
                children = [0]
            else:
                children = [end]  # the next person starts when this one's last item ends
            for child in children:
                self._node(layout, k + 1, (*offsets, child), alive, staff, units)
                alive = [t for t in alive if t not in self.found]
                if not alive:
                    break
        finally:
            units.pop()
            if k:
                staff.pop()


def visit_availability(
    staff: Iterable[StaffWeek],
    units: Iterable[UnitWeek],
    visit: VisitShape,
    *,
    first: dt.date,
    last: dt.date,
    tz: ZoneInfo,
    step: dt.timedelta,
    earliest: dt.datetime,
    latest: dt.datetime,
) -> list[VisitSlot]:
    """Visit starts in the window, each with its items and who can do each of them."""
    world = _World(staff, units, visit, first, last, tz, _seconds(step))
    if not world.items:
        return []
    found = _Search(world, visit).run(world.first_item_masks(_ts(earliest), _ts(latest)))
    names = world.names
    slots: list[VisitSlot] = []
    append = slots.append
    leaf: _Leaf | None = None
    # Per layout: (service, person, start and end from the visit start) of every item.
    plan: list[tuple[int, int, dt.timedelta, dt.timedelta]] = []
    span = dt.timedelta()
    for t in sorted(found):
        if found[t] is not leaf:
            leaf = found[t]
            plan = [
                (
                    item.shape.service_id,
                    item.person,
                    dt.timedelta(seconds=o),
                    dt.timedelta(seconds=o + item.duration),
                )
                for item, o in zip(world.items, leaf.offsets, strict=True)
            ]
            span = max(end for _s, _p, _b, end in plan)
        moment = _moment(t)
        placed = tuple(
            ItemSlot(service_id, person, moment + begin, moment + end, names(mask))
            for (service_id, person, begin, end), mask in zip(
                plan, leaf.staff_usable(t), strict=True
            )
        )
        append(VisitSlot(moment, moment + span, placed))
    return slots


def visit_place(
    staff: Iterable[StaffWeek],
    units: Iterable[UnitWeek],
    visit: VisitShape,
    start: dt.datetime,
    *,
    tz: ZoneInfo,
    step: dt.timedelta,
    prefer: Callable[[int], Any] = lambda staff_id: staff_id,
) -> list[Placement] | None:
    """The visit placed at `start`: the layout and gaps `visit_availability` lists there,
    each item's staff member the most preferred that still lets every item be placed,
    units lowest (resource, unit) first. None when it cannot be placed at `start`."""
    t = _ts(start)
    step_s = _seconds(step)
    longest = sum(
        (i.duration + i.before + i.after + visit.max_gap for p in visit.people for i in p),
        dt.timedelta(),
    )
    day = start.astimezone(tz).date()
    end_day = (start + longest).astimezone(tz).date()
    world = _World(
        staff,
        units,
        visit,
        day - dt.timedelta(days=1),
        end_day + dt.timedelta(days=1),
        tz,
        step_s,
    )
    if not world.items:
        return None
    leaf = _Search(world, visit).run(world.first_item_masks(t, t)).get(t)
    if leaf is None:
        return None
    items = world.items
    edges = _edges(items, leaf.offsets)
    staff_masks = leaf.staff_usable(t)
    staff_choice = _greedy(
        staff_masks,
        edges[0],
        lambda bit: prefer(world.staff_ids[bit.bit_length() - 1]),
    )
    kinds = [i for i in items if i.kind is not None]
    unit_masks = [m[t] if m is not None else 0 for m in leaf.units]
    unit_choice = _greedy(
        [unit_masks[i.index] for i in kinds],
        _renumber(edges[1], [i.index for i in kinds]),
        lambda bit: bit,
    )
    unit_of = {item.index: bit for item, bit in zip(kinds, unit_choice, strict=True)}
    placements = []
    for item, o, bit in zip(items, leaf.offsets, staff_choice, strict=True):
        moment = _moment(t + o)
        unit_bit = unit_of.get(item.index)
        resource = world.units[unit_bit.bit_length() - 1] if unit_bit else None
        placements.append(
            Placement(
                service_id=item.shape.service_id,
                person=item.person,
                start=moment,
                end=moment + item.shape.duration,
                staff_id=world.staff_ids[bit.bit_length() - 1],
                staff_busy=item_staff_busy(item.shape, moment),
                resource=resource,
                resource_busy=item_resource_busy(item.shape, moment) if resource else None,
            )
        )
    return placements


def _renumber(edges: dict[int, set[int]], members: Sequence[int]) -> dict[int, set[int]]:
    position = {m: p for p, m in enumerate(members)}
    return {
        position[i]: {position[j] for j in js if j in position}
        for i, js in edges.items()
        if i in position
    }


def _greedy(
    masks: Sequence[int], edges: dict[int, set[int]], key: Callable[[int], Any]
) -> list[int]:
    """Item by item, the first bit by `key` (then by bit) that still lets all be coloured."""
    masks = list(masks)
    earlier = [sorted(j for j in edges.get(i, ()) if j < i) for i in range(len(masks))]
    for i, mask in enumerate(masks):
        bits = [1 << b for b in range(mask.bit_length()) if mask >> b & 1]
        for bit in sorted(bits, key=key):
            trial = [*masks[:i], bit, *masks[i + 1 :]]
            if _colouring(trial, earlier) is not None:
                masks[i] = bit
                break
        else:  # pragma: no cover - the masks came from a full colouring
            raise AssertionError("no assignment")
    return masks
