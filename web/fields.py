import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class SalonDateTimeField(serializers.DateTimeField):
    """ISO 8601 in any offset on the way in (a time without one is salon-local); the
    salon's time zone on the way out. The serializer's context carries `tz`.

    Times from 2000 to 2999 only: nothing a salon books lies outside, and before 1970
    or so time zones had offsets in seconds (Paris until 1911), which RFC 3339, and so
    the schema's `date-time`, cannot write."""

    FIRST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    LAST = dt.datetime(3000, 1, 1, tzinfo=dt.UTC)

    def _tz(self) -> ZoneInfo:
        return self.context.get("tz") or ZoneInfo("UTC")

    def to_internal_value(self, value: Any) -> dt.datetime:
        try:
            # A well-formed but impossible time (minute 61, day 31 of April) is a
            # ValueError; one at the edge of what datetime holds an OverflowError.
            parsed = parse_datetime(value) if isinstance(value, str) else None
            if parsed is not None and parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=self._tz())
            moment = parsed.astimezone(dt.UTC) if parsed is not None else None
        except (ValueError, OverflowError):
            moment = None
        if moment is None:
            raise serializers.ValidationError(
                "Give a date and time in ISO 8601, e.g. 2026-12-01T09:00:00+01:00."
            )
        if not self.FIRST <= moment < self.LAST:
            raise serializers.ValidationError("Give a time from the year 2000 to 2999.")
        return moment

    def to_representation(self, value: dt.datetime) -> str | None:  # type: ignore[override]
        return value.astimezone(self._tz()).isoformat() if value else None


@extend_schema_field(
    {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "09:00"}
)
class HourMinuteField(serializers.TimeField):
    """A wall-clock time written `HH:MM` (OpenAPI's `time` format wants the seconds)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%H:%M", **kwargs)


class SalonRowField(serializers.PrimaryKeyRelatedField):
    """The id of one of the salon's own rows. Read in the request's scope when the field
    is used, never when the serializer class is built: another salon's id is "invalid"."""

    def __init__(self, model: Any, **kwargs: Any) -> None:
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self) -> Any:
        return self.model.objects.all()
