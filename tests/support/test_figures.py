"""The owner's figures, by month and by staff member, checked against a salon whose
history is known by heart; the other salon's rows are never counted; the queries are the
same in number for a short history and a long one; each table exports as CSV."""

import csv
import datetime as dt
import io
import itertools
import random

import pytest
import time_machine
from django.db import connection, reset_queries
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from playwright.sync_api import expect

from bookings.models import Booking, StaffMember
from bookings.services import staff_save
from deposits.credit import credit_grant
from deposits.figures import COUNTED, Row, owner_figures
from deposits.history import (
    CANCELLED_IN_TIME,
    CANCELLED_LATE,
    HONOURED,
    MISSED,
    PastVisit,
    past_visits_import,
)
from deposits.models import CreditEntry, FigureDirty, FigureMonth, Payment
from deposits.selectors import policy_get
from deposits.services import policy_set
from deposits.summaries import MonthSummaries, signature_of
from deposits.tasks import figures_apply
from support.figures import OTHERS, salon_figures
from support.models import CustomerRequest
from tenants.models import Salon
from tenants.scoping import salon_scope
from tests.browser.harness import axe_violations
from tests.conftest import MONDAY
from tests.factories import PASSWORD, CustomerFactory

pytestmark = pytest.mark.django_db

URL = "/admin/deposits/depositpolicy/recovered/"


def at(salon, month, day, hour=10, year=2027):
    return dt.datetime(year, month, day, hour, tzinfo=salon.tz)


def visit(salon, cat, customer, staff, start, booked, ended, **money):
    return PastVisit(
        customer=customer,
        service=cat.cut,
        staff=staff,
        start=start,
        booked_at=booked,
        source="online",
        ended=ended,
        **money,
    )


@pytest.fixture
def history(team_a, team_b, catalogue_a, catalogue_b, monday):
    return _history(team_a, team_b, catalogue_a, catalogue_b)


def _history(team_a, team_b, catalogue_a, catalogue_b):
    """Salon A (Paris, frozen on Monday 1 March 2027): no deposit until 2027-01-01, then
    €10 a booking. December's four visits were booked before, February's five after."""
    salon, cat = team_a.salon, catalogue_a
    alice, bob = cat.alice, cat.bob
    with salon_scope(salon):
        policy_set(
            salon=salon,
            rule={"kind": "none"},
            ramp=[{"starts_on": dt.date(2027, 1, 1), "rule": {"kind": "fixed", "value": 1000}}],
        )
        lea, max_, zoe = (CustomerFactory(salon=salon, phone=f"+3361234567{n}") for n in range(3))
        s = salon
        dec1, feb1 = at(s, 12, 1, year=2026), at(s, 2, 1)
        past_visits_import(
            salon=salon,
            visits=[
                # 1-4: December, no deposit.
                visit(s, cat, lea, alice, at(s, 12, 10, year=2026), dec1, HONOURED),
                visit(s, cat, lea, alice, at(s, 12, 11, year=2026), dec1, MISSED),
                visit(
                    s,
                    cat,
                    max_,
                    bob,
                    at(s, 12, 12, year=2026),
                    dec1,
                    CANCELLED_LATE,
                    cancelled_at=at(s, 12, 12, 8, year=2026),
                ),
                # Booked the next day: the cancellation above was rebooked.
                visit(
                    s,
                    cat,
                    max_,
                    bob,
                    at(s, 12, 14, year=2026),
                    at(s, 12, 13, year=2026),
                    HONOURED,
                ),
                # 5-9: February, €10 deposits.
                visit(s, cat, lea, alice, at(s, 2, 10), feb1, HONOURED, paid=1000),
                visit(s, cat, lea, bob, at(s, 2, 11), feb1, MISSED, paid=1000),
                # Cancelled in time, refunded, never rebooked.
                visit(
                    s,
                    cat,
                    max_,
                    alice,
                    at(s, 2, 12),
                    feb1,
                    CANCELLED_IN_TIME,
                    cancelled_at=at(s, 2, 5),
                    paid=1000,
                    money="refunded",
                ),
                visit(
                    s,
                    cat,
                    zoe,
                    alice,
                    at(s, 2, 15),
                    at(s, 2, 2),
                    CANCELLED_LATE,
                    cancelled_at=at(s, 2, 15, 8),
                    paid=1000,
                    money="credited",
                    credit_used=True,
                ),
                visit(s, cat, zoe, bob, at(s, 2, 20), at(s, 2, 16), HONOURED),
            ],
        )
        # Credit given today: €25 lapsing in 20 days, €40 in 60 days of which €5 spent.
        credit_grant(customer=lea, amount=2500, currency="EUR", valid_days=20)
        later = credit_grant(customer=max_, amount=4000, currency="EUR", valid_days=60)
        CreditEntry.objects.create(
            salon=salon, customer=max_, kind="used", amount=500, currency="EUR", grant=later
        )
        StaffMember.objects.filter(pk=alice.pk).update(user=team_a.staff)
        for day, minutes, by in ((3, 30, team_a.staff), (4, 120, team_a.staff), (5, 10, None)):
            opened = at(s, 2, day)
            CustomerRequest.objects.create(
                salon=salon,
                channel="phone",
                category="booking",
                summary="?",
                opened_by=by or team_a.owner,
                opened_at=opened,
                first_response_at=opened + dt.timedelta(minutes=minutes),
            )
        CustomerRequest.objects.create(
            salon=salon,
            channel="phone",
            category="other",
            summary="?",
            opened_by=team_a.staff,
            opened_at=at(s, 2, 6),
        )  # not answered yet
    # The other salon: a no-show, a deposit kept, credit and a request, never counted.
    other, theirs = team_b.salon, catalogue_b
    with salon_scope(other):
        them = CustomerFactory(salon=other, phone="+14165550100")
        past_visits_import(
            salon=other,
            visits=[
                visit(
                    other,
                    theirs,
                    them,
                    theirs.alice,
                    at(other, 2, 10),
                    at(other, 2, 1),
                    MISSED,
                    paid=5000,
                ),
            ],
        )
        credit_grant(customer=them, amount=9900, currency="CAD", valid_days=10)
        CustomerRequest.objects.create(
            salon=other,
            channel="phone",
            category="other",
            summary="?",
            opened_at=at(other, 2, 3),
            first_response_at=at(other, 2, 3, 11),
        )
    return salon


