"""Every address the product answers, door by door: the HTTP API under /api/v1/ (API.md),
the front desk under /desk/, and the client's pages. The pages come last: `<salon>/` takes
any top path left over, and `tenants.models.RESERVED_SLUGS` keeps salons off the product's
own."""

from django.urls import include, path

from web.api.urls import urlpatterns as api_patterns
from web.pages.urls import urlpatterns as page_patterns

urlpatterns = [
    path("api/v1/", include(api_patterns)),
    path("desk/", include("web.desk.urls")),
    *page_patterns,
]
