from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.cache import never_cache

from tenants.models import Salon


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database (and Redis, when configured) answer; 503 otherwise."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # any failure of the database means "not healthy"
        checks["database"] = f"error: {exc.__class__.__name__}"
    if settings.REDIS_URL:
        try:
            client = redis.Redis.from_url(
                settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
            )
            client.ping()
            client.close()
            checks["redis"] = "ok"
        except redis.RedisError as exc:
            checks["redis"] = f"error: {exc.__class__.__name__}"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503
    )


def home(request: HttpRequest) -> HttpResponse:
    """What Acompte is, and the way to a salon: its link, which the salon gives its clients.
    The salons are not listed: a client goes to her salon, nobody browses them all. `?salon=`
    (the link, or the name it ends with) leads to that salon's page (404 when there is
    none, as for any address). Only the embedded default points at its demo salon."""
    wanted = request.GET.get("salon", "").strip()
    if wanted:
        slug = slugify(urlsplit(wanted).path.rstrip("/").rsplit("/", 1)[-1])
        if slug:
            return redirect("salon-page", salon=slug)
    demo = Salon.objects.filter(slug="demo").first() if settings.DEBUG else None
    return render(request, "home.html", {"demo": demo, "example": f"{settings.SITE_URL}/"})
