"""A local stand-in for Stripe: localstripe (PyPI), bound to loopback, in memory, behind a
thin layer that fills what localstripe lacks and lets tests watch and break it.

    python tests/stripe_standin.py PORT

The layer, in front of localstripe on PORT + 1:
- drops the parameters localstripe does not know (`automatic_payment_methods`,
  `application_fee_amount`) after logging them, so production code keeps sending them;
- replays a response for a repeated idempotency key, as Stripe does;
- logs every request (method, path, form, idempotency key, Stripe-Account header) at
  GET /_standin/requests, so tests can check what was sent;
- fails on demand: POST /_standin/faults {"mode": "500" | "timeout", "times": n};
- answers Connect, which localstripe lacks: POST /v1/accounts, GET /v1/accounts/{id},
  POST /v1/account_links; a link's url is GET /_standin/onboarding/{link}, which completes
  the account's onboarding (charges enabled, details submitted) and redirects to the
  link's return_url, as the owner's finishing Stripe's pages would;
- keeps Connect apart: an object made with a Stripe-Account header belongs to that
  account, and naming it from another account (or from the platform) is a 404, as Stripe
  answers;
- teaches localstripe what Stripe's test cards do (`cards` below): brands and funding
  (5105105105105100 is a prepaid Mastercard), a SetupIntent's 3-D Secure step completed
  by POST /v1/setup_intents/{id}/_authenticate (as the PaymentIntent's own), the card
  saved on the SetupIntent's customer, and off-session PaymentIntents: a card that always
  asks for authentication (4000002760003184) answers the card_error
  `authentication_required`, a declined one `card_declined` with its decline code, each
  carrying the PaymentIntent as Stripe's errors do;
- DELETE /_config/data resets localstripe and the layer.
"""

import asyncio
import json
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import ClientSession, web
from localstripe import server
from localstripe.errors import UserError
from localstripe.resources import (
    PaymentIntent,
    PaymentMethod,
    SetupIntent,
    store,
    try_convert_to_bool,
)

UNKNOWN_TO_LOCALSTRIPE = ("automatic_payment_methods", "application_fee_amount")

store.dump_to_disk = lambda: None  # memory only: nothing written to /tmp

state: dict[str, Any] = {
    "log": [],
    "replay": {},
    "faults": {"mode": None, "times": 0},
    "accounts": {},
    "links": {},
    "owners": {},
}


# The test cards (https://docs.stripe.com/testing) ------------------------------------------

# Brand and funding by number, where Stripe's are not localstripe's "visa, credit".
CARD_KINDS = {
    "5105105105105100": ("mastercard", "prepaid"),
    "5555555555554444": ("mastercard", "credit"),
    "5200828282828210": ("mastercard", "debit"),
    "4000056655665556": ("visa", "debit"),
}
# Cards that ask for authentication even on a charge the client is not there for: Stripe's
# "always authenticate" cards. 4000002500003155 asks on-session only, once set up.
ALWAYS_AUTHENTICATE = {"4000002760003184", "4000008260003178", "4000000000003220"}
# Declined when charged (each with its decline code); 4000000000000341 is saved fine, then
# declined, as Stripe's own.
DECLINES = {
    "4000000000000002": "generic_decline",
    "4000000000009995": "insufficient_funds",
    "4000000000009987": "lost_card",
    "4000000000000341": "generic_decline",
}

_card_init = PaymentMethod.__init__
_declined_now = PaymentMethod._charging_is_declined
_last_error = PaymentIntent.last_payment_error
_intent_create = PaymentIntent._api_create.__func__
_attach = SetupIntent._attach_pm
_intent_update = PaymentIntent._api_update.__func__


def _card_made(self, *args, **kwargs):
    _card_init(self, *args, **kwargs)
    if self.type == "card":
        brand, funding = CARD_KINDS.get(
            self._card_number,
            ("mastercard" if self._card_number[0] in "25" else "visa", "credit"),
        )
        self.card.update(brand=brand, funding=funding)


