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

state: dict[str, Any] = {"log": [], "replay": {}, "faults": {"mode": None, "times": 0}}


def reset() -> None:
    state["log"].clear()
    state["replay"].clear()
    state["faults"] = {"mode": None, "times": 0}


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
