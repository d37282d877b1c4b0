"""`make run` alone serves the demo salon on SQLite with eager tasks: no PostgreSQL, no Redis."""

import datetime as dt
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, data: dict | None = None, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url)
    if data is not None:
        request.data = json.dumps(data).encode()
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Token {token}")
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, response.read()


def test_make_run_serves_the_demo_salon(tmp_path):
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "REDIS_", "DATABASE_", "STRIPE_", "MAKE"))
    }
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    env["MEDIA_ROOT"] = str(tmp_path / "media")
    log = (tmp_path / "run.log").open("w")
    server = subprocess.Popen(
        ["make", "run", f"PORT={port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (tmp_path / "run.log").read_text()
            try:
                status, body = _get(f"{base}/healthz")
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "run.log").read_text()
                time.sleep(0.5)
        assert status == 200
        assert json.loads(body) == {"status": "ok", "database": "ok"}  # no Redis configured

        status, body = _get(f"{base}/")
        assert status == 200
        assert "Atelier Démo" in body.decode()

        # The demo salon's page, and its pictures served under DEBUG.
        status, body = _get(f"{base}/demo/")
        page = body.decode()
        assert status == 200 and "Coupes" in page
        logo = re.search(r'class="logo" src="(/media/[^"]+\.webp)"', page).group(1)
        status, body = _get(f"{base}{logo}")
        assert status == 200 and body[8:12] == b"WEBP"

        status, body = _get(f"{base}/api/v1/auth/token/", {"username": "demo", "password": "demo"})
        token = json.loads(body)["token"]
        status, body = _get(f"{base}/api/v1/salons/demo/backoffice/settings/", token=token)
        assert json.loads(body)["timezone"] == "Europe/Paris"

        # A client books on the embedded SQLite: availability, then the booking.
        status, body = _get(f"{base}/api/v1/salons/demo/services/")
        service = json.loads(body)[0]["id"]
        today = dt.date.today()
        status, body = _get(
            f"{base}/api/v1/salons/demo/availability/?service={service}"
            f"&from={today}&to={today + dt.timedelta(days=14)}"
        )
        slots = json.loads(body)["slots"]
        assert slots
        request = {
            "service": service,
            "start": slots[0]["start"],
            "customer": {"name": "Newcomer", "phone": "06 55 44 33 22"},
        }
        status, body = _get(f"{base}/api/v1/salons/demo/bookings/", request)
        assert status == 201
        booking = json.loads(body)
        # The demo salon asks a deposit; with no Stripe keys the labelled test-mode
        # gateway takes it, and no money moves.
        assert booking["status"] == "pending_payment"
        # Links sent to clients follow HOST and PORT (SITE_URL's default under make run).
        assert booking["manage_url"].startswith(f"{base}/manage/")
        payment = booking["payment"]
        assert payment["provider"] == "test_mode"
        status, body = _get(
            f"{base}/api/v1/test-mode/payments/{payment['payment_intent']}/pay/",
            {"client_secret": payment["client_secret"]},
        )
        assert json.loads(body) == {"status": "succeeded"}
        status, body = _get(f"{base}/api/v1/manage/{booking['manage_token']}/")
        assert json.loads(body)["status"] == "confirmed"
        late = {
            **request,
            "staff": slots[0]["staff_ids"][0],
            "customer": {"name": "Late", "phone": "06 55 44 33 23"},
        }
        with pytest.raises(urllib.error.HTTPError) as taken:
            _get(f"{base}/api/v1/salons/demo/bookings/", late)
        assert taken.value.code == 409
        # The periodic sweeps run in the web process (no Redis: no beat of its own).
        assert "Periodic tasks" in (tmp_path / "run.log").read_text()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
