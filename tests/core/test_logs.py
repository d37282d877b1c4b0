"""Logs keep no personal data: no link credential, no search term."""

import datetime as dt
import io
import logging
import logging.config
from types import SimpleNamespace

import pytest
from django.conf import settings
from gunicorn.config import Config

from bookings.services import booking_manage_token, booking_revoke_links
from core.logmask import AccessLogger, PersonalDataFilter
from tenants.scoping import salon_scope
from tests.conftest import book, local
from tests.factories import CustomerFactory


@pytest.fixture
def log_output():
    """What the product's own log handler writes (settings.LOGGING), captured.

    LOGGING is applied again first: a Celery worker started by an earlier test takes over
    the root logger's handlers, as a worker process does."""
    logging.config.dictConfig(settings.LOGGING)
    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, PersonalDataFilter) for f in h.filters)
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


@pytest.mark.django_db
def test_a_refused_link_is_logged_without_its_token(client, catalogue_a, monday, log_output):
    lea = CustomerFactory(salon=catalogue_a.salon, name="Léandra Quesnel")
    booking = book(catalogue_a, lea, local(catalogue_a.salon, 1, 10))
    with salon_scope(catalogue_a.salon):
        token = booking_manage_token(booking)
        booking_revoke_links(booking=booking)
    assert client.get(f"/manage/{token}/").status_code == 404
    assert client.get(f"/api/v1/manage/{token}/").status_code == 404
    assert client.get(f"/pay/{token}/?search=Quesnel").status_code == 404
    out = log_output.getvalue()
    assert "Not Found" in out and "/manage/" in out
    assert token not in out and token.split(":")[-1] not in out
    assert "Quesnel" not in out


def test_a_search_in_a_server_log_line_is_masked(log_output):
    logging.getLogger("django.server").warning(
        '"%s" %s %s',
        "GET /api/v1/salons/bella/backoffice/customers/?search=Quesnel HTTP/1.1",
        200,
        512,
    )
    out = log_output.getvalue()
    assert "/backoffice/customers/?…" in out and "Quesnel" not in out


def test_the_access_log_keeps_neither_tokens_nor_search_terms(tmp_path):
    token = "WzEsMSwiYWJjIl0:1y4ujg:74YEdvxyr575KZk4GKKOMx1V-JwszpLxHxHm1hWT5EA"
    cfg = Config()
    cfg.set("accesslog", str(tmp_path / "access.log"))
    logger = AccessLogger(cfg)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/manage/{token}/?search=0612345678",
        "PATH_INFO": f"/manage/{token}/",
        "QUERY_STRING": "search=0612345678",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_REFERER": f"https://salon.example/pay/{token}/",
    }
    response = SimpleNamespace(status="404 Not Found", headers=[], sent=100)
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    logger.access(response, request, environ, dt.timedelta(milliseconds=12))
    for handler in logger.access_log.handlers:
        handler.flush()
    line = (tmp_path / "access.log").read_text()
    assert "GET /manage/…/?… HTTP/1.1" in line and "203.0.113.9" in line
    assert token not in line and "0612345678" not in line
