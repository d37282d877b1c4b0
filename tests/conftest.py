"""The common world: two salons, each with its owner, manager and staff."""

import datetime as dt
import hashlib
import hmac
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import requests
import time_machine
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from rest_framework.test import APIClient

from bookings.models import Service, StaffMember
from bookings.services import booking_create, catalogue_service_save, staff_hours_set, staff_save
from core.cache import breaker as cache_breaker
from tenants.models import Role, Salon
from tenants.scoping import salon_scope
from tenants.services import auth_token_get

from .factories import MembershipFactory, SalonFactory, UserFactory


def pytest_sessionstart(session: pytest.Session) -> None:
    """The suite runs on the real services; say so loudly when they are missing."""
    from django.db import connection

    if connection.vendor != "postgresql":
        engine = settings.DATABASES["default"]["ENGINE"]
        pytest.exit(f"The suite needs PostgreSQL (DATABASE_URL); got {engine}. Run `make test`.", 2)
    if not settings.REDIS_URL:
        pytest.exit("The suite needs Redis (REDIS_URL). Run `make test`.", 2)
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.exit(f"Redis at {settings.REDIS_URL} does not answer: {exc}", 2)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """schemathesis gives the test of each API operation its function's node id, only its
    name says which operation; pytest-xdist tells tests apart by node id and would run one
    of them. The name goes into the id."""
    for item in items:
        function = item.nodeid.rpartition("::")[2]
        if function != item.name and item.name.startswith(function):
            item._id = type(item._id).parse(item.nodeid + item.name.removeprefix(function))


@pytest.fixture(scope="session", autouse=True)
def _static_files() -> None:
    """Pages render with the production static storage, whose manifest comes from here."""
    call_command("collectstatic", interactive=False, verbosity=0)


@pytest.fixture(autouse=True)
def _fast_world(request, settings) -> None:
    # Production's password hasher is slow by design; the suite signs in users by the
    # dozen, so it hashes with a fast one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tests book and sign in from one client address by the dozen: the abuse limits are
    # off but in the tests about them (`@pytest.mark.rate_limits`).
    settings.RATE_LIMITS = request.node.get_closest_marker("rate_limits") is not None
    cache.clear()  # the limits' counters live there
    cache_breaker.reset()  # a cache that failed in another test is called again


@dataclass
class Team:
    salon: Salon
    owner: object
    manager: object
    staff: object


def _team(slug: str, **salon_fields: object) -> Team:
    salon: Salon = SalonFactory.create(slug=slug, **salon_fields)
    members = {
        role: MembershipFactory(salon=salon, role=role, user__username=f"{slug}-{role}").user
        for role in (Role.OWNER, Role.MANAGER, Role.STAFF)
    }
    return Team(salon, members[Role.OWNER], members[Role.MANAGER], members[Role.STAFF])


@pytest.fixture
def team_a(db) -> Team:
    return _team(
        "bella", name="Bella Coiffure", timezone="Europe/Paris", currency="EUR", country="FR"
    )


@pytest.fixture
def team_b(db) -> Team:
    return _team(
        "rival", name="Rival Barbers", timezone="America/Toronto", currency="CAD", country="CA"
    )


@pytest.fixture
def api():
    """An API client signed in as `user` by token (or anonymous with None)."""

    def client(user=None) -> APIClient:
        c = APIClient()
        if user is not None:
            c.credentials(HTTP_AUTHORIZATION=f"Token {auth_token_get(user=user)}")
        return c

    return client


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def celery_worker():
    """A real Celery worker on Redis, in a thread of the test process, for one test.

    Not kept for the session: a worker left running would pick up what later tests
    enqueue on commit and still be writing while their tables are flushed."""
    from config.celery import app

    assert not app.conf.task_always_eager, "the worker tests need REDIS_URL"
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker:
        yield worker


# The booking world: services, staff and their hours; time frozen on a Monday morning.

MONDAY = dt.datetime(2027, 3, 1, 7, 0, tzinfo=dt.UTC)  # 08:00 in Paris, 02:00 in Toronto


