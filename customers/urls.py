from django.urls import path

from . import api

backoffice = "salons/<slug:salon>/backoffice"

urlpatterns = [
    path(f"{backoffice}/customers/", api.CustomerListView.as_view(), name="customer-list"),
    path(
        f"{backoffice}/customers/<int:pk>/",
        api.CustomerDetailView.as_view(),
        name="customer-detail",
    ),
    path(
        f"{backoffice}/customers/<int:pk>/export/",
        api.CustomerExportView.as_view(),
        name="customer-export",
    ),
    path(
        f"{backoffice}/customers/<int:pk>/erase/",
        api.CustomerEraseView.as_view(),
        name="customer-erase",
    ),
    path(
        f"{backoffice}/customers/<int:pk>/merge/",
        api.CustomerMergeView.as_view(),
        name="customer-merge",
    ),
    path(
        f"{backoffice}/customers/<int:pk>/consents/",
        api.CustomerConsentsView.as_view(),
        name="customer-consents",
    ),
]
