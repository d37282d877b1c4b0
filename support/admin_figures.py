"""The owner's figures page in the admin (the deposits dashboard, extended): no-shows and
late cancellations before and after deposits, the deposits' money, credit, rebooked
cancellations, the requests answered and the invitations to come back, by month and by
staff member; charts drawn here as SVG, each table exportable as CSV
(`?format=csv&table=months|staff`).

It lives in `support` because its figures include the requests (support comes after
deposits); it replaces the dashboard view of deposits/admin.py at the same address."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import formats
from django.utils.translation import get_language, gettext, ngettext
from django.utils.translation import gettext_lazy as _

from bookings.admin import admin_money
from core.dates import today_in
from core.query import FIRST_DAY, LAST_DAY, day_parse
from deposits.admin import DepositPolicyAdmin
from deposits.admin_policy import rule_words
from deposits.agreements import owed_open_total
from deposits.figures import Period, Row
from deposits.models import DepositPolicy
from messaging.outbox.rules import NUDGE_REBOOKED_DAYS
from tenants.admin import may_admin
from tenants.models import Salon
from tenants.scoping import salon_scope
from tenants.selectors import admin_salon_ids

from .figures import OTHERS, salon_figures
from .waitlist_figures import refill_figures

CHART_HEIGHT = 200


def rate_text(rate: float | None) -> str:
    if rate is None:
        return "-"
    return f"{formats.number_format(100 * rate, 1)}\u00a0%"


def wait_text(wait: dt.timedelta | None) -> str:
    """A first-response time as an owner reads it: minutes, hours and minutes, or days."""
    if wait is None:
        return "-"
    minutes = round(wait.total_seconds() / 60)
    if minutes < 60:
        return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    if minutes < 48 * 60:
        return gettext("%(h)d h %(m)02d min") % {"h": minutes // 60, "m": minutes % 60}
    days = round(minutes / (24 * 60))
    return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}


def period_words(period: Period, currency: str) -> str:
    words = rule_words(period.rule, currency, get_language() or "en")
    if period.starts_on is None:
        return gettext("Base rule: %(rule)s") % {"rule": words}
    return gettext("From %(date)s: %(rule)s") % {
        "date": formats.date_format(period.starts_on, "SHORT_DATE_FORMAT"),
        "rule": words,
    }


def _row(row: Row, currency: str) -> dict[str, Any]:
    return {
        "label": row.label,
        "appointments": row.appointments,
        "no_shows": row.no_shows,
        "rate": rate_text(row.no_show_rate),
        "cancelled": row.cancelled,
        "late_cancelled": row.late_cancelled,
        "late_rate": rate_text(row.late_cancel_rate),
        "rebooked": row.rebooked,
        **{
            key: admin_money(getattr(row, key), currency)
            for key in ("paid", "kept", "refunded", "credited")
        },
        "requests": row.requests,
        "answered": row.answered,
        "median": wait_text(row.response_median),
        "nudges": row.nudges,
        "nudges_rebooked": row.nudges_rebooked,
    }


# The CSV's columns: a header and how to read it from a row.
def _csv_columns(currency: str) -> list[tuple[str, Any]]:
    def amount(key: str) -> Any:
        return lambda r: formats.number_format(getattr(r, key) / 100, 2)

    def rate(key: str) -> Any:
        return lambda r: (
            "" if getattr(r, key) is None else formats.number_format(100 * getattr(r, key), 1)
        )

    def minutes(r: Row) -> str:
        wait = r.response_median
        return "" if wait is None else formats.number_format(wait.total_seconds() / 60, 0)

    return [
        (gettext("Appointments"), lambda r: r.appointments),
        (gettext("No-shows"), lambda r: r.no_shows),
        (gettext("No-show rate (%)"), rate("no_show_rate")),
        (gettext("Cancelled"), lambda r: r.cancelled),
        (gettext("Late cancellations"), lambda r: r.late_cancelled),
        (gettext("Late-cancellation rate (%)"), rate("late_cancel_rate")),
        (gettext("Rebooked cancellations"), lambda r: r.rebooked),
        (gettext("Taken (%(currency)s)") % {"currency": currency}, amount("paid")),
        (gettext("Kept (%(currency)s)") % {"currency": currency}, amount("kept")),
        (gettext("Refunded (%(currency)s)") % {"currency": currency}, amount("refunded")),
        (gettext("Credited (%(currency)s)") % {"currency": currency}, amount("credited")),
        (gettext("Requests"), lambda r: r.requests),
        (gettext("Requests answered"), lambda r: r.answered),
        (gettext("Median first response (minutes)"), minutes),
        (gettext("Come-back messages sent"), lambda r: r.nudges),
        (gettext("Booked after a come-back message"), lambda r: r.nudges_rebooked),
    ]


class FiguresAdmin(DepositPolicyAdmin):
    """The deposit policy's admin, whose dashboard shows every figure an owner acts on."""

    def get_urls(self) -> list[Any]:
        recovered = path(
            "recovered/", self.admin_site.admin_view(self.recovered_view), name="deposits_recovered"
        )
        return [recovered, *super().get_urls()]

    def recovered_view(self, request: HttpRequest) -> HttpResponse:
        salon_ids = sorted(
            Salon.objects.values_list("pk", flat=True)
            if request.user.is_superuser
            else admin_salon_ids(request.user)  # type: ignore[arg-type]
        )
        wanted = request.GET.get("salon", "")
        salon_id = int(wanted) if wanted.isascii() and wanted.isdigit() else None
        if salon_id not in salon_ids:
            salon_id = salon_ids[0] if salon_ids else None
        if salon_id is None or not may_admin(request, salon_id):
            raise PermissionDenied
        salon = Salon.objects.get(pk=salon_id)
        with salon_scope(salon):
            figures = salon_figures(salon=salon)
            owed = owed_open_total(salon_id=salon.pk)
        currency = salon.currency
        for row in figures.staff:
            if row.key == OTHERS:
                row.label = gettext("Others (not on the staff list)")
        if request.GET.get("format") == "csv":
            return self._csv(request, salon, figures)

        peak = max([m.paid for m in figures.months] + [1])
        rate_peak = max(
            [r for m in figures.months for r in (m.no_show_rate, m.late_cancel_rate) if r] + [0.01]
        )
        first = figures.first_deposit
        months = []
        for index, m in enumerate(figures.months):
            shown = _row(m, currency)
            period = figures.month_period[m.key]
            shown["period"] = period_words(period, currency)
            paid = round(CHART_HEIGHT * m.paid / peak)
            kept = round(CHART_HEIGHT * m.kept / peak)
            no_show = round(CHART_HEIGHT * (m.no_show_rate or 0) / rate_peak)
            late = round(CHART_HEIGHT * (m.late_cancel_rate or 0) / rate_peak)
            shown |= {
                "x": 100 * index,
                "paid_h": paid,
                "paid_y": CHART_HEIGHT - paid,
                "kept_h": kept,
                "kept_y": CHART_HEIGHT - kept,
                "no_show_h": no_show,
                "no_show_y": CHART_HEIGHT - no_show,
                "late_h": late,
                "late_y": CHART_HEIGHT - late,
                # The month the first deposit was asked in: a line on the chart.
                "starts_deposits": first is not None
                and first.starts_on is not None
                and first.starts_on.replace(day=1) == m.key,
            }
            months.append(shown)
        periods = []
        for period, row in figures.periods:
            shown = _row(row, currency)
            shown["label"] = period_words(period, currency)
            periods.append(shown)
        compare = None
        if first is not None and (figures.before.appointments or figures.before.cancelled):
            compare = {
                "before": _row(figures.before, currency),
                "after": _row(figures.after, currency),
                "change": period_words(first, currency),
            }
        with salon_scope(salon):
            refill = self._refill(request, salon, figures.since)
        context = {
            **self.admin_site.each_context(request),
            "refill": refill,
            "title": _("What deposits recovered"),
            "salon": salon,
            "months": months,
            "staff": [_row(s, currency) for s in figures.staff],
            "periods": periods,
            "compare": compare,
            "width": 100 * len(months),
            "chart_height": CHART_HEIGHT,
            "nudges": sum(m.nudges for m in figures.months),
            "nudges_rebooked": sum(m.nudges_rebooked for m in figures.months),
            "nudge_days": NUDGE_REBOOKED_DAYS,
            "outstanding": admin_money(figures.credit_outstanding, currency),
            "expiring": admin_money(figures.credit_expiring, currency),
            "owed": admin_money(owed, currency) if owed else "",
            "salons": Salon.objects.filter(pk__in=salon_ids) if len(salon_ids) > 1 else [],
        }
        return TemplateResponse(request, "admin/deposits/recovered.html", context)

    def _refill(self, request: HttpRequest, salon: Salon, since: dt.date) -> dict[str, Any]:
        """The waitlist's figures for the period asked (`refill_from`, `refill_to`,
        salon-local dates), by default the twelve months above; a date that is not one,
        or a period the wrong way round, falls back to them, and says so."""
        today = today_in(salon.tz)
        first = day_parse(request.GET.get("refill_from")) or since
        last = day_parse(request.GET.get("refill_to")) or today
        problem = ""
        if not FIRST_DAY <= first <= last <= LAST_DAY:
            problem = gettext("The period was not valid: the twelve months are shown.")
            first, last = since, today
        figures = refill_figures(salon=salon, first=first, last=last)
        return {
            "first": first,
            "last": last,
            "problem": problem,
            "freed": figures.freed,
            "refilled": figures.refilled,
            "rate": rate_text(figures.refill_rate),
            "median": wait_text(figures.refill_median),
            "revenue": admin_money(figures.revenue, salon.currency),
            "waiting": figures.waiting,
        }

    def _csv(self, request: HttpRequest, salon: Salon, figures: Any) -> HttpResponse:
        """One table as CSV for a spreadsheet: UTF-8 with a BOM (Excel reads the accents),
        in the admin's language: `;` and decimal commas in French, as Excel there wants."""
        by_staff = request.GET.get("table") == "staff"
        rows: list[Row] = figures.staff if by_staff else figures.months
        columns = _csv_columns(salon.currency)
        french = (get_language() or "en").startswith("fr")
        out = io.StringIO()
        out.write("\ufeff")
        writer = csv.writer(out, delimiter=";" if french else ",", lineterminator="\r\n")
        first = gettext("Staff member") if by_staff else gettext("Month")
        writer.writerow([first, *(header for header, _read in columns)])
        for row in rows:
            writer.writerow([row.label, *(read(row) for _header, read in columns)])
        table = "staff" if by_staff else "months"
        day = today_in(salon.tz).isoformat()
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="{salon.slug}-figures-{table}-{day}.csv"'
        )
        return response


admin.site.unregister(DepositPolicy)
admin.site.register(DepositPolicy, FiguresAdmin)
