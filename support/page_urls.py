from django.urls import path

from . import views

urlpatterns = [
    path("pay/<str:token>/", views.pay_page, name="pay"),
    path("manage/<str:token>/verify/", views.manage_verify, name="manage-verify-page"),
    path("<slug:salon>/verify/", views.salon_verify, name="salon-verify"),
]
