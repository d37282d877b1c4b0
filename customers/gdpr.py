"""The registry of personal data: every model holding facts about a customer says which
of its fields it exports, how it erases them, and which it keeps (for accounting).

Erasure writes each model's `erase` values over its rows of the person, runs its
`erase_also`, and rewrites what the admin's history says of those rows (`LogEntry`).

The export and the erasure walk this registry, so "every stored fact" is checkable: a test
asserts that each field of each registered model is classified, and that the export holds
every exported field. Apps on the right (bookings, deposits, messaging, support) register their
models when they load.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model

# The sections of an export, in the order of API.md.
SECTIONS = (
    "customer",
    "consents",
    "bookings",
    "terms",
    "payments",
    "credit",
    "owed",
    "cards",
    "fees",
    "messages",
    "requests",
    "waitlist",
)


@dataclass(frozen=True)
class PersonalData:
    section: str
    model: type[Model]
    # Path from the model to its customer ("pk" for the customer itself).
    customer_lookup: str
    exported: tuple[str, ...]
    # Field -> value written on erasure; the personal fields of the model.
    erase: Mapping[str, Any] = field(default_factory=dict)
    # Fields neither exported nor personal: keys, internal or derived values.
    internal: tuple[str, ...] = ("id", "salon")
    # Called on erasure with (salon id, customer id), after `erase` is written: for what
    # a constant cannot erase (free text in related rows, credentials to draw anew).
    erase_also: Callable[[int, int], None] | None = None


_registry: list[PersonalData] = []


def personal_data_register(entry: PersonalData) -> None:
    if entry.section not in SECTIONS:
        raise ValueError(f"Unknown export section {entry.section!r}.")
    if any(e.model is entry.model for e in _registry):
        raise ValueError(f"{entry.model.__name__} is registered already.")
    _registry.append(entry)


def personal_data_registry() -> tuple[PersonalData, ...]:
    return tuple(_registry)
