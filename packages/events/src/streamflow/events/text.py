"""Text every stage can store: what PostgreSQL ``text`` and ``jsonb`` refuse, made safe once.

PostgreSQL refuses U+0000 in ``text`` ("invalid byte sequence for encoding UTF8: 0x00") and the
``\\u0000`` escape in ``jsonb``; a lone surrogate (U+D800-U+DFFF on its own) cannot be encoded
as UTF-8 at all. Any text that may hold input bytes -- a dead letter's reason quoting a field
name, a record key -- goes through :func:`storable_text` before it is stored or published, so the
ingestor's dead-letter rows and the scorer's DLQ records are sanitised the same way.
"""

from __future__ import annotations

import re

from pydantic_core import PydanticCustomError

NUL_ESCAPE = "\\u0000"
"""What a U+0000 becomes: the six visible characters of its JSON escape."""

REPLACEMENT = "\ufffd"
"""What a lone surrogate becomes (U+FFFD, the Unicode replacement character)."""

ELLIPSIS = "\u2026"
"""The last character of text cut at its bound."""

_SURROGATE = re.compile("[\ud800-\udfff]")
_JSON_NUL_TEXT = b"\\u0000"
# A \u0000 escape proper: preceded by an even number (zero included) of backslashes, so the
# text ``\\u0000`` (an escaped backslash, then "u0000") is not one.
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def storable_text(value: str, limit: int) -> str:
    """``value`` as text PostgreSQL and UTF-8 accept, at most ``limit`` characters long.

    U+0000 becomes the visible escape ``\\u0000``, a lone surrogate becomes U+FFFD, and text
    longer than ``limit`` is cut to ``limit - 1`` characters plus an ellipsis. Text that needs
    none of this comes back unchanged.
    """
    if limit <= 0:
        return ""
    cut = len(value) > limit
    if cut:  # bound the work before escaping (which only lengthens)
        value = value[:limit]
    if "\x00" in value:
        value = value.replace("\x00", NUL_ESCAPE)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = _SURROGATE.sub(REPLACEMENT, value)
    if cut or len(value) > limit:
        value = value[: limit - 1] + ELLIPSIS
    return value


def ascii_text(value: str, limit: int) -> str:
    """:func:`storable_text`, then non-ASCII characters as backslash escapes (plain ASCII out)."""
    safe = storable_text(value, limit).encode("ascii", "backslashreplace").decode("ascii")
    return safe if len(safe) <= limit else safe[: limit - 1] + "~"


def has_json_nul(data: bytes) -> bool:
    """Whether JSON text ``data`` holds a ``\\u0000`` escape (which ``jsonb`` refuses).

    An escaped backslash followed by ``u0000`` is plain text and does not count; a substring
    search rules out almost every value before the exact check runs.
    """
    return _JSON_NUL_TEXT in data and _JSON_NUL.search(data) is not None


def no_nul(value: str) -> str:
    """Validator of contract text: U+0000 is refused with a clear reason (``string_nul``)."""
    if "\x00" in value:
        raise PydanticCustomError(
            "string_nul", "text must not contain U+0000 (NUL): PostgreSQL cannot store it"
        )
    return value
