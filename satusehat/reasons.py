"""Messages about sending that are kept and read later: a visit's reason, a try's outcome, the result of
a connection test, the clinic's hold.

The worker writes them, but whoever reads them does so in their own language, so a message is made as
a deferred text (`deferred`: the English message id and its values, translated when it is read) and
stored in every language the app speaks (`in_every_language`); a screen shows the reader's
(`for_reader`)."""

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext


def _render(template: str, params: Mapping[str, Any]) -> str:
    text = gettext(template)
    if not params:
        return text
    return text % {key: str(value) if isinstance(value, Promise) else value for key, value in params.items()}


_lazy_render = lazy(_render, str)


def deferred(template: str, **params: Any) -> str:
    """`template` % `params`, translated each time it is read as text (values may be deferred too). The
    template is a message id of the app's catalogue, written in English."""
    return _lazy_render(template, params)


def in_every_language(message: Any) -> dict[str, str]:
    """The message read in each of the app's languages: {"id": "...", "en": "..."}."""
    texts: dict[str, str] = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            texts[code] = str(message)
    return texts


def for_reader(texts: Mapping[str, str] | None, fallback: str = "") -> str:
    """The kept message in the reader's language, else in the clinic's default, else `fallback`."""
    texts = texts or {}
    language = (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
    return texts.get(language) or texts.get(settings.LANGUAGE_CODE) or fallback


def _join(*messages: Any) -> str:
    return "\n".join(str(message) for message in messages)


_lazy_join = lazy(_join, str)


def joined(messages: list[Any]) -> str:
    """Messages one per line, each read in the reader's language."""
    return _lazy_join(*messages)
