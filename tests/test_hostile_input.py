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
from tenants.services import auth_token_get

from .api_world import SalonWorld, salon_world

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
def error_shape(ctx: schemathesis.CheckContext, response: schemathesis.Response,
                case: schemathesis.Case) -> bool | None:  # fmt: skip
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


CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance,
          error_shape]  # fmt: skip


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
@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
def test_stripe_webhook_refuses_what_stripe_did_not_sign(client, settings, body, signature,
                                                         content_type):  # fmt: skip
    """With Stripe configured (the SDK checks the signature locally: nothing leaves the
    process), whatever arrives unsigned is a 400 in the error shape, never a 5xx."""
    settings.STRIPE_SECRET_KEY = "sk_test_acompte"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_acompte_test"
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # a call out would fail loudly
    response = client.generic("POST", "/api/v1/stripe/webhook/", body,
                              content_type=content_type,
                              HTTP_STRIPE_SIGNATURE=signature)  # fmt: skip
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
