"""Invariant 7, bad input: every operation of the API's own OpenAPI schema, fed by
schemathesis with valid and invalid requests, answers a 4xx in the error shape of API.md
or a response the schema describes, and never a 5xx.

The requests run in process, through the WSGI application, signed in as the owner of a
salon with a real world behind it (two salons, their catalogues, clients, bookings, a
request): path ids point at real rows most of the time, so that the operations reach past
their 404. State accumulates within one operation's examples; each operation starts from a
fresh world."""

import json
import re
import zlib
from typing import Any

import pytest
import schemathesis
import yaml
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from config.wsgi import application
from support.waitlist import waitlist_token
from tenants.services import auth_token_get
from tests.api_world import SalonWorld, salon_world

pytestmark = pytest.mark.django_db

CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {
            "mode": "all",  # valid and invalid requests
            "deterministic": True,
            "database": "none",
            "max-examples": 12,
        },
        # Both phases run: the coverage phase enumerates the boundary values of every
        # field and the methods an operation does not take (it found OPTIONS answering
        # 500); the fuzzing phase, seeded, draws the rest. About three minutes in all.
        "phases": {"coverage": {"enabled": True}, "fuzzing": {"enabled": True}},
    }
)

schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG)


@pytest.fixture
def world(settings, team_a, team_b, catalogue_a, catalogue_b, monday):
    settings.PAYMENTS_TEST_MODE = True
    ours = salon_world(team_a, catalogue_a)
    salon_world(team_b, catalogue_b)  # the other salon's rows exist too
    # The application is called straight through WSGI, as a server would, inside the
    # test's transaction: Django's per-request connection clean-up would close the
    # connection that transaction lives on. Django's test client unhooks it the same way
    # (and hooks it back after each of its requests: hence here, once the world is built).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield ours
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _real_ids(world: SalonWorld, path: str) -> list[Any]:
    """The real values of the path's id for this world, by the collection it names."""
    if "/waitlist/offers/" in path:
        return [world.offer.token]
    if "/waitlist/{token}" in path:
        return [waitlist_token(world.entry)]
    if "{token}" in path:
        return [world.manage_token(world.booking), world.manage_token(world.held)]
    if "{intent_id}" in path:
        return [world.intent_id]
    collections = {
        "bookings": [world.booking.pk, world.held.pk],
        "customers": [world.customer.pk],
        "services": [world.catalogue.cut.pk, world.catalogue.colour.pk],
        "staff": [world.catalogue.alice.pk, world.catalogue.bob.pk],
        "time-off": [world.time_off.pk],
        "requests": [world.customer_request.pk],
        "members": [world.membership.pk],
    }
    parts = path.split("/")
    for name, ids in collections.items():
        if name in parts and "{id}" in parts:
            return ids
    return []


def _aim(case: schemathesis.Case, world: SalonWorld) -> None:
    """Fill `{salon}` with the world's salon, and, two times in three, the id with a real
    one (chosen from the generated value, so that a run is reproducible)."""
    params = case.path_parameters
    if not params:
        return
    if "salon" in params:
        params["salon"] = world.slug
    for name in ("id", "token", "intent_id"):
        if name in params:
            generated = params[name]
            spin = zlib.crc32(repr(generated).encode())
            real = _real_ids(world, case.path)
            if real and spin % 3:
                params[name] = real[spin % len(real)]


@schemathesis.check
def error_shape(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """A 4xx answers `{"code", "detail"}` (strings), plus `fields` (an object) when the
    code is `invalid`."""
    if not 400 <= response.status_code < 500:
        return None
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        raise AssertionError(f"{response.status_code} without a JSON body") from exc
    assert isinstance(body, dict), f"{response.status_code} answered {body!r}"
    assert isinstance(body.get("code"), str), f"no string `code`: {body!r}"
    assert isinstance(body.get("detail"), str), f"no string `detail`: {body!r}"
    if "fields" in body or body["code"] == "invalid":
        assert isinstance(body.get("fields"), dict), f"`fields` is not an object: {body!r}"
    return True


CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance, error_shape]