def _counts(row):
    return (
        row.appointments,
        row.no_shows,
        row.cancelled,
        row.late_cancelled,
        row.rebooked,
        row.paid,
        row.kept,
        row.refunded,
        row.credited,
    )


def test_the_figures_match_the_hand_counted_history(history, catalogue_a):
    salon = history
    with salon_scope(salon):
        figures = salon_figures(salon=salon)
    months = {row.label: row for row in figures.months}
    assert next(iter(months)) == "2026-04" and list(months)[-1] == "2027-03"
    december, february = months["2026-12"], months["2027-02"]
    assert _counts(december) == (3, 1, 1, 1, 1, 0, 0, 0, 0)
    assert (december.no_show_rate, december.late_cancel_rate) == (1 / 3, 1 / 4)
    assert _counts(february) == (3, 1, 2, 1, 1, 4000, 1000, 1000, 1000)
    assert (february.no_show_rate, february.late_cancel_rate) == (1 / 3, 1 / 5)
    assert sum(sum(_counts(m)) for m in figures.months) == sum(_counts(december)) + sum(
        _counts(february)
    )
    # Requests: February's four, three answered in 30, 120 and 10 minutes.
    assert (february.requests, february.answered) == (4, 3)
    assert february.response_median == dt.timedelta(minutes=30)
    assert december.response_median is None

    staff = {row.key: row for row in figures.staff}
    alice, bob = staff[catalogue_a.alice.pk], staff[catalogue_a.bob.pk]
    assert (alice.label, bob.label) == ("Alice", "Bob")
    assert _counts(alice) == (3, 1, 2, 1, 1, 3000, 0, 1000, 1000)
    assert _counts(bob) == (3, 1, 1, 1, 1, 1000, 1000, 0, 0)
    assert (alice.requests, alice.answered, alice.response_median) == (
        3,
        2,
        dt.timedelta(minutes=75),
    )
    assert (staff[OTHERS].requests, staff[OTHERS].response_median) == (
        1,
        dt.timedelta(minutes=10),
    )

    # Before deposits (booked before 2027-01-01) and after: which change it follows.
    (base, base_row), (step, step_row) = figures.periods
    assert (base.starts_on, base.rule.kind, step.starts_on, step.rule.kind) == (
        None,
        "none",
        dt.date(2027, 1, 1),
        "fixed",
    )
    assert figures.first_deposit == step
    assert _counts(figures.before) == _counts(december) == _counts(base_row)
    assert _counts(figures.after) == _counts(february) == _counts(step_row)
    assert figures.month_period[dt.date(2026, 12, 1)] == base
    assert figures.month_period[dt.date(2027, 2, 1)] == step

    # Credit: €25 + €35 owed; the €25 lapses within 30 days. The imported grant was spent.
    assert (figures.credit_outstanding, figures.credit_expiring) == (6000, 2500)


