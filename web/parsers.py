"""The API's parser (its own module: DRF imports it while building its views, before
web.errors, which imports those views, can be)."""

from typing import Any

from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, which also refuses a body nested deeper than Python recurses
    (`[[[[…]]]]` a hundred thousand deep): `json` raises RecursionError there, not the
    ValueError DRF turns into a 400."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError(
                "JSON parse error - the body is nested too deeply."
            ) from exc
