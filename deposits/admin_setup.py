"""The setup checklist's pages in the admin (setup.py): the checklist on the index for a
salon's owners and on a page of its own, and Stripe Connect's onboarding from there."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tenants.admin import may_admin, may_own
from tenants.models import Salon
from tenants.scoping import salon_scope
from tenants.selectors import admin_salon_ids

from .admin_policy import rule_words
from .gateway import GatewayError
from .setup import Checklist, setup_checklist, stripe_account_refresh, stripe_connect_start

TITLES = {
    "details": _("Salon details and photos"),
    "hours": _("Opening hours"),
    "services": _("Services"),
    "staff": _("The team"),
    "policy": _("Deposit policy"),
    "payments": _("Payments"),
    "booking": _("A test booking"),
}

WHY = {
    "details": _(
        "Clients find and recognise the salon: its name, address, phone, a description, "
        "a logo and a cover photo."
    ),
    "hours": _("Clients book only when someone works: each staff member's working hours."),
    "services": _("What clients book, with its length and price: at least one active service."),
    "staff": _("Someone to book: an active staff member who offers at least one service."),
    "policy": _("What clients pay when they book, and what happens when they do not come."),
    "payments": _("Deposits are paid to the salon's own Stripe account."),
    "booking": _("Book once as a client would, to see what they see."),
}

DETAIL_NAMES = {
    "name": _("name"),
    "address": _("address"),
    "phone": _("phone"),
    "description": _("description"),
    "logo": _("logo"),
    "cover": _("cover photo"),
}


def _link(key: str, checklist: Checklist) -> str:
    salon = checklist.salon
    if key == "details":
        return reverse("admin:tenants_salon_change", args=[salon.pk])
    if key == "services":
        return reverse("admin:bookings_service_changelist")
    if key in {"hours", "staff"}:
        return reverse("admin:bookings_staffmember_changelist")
    if key == "policy":
        return reverse("admin:deposits_depositpolicy_changelist")
    if key == "payments":
        return f"{setup_url(salon)}#payments"
    return reverse("salon-page", kwargs={"salon": salon.slug})


def setup_url(salon: Salon, **query: str) -> str:
    return f"{reverse('admin:deposits_setup')}?{urlencode({'salon': str(salon.pk), **query})}"


def _detail(key: str, checklist: Checklist) -> str:
    """What the step stands at, in words: what is missing, the rule, the account."""
    salon = checklist.salon
    if key == "details" and checklist.missing_details:
        names = [str(DETAIL_NAMES[name]) for name in checklist.missing_details]
        return gettext("Missing: %(fields)s.") % {"fields": ", ".join(names)}
    if key == "policy":
        if checklist.rule is None:
            return gettext("Not saved yet: no deposit is asked.")
        words = rule_words(checklist.rule, salon.currency, translation.get_language() or "en")
        return gettext("Today: %(rule)s.") % {"rule": words}
    if key == "payments":
        if checklist.test_mode:
            return gettext(
                "Test mode: no Stripe keys are set, so payments go through the test-mode "
                "gateway and no money moves."
            )
        if not salon.stripe_account:
            return gettext("No Stripe account connected yet.")
        yes, no = gettext("yes"), gettext("no")
        return gettext(
            "Stripe account %(account)s: charges enabled: %(charges)s; details submitted: "
            "%(details)s."
        ) % {
            "account": salon.stripe_account,
            "charges": yes if salon.stripe_charges_enabled else no,
            "details": yes if salon.stripe_details_submitted else no,
        }
    return ""


def checklist_context(checklist: Checklist) -> dict[str, Any]:
    return {
        "salon": checklist.salon,
        "ready": checklist.ready,
        "done_count": checklist.done_count,
        "total": len(checklist.steps),
        "setup_url": setup_url(checklist.salon),
        "steps": [
            {
                "key": step.key,
                "done": step.done,
                "title": TITLES[step.key],
                "why": WHY[step.key],
                "detail": _detail(step.key, checklist),
                "url": _link(step.key, checklist),
            }
            for step in checklist.steps
        ],
    }


def owned_checklists(request: HttpRequest) -> list[dict[str, Any]]:
    """The checklists of the salons the user owns (the admin's index shows them)."""
    if not request.user.is_authenticated or request.user.is_superuser:
        return []
    answer = []
    for salon in Salon.objects.filter(pk__in=admin_salon_ids(request.user)).order_by("pk"):
        if may_own(request, salon.pk):
            with salon_scope(salon):
                answer.append(checklist_context(setup_checklist(salon=salon)))
    return answer


class SetupPagesAdmin:
    """The checklist's page and Stripe's onboarding, under the deposit policy's admin."""

    admin_site: Any

    def setup_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("setup/", view(self.setup_view), name="deposits_setup"),
            path("setup/stripe/", view(self.stripe_connect_view), name="deposits_setup_stripe"),
        ]

    @staticmethod
    def _setup_salon(request: HttpRequest, *, strict: bool) -> Salon:
        """The salon of `?salon=<id>` (or the form's), one the user runs: with `strict`,
        it must be named; otherwise the user's first salon is taken."""
        salon_ids = sorted(
            Salon.objects.values_list("pk", flat=True)
            if request.user.is_superuser
            else admin_salon_ids(request.user)  # type: ignore[arg-type]
        )
        wanted = request.POST.get("salon") or request.GET.get("salon", "")
        salon_id = int(wanted) if wanted.isascii() and wanted.isdigit() else None
        if salon_id not in salon_ids:
            if strict:
                raise PermissionDenied
            salon_id = salon_ids[0] if salon_ids else None
        if salon_id is None or not may_admin(request, salon_id):
            raise PermissionDenied
        return Salon.objects.get(pk=salon_id)

    def setup_view(self, request: HttpRequest) -> HttpResponse:
        """The checklist of one of the user's salons; back from Stripe's onboarding
        (`?stripe=return`), the account's state read from Stripe first."""
        salon = self._setup_salon(request, strict=False)
        with salon_scope(salon):
            if request.GET.get("stripe") == "return" and may_own(request, salon.pk):
                try:
                    stripe_account_refresh(salon=salon)
                except GatewayError:
                    messages.error(request, gettext("Stripe could not be reached; try again."))
            checklist = setup_checklist(salon=salon)
        context = {
            **self.admin_site.each_context(request),
            **checklist_context(checklist),
            "title": _("Setting up the salon"),
            "may_connect": may_own(request, salon.pk) and not checklist.test_mode,
            "test_mode": checklist.test_mode,
            "connect_url": reverse("admin:deposits_setup_stripe"),
        }
        return TemplateResponse(request, "admin/deposits/setup.html", context)

    def stripe_connect_view(self, request: HttpRequest) -> HttpResponse:
        """Stripe's onboarding for the salon's account: a POST (the "Connect Stripe"
        button) creates the account when it has none; a GET (Stripe's refresh_url, once
        a link has expired) makes a new link for the account it has. Its owners only."""
        salon = self._setup_salon(request, strict=True)
        if not may_own(request, salon.pk):
            raise PermissionDenied
        if request.method != "POST" and not salon.stripe_account:
            return HttpResponseRedirect(setup_url(salon))
        refresh = request.build_absolute_uri(
            f"{reverse('admin:deposits_setup_stripe')}?{urlencode({'salon': salon.pk})}"
        )
        back = request.build_absolute_uri(setup_url(salon, stripe="return"))
        try:
            with salon_scope(salon):
                url = stripe_connect_start(
                    salon=salon, actor=request.user, refresh_url=refresh, return_url=back
                )
        except GatewayError:
            messages.error(request, gettext("Stripe could not be reached; try again."))
            return HttpResponseRedirect(setup_url(salon))
        return HttpResponseRedirect(url)