def test_the_page_shows_the_figures_in_the_admins_language(client, history, team_a):
    client.force_login(team_a.owner)
    page = client.get(URL, HTTP_ACCEPT_LANGUAGE="fr")
    assert page.status_code == 200
    february = page.context["months"][-2]
    assert (february["rate"], february["late_rate"], february["kept"]) == (
        "33,3\u00a0%",
        "20,0\u00a0%",
        "10,00\u00a0€",
    )
    assert february["median"] == "30 minutes"
    assert february["period"] == "À partir du 01/01/2027\u00a0: 10,00\u00a0€ par réservation"
    assert page.context["compare"]["before"]["late_rate"] == "25,0\u00a0%"
    assert (page.context["outstanding"], page.context["expiring"]) == (
        "60,00\u00a0€",
        "25,00\u00a0€",
    )
    html = page.content.decode()
    assert html.count('role="img"') == 2 and "format=csv&amp;table=staff" in html


def test_each_table_exports_as_csv_for_a_spreadsheet(client, history, team_a, catalogue_a):
    client.force_login(team_a.owner)
    answer = client.get(URL, {"format": "csv", "table": "staff"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert answer["Content-Disposition"] == (
        'attachment; filename="bella-figures-staff-2027-03-01.csv"'
    )
    body = answer.content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:]), delimiter=";"))
    header = rows[0]
    assert header[:3] == ["Membre de l\u2019équipe", "Rendez-vous", "Absences"]
    alice = next(r for r in rows if r[0] == "Alice")
    assert dict(zip(header, alice, strict=True))["Encaissé (EUR)"] == "30,00"

    answer = client.get(URL, {"format": "csv"}, HTTP_ACCEPT_LANGUAGE="en")
    assert answer["Content-Disposition"].endswith('-figures-months-2027-03-01.csv"')
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8")[1:])))
    assert len(rows) == 13
    february = dict(zip(rows[0], rows[-2], strict=True))
    assert february["Month"] == "2027-02"
    assert (february["No-show rate (%)"], february["Kept (EUR)"]) == ("33.3", "10.00")
    assert february["Median first response (minutes)"] == "30"


def test_the_queries_are_as_many_for_a_long_history_as_for_a_short_one(
    client, history, team_a, catalogue_a, django_assert_num_queries
):
    salon = history

    def measure():
        reset_queries()  # the log keeps 9,000 queries; the import below writes more
        with salon_scope(salon):
            salon_figures(salon=salon)  # the policy read once, then from the cache
            with CaptureQueriesContext(connection) as alone:
                salon_figures(salon=salon)
        client.force_login(team_a.owner)
        client.get(URL)
        with CaptureQueriesContext(connection) as page:
            assert client.get(URL).status_code == 200
        return len(alone), len(page)

    few = measure()
    # The figures' seven, the summaries' three (a lock, a reading, a writing), the
    # policy's, the requests', the come-back messages', a transaction's.
    assert few[0] <= 14
    cat = catalogue_a
    with salon_scope(salon):
        many = [CustomerFactory(salon=salon, phone=f"+336000000{n:02}") for n in range(40)]
        past_visits_import(
            salon=salon,
            visits=[
                visit(
                    salon,
                    cat,
                    many[n % 40],
                    (cat.alice, cat.bob)[n % 2],
                    at(salon, 1 + n % 2, 1 + n % 27, 9 + n % 8),
                    at(salon, 1, 1, 8),
                    (HONOURED, MISSED, CANCELLED_LATE, CANCELLED_IN_TIME)[n % 4],
                    cancelled_at=at(salon, 1 + n % 2, 1 + n % 27, 8),
                    paid=1000 * (n % 3 > 0),
                    money="credited" if n % 4 == 2 else "",
                )
                for n in range(400)
            ],
        )
        for n in range(50):
            CustomerRequest.objects.create(
                salon=salon,
                channel="web",
                category="other",
                summary="?",
                opened_at=at(salon, 2, 1 + n % 27),
                first_response_at=at(salon, 2, 1 + n % 27, 12),
            )
        with django_assert_num_queries(few[0]):
            figures = salon_figures(salon=salon)
    assert sum(m.appointments + m.cancelled for m in figures.months) == 409
    assert measure() == few