def _charging_declined(self):
    return (self.type == "card" and self._card_number in DECLINES) or _declined_now(self)


def _last_payment_error(self):
    return getattr(self, "_standin_error", None) or _last_error.fget(self)


def _card_error(code: str, message: str, intent, payment_method, decline: str = "") -> UserError:
    error = UserError(402, message, {"code": code})
    error.body["error"].update(
        type="card_error",
        decline_code=decline or code,
        payment_intent=intent._export(),
        payment_method=payment_method._export(),
    )
    return error


def _intent_made(cls, /, confirm=None, off_session=None, **data):
    """A PaymentIntent; off-session (the client is not there), the card's own answer."""
    if try_convert_to_bool(off_session) is not True:
        return _intent_create(cls, confirm=confirm, off_session=off_session, **data)
    if try_convert_to_bool(confirm) is not True:
        raise UserError(400, "off_session is only valid with confirm=true.")
    intent = _intent_create(cls, **data)
    card = PaymentMethod._api_retrieve(intent.payment_method)
    if card.type == "card" and card._card_number in ALWAYS_AUTHENTICATE:
        intent._standin_error = {
            "code": "authentication_required",
            "decline_code": "authentication_required",
            "message": "Your card was declined. This transaction requires authentication.",
            "payment_method": card._export(),
            "type": "card_error",
        }
        intent.payment_method = None  # requires_payment_method: the client must act
        raise _card_error("authentication_required", intent._standin_error["message"], intent, card)
    try:
        intent._confirm(on_failure_now=intent._report_failure)
    except UserError as exc:
        if exc.code != 402:
            raise
        code = DECLINES.get(card._card_number, "generic_decline")
        raise _card_error("card_declined", "Your card was declined.", intent, card, code) from exc
    return intent


def _intent_updated(cls, /, id, **data):
    """A new card on an intent its last card failed: ready to confirm again, as Stripe."""
    intent = _intent_update(cls, id, **data)
    if "payment_method" in data:
        intent._standin_error = None
        if intent.latest_charge is not None and intent.latest_charge.status == "failed":
            intent.latest_charge = None
    return intent


def _setup_attached(self, pm):
    _attach(self, pm)
    if self.status == "succeeded" and self.customer:
        pm.customer = self.customer  # saved on the customer, as Stripe does


def _setup_authenticate(cls, /, id, client_secret=None, success=True, **kwargs):
    """The client's 3-D Secure step for a SetupIntent (localstripe has the PaymentIntent's)."""
    setup = cls._api_retrieve(id)
    if client_secret != setup.client_secret:
        raise UserError(401, "Unauthorized")
    if setup.status != "requires_action":
        raise UserError(400, "This SetupIntent needs no authentication.")
    setup.next_action = None
    if try_convert_to_bool(success) is False:
        setup.status = "requires_payment_method"
        setup.payment_method = None
        return setup
    setup.status = "succeeded"
    if setup.customer:
        PaymentMethod._api_retrieve(setup.payment_method).customer = setup.customer
    return setup


PaymentMethod.__init__ = _card_made
PaymentMethod._charging_is_declined = _charging_declined
PaymentIntent.last_payment_error = property(_last_payment_error)
PaymentIntent._api_create = classmethod(_intent_made)
PaymentIntent._api_update = classmethod(_intent_updated)
SetupIntent._attach_pm = _setup_attached
SetupIntent._api_authenticate = classmethod(_setup_authenticate)


def reset() -> None:
    state["log"].clear()
    state["replay"].clear()
    state["faults"] = {"mode": None, "times": 0}
    state["accounts"].clear()
    state["links"].clear()
    state["owners"].clear()


def _stripe_error(status: int, message: str) -> web.Response:
    error = {"type": "invalid_request_error", "message": message}
    return web.json_response({"error": error}, status=status)


