"""Loaded with `-p tests.workers` (the Makefile), before Django reads its settings: under
pytest-xdist each worker gets a Redis database of its own (the cache, the rate limits and
the Celery broker are then its own), as pytest-django gives it its own PostgreSQL database
(`test_<name>_gw0`, ...), and a directory of its own for the static files it collects."""

import os
from pathlib import Path

_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker.startswith("gw"):
    _number = int(_worker[2:])
    if _url := os.environ.get("REDIS_URL"):
        _base, _, _db = _url.rpartition("/")
        os.environ["REDIS_URL"] = f"{_base}/{int(_db or 0) + 1 + _number}"
    _static = Path(__file__).resolve().parent.parent / f"staticfiles-{_worker}"
    os.environ.setdefault("STATIC_ROOT", str(_static))