@pytest.mark.django_db(transaction=True)
def test_the_owner_reads_the_figures_in_french_in_a_browser(
    browser_page, team_a, team_b, catalogue_a, catalogue_b
):
    page = browser_page  # French, desktop size
    with time_machine.travel(MONDAY, tick=True):
        _history(team_a, team_b, catalogue_a, catalogue_b)
        page.goto("/admin/login/?next=" + URL)
        page.fill("#id_username", "bella-owner")
        page.fill("#id_password", PASSWORD)
        page.click("[type=submit]")
        page.wait_for_url(f"**{URL}")
        expect(page.locator("h3#by-staff")).to_have_text("Par membre de l\u2019équipe")
        charts = page.locator("svg[role=img]")
        expect(charts).to_have_count(2)
        expect(charts.first.locator("title").first).to_have_text(
            "Taux d\u2019absence et d\u2019annulation tardive, par mois"
        )
        expect(page.locator("#compare")).to_contain_text("33,3\u00a0%")
        expect(page.locator("a[href*='table=staff']")).to_be_visible()
        assert axe_violations(page) == []


def _figures_queries(salon, **kwargs):
    reset_queries()
    with salon_scope(salon):
        salon_figures(salon=salon, **kwargs)  # the policy read once, then from the cache
        with CaptureQueriesContext(connection) as captured:
            salon_figures(salon=salon, **kwargs)
    return len(captured)


PHONES = itertools.count(1000)


def _random_history(salon, cat, team, rng, count, start_days):
    """`count` past visits ending every way, spread over the last `start_days` days (and
    some at midnight on the 1st, salon-local, where a month begins), each booked some days
    before, half of them with a deposit."""
    customers = [CustomerFactory(salon=salon, phone=f"+33677{next(PHONES):06d}") for _ in range(12)]
    now = dt.datetime.now(dt.UTC)
    visits = []
    for n in range(count):
        start = now - dt.timedelta(minutes=15 * rng.randrange(2, start_days * 96))
        if n % 10 == 0:  # just after midnight on the 1st, salon-local
            local = start.astimezone(salon.tz)
            start = dt.datetime(local.year, local.month, 1, 0, 15, tzinfo=salon.tz)
        ended = rng.choice((HONOURED, HONOURED, MISSED, CANCELLED_IN_TIME, CANCELLED_LATE))
        cancelled = ended in (CANCELLED_IN_TIME, CANCELLED_LATE)
        paid = rng.choice((0, 1000, 1500))
        visits.append(
            visit(
                salon,
                cat,
                rng.choice(customers),
                rng.choice(team),
                start,
                start - dt.timedelta(days=rng.randrange(1, 40), minutes=rng.randrange(60)),
                ended,
                cancelled_at=(
                    start - dt.timedelta(hours=rng.choice((1, 3, 30, 50, 100)))
                    if cancelled
                    else None
                ),
                paid=paid,
                money=rng.choice(("", "refunded", "credited")) if cancelled and paid else "",
                credit_used=rng.random() < 0.5,
            )
        )
    return past_visits_import(salon=salon, visits=visits)


