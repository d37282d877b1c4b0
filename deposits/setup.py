"""A new salon's setup checklist, and its Stripe account connected (Stripe Connect).

The checklist: details and photos, opening hours, services, staff, the deposit policy,
payments, a first booking; "ready" when every step is done. Read in one query for the
steps and the policy's (cached) read, whatever the salon holds.

Connecting Stripe: an Express account created for the salon (once: its id is kept, and the
call carries an idempotency key derived from the salon), then Stripe's hosted onboarding
through an account link; the account's state (charges enabled, details submitted) is read
back from Stripe on return and by its `account.updated` event, and kept on the salon.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, OuterRef
from django_scopes import scopes_disabled

from bookings.models import Booking, Service, StaffMember, StaffService, WorkingHours
from tenants.models import Salon
from tenants.services import Actor, salon_settings_check, salon_update

from .gateway import ConnectedAccount, GatewayError, WebhookEvent, payment_gateway, test_mode
from .models import DepositPolicy, policy_values
from .rules import Rule, rule_in_force
from .selectors import policy_get, salon_today

STEPS = ("details", "hours", "services", "staff", "policy", "payments", "booking")


@dataclass(frozen=True)
class Step:
    key: str  # one of STEPS
    done: bool


@dataclass(frozen=True)
class Checklist:
    salon: Salon
    steps: tuple[Step, ...]
    rule: Rule | None  # the policy's rule today, when one is saved
    rule_since: dt.date | None  # the ramp step it comes from, if any
    test_mode: bool  # payments through the labelled test-mode gateway: no money moves
    missing_details: tuple[str, ...]  # the salon's fields still empty

    @property
    def ready(self) -> bool:
        return all(step.done for step in self.steps)

    @property
    def done_count(self) -> int:
        return sum(step.done for step in self.steps)

    def step(self, key: str) -> Step:
        return next(step for step in self.steps if step.key == key)


DETAILS = ("name", "address", "phone", "description", "logo", "cover")


def setup_checklist(*, salon: Salon) -> Checklist:
    """Where the salon stands in its setup, in the salon's scope. One query for the steps
    (each an EXISTS), and the policy's read (cached)."""
    active_staff = StaffMember.objects.filter(salon=OuterRef("pk"), active=True)
    found = (
        Salon.objects.filter(pk=salon.pk)
        .annotate(
            has_hours=Exists(WorkingHours.objects.filter(salon=OuterRef("pk"), staff__active=True)),
            has_services=Exists(Service.objects.filter(salon=OuterRef("pk"), active=True)),
            has_staff=Exists(
                active_staff.filter(
                    Exists(StaffService.objects.filter(staff=OuterRef("pk"), service__active=True))
                )
            ),
            has_policy=Exists(DepositPolicy.objects.filter(salon=OuterRef("pk"))),
            has_booking=Exists(Booking.objects.filter(salon=OuterRef("pk"))),
        )
        .values(
            *DETAILS,
            "stripe_account",
            "stripe_charges_enabled",
            "stripe_details_submitted",
            "has_hours",
            "has_services",
            "has_staff",
            "has_policy",
            "has_booking",
        )
        .get()
    )
    missing = tuple(name for name in DETAILS if not found[name])
    rule = since = None
    if found["has_policy"]:
        policy, ramp = policy_get(salon=salon)
        rule, since = rule_in_force(policy_values(policy, ramp), salon_today(salon))
    testing = test_mode()
    paid = testing or bool(
        found["stripe_account"]
        and found["stripe_charges_enabled"]
        and found["stripe_details_submitted"]
    )
    steps = (
        Step("details", not missing),
        Step("hours", found["has_hours"]),
        Step("services", found["has_services"]),
        Step("staff", found["has_staff"]),
        Step("policy", found["has_policy"]),
        Step("payments", paid),
        Step("booking", found["has_booking"]),
    )
    return Checklist(salon, steps, rule, since, testing, missing)


def _account_state_store(salon: Salon, account: ConnectedAccount) -> None:
    salon_update(
        salon=salon,
        stripe_account=account.id,
        stripe_charges_enabled=account.charges_enabled,
        stripe_details_submitted=account.details_submitted,
    )


def stripe_connect_start(*, salon: Salon, actor: Actor, refresh_url: str, return_url: str) -> str:
    """The address of Stripe's onboarding for the salon's connected account, created
    first when the salon has none. Its owners only (PermissionDenied otherwise);
    GatewayError when Stripe fails or in test mode."""
    salon_settings_check(salon=salon, actor=actor)
    gateway = payment_gateway()
    if test_mode():
        raise GatewayError("Test mode: there is no Stripe account to connect.")
    account = salon.stripe_account
    if not account:
        created = gateway.account_create(
            country=salon.country,
            email=salon.email,
            business_name=salon.name,
            url=f"{str(settings.SITE_URL).rstrip('/')}/{salon.slug}/",
            idempotency_key=f"salon-{salon.pk}-connect-account",
        )
        _account_state_store(salon, created)
        account = created.id
    # A link is single-use and short-lived: a new one each minute, the same on a retry.
    minute = int(time.time() // 60)
    return gateway.account_link(
        account=account,
        refresh_url=refresh_url,
        return_url=return_url,
        idempotency_key=f"salon-{salon.pk}-account-link-{account}-{minute}",
    )


def stripe_account_refresh(*, salon: Salon) -> ConnectedAccount | None:
    """The salon's connected account read back from Stripe, its state kept on the salon;
    None when it has none. GatewayError when Stripe fails."""
    if not salon.stripe_account or test_mode():
        return None
    account = payment_gateway().account_retrieve(account=salon.stripe_account)
    _account_state_store(salon, account)
    return account


def stripe_account_updated(event: WebhookEvent) -> bool:
    """An `account.updated` event: the state of the salon whose account it is, kept.
    False when no salon has that account."""
    account_id = event.data.get("id")
    # A Connect event names the account it comes from: it must be the one it is about.
    if not isinstance(account_id, str) or not account_id or event.account != account_id:
        return False
    # The event names no salon: found by its account, across salons.
    with scopes_disabled():
        salon = Salon.objects.filter(stripe_account=account_id).first()
    if salon is None:
        return False
    _account_state_store(
        salon,
        ConnectedAccount(
            id=account_id,
            charges_enabled=bool(event.data.get("charges_enabled")),
            details_submitted=bool(event.data.get("details_submitted")),
        ),
    )
    return True