def connect(request: web.Request, form: dict[str, str]) -> web.Response | None:
    """Stripe Connect's accounts and account links, kept in memory; None for the rest."""
    parts = request.path.strip("/").split("/")
    accounts = state["accounts"]
    if parts == ["v1", "accounts"] and request.method == "POST":
        if not form.get("country"):
            return _stripe_error(400, "Missing required param: country.")
        account = {
            "id": f"acct_{len(accounts) + 1:04d}Standin",
            "object": "account",
            "type": form.get("type", "express"),
            "country": form["country"],
            "email": form.get("email"),
            "business_profile": {
                "name": form.get("business_profile[name]"),
                "mcc": form.get("business_profile[mcc]"),
                "url": form.get("business_profile[url]"),
            },
            "charges_enabled": False,
            "details_submitted": False,
            "payouts_enabled": False,
        }
        accounts[account["id"]] = account
        return web.json_response(account)
    if len(parts) == 3 and parts[:2] == ["v1", "accounts"] and request.method == "GET":
        if parts[2] not in accounts:
            return _stripe_error(404, f"No such account: '{parts[2]}'")
        return web.json_response(accounts[parts[2]])
    if parts == ["v1", "account_links"] and request.method == "POST":
        if form.get("account") not in accounts:
            return _stripe_error(400, "No such account.")
        link = f"link{len(state['links']) + 1}"
        state["links"][link] = form
        url = f"{request.url.origin()}/_standin/onboarding/{link}"
        return web.json_response({"object": "account_link", "url": url, "expires_at": 0})
    if len(parts) == 3 and parts[:2] == ["_standin", "onboarding"] and parts[2] in state["links"]:
        link = state["links"][parts[2]]
        account = accounts[link["account"]]
        account.update(charges_enabled=True, details_submitted=True, payouts_enabled=True)
        raise web.HTTPFound(link["return_url"])
    return None


# Connect: whose objects are whose ---------------------------------------------------------

OWNED = ("cus_", "seti_", "pi_", "pm_")
CREATES = {"/v1/customers", "/v1/setup_intents", "/v1/payment_intents", "/v1/payment_methods"}


def _named(request: web.Request, form: list[tuple[str, str]]) -> list[str]:
    """The ids of owned objects a request names, in its path or its parameters (Stripe's
    own test payment methods, `pm_card_...`, are everyone's)."""
    words = request.path.strip("/").split("/") + [value for _key, value in form]
    return [w for w in words if w.startswith(OWNED) and not w.startswith("pm_card_")]


def foreign(request: web.Request, form: list[tuple[str, str]]) -> web.Response | None:
    """A 404 when the request names another account's object, as Stripe answers."""
    account = request.headers.get("Stripe-Account")
    for name in _named(request, form):
        if name in state["owners"] and state["owners"][name] != account:
            error = {
                "type": "invalid_request_error",
                "code": "resource_missing",
                "message": f"No such object: '{name}'",
            }
            return web.json_response({"error": error}, status=404)
    return None


def own(request: web.Request, status: int, payload: bytes) -> None:
    if request.method != "POST" or request.path not in CREATES or status != 200:
        return
    made = json.loads(payload)
    state["owners"].setdefault(made["id"], request.headers.get("Stripe-Account"))


# The browser's side: Stripe.js's stand-in, and what a publishable key may call -----------

STRIPE_JS = Path(__file__).parent / "browser" / "stripe_js_standin.js"
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Stripe-Account",
    "Access-Control-Allow-Methods": "GET, POST",
}
# What Stripe.js does with the publishable key: a card made, an intent confirmed.
PUBLISHABLE = (
    re.compile(r"^/v1/payment_methods$"),
    re.compile(r"^/v1/setup_intents/\w+/(confirm|_authenticate)$"),
    re.compile(r"^/v1/payment_intents/\w+(/confirm|/_authenticate)?$"),
)