def _counted_one_by_one(salon, figures):
    """The figures' counts made again booking by booking, in Python, from the rows."""
    policy, _steps = policy_get(salon=salon)
    tz = salon.tz
    since = dt.datetime.combine(figures.since, dt.time(), tzinfo=tz)
    now = dt.datetime.now(dt.UTC)
    window = dt.timedelta(hours=policy.cancellation_window_hours)
    valid = dt.timedelta(days=policy.credit_valid_days)
    everyone = [b for b in Booking.objects.all() if b.status != "expired"]
    spent = set(CreditEntry.objects.filter(kind="used").values_list("grant__booking_id", flat=True))
    payments = {}
    for payment in Payment.objects.filter(status="succeeded"):
        payments.setdefault(payment.booking_id, []).append(payment)
    starts = [p.starts_on for p, _row in figures.periods]
    months, staff, periods = {}, {}, {}
    for b in everyone:
        if not since <= b.start < now:
            continue
        row = Row(None, "")
        client_cancelled = b.status == "cancelled" and not b.cancelled_by_salon
        deadline = min(b.start - window, b.cancellation_deadline or b.start - window)
        row.appointments = int(b.status in ("completed", "no_show"))
        row.no_shows = int(b.status == "no_show")
        row.cancelled = int(b.status == "cancelled")
        row.client_cancelled = int(client_cancelled)
        row.late_cancelled = int(client_cancelled and b.cancelled_at > deadline)
        row.rebooked = int(
            b.status == "cancelled"
            and (
                b.pk in spent
                or any(
                    o.customer_id == b.customer_id
                    and b.cancelled_at < o.created_at <= b.cancelled_at + valid
                    for o in everyone
                )
            )
        )
        for payment in payments.get(b.pk, []):
            row.paid += payment.amount
            if b.status == "no_show" or payment.outcome == "forfeited":
                row.kept += payment.amount
            elif payment.outcome == "refunded":
                row.refunded += payment.amount
            elif payment.outcome == "credited":
                row.credited += payment.amount
        booked_on = b.created_at.astimezone(tz).date()
        period = max(i for i, day in enumerate(starts) if day is None or day <= booked_on)
        keys = (
            (months, b.start.astimezone(tz).date().replace(day=1)),
            (staff, b.staff_id),
            (periods, period),
        )
        for table, key in keys:
            table.setdefault(key, Row(key, "")).add(row)
    return months, staff, periods


def test_the_figures_equal_a_count_made_booking_by_booking(
    team_a, team_b, catalogue_a, catalogue_b, monday
):
    salon, cat = team_a.salon, catalogue_a
    rng = random.Random(17)  # noqa: S311 (a history, not a secret)
    with salon_scope(salon):
        policy_set(
            salon=salon,
            rule={"kind": "none"},
            ramp=[
                {"starts_on": dt.date(2026, 10, 1), "rule": {"kind": "percent", "value": 20}},
                {"starts_on": dt.date(2027, 1, 15), "rule": {"kind": "fixed", "value": 1500}},
            ],
        )
        team = [cat.alice, cat.bob] + [
            staff_save(salon=salon, staff=None, name=f"Staff {n}", service_ids=[cat.cut.pk])
            for n in range(3)
        ]
        booked = _random_history(salon, cat, team, rng, 300, 420)  # some before the window
        # Some cancelled by the salon (never late), some with a deadline of their own
        # (a move kept it), some expired (counted nowhere, not even as a rebooking).
        cancelled = [b for b in booked if b.status == "cancelled"]
        Booking.objects.filter(pk__in=[b.pk for b in cancelled[::5]]).update(
            cancelled_by_salon=True
        )
        for b in cancelled[1::4]:
            Booking.objects.filter(pk=b.pk).update(
                cancellation_deadline=b.start - dt.timedelta(hours=rng.choice((2, 120)))
            )
        Booking.objects.filter(pk__in=[b.pk for b in booked[3::40]]).update(status="expired")
    with salon_scope(team_b.salon):  # the other salon's history is never counted
        _random_history(team_b.salon, catalogue_b, [catalogue_b.alice], rng, 40, 300)

    with salon_scope(salon):
        figures = owner_figures(salon=salon)
        months, staff, periods = _counted_one_by_one(salon, figures)
    assert sum(row.appointments for row in months.values()) > 100  # a history to count
    assert len(months) >= 11 and len(staff) == 5  # the current month is eight hours old
    for row in figures.months:
        assert _counts(row) == _counts(months.get(row.key, Row(None, ""))), row.label
    assert {row.key: _counts(row) for row in figures.staff if sum(_counts(row))} == {
        key: _counts(row) for key, row in staff.items()
    }
    assert [_counts(row) for _period, row in figures.periods] == [
        _counts(periods.get(index, Row(None, ""))) for index in range(3)
    ]


