"""Production settings pass Django's deployment checks, with nothing silenced for them."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_check_deploy_is_clean_with_production_settings():
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "prod-like-" + "k3y-0f-f1fty-plus-ch4rs-with-variety-" * 2,
        "DJANGO_SECURE_SSL_REDIRECT": "1",
        "DJANGO_ALLOWED_HOSTS": "acompte.example.com",
        "SITE_URL": "https://acompte.example.com",
    }
    for name in (
        "DJANGO_SECURE_HSTS_SECONDS",
        "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "DJANGO_SECURE_HSTS_PRELOAD",
    ):
        env.pop(name, None)  # the defaults: a year, subdomains, preload
    # The browser tests' harness sets it in this process; production never does.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout
