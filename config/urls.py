"""The project's URLs: the admin and the API's schema and docs here, every door in
`web/urls.py`."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

handler400 = "web.errors.bad_request"
handler403 = "web.errors.permission_denied"
handler404 = "web.errors.page_not_found"
handler500 = "web.errors.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view loads its script from a URL: the CSP allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("i18n/", include("django.conf.urls.i18n")),
    # What salons upload, served by Django under `make run` only (DEBUG); in production
    # by the web server or the storage's own address (README, "Pictures").
    *static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT),
    path("", include("web.urls")),
]