def test_the_queries_do_not_grow_with_months_staff_or_bookings(
    team_a, team_b, catalogue_a, catalogue_b, monday
):
    salon, cat = team_a.salon, catalogue_a
    rng = random.Random(5)  # noqa: S311 (a history, not a secret)
    with salon_scope(salon):
        _random_history(salon, cat, [cat.alice], rng, 20, 60)
    few = _figures_queries(salon)
    assert few <= 14
    with salon_scope(salon):
        team = [
            staff_save(salon=salon, staff=None, name=f"Staff {n}", service_ids=[cat.cut.pk])
            for n in range(6)
        ]
        _random_history(salon, cat, [cat.alice, cat.bob, *team], rng, 300, 700)
    assert _figures_queries(salon) == few
    assert _figures_queries(salon, months=24) == few
    with salon_scope(salon):
        assert len(owner_figures(salon=salon, months=24).months) == 24


def _all_counts(row):
    return tuple(getattr(row, name) for name in COUNTED)


def _assert_exact(salon):
    """The figures (summaries read where kept) equal a count made booking by booking."""
    figures = owner_figures(salon=salon)
    months, staff, periods = _counted_one_by_one(salon, figures)
    for row in figures.months:
        assert _all_counts(row) == _all_counts(months.get(row.key, Row(None, ""))), row.label
    assert {row.key: _all_counts(row) for row in figures.staff if any(_all_counts(row))} == {
        key: _all_counts(row) for key, row in staff.items()
    }
    assert [_all_counts(row) for _period, row in figures.periods] == [
        _all_counts(periods.get(index, Row(None, ""))) for index in range(len(figures.periods))
    ]
    return figures


def _closed(salon):
    return set(FigureMonth.objects.values_list("month", flat=True))


