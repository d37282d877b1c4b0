"""Signing in to the desk, and finding one's salon."""

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, LogoutView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse, reverse_lazy

from tenants.login import LoginForm, refused_response
from tenants.selectors import member_salons


class DeskLoginView(LoginView):
    template_name = "desk/login.html"
    redirect_authenticated_user = True
    form_class = LoginForm

    def form_invalid(self, form: LoginForm) -> HttpResponse:  # type: ignore[override]
        return refused_response(super().form_invalid(form), form)

    def get_default_redirect_url(self) -> str:
        return reverse("desk:home")


class DeskLogoutView(LogoutView):
    next_page = reverse_lazy("desk:login")  # type: ignore[assignment]


@login_required(login_url=reverse_lazy("desk:login"))
def home(request: HttpRequest) -> HttpResponse:
    """Straight to the desk of one's salon; a choice when one works for several."""
    salons = member_salons(user=request.user)  # type: ignore[arg-type]  # signed in
    if len(salons) == 1:
        return HttpResponseRedirect(reverse("desk:calendar", kwargs={"salon": salons[0].slug}))
    return render(request, "desk/home.html", {"salons": salons}, status=200 if salons else 403)
