"""Invariant 1, tenant isolation, over every operation of the API's schema.

Every operation whose path takes an id is called by salon A's owner, under A's slug, with
salon B's object: it is 404 `not_found`, like a missing id, and none of B's rows change.
Every backoffice operation called by A's owner under B's slug is 403 `not_allowed`.

The table below names, for each operation with an id, how to build B's id and a body that
would succeed were the object A's. A new operation with an id fails
`test_the_table_covers_every_operation_with_an_id` until it is added here."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.core import signing
from django.forms.models import model_to_dict
from drf_spectacular.generators import SchemaGenerator

from bookings.tokens import manage_token
from tenants.models import Salon, TenantModel
from tenants.scoping import salon_scope

from .api_world import SalonWorld, salon_world

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")
ID_PARAMS = {"id", "pk", "token", "intent_id"}


def _schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, set[str]]]:
    """(METHOD, path template, names of its path parameters) of every operation."""
    found = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
                found.append((method.upper(), path, names))
    return found


@dataclass
class Theirs:
    """How salon A's owner reaches salon B's object through one operation."""

    build: Callable[[SalonWorld, SalonWorld], str]  # (ours, theirs) -> the path's id
    body: Any = None
    status: int = 404
    code: str = "not_found"
    why: str = ""


BO = "/api/v1/salons/{salon}/backoffice"


def _booking(ours, theirs):
    return str(theirs.booking.pk)


def _held(ours, theirs):
    return str(theirs.held.pk)


def _customer(ours, theirs):
    return str(theirs.customer.pk)


def _service(ours, theirs):
    return str(theirs.catalogue.cut.pk)


def _staff(ours, theirs):
    return str(theirs.catalogue.alice.pk)


def _time_off(ours, theirs):
    return str(theirs.time_off.pk)


def _resource(ours, theirs):
    return str(theirs.resource.pk)


def _request(ours, theirs):
    return str(theirs.customer_request.pk)


def _member(ours, theirs):
    return str(theirs.membership.pk)


def _token_naming_our_salon(ours, theirs):
    """A genuinely signed token naming A's salon with B's booking (and its nonce): the
    token is the credential, so the only way across is a token that names one salon and
    another's booking."""
    booking = theirs.held
    return manage_token(
        salon_id=ours.team.salon.pk, booking_id=booking.pk, nonce=booking.manage_nonce
    )


def _entry_token_naming_our_salon(ours, theirs):
    """A genuinely signed waitlist token naming A's salon with B's entry (and its nonce)."""
    entry = theirs.entry
    return signing.dumps([ours.team.salon.pk, entry.pk, entry.nonce], salt="support.waitlist")


def _their_offer(ours, theirs):
    return theirs.offer.token


def _their_intent(ours, theirs):
    return theirs.intent_id


TABLE: dict[tuple[str, str], Theirs] = {
    ("GET", f"{BO}/bookings/{{id}}/"): Theirs(_booking),
    ("POST", f"{BO}/bookings/{{id}}/cancel/"): Theirs(_booking, {"reason": "Taken"}),
    ("POST", f"{BO}/bookings/{{id}}/complete/"): Theirs(_booking, {}),
    ("POST", f"{BO}/bookings/{{id}}/no-show/"): Theirs(_booking, {}),
    ("POST", f"{BO}/bookings/{{id}}/settle-owed/"): Theirs(_booking, {"how": "credit"}),
    ("POST", f"{BO}/bookings/{{id}}/charge-fee/"): Theirs(_booking, {"kind": "no_show"}),
    ("GET", f"{BO}/customers/{{id}}/"): Theirs(_customer),
    ("PATCH", f"{BO}/customers/{{id}}/"): Theirs(_customer, {"name": "Taken", "notes": "x"}),
    ("GET", f"{BO}/customers/{{id}}/consents/"): Theirs(_customer),
    ("POST", f"{BO}/customers/{{id}}/erase/"): Theirs(_customer, {}),
    ("GET", f"{BO}/customers/{{id}}/export/"): Theirs(_customer),
    # The client merged into is looked up only once the merged one is found.
    ("POST", f"{BO}/customers/{{id}}/merge/"): Theirs(_customer, {"into": 1}),
    ("GET", f"{BO}/members/{{id}}/"): Theirs(_member),
    ("GET", f"{BO}/requests/{{id}}/"): Theirs(_request),
    ("PATCH", f"{BO}/requests/{{id}}/"): Theirs(
        _request, {"status": "resolved", "resolution": "Taken"}
    ),
    ("GET", f"{BO}/resources/{{id}}/"): Theirs(_resource),
    ("PATCH", f"{BO}/resources/{{id}}/"): Theirs(_resource, {"name": "Taken", "quantity": 1}),
    ("DELETE", f"{BO}/resources/{{id}}/"): Theirs(_resource),
    ("GET", f"{BO}/services/{{id}}/"): Theirs(_service),
    ("PATCH", f"{BO}/services/{{id}}/"): Theirs(_service, {"price": 1, "name": "Taken"}),
    ("DELETE", f"{BO}/services/{{id}}/"): Theirs(_service),
    ("GET", f"{BO}/staff/{{id}}/"): Theirs(_staff),
    ("PATCH", f"{BO}/staff/{{id}}/"): Theirs(_staff, {"name": "Taken", "active": False}),
    ("DELETE", f"{BO}/staff/{{id}}/"): Theirs(_staff),
    ("GET", f"{BO}/staff/{{id}}/hours/"): Theirs(_staff),
    ("PUT", f"{BO}/staff/{{id}}/hours/"): Theirs(_staff, []),
    ("GET", f"{BO}/time-off/{{id}}/"): Theirs(_time_off),
    ("DELETE", f"{BO}/time-off/{{id}}/"): Theirs(_time_off),
    ("GET", "/api/v1/manage/{token}/"): Theirs(_token_naming_our_salon),
    ("POST", "/api/v1/manage/{token}/cancel/"): Theirs(
        _token_naming_our_salon, {"resolution": "credit"}
    ),
    ("POST", "/api/v1/manage/{token}/reschedule/"): Theirs(
        _token_naming_our_salon, {"start": "2027-03-04T11:00:00"}
    ),
    ("POST", "/api/v1/manage/{token}/verify/"): Theirs(_token_naming_our_salon, {}),
    ("POST", "/api/v1/manage/{token}/verify/confirm/"): Theirs(
        _token_naming_our_salon, {"code": "123456"}
    ),
    ("GET", "/api/v1/waitlist/{token}/"): Theirs(_entry_token_naming_our_salon),
    ("DELETE", "/api/v1/waitlist/{token}/"): Theirs(_entry_token_naming_our_salon),
    # No salon in the path: the offer's random token is the credential, and B's offer is
    # answered as it stands (past its time here), nothing changed.
    ("POST", "/api/v1/waitlist/offers/{token}/accept/"): Theirs(
        _their_offer,
        {"payment_option": "deposit"},
        status=410,
        code="offer_expired",
        why="salon-less; the offer's token is the credential",
    ),
    # No salon in the path: the intent id with its client secret is the credential. A
    # caller without B's secret changes nothing.
    ("POST", "/api/v1/test-mode/payments/{intent_id}/pay/"): Theirs(
        _their_intent,
        {"client_secret": "pi_guess_secret_testmode"},
        status=400,
        code="invalid",
        why="salon-less; the client secret is the credential",
    ),
}


