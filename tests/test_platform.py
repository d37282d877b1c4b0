"""Health, the API schema and docs, and the production settings."""

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.utils import get_random_secret_key

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_healthz_answers_200_when_database_and_redis_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


@pytest.mark.django_db
def test_healthz_answers_503_when_redis_does_not(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["redis"].startswith("error")


def test_healthz_answers_503_when_the_database_does_not(client, settings):
    # No database access is allowed in this test: the check fails like a dead server.
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"].startswith("error")


@pytest.mark.django_db
def test_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    doc = yaml.safe_load(schema.content)
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/auth/token/" in doc["paths"]
    assert "/api/v1/salons/{salon}/backoffice/settings/" in doc["paths"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
    # The docs page loads its assets from this server, not from a CDN.
    assert b"cdn.jsdelivr" not in docs.content


def test_schema_generates_without_warnings(tmp_path):
    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REDIS_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_deploy_check_passes_with_production_settings():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=get_random_secret_key(),
        DJANGO_ALLOWED_HOSTS="booking.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_docker_compose_accepts_the_file():
    # Debian's docker-compose (installed by .ci/run) validates without a Docker engine.
    result = subprocess.run(
        ["docker-compose", "-f", "docker-compose.yml", "config", "--quiet"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SECRET_KEY": "x"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_the_image_holds_what_the_product_reads_at_run_time():
    # No Docker engine here to build it: the Dockerfile's COPY lines are read instead.
    from django.conf import settings

    copied = {
        line.split()[1].rstrip("/")
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.startswith("COPY ")
    }
    # Every package of the project (pyproject's list), so a new app cannot be left out.
    found = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    needed = {"manage.py", "templates"} | {
        p.rstrip("*") for p in found["packages"]["find"]["include"]
    }
    needed |= {str(Path(d).relative_to(ROOT)) for d in settings.STATICFILES_DIRS}
    needed |= {str(Path(d).relative_to(ROOT)) for d in settings.LOCALE_PATHS}
    assert needed - copied == set()


def test_docker_compose_describes_the_stack():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"web", "worker", "beat", "db", "redis"} <= set(services)
    assert "gunicorn" in " ".join(services["web"]["command"])
    assert "config.wsgi:application" in " ".join(services["web"]["command"])
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    assert int(services["db"]["image"].split(":")[1].split("-")[0]) >= 15
    assert services["redis"]["image"].startswith("redis:7")
    for name in ("web", "db", "redis"):
        assert "healthcheck" in services[name], name
    assert set(compose["volumes"]) >= {"pgdata", "redisdata"}
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"].startswith("redis://")
