import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.dateparse import parse_date, parse_datetime
from rest_framework import serializers


class SalonDateTimeField(serializers.DateTimeField):
    """ISO 8601 in any offset on the way in (a time without one is salon-local); the
    salon's time zone on the way out. The serializer's context carries `tz`."""

    def _tz(self) -> ZoneInfo:
        return self.context.get("tz") or ZoneInfo("UTC")

    def to_internal_value(self, value: Any) -> dt.datetime:
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is None:
            raise serializers.ValidationError(
                "Give a date and time in ISO 8601, e.g. 2026-12-01T09:00:00+01:00."
            )
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=self._tz())
        return parsed.astimezone(dt.UTC)

    def to_representation(self, value: dt.datetime) -> str | None:  # type: ignore[override]
        return value.astimezone(self._tz()).isoformat() if value else None


def query_date(params: Any, name: str, errors: dict[str, list[str]]) -> dt.date | None:
    raw = params.get(name)
    if raw in (None, ""):
        errors[name] = ["This parameter is required (YYYY-MM-DD)."]
        return None
    try:
        parsed = parse_date(raw)
    except ValueError:
        parsed = None
    if parsed is None:
        errors[name] = ["Give a date as YYYY-MM-DD."]
    return parsed


def query_id(params: Any, name: str, errors: dict[str, list[str]]) -> int | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    if not (str(raw).isascii() and str(raw).isdigit()) or len(str(raw)) > 18:
        errors[name] = ["Give a whole number."]
        return None
    return int(raw)
