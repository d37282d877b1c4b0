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
- DELETE /_config/data resets localstripe and the layer.
"""

import asyncio
import json
import sys
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import ClientSession, web
from localstripe import server
from localstripe.resources import store

UNKNOWN_TO_LOCALSTRIPE = ("automatic_payment_methods", "application_fee_amount")

store.dump_to_disk = lambda: None  # memory only: nothing written to /tmp

state: dict[str, Any] = {
    "log": [],
    "replay": {},
    "faults": {"mode": None, "times": 0},
    "accounts": {},
    "links": {},
}


def reset() -> None:
    state["log"].clear()
    state["replay"].clear()
    state["faults"] = {"mode": None, "times": 0}
    state["accounts"].clear()
    state["links"].clear()


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


async def layer(request: web.Request) -> web.StreamResponse:
    upstream = request.app["upstream"]
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
    answer_here = connect(request, dict(form))
    if answer_here is not None:
        if key:
            state["replay"][replay_key] = (answer_here.status, answer_here.body)
        return answer_here
    headers = {
        k: v for k, v in request.headers.items() if k.lower() in {"authorization", "content-type"}
    }
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
        if key and answer.status < 500:
            state["replay"][replay_key] = (answer.status, payload)
        return web.Response(status=answer.status, body=payload, content_type="application/json")


async def main(port: int) -> None:
    stand_in = web.AppRunner(server.app)
    await stand_in.setup()
    await web.TCPSite(stand_in, "127.0.0.1", port + 1).start()
    front = web.Application()
    front["upstream"] = f"http://127.0.0.1:{port + 1}"
    front.router.add_route("*", "/{tail:.*}", layer)
    runner = web.AppRunner(front)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(json.dumps({"ready": port}), flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
