from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views

handler400 = "config.api.bad_request"
handler403 = "config.api.permission_denied"
handler404 = "config.api.page_not_found"
handler500 = "config.api.server_error"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view loads its script from a URL: the CSP allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("tenants.urls")),
    path("api/v1/", include("customers.urls")),
    path("api/v1/", include("bookings.urls")),
    path("api/v1/", include("deposits.urls")),
    path("api/v1/", include("support.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("desk/", include("support.desk_urls")),
    path("", views.home, name="home"),
    path("", include("support.page_urls")),
    path("", include("customers.page_urls")),
    path("", include("deposits.page_urls")),  # last: `<salon>/` takes what is left
]