def browser(request: web.Request) -> web.Response | None:
    """Stripe.js's stand-in, and the CORS preflight of its calls."""
    if request.method == "OPTIONS":
        return web.Response(headers=CORS)
    if request.path.rstrip("/") == "/_standin/v3":
        return web.Response(text=STRIPE_JS.read_text(), content_type="application/javascript")
    return None


def _authorization(request: web.Request) -> str | None:
    """The secret key localstripe wants, for a publishable key's allowed calls; None when
    a publishable key asks for anything else."""
    given = request.headers.get("Authorization", "")
    if not given.startswith("Bearer pk_"):
        return given
    if request.method == "POST" and any(p.match(request.path) for p in PUBLISHABLE):
        return "Bearer sk_test_standin_for_publishable"
    return None


async def cors(_request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update({"Access-Control-Allow-Origin": "*"})


async def layer(request: web.Request) -> web.StreamResponse:
    upstream = request.app["upstream"]
    if (for_browser := browser(request)) is not None:
        return for_browser
    if request.path == "/_standin/requests":
        return web.json_response(state["log"])
    if request.path == "/_standin/faults":
        state["faults"] = await request.json()
        return web.json_response(state["faults"])
    body = await request.read()
    if request.path == "/_config/data" and request.method == "DELETE":
        reset()

    faults = state["faults"]
    if faults["times"] > 0:
        faults["times"] -= 1
        if faults["mode"] == "timeout":
            await asyncio.sleep(30)
        return web.json_response(
            {"error": {"type": "api_error", "message": "Stand-in failure"}}, status=500
        )

    key = request.headers.get("Idempotency-Key")
    replay_key = (key, request.method, request.path)
    if key and replay_key in state["replay"]:
        status, payload = state["replay"][replay_key]
        return web.Response(
            status=status,
            body=payload,
            content_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )

    form = parse_qsl(body.decode(), keep_blank_values=True)
    kept = [(k, v) for k, v in form if not k.startswith(UNKNOWN_TO_LOCALSTRIPE)]
    state["log"].append(
        {
            "method": request.method,
            "path": request.path,
            "query": request.query_string,
            "form": dict(form),
            "idempotency_key": key,
            "stripe_account": request.headers.get("Stripe-Account"),
        }
    )
    answer_here = connect(request, dict(form)) or foreign(request, form)
    if answer_here is not None:
        if key:
            state["replay"][replay_key] = (answer_here.status, answer_here.body)
        return answer_here
    authorization = _authorization(request)
    if authorization is None:
        return _stripe_error(401, "This call needs a secret key.")
    headers = {k: v for k, v in request.headers.items() if k.lower() == "content-type"}
    if authorization:
        headers["Authorization"] = authorization
    async with (
        ClientSession() as session,
        session.request(
            request.method,
            f"{upstream}{request.path_qs}",
            data=urlencode(kept).encode() if kept else (body if not form else b""),
            headers=headers,
        ) as answer,
    ):
        payload = await answer.read()
        own(request, answer.status, payload)
        if key and answer.status < 500:
            state["replay"][replay_key] = (answer.status, payload)
        return web.Response(status=answer.status, body=payload, content_type="application/json")


async def main(port: int) -> None:
    server.app.router.add_route(
        "POST",
        "/v1/setup_intents/{id}/_authenticate",
        server.api_extra(SetupIntent._api_authenticate, "/v1/setup_intents/{id}/_authenticate"),
    )
    stand_in = web.AppRunner(server.app)
    await stand_in.setup()
    await web.TCPSite(stand_in, "127.0.0.1", port + 1).start()
    front = web.Application()
    front.on_response_prepare.append(cors)
    front["upstream"] = f"http://127.0.0.1:{port + 1}"
    front.router.add_route("*", "/{tail:.*}", layer)
    runner = web.AppRunner(front)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(json.dumps({"ready": port}), flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
