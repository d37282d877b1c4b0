"""A customer's derived figures, computed in SQL alongside the customer rows.

Each figure is an SQL expression over the customer's related rows. The apps that own
those rows (bookings, deposits) provide the expressions when they load (DESIGN.md: the app
on the right calls the one on the left), so a list of customers carries its figures in the
same query, whatever its length. A figure nobody provides yet is zero.
"""

from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import (
    Count,
    Expression,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

FIGURES = ("visits", "no_shows", "cancellations", "lifetime_value", "credit_balance")

_providers: dict[str, Callable[[], Expression | Subquery]] = {}

_QS = TypeVar("_QS", bound=QuerySet[Any])


def figure_provide(name: str, expression: Callable[[], Expression | Subquery]) -> None:
    if name not in FIGURES:
        raise ValueError(f"Unknown customer figure {name!r}.")
    _providers[name] = expression


def with_figures(customers: _QS) -> _QS:
    return customers.annotate(
        **{
            name: Coalesce(_providers[name](), Value(0), output_field=IntegerField())
            if name in _providers
            else Value(0, output_field=IntegerField())
            for name in FIGURES
        }
    )


def count_per_customer(rows: QuerySet[Any], customer_field: str = "customer") -> Subquery:
    """How many of `rows` belong to the customer, as a correlated subquery: evaluated for
    the customers of the page only, not joined and grouped over the whole salon."""
    return Subquery(
        rows.filter(**{customer_field: OuterRef("pk")})
        .order_by()
        .values(customer_field)
        .annotate(n=Count("pk"))
        .values("n"),
        output_field=IntegerField(),
    )


def sum_per_customer(rows: QuerySet[Any], field: str, customer_field: str = "customer") -> Subquery:
    """The sum of `field` over the customer's `rows`, as a correlated subquery."""
    return Subquery(
        rows.filter(**{customer_field: OuterRef("pk")})
        .order_by()
        .values(customer_field)
        .annotate(total=Sum(field))
        .values("total"),
        output_field=IntegerField(),
    )