def test_the_summaries_stay_exact_through_writes_to_past_months(
    team_a, team_b, catalogue_a, catalogue_b, monday
):
    salon, cat = team_a.salon, catalogue_a
    rng = random.Random(23)  # noqa: S311 (a history, not a secret)
    with salon_scope(salon):
        policy_set(
            salon=salon,
            rule={"kind": "none"},
            ramp=[{"starts_on": dt.date(2026, 10, 1), "rule": {"kind": "percent", "value": 20}}],
        )
        team = [cat.alice, cat.bob]
        booked = _random_history(salon, cat, team, rng, 250, 400)
        first = _assert_exact(salon)  # counts the closed months and keeps them
        closed = {row.key for row in first.months[:-1]}
        assert _closed(salon) == closed and not FigureDirty.objects.exists()
        # Read from the summaries, not counted again: a summary altered behind the
        # triggers' back shows (and is then set right by a write to its month).
        february = FigureMonth.objects.get(month=dt.date(2027, 2, 1))
        FigureMonth.objects.filter(pk=february.pk).update(
            cells=[[cat.alice.pk, 0, 1000, 0, 0, 0, 0, 0, 0, 0, 0, 0]]
        )
        assert owner_figures(salon=salon).months[-2].appointments >= 1000
        in_february = [b for b in booked if b.start.astimezone(salon.tz).month == 2]
        Booking.objects.filter(pk=in_february[0].pk).update(staff=cat.bob)
        _assert_exact(salon)

        past = [b for b in booked if b.start < dt.datetime(2027, 2, 1, tzinfo=salon.tz)]
        rounds = 0
        for _ in range(4):
            before = [_all_counts(row) for row in owner_figures(salon=salon).months[:-1]]
            honoured = [b for b in past if b.status == "completed"]
            # A past visit missed after all, one moved to the other staff member (saved
            # by the ORM), one cancelled by the client.
            missed = rng.choice(honoured)
            Booking.objects.filter(pk=missed.pk).update(status="no_show")
            missed.status = "no_show"
            moved = Booking.objects.get(pk=rng.choice(honoured).pk)
            moved.staff = cat.bob if moved.staff_id == cat.alice.pk else cat.alice
            moved.save(update_fields=["staff"])
            gone = rng.choice([b for b in honoured if b.status == "completed"])
            Booking.objects.filter(pk=gone.pk).update(
                status="cancelled", cancelled_at=gone.start - dt.timedelta(hours=2)
            )
            gone.status = "cancelled"
            # A deposit refunded after all, one taken for more, one deleted.
            payments = list(Payment.objects.filter(booking__in=past, status="succeeded"))
            Payment.objects.filter(pk=rng.choice(payments).pk).update(outcome="refunded")
            Payment.objects.filter(pk=rng.choice(payments).pk).update(amount=F("amount") + 700)
            spare = Payment.objects.filter(booking__in=past).exclude(
                pk__in=CreditEntry.objects.filter(payment__isnull=False).values("payment_id")
            )
            Payment.objects.filter(pk=spare.order_by("?").first().pk).delete()
            # A credit use moved to another cancellation's grant (no longer "spent").
            used = CreditEntry.objects.filter(kind="used").order_by("?").first()
            grants = CreditEntry.objects.filter(kind="granted").exclude(pk=used.grant_id)
            if grants.exists():
                used.grant = grants.order_by("?").first()
                used.save(update_fields=["grant"])
            # A client who cancelled in January books again today: that cancellation is
            # rebooked now, in its own (closed) month, which nothing else marked.
            fresh = CustomerFactory(salon=salon, phone=f"+33677{next(PHONES):06d}")
            start = dt.datetime(2027, 1, 10 + rounds, 10, tzinfo=salon.tz)
            [lone] = past_visits_import(
                salon=salon,
                visits=[
                    visit(
                        salon,
                        cat,
                        fresh,
                        cat.alice,
                        start,
                        start - dt.timedelta(days=5),
                        CANCELLED_LATE,
                        cancelled_at=start - dt.timedelta(hours=3),
                    )
                ],
            )
            january = owner_figures(salon=salon).months[-3]
            assert not FigureDirty.objects.exists()
            past_visits_import(
                salon=salon,
                visits=[
                    visit(
                        salon,
                        cat,
                        fresh,
                        cat.alice,
                        MONDAY - dt.timedelta(hours=1),
                        lone.cancelled_at + dt.timedelta(hours=1),
                        HONOURED,
                    )
                ],
            )
            assert FigureDirty.objects.exists()  # the triggers marked the months
            assert owner_figures(salon=salon).months[-3].rebooked == january.rebooked + 1
            after = _assert_exact(salon)
            assert not FigureDirty.objects.exists()  # consumed
            rounds += [_all_counts(row) for row in after.months[:-1]] != before
        assert rounds == 4  # each round changed some closed month
        # A new policy (other periods, window, validity): every month counted again.
        policy_set(
            salon=salon,
            rule={"kind": "none"},
            ramp=[{"starts_on": dt.date(2026, 12, 20), "rule": {"kind": "fixed", "value": 1000}}],
            cancellation_window_hours=72,
            credit_valid_days=30,
        )
        _assert_exact(salon)
        assert _closed(salon) == closed
        # Another time zone: other month boundaries, every month counted again.
        Salon.objects.filter(pk=salon.pk).update(timezone="America/Toronto")
        salon.refresh_from_db()
        _assert_exact(salon)
        # The other salon's writes mark its own months only and leave these alone.
        kept = list(FigureMonth.objects.order_by("month").values_list("month", "cells"))
    with salon_scope(team_b.salon):
        _random_history(team_b.salon, catalogue_b, [catalogue_b.alice], rng, 30, 300)
        assert FigureDirty.objects.exists() and not FigureMonth.objects.exists()
        _assert_exact(team_b.salon)
    with salon_scope(salon):
        assert not FigureDirty.objects.exists()
        assert list(FigureMonth.objects.order_by("month").values_list("month", "cells")) == kept
        _assert_exact(salon)


