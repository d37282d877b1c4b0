"""The clients of `bench/load.py`, for locust (run by that script, not by hand).

Each simulated client browses a salon's availability (a day, a service, anyone or one
staff member) and now and then books one of the times it was just shown, as a new client,
with no deposit due. A 409 `slot_unavailable` (another client took the time in between) is
an expected answer. Every answer's status and time is kept and written as JSON to
`LOAD_RESULTS` when the run stops, for the script to judge.
"""

import json
import os
import random
from collections import defaultdict
from typing import Any

from locust import FastHttpUser, between, events, task

SALON = os.environ["LOAD_SALON"]
SERVICES: list[int] = json.loads(os.environ["LOAD_SERVICES"])
STAFF: list[int] = json.loads(os.environ["LOAD_STAFF"])
DAYS: list[str] = json.loads(os.environ["LOAD_DAYS"])

statuses: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
times: dict[str, list[float]] = defaultdict(list)


def _record(name: str, response_time: float, response: Any, **_kwargs: Any) -> None:
    status = getattr(response, "status_code", 0) or 0
    statuses[name][int(status)] += 1
    times[name].append(response_time)


def _write(**_kwargs: Any) -> None:
    with open(os.environ["LOAD_RESULTS"], "w") as out:
        json.dump({"statuses": statuses, "times": times}, out)


events.request.add_listener(_record)
events.test_stop.add_listener(_write)


class SalonClient(FastHttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.seen: list[tuple[int, str, list[int]]] = []

    @task(4)
    def browse(self) -> None:
        service = random.choice(SERVICES)
        day = random.choice(DAYS)
        params = f"service={service}&from={day}&to={day}"
        if random.random() < 0.5:
            params += f"&staff={random.choice(STAFF)}"
        with self.client.get(
            f"/api/v1/salons/{SALON}/availability/?{params}",
            name="availability",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
                return
            slots = (response.json() or {}).get("slots", [])
            self.seen = [(service, s["start"], s["staff_ids"]) for s in slots]

    @task(1)
    def book(self) -> None:
        if not self.seen:
            return
        service, start, staff = random.choice(self.seen)
        body = {
            "service": service,
            "start": start,
            "staff": random.choice(staff),
            "customer": {"name": "Load client", "phone": f"+3367{random.randrange(10**7):07d}"},
        }
        with self.client.post(
            f"/api/v1/salons/{SALON}/bookings/", json=body, name="booking", catch_response=True
        ) as response:
            if response.status_code in (201, 409):
                response.success()  # 409: the time was taken meanwhile, as it may be
            else:
                response.failure(f"status {response.status_code}")
        self.seen = []
