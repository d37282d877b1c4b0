"""Invariant 1, tenant isolation: the scope is entered at the edges only.

The ambient django-scopes scope is the one mechanism: the middleware, the salon task base,
the doors that resolve a token and the Stripe webhook enter it; product code never passes
a scope per query, and no query path runs outside it (the raw availability query
included): forgetting the scope raises instead of seeing nothing.
"""

import datetime as dt
import re
from pathlib import Path

import pytest
from django_scopes import ScopeError

from bookings.models import Booking
from bookings.selectors import _rows, availability_for
from tenants.scoping import salon_scope

from ..conftest import MONDAY, book, local
from ..factories import CustomerFactory

ROOT = Path(__file__).resolve().parents[2]
NOT_PRODUCT = {"tests", "bench", "docs", "static", "templates", "locale", "node_modules"}

# Modules that may still pass a scope per query: none.
WITH_SCOPE_ALLOWED: set[str] = set()

PER_QUERY_SCOPE = re.compile(r"\.with_scope(s_disabled)?\(")


def _product_modules():
    for package in sorted(ROOT.iterdir()):
        if not (package / "__init__.py").exists() or package.name in NOT_PRODUCT:
            continue
        for path in sorted(package.rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def test_the_scan_sees_the_product():
    packages = {path.relative_to(ROOT).parts[0] for path in _product_modules()}
    assert {"tenants", "bookings", "customers", "deposits", "config"} <= packages


def test_product_code_never_passes_a_scope_per_query():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _product_modules()
        if str(path.relative_to(ROOT)) not in WITH_SCOPE_ALLOWED
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if PER_QUERY_SCOPE.search(line)
    ]
    assert not found, "Enter the scope at the edge instead:\n" + "\n".join(found)


def _slots(catalogue, *, day=1):
    date = MONDAY.date() + dt.timedelta(days=day)
    return availability_for(
        salon=catalogue.salon,
        service=catalogue.cut,
        first=date,
        last=date,
        staff_id=catalogue.alice.pk,
    )


@pytest.mark.django_db
def test_availability_outside_any_scope_raises(monday, catalogue_a):
    book(
        catalogue_a,
        CustomerFactory(salon=catalogue_a.salon),
        local(catalogue_a.salon, 1, 10),
        staff=catalogue_a.alice,
    )
    with salon_scope(catalogue_a.salon):
        _slots(catalogue_a)  # the catalogue is now cached: only the busy time is read below
    with pytest.raises(ScopeError):
        _slots(catalogue_a)


@pytest.mark.django_db
def test_availability_in_a_scope_entered_at_the_edge_sees_other_bookings(
    monday, catalogue_a, catalogue_b
):
    salon = catalogue_a.salon
    with salon_scope(salon):
        free = {slot.start for slot in _slots(catalogue_a)}
    taken = local(salon, 1, 10)
    assert taken in free
    book(catalogue_a, CustomerFactory(salon=salon), taken, staff=catalogue_a.alice)
    with salon_scope(salon):
        now_free = {slot.start for slot in _slots(catalogue_a)}
    assert taken not in now_free
    # Another salon's booking at the same time keeps nobody here busy.
    book(
        catalogue_b,
        CustomerFactory(salon=catalogue_b.salon, phone="+14165550177"),
        local(catalogue_b.salon, 1, 11),
        staff=catalogue_b.alice,
    )
    with salon_scope(salon):
        assert {slot.start for slot in _slots(catalogue_a)} == now_free


@pytest.mark.django_db
def test_the_public_availability_sees_bookings_in_the_middlewares_scope(api, monday, catalogue_a):
    """Through the API: the scope the middleware enters is the only one, and it suffices."""
    salon = catalogue_a.salon
    day = (MONDAY.date() + dt.timedelta(days=1)).isoformat()
    query = {"service": catalogue_a.cut.pk, "staff": catalogue_a.alice.pk, "from": day, "to": day}
    url = f"/api/v1/salons/{salon.slug}/availability/"
    before = api().get(url, query).json()["slots"]
    book(catalogue_a, CustomerFactory(salon=salon), local(salon, 1, 10), staff=catalogue_a.alice)
    after = api().get(url, query).json()["slots"]
    assert before and len(after) < len(before)


@pytest.mark.django_db
def test_the_raw_availability_query_built_in_a_scope_does_not_run_outside_it(catalogue_a):
    """`_rows` runs compiled SQL, past the manager: it checks the scope itself."""
    with salon_scope(catalogue_a.salon):
        rows = Booking.objects.values_list("pk")
        assert _rows(rows) == []
    with pytest.raises(ScopeError):
        _rows(rows)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        lambda: Booking.objects.exists(),
        lambda: Booking.objects.exclude(pk=0),
        lambda: Booking.objects.select_related("salon"),
        lambda: Booking.objects.in_bulk([1]),
        lambda: Booking.objects.with_scope(salon=1),
        lambda: Booking.objects.with_scopes_disabled(),
    ],
)
def test_no_query_runs_outside_a_scope_nor_brings_its_own(query):
    with pytest.raises(ScopeError):
        query()