@dataclass
class Catalogue:
    salon: Salon
    cut: Service  # 45 min, no buffers
    colour: Service  # 60 min, 15 min after
    alice: StaffMember  # both services
    bob: StaffMember  # cuts only


def _catalogue(salon: Salon) -> Catalogue:
    with salon_scope(salon):
        cut = catalogue_service_save(
            salon=salon, service=None, name="Coupe", duration_minutes=45, price=6000
        )
        colour = catalogue_service_save(
            salon=salon,
            service=None,
            name="Couleur",
            duration_minutes=60,
            price=9000,
            buffer_after_minutes=15,
        )
        alice = staff_save(salon=salon, staff=None, name="Alice", service_ids=[cut.pk, colour.pk])
        bob = staff_save(salon=salon, staff=None, name="Bob", service_ids=[cut.pk])
        week = [{"weekday": d, "start": dt.time(9), "end": dt.time(19)} for d in range(6)]
        staff_hours_set(staff=alice, ranges=week)
        staff_hours_set(staff=bob, ranges=week)
    return Catalogue(salon, cut, colour, alice, bob)


@pytest.fixture
def monday():
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def catalogue_a(team_a) -> Catalogue:
    return _catalogue(team_a.salon)


@pytest.fixture
def catalogue_b(team_b) -> Catalogue:
    return _catalogue(team_b.salon)


