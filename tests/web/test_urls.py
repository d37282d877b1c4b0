"""Each URL name names one address: a name given twice would resolve by include order."""

from collections import Counter

from django.urls import URLPattern, URLResolver, get_resolver


def names(patterns, namespace: str = "") -> list[str]:
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            found += names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            found.append(namespace + pattern.name)
    return found


def test_no_url_name_is_given_twice():
    counted = Counter(names(get_resolver().url_patterns))
    assert [name for name, count in counted.items() if count > 1] == []


def test_the_check_sees_every_door():
    seen = set(names(get_resolver().url_patterns))
    assert {
        "booking-create",
        "manage-cancel",
        "manage-cancel-api",
        "desk:book",
        "salon-page",
        "book",
    } <= seen
