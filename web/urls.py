"""Every address the product answers, door by door: the API under /api/v1/ (API.md: the
client's side and the staff's), the front desk under /desk/, and the client's pages. The
pages come last: `<salon>/` takes any top path left over, and
`tenants.models.RESERVED_SLUGS` keeps salons off the product's own."""

from django.urls import include, path

from web.backoffice.urls import api_patterns as backoffice_api
from web.public.page_urls import urlpatterns as pages
from web.public.urls import api_patterns as public_api

urlpatterns = [
    path("api/v1/", include(public_api + backoffice_api)),
    path("desk/", include("web.desk.urls")),
    *pages,
]