def local(salon: Salon, day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A salon-local wall-clock time `day` days after the frozen Monday."""
    date = MONDAY.date() + dt.timedelta(days=day)
    return dt.datetime.combine(date, dt.time(hour, minute), tzinfo=salon.tz)


def policy_put(api, team, **changes) -> None:
    """The salon's deposit policy set by its owner through the API: a fixed €15 deposit,
    48 hours' notice, late cancellations kept as credit for 90 days, unless `changes` say
    otherwise."""
    body = {
        "rule": {"kind": "fixed", "value": 1500},
        "cancellation_window_hours": 48,
        "late_cancellation": "credit",
        "credit_valid_days": 90,
        **changes,
    }
    url = f"/api/v1/salons/{team.salon.slug}/backoffice/deposit-policy/"
    assert api(team.owner).put(url, body, format="json").status_code == 200


def book(catalogue: Catalogue, customer, start: dt.datetime, *, service=None, staff=None, **kw):
    with salon_scope(catalogue.salon):
        return booking_create(
            salon=catalogue.salon,
            service=service or catalogue.cut,
            staff=staff,
            start=start,
            customer=customer,
            **kw,
        )


# Stripe: the real SDK over HTTP against a local stand-in (tests/stripe_standin.py).


class StripeStandIn:
    def __init__(self, url: str) -> None:
        self.url = url

    def reset(self) -> None:
        requests.delete(f"{self.url}/_config/data", timeout=10).raise_for_status()

    def requests(self) -> list[dict]:
        return requests.get(f"{self.url}/_standin/requests", timeout=10).json()

    def fail(self, mode: str, times: int) -> None:
        requests.post(
            f"{self.url}/_standin/faults", json={"mode": mode, "times": times}, timeout=10
        ).raise_for_status()

    def pay(self, intent_id: str, card: str = "pm_card_visa") -> dict:
        """What the client's browser does with the Payment Element: pay the intent."""
        auth = {"Authorization": "Bearer sk_test_acompte"}
        requests.post(
            f"{self.url}/v1/payment_intents/{intent_id}",
            data={"payment_method": card},
            headers=auth,
            timeout=10,
        )
        answer = requests.post(
            f"{self.url}/v1/payment_intents/{intent_id}/confirm", headers=auth, timeout=10
        )
        return answer.json()

    @staticmethod
    def _headers(account: str | None) -> dict[str, str]:
        headers = {"Authorization": "Bearer sk_test_acompte"}
        if account:
            headers["Stripe-Account"] = account  # Stripe.js's `stripeAccount`
        return headers

    def card(self, number: str, account: str | None = None) -> str:
        """A card typed in the Payment Element: a PaymentMethod on the salon's account."""
        answer = requests.post(
            f"{self.url}/v1/payment_methods",
            data={
                "type": "card",
                "card[number]": number,
                "card[exp_month]": "12",
                "card[exp_year]": "2030",
                "card[cvc]": "123",
            },
            headers=self._headers(account),
            timeout=10,
        )
        answer.raise_for_status()
        return str(answer.json()["id"])

    def save_card(
        self, setup: dict, number: str, account: str | None = None, authenticate: bool = True
    ) -> dict:
        """What the page does with the SetupIntent: the card confirmed, and its 3-D Secure
        step passed when the card asks for one (`authenticate`). Returns each answer's
        status in order, and the SetupIntent as it ends."""
        method = self.card(number, account)
        answer = requests.post(
            f"{self.url}/v1/setup_intents/{setup['setup_intent']}/confirm",
            data={"payment_method": method, "client_secret": setup["client_secret"]},
            headers=self._headers(account),
            timeout=10,
        ).json()
        statuses = [answer.get("status") or answer.get("error", {}).get("code")]
        if answer.get("status") == "requires_action" and authenticate:
            answer = requests.post(
                f"{self.url}/v1/setup_intents/{setup['setup_intent']}/_authenticate",
                data={"client_secret": setup["client_secret"], "success": "true"},
                headers=self._headers(account),
                timeout=10,
            ).json()
            statuses.append(answer["status"])
        return {"statuses": statuses, "setup_intent": answer}

    def pay_with(self, intent_id: str, number: str, account: str | None = None) -> dict:
        """The client pays an intent on-session with a card typed on the pay page (with its
        3-D Secure step when the card asks for one)."""
        method = self.card(number, account)
        headers = self._headers(account)
        requests.post(
            f"{self.url}/v1/payment_intents/{intent_id}",
            data={"payment_method": method},
            headers=headers,
            timeout=10,
        ).raise_for_status()
        answer = requests.post(
            f"{self.url}/v1/payment_intents/{intent_id}/confirm", headers=headers, timeout=10
        ).json()
        if answer.get("status") == "requires_action":
            answer = requests.post(
                f"{self.url}/v1/payment_intents/{intent_id}/_authenticate",
                data={"client_secret": answer["client_secret"], "success": "true"},
                headers=headers,
                timeout=10,
            ).json()
        return answer

    def retrieve(self, kind: str, object_id: str, account: str | None = None) -> dict:
        answer = requests.get(
            f"{self.url}/v1/{kind}/{object_id}", headers=self._headers(account), timeout=10
        )
        return answer.json()


def _free_port_pair() -> int:
    for _ in range(50):
        with socket.socket() as a:
            a.bind(("127.0.0.1", 0))
            port = int(a.getsockname()[1])
        try:
            with socket.socket() as b:
                b.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise RuntimeError("no two free ports")


@pytest.fixture(scope="session")
def stripe_standin():
    port = _free_port_pair()
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent / "stripe_standin.py"), str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    line = process.stdout.readline()
    assert "ready" in line, line + process.stdout.read() if process.poll() is not None else line
    yield StripeStandIn(f"http://127.0.0.1:{port}")
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def stripe_api(stripe_standin, settings):
    """Settings that point the product's Stripe gateway at the stand-in, reset."""
    settings.STRIPE_SECRET_KEY = "sk_test_acompte"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_acompte"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_acompte_test"
    settings.STRIPE_API_BASE = stripe_standin.url
    settings.STRIPE_TIMEOUT_SECONDS = 1
    stripe_standin.reset()
    return stripe_standin


def stripe_signature(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A Stripe-Signature header as Stripe computes it."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={signed.hexdigest()}"


# Browser tests: Debian's Chromium through Playwright (tests/browser/harness.py).


@pytest.fixture(scope="session")
def chromium():
    from .browser.harness import chromium_browser

    yield from chromium_browser()


@pytest.fixture
def pages_server(live_server, settings):
    """The live server, serving the pages' static files.

    It serves them through the finders, which know no hashed names: the pages link them
    by their plain ones."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    return live_server


@pytest.fixture
def browser_page(chromium, pages_server):
    """A fresh browser page (desktop size, French) on the live server; `page.goto(path)`."""
    from .browser.harness import DESKTOP

    context = chromium.new_context(viewport=DESKTOP, locale="fr-FR", base_url=pages_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
