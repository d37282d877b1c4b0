"""Abuse limits: bookings per client address and per phone or e-mail, sign-in attempts per
address and per username, counted in Redis so that they hold under parallel requests."""

import re
import threading
from collections import Counter

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from tests.conftest import local

# The attempts of a test fall in one window of the limits only when time stands still
# (`monday`): a window's edge between two of them would start the count again.
pytestmark = pytest.mark.rate_limits

BOOKINGS = "/api/v1/salons/bella/bookings/"
TOKEN = "/api/v1/auth/token/"


def _in_parallel(count: int, attempt) -> Counter:
    """`attempt(n)` in `count` threads let go at once; the status codes they got."""
    barrier = threading.Barrier(count)
    codes: list[int] = []
    lock = threading.Lock()

    def run(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            response = attempt(n)
            if response.status_code == 429:
                if response["Content-Type"] == "application/json":
                    assert response.json()["code"] == "throttled"
                assert int(response.headers["Retry-After"]) > 0
            with lock:
                codes.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(codes) == count
    return Counter(codes)


def _booking(catalogue, n: int, *, service: int | None = None, **customer) -> dict:
    start = local(catalogue.salon, 1 + n // 10, 9 + n % 10).isoformat()
    details = {"name": f"Client {n}", "phone": f"06 11 22 00 {n:02}", **customer}
    return {"service": service or catalogue.cut.pk, "start": start, "customer": details}


def _attempt(catalogue, n: int, **customer) -> dict:
    """A booking request refused after the limits have counted it (400: no such service):
    the parallel tests book nothing, so no message is queued for a worker to send while
    their tables are emptied."""
    return _booking(catalogue, n, service=catalogue.cut.pk + 10_000, **customer)


@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_bookings_from_one_address_let_ten_through(catalogue_a, monday):
    codes = _in_parallel(
        50,
        lambda n: APIClient(REMOTE_ADDR="198.51.100.7").post(
            BOOKINGS, _attempt(catalogue_a, n), format="json"
        ),
    )
    assert codes == {400: 10, 429: 40}


@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_bookings_for_one_phone_from_many_addresses_let_ten_through(
    catalogue_a, monday
):
    # One number, typed four ways: it counts as one client.
    forms = ["06 12 34 56 78", "+33612345678", "0033 6 12 34 56 78", "+33 (0)6.12.34.56.78"]
    codes = _in_parallel(
        50,
        lambda n: APIClient(REMOTE_ADDR=f"203.0.113.{n + 1}").post(
            BOOKINGS, _attempt(catalogue_a, n, phone=forms[n % 4]), format="json"
        ),
    )
    assert codes == {400: 10, 429: 40}


@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_bookings_for_one_email_let_ten_through(catalogue_a, monday):
    codes = _in_parallel(
        50,
        lambda n: APIClient(REMOTE_ADDR=f"203.0.113.{n + 1}").post(
            BOOKINGS,
            _attempt(
                catalogue_a,
                n,
                phone="",
                email="Lea.Martin@Example.org" if n % 2 else " lea.martin@example.org",
            ),
            format="json",
        ),
    )
    assert codes == {400: 10, 429: 40}


@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_logins_for_one_username_from_many_addresses_let_ten_through(team_a, monday):
    names = ["bella-owner", "Bella-Owner", " bella-owner"]
    codes = _in_parallel(
        50,
        lambda n: APIClient(REMOTE_ADDR=f"203.0.113.{n + 1}").post(
            TOKEN, {"username": names[n % 3], "password": "guess"}, format="json"
        ),
    )
    assert codes == {400: 10, 429: 40}


@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_desk_logins_for_one_username_let_ten_through(team_a, monday):
    codes = _in_parallel(
        50, lambda n: _desk_login(Client(REMOTE_ADDR=f"203.0.113.{n + 1}"), "bella-owner", "guess")
    )
    assert codes == {200: 10, 429: 40}


def _desk_login(client: Client, username: str, password: str):
    return client.post("/desk/login/", {"username": username, "password": password})


@pytest.mark.django_db
def test_the_booking_page_refuses_the_eleventh_attempt_with_a_message(client, catalogue_a, monday):
    def form(n: int) -> dict:
        return {
            "service": catalogue_a.cut.pk,
            "staff": catalogue_a.alice.pk,
            "start": local(catalogue_a.salon, 1, 9 + n % 10).isoformat(),
            "name": f"Client {n}",
            "phone": f"06 11 22 00 {n:02}",
            "email": "",
            "notes": "",
            "payment_option": "deposit",
            "action": "book",
        }

    answers = [client.post("/bella/book/", form(n), HTTP_ACCEPT_LANGUAGE="en") for n in range(11)]
    assert all(a.status_code in {302, 400, 409} for a in answers[:10])
    refused = answers[10]
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "Too many booking attempts" in refused.content.decode()
    # The API shares the counter: the same address is refused there too.
    assert (
        client.post(
            BOOKINGS, _booking(catalogue_a, 11), content_type="application/json"
        ).status_code
        == 429
    )


@pytest.mark.django_db
def test_the_booking_page_counts_a_phone_across_addresses(catalogue_a, monday):
    answers = [
        Client(REMOTE_ADDR=f"203.0.113.{n + 1}").post(
            "/bella/book/",
            {
                "service": catalogue_a.cut.pk,
                "start": local(catalogue_a.salon, 1, 9).isoformat(),
                "name": "Léa",
                "phone": "+33 6 12 34 56 78" if n % 2 else "0612345678",
                "email": "",
                "action": "book",
                "payment_option": "deposit",
            },
        )
        for n in range(11)
    ]
    assert [a.status_code for a in answers].count(429) == 1
    assert answers[10].status_code == 429


class CountingHasher(MD5PasswordHasher):
    """Counts the password hashings: the work a sign-in does, seen from outside as time."""

    calls = 0

    def encode(self, password: str, salt: str) -> str:
        CountingHasher.calls += 1
        return super().encode(password, salt)


def _hashings(settings, attempt) -> tuple[int, object]:
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    CountingHasher.calls = 0
    result = attempt()
    return CountingHasher.calls, result


def _same_page(a, b, names: tuple[str, str]) -> tuple[str, str]:
    def plain(response, name: str) -> str:
        text = response.content.decode().replace(name, "NAME")  # the name typed, echoed
        text = re.sub(r"in \d+ seconds?", "in N seconds", text)  # as Retry-After
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "TOKEN", text)

    return plain(a, names[0]), plain(b, names[1])


@pytest.mark.django_db
def test_sign_in_answers_the_same_for_existing_and_unknown_accounts(settings, team_a, monday):
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(username="bella-staff").update(is_active=False)
    names = ("bella-owner", "nobody-here")

    def token(name: str):
        return APIClient(REMOTE_ADDR=f"192.0.2.{len(name)}").post(
            TOKEN, {"username": name, "password": "guess"}, format="json"
        )

    def desk(name: str):
        return Client(REMOTE_ADDR=f"192.0.2.{len(name)}").post(
            "/desk/login/", {"username": name, "password": "guess"}
        )

    for attempt in (token, desk):
        for _round in range(11):  # the last round is refused, and alike too
            work_a, known = _hashings(settings, lambda f=attempt: f(names[0]))
            work_b, unknown = _hashings(settings, lambda f=attempt: f(names[1]))
            assert known.status_code == unknown.status_code
            # When to retry depends on the name typed (the window's offset), not on the account.
            assert known.headers.keys() == unknown.headers.keys()
            assert {**known.headers, "Retry-After": ""} == {**unknown.headers, "Retry-After": ""}
            assert sorted(known.cookies) == sorted(unknown.cookies)
            assert _same_page(known, unknown, names)[0] == _same_page(known, unknown, names)[1]
            assert work_a == work_b
        assert known.status_code == 429
    # An inactive account answers as an unknown one (with its right password too).
    inactive = APIClient(REMOTE_ADDR="192.0.2.200").post(
        TOKEN, {"username": "bella-staff", "password": "password"}, format="json"
    )
    assert inactive.status_code == 400


@pytest.mark.django_db
def test_a_refused_sign_in_is_refused_even_with_the_right_password(client, team_a, monday):
    team_a.owner.set_password("s3cret-Bella!")
    team_a.owner.save()
    for _ in range(10):
        client.post("/desk/login/", {"username": "bella-owner", "password": "guess"})
    refused = client.post(
        "/desk/login/",
        {"username": "bella-owner", "password": "s3cret-Bella!"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert refused.status_code == 429
    assert "Too many attempts to log in" in refused.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_admin_login_is_limited_per_username(superuser, monday):
    answers = [
        Client(REMOTE_ADDR=f"203.0.113.{n + 1}").post(
            "/admin/login/", {"username": "root", "password": "guess", "next": "/admin/"}
        )
        for n in range(11)
    ]
    assert [a.status_code for a in answers] == [200] * 10 + [429]
    assert int(answers[10]["Retry-After"]) > 0


@pytest.mark.django_db
def test_forwarded_addresses_are_ignored_unless_a_proxy_header_is_trusted(settings, team_a, monday):
    def attempts() -> list[int]:
        return [
            APIClient()
            .post(
                TOKEN,
                {"username": f"user{n}", "password": "guess"},
                format="json",
                HTTP_X_FORWARDED_FOR=f"10.0.0.1, 203.0.113.{n + 1}",
            )
            .status_code
            for n in range(11)
        ]

    # Off (the default): a client naming itself in X-Forwarded-For is still one address.
    assert attempts()[-1] == 429
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    # Trusted: the last entry, the one the proxy added, is the client's address.
    assert attempts() == [400] * 11


@pytest.mark.django_db
def test_rate_limits_off_lets_everything_through(settings, team_a):
    settings.RATE_LIMITS = False
    client = APIClient()
    codes = {
        client.post(TOKEN, {"username": "x", "password": "y"}, format="json").status_code
        for _ in range(15)
    }
    assert codes == {400}


@pytest.mark.django_db
def test_limits_fail_open_when_the_cache_is_unreachable(settings, team_a):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }
    client = APIClient()
    codes = {
        client.post(TOKEN, {"username": "x", "password": "y"}, format="json").status_code
        for _ in range(12)
    }
    assert codes == {400}


@pytest.mark.django_db
def test_a_username_locked_is_locked_in_every_unicode_spelling_of_it(superuser, team_a, monday):
    """Django signs `alice` in full-width letters in as `alice` (NFKC): one name to the limits."""
    team_a.owner.set_password("s3cret-Bella!")
    team_a.owner.save()
    superuser.set_password("s3cret-Root!")
    superuser.save()
    wide = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in "bella-owner")
    assert wide != "bella-owner" and wide.isascii() is False

    def address(n: int) -> str:
        return f"203.0.113.{n + 1}"

    # The API's token endpoint.
    for n in range(10):
        APIClient(REMOTE_ADDR=address(n)).post(
            TOKEN, {"username": "bella-owner", "password": "guess"}, format="json"
        )
    token = APIClient(REMOTE_ADDR=address(10)).post(
        TOKEN, {"username": wide, "password": "s3cret-Bella!"}, format="json"
    )
    assert token.status_code == 429
    # The desk's login shares the group's counters: the spelling is refused there too,
    desk = Client(REMOTE_ADDR=address(11))
    refused = desk.post("/desk/login/", {"username": wide.upper(), "password": "s3cret-Bella!"})
    assert refused.status_code == 429
    assert "_auth_user_id" not in desk.session

    # and the admin's, counted afresh for another user.
    root = "".join(chr(ord(c) + 0xFEE0) for c in "ROOT")
    for n in range(10):
        Client(REMOTE_ADDR=address(20 + n)).post(
            "/admin/login/", {"username": "root", "password": "guess", "next": "/admin/"}
        )
    admin = Client(REMOTE_ADDR=address(31))
    answer = admin.post(
        "/admin/login/", {"username": root, "password": "s3cret-Root!", "next": "/admin/"}
    )
    assert answer.status_code == 429
    assert "_auth_user_id" not in admin.session