@schema.parametrize()
@settings(
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_answers_hostile_input_in_its_contract(case, world):
    _aim(case, world)
    token = auth_token_get(user=world.team.owner)
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)


@given(
    body=st.binary(max_size=300)
    | st.builds(
        lambda d: json.dumps(d).encode(),
        st.dictionaries(st.text(max_size=10), st.text(max_size=10) | st.integers(), max_size=5),
    ),
    signature=st.text(max_size=80).filter(lambda s: "\n" not in s and "\r" not in s),
    content_type=st.sampled_from(
        ["application/json", "text/plain", "application/x-www-form-urlencoded"]
    ),
)
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_stripe_webhook_refuses_what_stripe_did_not_sign(
    client, settings, body, signature, content_type
):
    """With Stripe configured (the SDK checks the signature locally: nothing leaves the
    process), whatever arrives unsigned is a 400 in the error shape, never a 5xx."""
    settings.STRIPE_SECRET_KEY = "sk_test_acompte"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_acompte_test"
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # a call out would fail loudly
    response = client.generic(
        "POST",
        "/api/v1/stripe/webhook/",
        body,
        content_type=content_type,
        HTTP_STRIPE_SIGNATURE=signature,
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert isinstance(response.json()["fields"], dict)


def test_options_on_every_operation_answers_without_a_server_error(world, api):
    """OPTIONS, which no client of ours sends but anyone may: the schema's coverage phase
    found three views answering it 500 (DRF built their serializer to describe it)."""
    paths = yaml.safe_load(api().get("/api/schema/").content)["paths"]
    owner = api(world.team.owner)
    answers = {}
    for path in paths:
        url = re.sub(r"\{[^}]+\}", "1", path.replace("{salon}", world.slug))
        answers[path] = owner.options(url)
    assert {p: r.status_code for p, r in answers.items() if r.status_code >= 500} == {}
    assert sum(r.status_code == 200 for r in answers.values()) > len(paths) // 2
    for response in answers.values():
        if response.status_code == 200:
            assert set(response.json()) == {"name", "description", "renders", "parses"}


# Each input below answered 500 when the running product was attacked from outside.


@pytest.mark.parametrize(
    ("first", "last"), [("0001-01-01", "0001-01-02"), ("9999-12-30", "9999-12-31")]
)
def test_availability_at_the_edges_of_the_calendar_is_a_400(api, catalogue_a, first, last):
    response = api().get(
        "/api/v1/salons/bella/availability/",
        {"service": catalogue_a.cut.pk, "from": first, "to": last},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert set(response.json()["fields"]) == {"from", "to"}


def test_bookings_list_in_the_year_9999_is_a_400(api, team_a):
    response = api(team_a.owner).get(
        "/api/v1/salons/bella/backoffice/bookings/", {"from": "9999-12-31", "to": "9999-12-31"}
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"from", "to"}


def test_a_body_nested_a_hundred_thousand_deep_is_a_parse_error(api, catalogue_a):
    body = "[" * 100_000 + "]" * 100_000
    response = api().post("/api/v1/salons/bella/bookings/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert "fields" not in response.json()


def test_an_email_longer_than_its_column_is_a_field_error(api, catalogue_a, monday):
    request = {
        "service": catalogue_a.cut.pk,
        "start": "2027-03-02T10:00:00+01:00",
        "customer": {"name": "Léa", "email": "a" * 290 + "@example.org"},
    }
    response = api().post("/api/v1/salons/bella/bookings/", request, format="json")
    assert response.status_code == 400
    assert "email" in response.json()["fields"]["customer"]


def test_a_search_holding_a_nul_is_a_400(api, team_a):
    response = api(team_a.manager).get("/api/v1/salons/bella/backoffice/customers/?search=%00")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"search"}


@pytest.mark.parametrize(
    "path",
    [
        "/desk/bella/?date=9999-12-31",
        "/desk/bella/?date=0001-01-01&view=week",
        "/desk/bella/book/?day=9999-12-31",
        "/desk/bella/book/slots/?day=9999-12-31",
    ],
)
def test_desk_pages_in_the_year_9999_are_a_400_page(client, catalogue_a, path):
    client.force_login(_staff(catalogue_a))
    assert client.get(path).status_code == 400


def test_a_desk_booking_for_the_year_9999_is_a_form_error(client, catalogue_a):
    client.force_login(_staff(catalogue_a))
    response = client.post(
        "/desk/bella/book/",
        {
            "step": "book",
            "customer": "new",
            "name": "Léa",
            "phone": "0612345678",
            "service": catalogue_a.cut.pk,
            "day": "9999-12-31",
            "start": "9999-12-31T10:00",
            "deposit_handling": "waived",
            "waiver_reason": "test",
        },
    )
    assert response.status_code == 400
    assert "day" in response.context["form"].errors


def _staff(catalogue):
    from tenants.models import Membership
    from tenants.scoping import salon_scope

    with salon_scope(catalogue.salon):
        return Membership.objects.filter(role="staff").get().user


@pytest.mark.parametrize(
    "event",
    [
        {"id": "evt_1", "object": "event", "type": "payment_intent.succeeded", "data": {}},
        {"id": "evt_2", "object": "event", "type": "payment_intent.succeeded"},
        {
            "id": "evt_3",
            "object": "event",
            "type": "payment_intent.succeeded",
            "data": {"object": "pi_1"},
        },
        {
            "id": "e" * 400,
            "object": "event",
            "type": "payment_intent.succeeded",
            "data": {"object": {"id": "pi_1", "object": "payment_intent"}},
        },
        {
            "id": "evt_4",
            "object": "event",
            "type": "t" * 400,
            "data": {"object": {"id": "pi_1", "object": "payment_intent"}},
        },
        [{"id": "evt_5"}],
        "evt_6",
    ],
    ids=[
        "empty-data",
        "no-data",
        "object-not-an-object",
        "400-character-id",
        "400-character-type",
        "array-body",
        "string-body",
    ],
)
def test_a_signed_webhook_that_is_no_event_is_a_400(client, settings, db, event):
    from tests.conftest import stripe_signature

    settings.STRIPE_SECRET_KEY = "sk_test_acompte"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_acompte_test"
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # a call out would fail loudly
    payload = json.dumps(event).encode()
    response = client.generic(
        "POST",
        "/api/v1/stripe/webhook/",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=stripe_signature(payload, "whsec_acompte_test"),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert set(response.json()["fields"]) == {"data"}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/salons/bella/bookings/", [{"service": 1}]),
        ("/api/v1/salons/bella/backoffice/phone-bookings/", [1, 2]),
        ("/api/v1/salons/bella/backoffice/deposit-policy/", []),
    ],
)
def test_an_array_body_is_a_400(api, team_a, path, body):
    owner = api(team_a.owner)
    method = owner.put if path.endswith("deposit-policy/") else owner.post
    response = method(path, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_a_400_digit_id_is_a_field_error_or_a_404(api, team_a, catalogue_a, monday):
    huge = int("9" * 400)
    owner = api(team_a.owner)
    booking = owner.post(
        "/api/v1/salons/bella/backoffice/phone-bookings/",
        {
            "service": huge,
            "start": "2027-03-02T10:00:00+01:00",
            "customer": {"id": huge},
            "deposit_handling": "waived",
            "waiver_reason": "test",
        },
        format="json",
    )
    assert booking.status_code == 400
    assert owner.get(f"/api/v1/salons/bella/backoffice/services/{'9' * 400}/").status_code == 404
    assert api().get(f"/api/v1/manage/{'a' * 400}/").status_code == 404