def test_a_month_marked_while_it_is_counted_stays_marked(team_a, catalogue_a, monday):
    salon, cat = team_a.salon, catalogue_a
    with salon_scope(salon):
        booked = _random_history(salon, cat, [cat.alice], random.Random(3), 40, 200)  # noqa: S311
        owner_figures(salon=salon)
        policy, steps = policy_get(salon=salon)
        summaries = MonthSummaries(
            salon, signature=signature_of(salon, policy, [None, *(s.starts_on for s in steps)])
        )
        months = sorted(_closed(salon))
        assert summaries.read(months).keys() == set(months)
        # A write lands between the reading and the storing.
        late = next(b for b in booked if b.start < dt.datetime(2027, 2, 1, tzinfo=salon.tz))
        Booking.objects.filter(pk=late.pk).update(status="no_show")
        summaries.write({})
        month = late.start.astimezone(salon.tz).date().replace(day=1)
        # Its month (and those of the client's earlier cancellations it might rebook).
        assert month in set(FigureDirty.objects.values_list("month", flat=True))
        _assert_exact(salon)
        assert not FigureDirty.objects.exists()


def test_spending_a_closed_months_credit_marks_that_month(team_a, catalogue_a, monday):
    salon, cat = team_a.salon, catalogue_a
    with salon_scope(salon):
        fresh = CustomerFactory(salon=salon, phone=f"+33677{next(PHONES):06d}")
        start = dt.datetime(2027, 1, 12, 10, tzinfo=salon.tz)
        [lone] = past_visits_import(
            salon=salon,
            visits=[
                visit(
                    salon,
                    cat,
                    fresh,
                    cat.alice,
                    start,
                    start - dt.timedelta(days=5),
                    CANCELLED_IN_TIME,
                    cancelled_at=start - dt.timedelta(days=3),
                    paid=1000,
                    money="credited",
                )
            ],
        )
        january = _assert_exact(salon).months[-3]
        assert (january.cancelled, january.rebooked) == (1, 0)
        assert not FigureDirty.objects.exists()
        grant = CreditEntry.objects.get(kind="granted", booking=lone)
        CreditEntry.objects.create(  # spent on nothing the figures count but the grant
            salon=salon, customer=fresh, kind="used", amount=500, currency="EUR", grant=grant
        )
        assert _assert_exact(salon).months[-3].rebooked == 1


def test_a_deposit_kept_later_marks_its_bookings_month(team_a, catalogue_a, monday):
    salon, cat = team_a.salon, catalogue_a
    with salon_scope(salon):
        client = CustomerFactory(salon=salon, phone=f"+33677{next(PHONES):06d}")
        start = dt.datetime(2027, 1, 12, 10, tzinfo=salon.tz)
        [lone] = past_visits_import(
            salon=salon,
            visits=[
                visit(
                    salon,
                    cat,
                    client,
                    cat.alice,
                    start,
                    start - dt.timedelta(days=5),
                    CANCELLED_IN_TIME,
                    cancelled_at=start - dt.timedelta(days=3),
                    paid=1000,
                )
            ],
        )
        assert _assert_exact(salon).months[-3].kept == 0
        assert not FigureDirty.objects.exists()
        Payment.objects.filter(booking=lone).update(outcome="forfeited")
        assert _assert_exact(salon).months[-3].kept == 1000


def test_the_nightly_job_consumes_each_salons_marks_without_the_owner(
    team_a, team_b, catalogue_a, catalogue_b, monday
):
    """Marks are consumed when the figures are read: the nightly job reads them for every
    salon, so they never pile up behind an owner who does not open the page."""
    rng = random.Random(7)  # noqa: S311 (a history, not a secret)
    for team, cat in ((team_a, catalogue_a), (team_b, catalogue_b)):
        with salon_scope(team.salon):
            _random_history(team.salon, cat, [cat.alice], rng, 20, 200)
            assert FigureDirty.objects.exists()
    with salon_scope(team_a.salon):
        assert figures_apply(salon_id=team_a.salon.pk) == 0
        assert not FigureDirty.objects.exists() and FigureMonth.objects.exists()
        _assert_exact(team_a.salon)
    with salon_scope(team_b.salon):
        assert FigureDirty.objects.exists()  # the other salon's marks wait for its own run
        assert figures_apply(salon_id=team_b.salon.pk) == 0
        assert not FigureDirty.objects.exists()
