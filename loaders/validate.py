"""The rules every class name read from a file follows, whatever the format (one name per line, CSV,
COCO JSON, the redistributed lists of :mod:`bamboo.loaders.formats`), so a hostile file is refused
with its file and line before anything reaches the mapper or the graph.

A name is a string of at most :data:`MAX_NAME_LENGTH` characters, without control, invisible
formatting (bidi overrides, zero-width spaces), surrogate, private-use or unassigned characters,
holding at least one letter or digit. It is kept in **NFC** with each run of whitespace as one
space: NFC only joins canonically equal spellings (``é`` as one code point or as ``e`` plus an
accent), so the same name is one string; NFKC would also rewrite what the user wrote (``m²`` to
``m2``, full-width letters, ligatures), and matching already ignores those differences.

>>> clean_name("  Café\\u3000au   lait ", "mine.txt", 3)
'Café au lait'
>>> clean_name("!!!", "mine.txt", 4)
Traceback (most recent call last):
...
bamboo.errors.MalformedFile: mine.txt:4: class name '!!!' has no letter or digit
"""

from __future__ import annotations

import os
import unicodedata

from bamboo.errors import MalformedFile, printable

__all__ = [
    "MAX_CLASSES",
    "MAX_FILE_BYTES",
    "MAX_NAME_LENGTH",
    "MAX_TEXT_LENGTH",
    "check_count",
    "check_size",
    "clean_name",
    "clean_text",
]

#: Longest class name, in characters (after trimming).
MAX_NAME_LENGTH = 200
#: Longest description a class may carry (a CSV's second column, LVIS's ``def``).
MAX_TEXT_LENGTH = 2000
#: Most classes one file may hold: ImageNet-21K, the largest label system loaded here, has 21,843;
#: the cap keeps one import's time and memory bounded (about a minute and a gigabyte).
MAX_CLASSES = 100_000
#: Largest file a user imports: COCO's biggest annotation file (train 2017, 448 MB) fits; reading
#: takes memory linear in the size (a few times it for JSON), so the cap bounds that too.
MAX_FILE_BYTES = 512 * 2**20

# Joiners that shape Persian, Indic scripts and emoji: formatting characters, but part of a name.
_JOINERS = frozenset("\u200c\u200d")
_REFUSED = {
    "Cc": "control",
    "Cf": "invisible formatting",
    "Cs": "surrogate",
    "Co": "private-use",
    "Cn": "unassigned",
    "Zl": "line separator",
    "Zp": "paragraph separator",
}


def clean_name(
    value: object,
    path: str | os.PathLike[str],
    line: int | None,
    *,
    where: str = "",
    what: str = "class name",
) -> str:
    """``value`` as a class name in normal form (see the module docstring).

    Args:
        value: What the file holds there (JSON may hold any type).
        path: The file, for the error.
        line: The 1-based line, or ``None`` when the format has none per value (JSON).
        where: Where in the file, when ``line`` is ``None`` (``categories[3] (id 7)``).
        what: What the value is, for the error (``class name``, ``supercategory``).

    Raises:
        MalformedFile: not a string, too long, a refused character, or no letter or digit.
    """
    text = _checked(value, path, line, where, what, MAX_NAME_LENGTH)
    if not any(ch.isalnum() for ch in text):
        raise MalformedFile(
            path, line, f"{_at(where)}{what} {printable(repr(text), 80)} has no letter or digit"
        )
    return text


def clean_text(
    value: object,
    path: str | os.PathLike[str],
    line: int | None,
    *,
    where: str = "",
    what: str = "description",
) -> str | None:
    """A free text that goes with a class (a description), in the same normal form as a name, at
    most :data:`MAX_TEXT_LENGTH` characters; ``None`` when empty.

    Raises:
        MalformedFile: as :func:`clean_name`, except that a text needs no letter or digit.
    """
    return _checked(value, path, line, where, what, MAX_TEXT_LENGTH) or None


def check_count(path: str | os.PathLike[str], count: int, line: int | None = None) -> None:
    """Refuse a file of more than :data:`MAX_CLASSES` classes (``count`` may stop at one past it).

    Raises:
        MalformedFile: too many classes.
    """
    if count > MAX_CLASSES:
        raise MalformedFile(
            path,
            line,
            f"more than {MAX_CLASSES} classes; split the list (the largest label system has 21,843)",
        )


def check_size(path: str | os.PathLike[str]) -> None:
    """Refuse a file larger than :data:`MAX_FILE_BYTES` before reading it.

    Raises:
        MalformedFile: too large.
    """
    size = os.stat(path).st_size
    if size > MAX_FILE_BYTES:
        raise MalformedFile(
            path, None, f"{size / 2**20:.0f} MiB; a class list is at most {MAX_FILE_BYTES >> 20} MiB"
        )


def _at(where: str) -> str:
    return f"{where}: " if where else ""


def _checked(
    value: object, path: str | os.PathLike[str], line: int | None, where: str, what: str, limit: int
) -> str:
    if not isinstance(value, str):
        # A container is named, not shown: printing a deeply nested one would recurse.
        shown = "" if isinstance(value, (dict, list)) else " " + printable(repr(value), 40)
        raise MalformedFile(
            path, line, f"{_at(where)}{what} must be a string, not {type(value).__name__}{shown}"
        )
    text = value.strip()
    # Counted before any per-character work, so a huge value costs one pass and is refused.
    if len(text) > limit:
        raise MalformedFile(
            path,
            line,
            f"{_at(where)}{what} of {len(text)} characters (at most {limit}): {printable(text, 40)}",
        )
    if not (text.isascii() and text.isprintable()):
        for offset, ch in enumerate(text):
            kind = _REFUSED.get(unicodedata.category(ch))
            if kind and ch not in _JOINERS and ch != "\t":
                article = "an" if kind[0] in "aeiou" else "a"
                label = unicodedata.name(ch, "").lower()
                raise MalformedFile(
                    path,
                    line,
                    f"{_at(where)}{what} has {article} {kind} character, U+{ord(ch):04X}"
                    f"{' ' + label if label else ''}, at character {offset + 1}: {printable(repr(text), 80)}",
                )
        text = unicodedata.normalize("NFC", text)
    text = " ".join(text.split())
    if len(text) > limit:  # NFC may lengthen a few characters
        raise MalformedFile(path, line, f"{_at(where)}{what} of {len(text)} characters (at most {limit})")
    return text
