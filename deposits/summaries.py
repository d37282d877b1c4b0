"""The summaries of the owner's figures for closed months (deposits/figures.py): each
closed month's counts kept in FigureMonth, read instead of counted while still exact.

Exact because the database marks, in FigureDirty, every month a write to the bookings,
payments or credit entries may change (triggers, deposits/migrations/0009), and because a
summary counted under another time zone or policy (its signature) is not read. The months
marked, or missing, are counted again and stored in the transaction that reads them; the
marks consumed are those read before counting, so a write made meanwhile stays marked.
One reader at a time per salon (a transaction-level advisory lock): two could otherwise
store their counts in the wrong order. PostgreSQL only: on SQLite every month is counted."""

from __future__ import annotations

import datetime as dt
import json

from django.db import connection

from tenants.models import Salon

from .models import DepositPolicy

LOCK = 17_005  # the advisory lock's first key: the figures' summaries (the second: the salon)


def signature_of(salon: Salon, policy: DepositPolicy, starts: list[dt.date | None]) -> str:
    """What a month's counts depend on besides its rows: the salon's time zone (months,
    days), the policy's steps (periods), window (late cancellations) and credit validity
    (rebookings)."""
    return json.dumps(
        [
            salon.timezone,
            [str(day) if day else None for day in starts],
            policy.cancellation_window_hours,
            policy.credit_valid_days,
        ]
    )


class MonthSummaries:
    """One reading of a salon's summaries, then one writing, inside a transaction."""

    def __init__(self, salon: Salon, *, signature: str) -> None:
        self.salon = salon
        self.signature = signature
        self.enabled = connection.vendor == "postgresql"
        self.marks: list[int] = []
        self.marked: set[dt.date] = set()

    def read(self, months: list[dt.date]) -> dict[dt.date, list[list[int]]]:
        """The cells of those of `months` whose summary is exact. Two queries."""
        if not self.enabled:
            return {}
        stored = {}
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK, self.salon.pk])
            cursor.execute(
                "SELECT id, month, NULL, NULL::jsonb FROM deposits_figuredirty WHERE salon_id = %s"
                " UNION ALL SELECT NULL, month, signature, cells FROM deposits_figuremonth"
                " WHERE salon_id = %s AND month = ANY(%s)",
                [self.salon.pk, self.salon.pk, months],
            )
            for mark, month, signature, cells in cursor.fetchall():
                if mark is not None:
                    self.marks.append(mark)
                    self.marked.add(month)
                elif signature == self.signature:
                    stored[month] = json.loads(cells) if isinstance(cells, str) else cells
        return {month: cells for month, cells in stored.items() if month not in self.marked}

    def write(self, counted: dict[dt.date, list[list[int]]]) -> None:
        """Store the months counted, consume the marks read, and forget the summaries of
        the months marked but not counted (outside the window asked). One query, always
        (none on SQLite)."""
        if not self.enabled:
            return
        forgotten = sorted(self.marked - set(counted))
        rows = [{"month": str(month), "cells": cells} for month, cells in counted.items()]
        with connection.cursor() as cursor:
            cursor.execute(
                "WITH consumed AS (DELETE FROM deposits_figuredirty WHERE id = ANY(%s)),"
                " forgotten AS (DELETE FROM deposits_figuremonth"
                " WHERE salon_id = %s AND month = ANY(%s))"
                " INSERT INTO deposits_figuremonth (salon_id, month, signature, cells)"
                " SELECT %s, m.month, %s, m.cells"
                " FROM jsonb_to_recordset(%s::jsonb) AS m(month date, cells jsonb)"
                " ON CONFLICT (salon_id, month)"
                " DO UPDATE SET signature = EXCLUDED.signature, cells = EXCLUDED.cells",
                [
                    self.marks,
                    self.salon.pk,
                    forgotten,
                    self.salon.pk,
                    self.signature,
                    json.dumps(rows),
                ],
            )
