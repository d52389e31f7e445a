"""The API's JSON parser: DRF's, with a body nested too deeply refused with a message.

Python's JSON parser recurses, so a body nested 10,000 levels deep raised RecursionError (a 500). No
body the API takes is nested more than a few levels (a push: body, mutations, a mutation, its fields,
a value); a value nested up to 64 levels is read and refused by the field it was sent for (in a push,
that mutation alone), and only a body deeper than that is refused whole, before a view sees it.
"""

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 64


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict[str, Any] | None = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(_too_deep()) from exc
        if depth_exceeds(data, MAX_DEPTH):
            raise ParseError(_too_deep())
        return data


def _too_deep() -> str:
    return _("The JSON is nested more than %(max)d levels deep.") % {"max": MAX_DEPTH}


def depth_exceeds(data: Any, limit: int) -> bool:
    """Whether lists and objects nest more than `limit` levels (walked without recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
