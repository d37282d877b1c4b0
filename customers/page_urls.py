from django.urls import path

from . import views

urlpatterns = [
    path("<slug:salon>/unsubscribe/<str:token>/", views.consent_withdraw, name="consent-withdraw"),
]
