"""Customer search on 100,000 clients of one salon, against the budget of issue 3.

    .venv/bin/python bench/customers.py            # PostgreSQL at BENCH_DATABASE_URL

Builds (once) a salon with 100,000 customers in a database of its own, then times the
staff search endpoint in process, as the front desk uses it: names, partial and complete
phone numbers in any form, e-mails. Prints the figures and exits non-zero over budget.
"""

import random
import statistics
import sys
import time
from pathlib import Path

BUDGET_MEDIAN_MS = 50.0
CUSTOMERS = 100_000
ROUNDS = 15

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import setup  # noqa: E402

FIRST = [
    "Léa",
    "Emma",
    "Chloé",
    "Inès",
    "Manon",
    "Camille",
    "Sarah",
    "Jade",
    "Louise",
    "Alice",
    "Lucas",
    "Hugo",
    "Louis",
    "Nathan",
    "Gabriel",
    "Jules",
    "Adam",
    "Arthur",
    "Raphaël",
    "Zoé",
    "Nina",
    "Lina",
    "Anna",
    "Rose",
    "Mila",
    "Julia",
    "Eva",
    "Lou",
    "Romane",
    "Juliette",
]
LAST = [
    "Martin",
    "Bernard",
    "Thomas",
    "Petit",
    "Robert",
    "Richard",
    "Durand",
    "Dubois",
    "Moreau",
    "Laurent",
    "Simon",
    "Michel",
    "Lefèvre",
    "Leroy",
    "Roux",
    "David",
    "Bertrand",
    "Morel",
    "Fournier",
    "Girard",
    "Bonnet",
    "Dupont",
    "Lambert",
    "Fontaine",
    "Rousseau",
    "Vincent",
    "Müller",
    "Lefebvre",
    "Faure",
    "André",
    "Mercier",
    "Blanc",
    "Guérin",
    "Boyer",
    "Garnier",
    "Chevalier",
    "François",
    "Legrand",
    "Gauthier",
    "Garcia",
    "Perrin",
    "Robin",
    "Clément",
    "Morin",
    "Nicolas",
    "Henry",
    "Roussel",
    "Mathieu",
    "Gautier",
    "Masson",
]


def build():
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from customers.models import Customer
    from customers.search import search_text
    from tenants.models import Role, Salon
    from tenants.scoping import salon_scope
    from tenants.services import membership_set

    call_command("migrate", verbosity=0)
    salon = Salon.objects.filter(slug="bench").first()
    user = get_user_model().objects.filter(username="bench").first()
    if user is None:
        user = get_user_model().objects.create_user("bench", password="bench-only")
    if salon is None:
        salon = Salon.objects.create(
            slug="bench", name="Bench", timezone="Europe/Paris", currency="EUR", country="FR"
        )
        membership_set(salon=salon, user=user, role=Role.STAFF)
    with salon_scope(salon):
        have = Customer.objects.count()
        if have < CUSTOMERS:
            rng = random.Random(42)
            now = timezone.now()
            batch = []
            for n in range(have, CUSTOMERS):
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                phone = f"+336{n:08d}"
                email = f"{name.split()[0].lower()}.{n}@example.org"
                batch.append(
                    Customer(
                        salon=salon,
                        name=name,
                        phone=phone,
                        email=email,
                        last_seen_at=now,
                        search_text=search_text(name=name, email=email, phone=phone),
                    )
                )
                if len(batch) == 5000:
                    Customer.objects.bulk_create(batch)
                    batch = []
            Customer.objects.bulk_create(batch)
            from django.db import connection

            from tenants.rls import as_owner

            with as_owner(connection), connection.cursor() as cursor:  # only the owner may
                cursor.execute("ANALYZE customers_customer")
    return salon, user


QUERIES = {
    "surname": ["Quesnel", "Fontaine", "guérin", "Chevalier", "Rousseau"],
    "full name": ["Léa Martin", "Hugo Dubois", "zoé roux"],
    "phone, national": ["06 00 01 23 45", "0600098765", "06.00.04.44.44"],
    "phone, international": ["+33 6 00 01 23 45", "0033600055555"],
    "phone, partial": ["06 00 01", "98765", "4444"],
    "e-mail": ["lea.12", "hugo.99999@example.org", "@example"],
}


def main() -> int:
    setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tenants.services import auth_token_get

    salon, user = build()
    client = Client(HTTP_AUTHORIZATION=f"Token {auth_token_get(user=user)}")
    url = f"/api/v1/salons/{salon.slug}/backoffice/customers/"

    timings: dict[str, list[float]] = {}
    queries_per_request = set()
    for kind, terms in QUERIES.items():
        for term in terms:
            client.get(url, {"search": term})  # warm
            for _ in range(ROUNDS):
                with CaptureQueriesContext(connection) as captured:
                    start = time.perf_counter()
                    response = client.get(url, {"search": term})
                    elapsed = (time.perf_counter() - start) * 1000
                assert response.status_code == 200, response.content
                queries_per_request.add(len(captured))
                timings.setdefault(kind, []).append(elapsed)

    everything = [t for ts in timings.values() for t in ts]
    median = statistics.median(everything)
    print(
        f"customers in the salon: {CUSTOMERS:,}; SQL queries per search: "
        f"{sorted(queries_per_request)}"
    )
    for kind, ts in timings.items():
        print(f"  {kind:22} median {statistics.median(ts):6.1f} ms   max {max(ts):6.1f} ms")
    ok = median <= BUDGET_MEDIAN_MS
    print(
        f"search median {median:.1f} ms (budget {BUDGET_MEDIAN_MS:.0f} ms): "
        f"{'OK' if ok else 'OVER BUDGET'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
