"""What an OPTIONS request to the API answers (REST_FRAMEWORK's DEFAULT_METADATA_CLASS).

A module of its own: DRF imports it while it defines its APIView, so it imports no view.
"""

from typing import TYPE_CHECKING, Any

from rest_framework.metadata import SimpleMetadata

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


class Metadata(SimpleMetadata):
    """The operation's name, description and media types.

    The fields of each operation are the schema's to describe (`/api/schema/`). DRF's own
    metadata builds a view's serializer to list them, which fails (a 500) on the views
    that validate with serializers of their own choosing."""

    def determine_metadata(self, request: "Request", view: "APIView") -> dict[str, Any]:
        return {
            "name": view.get_view_name(),
            "description": view.get_view_description(),
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
        }