def test_the_table_covers_every_operation_with_an_id():
    with_an_id = {
        (method, path) for method, path, names in _operations(_schema()) if names & ID_PARAMS
    }
    assert set(TABLE) == with_an_id, (
        f"not in the table: {sorted(with_an_id - set(TABLE))}; "
        f"no longer in the schema: {sorted(set(TABLE) - with_an_id)}"
    )


def _tenant_models() -> list[type[TenantModel]]:
    return [m for m in apps.get_models() if issubclass(m, TenantModel)]


def _snapshot(salon: Salon) -> dict[str, list[dict[str, Any]]]:
    """Every row salon B owns, field by field, and the salon itself."""
    salon.refresh_from_db()
    rows: dict[str, list[dict[str, Any]]] = {"salon": [model_to_dict(salon)]}
    with salon_scope(salon):
        for model in _tenant_models():
            rows[model._meta.label] = [model_to_dict(o) for o in model.objects.order_by("pk")]
    return rows


@pytest.fixture
def worlds(settings, team_a, team_b, catalogue_a, catalogue_b, monday):
    settings.PAYMENTS_TEST_MODE = True
    return salon_world(team_a, catalogue_a), salon_world(team_b, catalogue_b)


def _path(template: str, **values: str) -> str:
    for name, value in values.items():
        template = template.replace(f"{{{name}}}", value)
    assert "{" not in template, template
    return template


def _call(client, method: str, path: str, body: Any):
    if method in {"GET", "DELETE"}:
        return client.generic(method, path)
    return getattr(client, method.lower())(path, body, format="json")


@pytest.mark.parametrize(("method", "template"), sorted(TABLE), ids=" ".join)
def test_salon_b_object_under_salon_a_is_not_found(api, worlds, method, template):
    ours, theirs = worlds
    target = TABLE[(method, template)]
    before = _snapshot(theirs.team.salon)
    theirs_id = target.build(ours, theirs)
    path = _path(template, salon=ours.slug, id=theirs_id, token=theirs_id, intent_id=theirs_id)
    response = _call(api(ours.team.owner), method, path, target.body)
    assert response.status_code == target.status, (path, response.content)
    assert response.json()["code"] == target.code
    assert _snapshot(theirs.team.salon) == before


def _backoffice_operations() -> list[tuple[str, str]]:
    return sorted(
        (method, path)
        for method, path, _names in _operations(_schema())
        if path.startswith("/api/v1/salons/{salon}/backoffice/")
    )


@pytest.mark.parametrize(("method", "template"), _backoffice_operations(), ids=" ".join)
def test_salon_b_backoffice_is_not_allowed_to_salon_a(api, worlds, method, template):
    """B's own ids under B's slug: A's owner is refused before anything is looked up."""
    ours, theirs = worlds
    before = _snapshot(theirs.team.salon)
    target = TABLE.get((method, template))
    path = _path(
        template, salon=theirs.slug, **({"id": target.build(ours, theirs)} if target else {})
    )
    body = target.body if target else {}
    response = _call(api(ours.team.owner), method, path, body)
    assert response.status_code == 403, (path, response.content)
    assert response.json()["code"] == "not_allowed"
    assert _snapshot(theirs.team.salon) == before
