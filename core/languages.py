"""The language a person is spoken to in, written here once for pages, the desk and
messages. Plain values in, a language code out; the known languages and the fallback are
the settings' unless given."""

from collections.abc import Collection, Sequence

from django.conf import settings


def languages_offered(
    salon_languages: Sequence[str],
    *,
    known: Collection[str] | None = None,
    default: str | None = None,
) -> list[str]:
    """The salon's languages the site can speak, in the salon's order; the site's default
    when it speaks none of them."""
    known = known if known is not None else {code for code, _name in settings.LANGUAGES}
    offered = [code for code in salon_languages if code in known]
    return offered or [default if default is not None else settings.LANGUAGE_CODE]


def language_choose(
    salon_languages: Sequence[str],
    *,
    person: str = "",
    browser: str = "",
    known: Collection[str] | None = None,
    default: str | None = None,
) -> str:
    """The person's own language when the site speaks it; else the browser's (as
    negotiated, `fr-ca` counting as `fr`) when the salon speaks it; else the salon's first."""
    known = known if known is not None else {code for code, _name in settings.LANGUAGES}
    if person and person in known:
        return person
    offered = languages_offered(salon_languages, known=known, default=default)
    for code in (browser, browser.split("-")[0]):
        if code and code in offered:
            return code
    return offered[0]
