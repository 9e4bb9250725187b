"""Cypher's lexical rules, strictly: the token stream a user statement is parsed from.

Everything a database lexer might read differently is either normalised away or refused here:

* comments (``//`` ends at *any* line terminator: ``\\n``, ``\\r``, U+0085, U+2028, U+2029, so we
  never read as comment what a database reads as code) and whitespace (ASCII and Unicode spaces)
  are dropped; the statement that reaches the database is re-written from the tokens, so neither
  survives;
* strings take Cypher's escapes (``\\\\ \\' \\" \\b \\f \\n \\r \\t \\uXXXX \\UXXXXXXXX``); any other
  backslash sequence, an unterminated string or comment, a lone surrogate and control characters
  outside strings are refused;
* identifiers are Unicode letters, digits and ``_`` or backquoted; keywords are recognised by their
  ASCII spelling only (``ſet`` is an identifier, never ``SET``) and identifiers that are not plain
  ASCII are re-quoted when written out.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bamboo.errors import QueryError

__all__ = ["Token", "tokenize"]

# Kinds: "name" (bare identifier), "quoted" (backquoted identifier), "string", "number", "param",
# "op" (punctuation and operators), "eof".


@dataclass(frozen=True)
class Token:
    """One lexical token of a Cypher statement: its kind (see above), its text and its offset."""

    kind: str
    text: str  # the identifier's / string's value; the operator or number as written
    pos: int  # offset in the statement, for messages

    @property
    def upper(self) -> str:
        """The keyword this token spells, for bare ASCII identifiers only."""
        return self.text.upper() if self.kind == "name" and self.text.isascii() else ""


_LINE_ENDS = "\n\r\x85\u2028\u2029"
_OPERATORS = (
    "<>", "<=", ">=", "=~", "+=", "..", "::",
    "(", ")", "[", "]", "{", "}", ",", ".", ":", ";", "|", "&", "!", "%",
    "=", "<", ">", "+", "-", "*", "/", "^", "$",
)  # fmt: skip
_NUMBER = re.compile(
    r"0x[0-9A-Fa-f_]+|0o[0-7_]+"
    r"|(?:[0-9][0-9_]*)?\.[0-9][0-9_]*(?:[eE][+-]?[0-9]+)?"
    r"|[0-9][0-9_]*(?:[eE][+-]?[0-9]+)?"
)
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _where(statement: str, pos: int) -> str:
    line = statement.count("\n", 0, pos) + 1
    col = pos - (statement.rfind("\n", 0, pos) + 1) + 1
    return f"line {line}, column {col}"


def _is_space(ch: str) -> bool:
    return ch in " \t\n\r\f\v\x85\u2028\u2029" or unicodedata.category(ch) == "Zs"


def _is_ident_start(ch: str) -> bool:
    return ch == "_" or unicodedata.category(ch)[0] == "L"


def _is_ident_part(ch: str) -> bool:
    return ch == "_" or unicodedata.category(ch)[0] in "LN" or unicodedata.category(ch) in ("Mn", "Mc", "Pc")


def _string(statement: str, start: int) -> tuple[str, int]:
    quote = statement[start]
    out: list[str] = []
    i = start + 1
    n = len(statement)
    while i < n:
        ch = statement[i]
        if ch == quote:
            return "".join(out), i + 1
        if ch == "\\":
            nxt = statement[i + 1 : i + 2]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            width = 4 if nxt == "u" else 8 if nxt == "U" else 0
            digits = statement[i + 2 : i + 2 + width]
            if width and len(digits) == width and all(c in "0123456789abcdefABCDEF" for c in digits):
                code = int(digits, 16)
                if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                    raise QueryError(f"invalid Unicode escape \\{nxt}{digits} at {_where(statement, i)}")
                out.append(chr(code))
                i += 2 + width
                continue
            raise QueryError(f"unknown escape sequence \\{nxt} in a string at {_where(statement, i)}")
        out.append(ch)
        i += 1
    raise QueryError(f"unterminated string starting at {_where(statement, start)}")


def tokenize(statement: str, *, max_tokens: int | None = None) -> list[Token]:
    """The statement's tokens, comments and whitespace dropped, ending with an ``eof`` token.

    Raises:
        QueryError: a character or sequence that Cypher does not define (or defines ambiguously), or
            more than ``max_tokens`` tokens (reading stops there).
    """
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in statement):
        raise QueryError("the statement holds a lone surrogate (invalid Unicode)")
    tokens: list[Token] = []
    i, n = 0, len(statement)
    while i < n:
        if max_tokens is not None and len(tokens) > max_tokens:
            raise QueryError(
                f"the statement has more than {max_tokens} tokens; pass long lists as parameters ($name)"
            )
        ch = statement[i]
        if _is_space(ch):
            i += 1
        elif statement.startswith("//", i):
            while i < n and statement[i] not in _LINE_ENDS:
                i += 1
        elif statement.startswith("/*", i):
            end = statement.find("*/", i + 2)
            if end < 0:
                raise QueryError(f"unterminated comment starting at {_where(statement, i)}")
            i = end + 2
        elif ch in "'\"":
            value, j = _string(statement, i)
            tokens.append(Token("string", value, i))
            i = j
        elif ch == "`":
            name, i2 = _quoted(statement, i)
            tokens.append(Token("quoted", name, i))
            i = i2
        elif ch.isdigit() and ch.isascii() or (ch == "." and statement[i + 1 : i + 2].isdigit()):
            m = _NUMBER.match(statement, i)
            if m is None:  # pragma: no cover - the pattern matches any digit
                raise QueryError(f"malformed number at {_where(statement, i)}")
            j = m.end()
            if j < n and _is_ident_part(statement[j]):
                raise QueryError(f"malformed number at {_where(statement, i)}")
            tokens.append(Token("number", m.group(), i))
            i = j
        elif _is_ident_start(ch):
            j = i + 1
            while j < n and _is_ident_part(statement[j]):
                j += 1
            tokens.append(Token("name", statement[i:j], i))
            i = j
        else:
            op = next((o for o in _OPERATORS if statement.startswith(o, i)), None)
            if op is None:
                raise QueryError(f"unexpected character {ch!r} at {_where(statement, i)}")
            if op == "$":  # a parameter: $name, $`name` or $0
                j = i + 1
                nxt = statement[j : j + 1]
                if nxt == "`":
                    name, j = _quoted(statement, j)
                elif nxt and _is_ident_start(nxt):
                    while j < n and _is_ident_part(statement[j]):
                        j += 1
                    name = statement[i + 1 : j]
                elif nxt.isdigit() and nxt.isascii():
                    while j < n and statement[j].isdigit() and statement[j].isascii():
                        j += 1
                    name = statement[i + 1 : j]
                else:
                    raise QueryError(f"malformed parameter at {_where(statement, i)}")
                tokens.append(Token("param", name, i))
                i = j
                continue
            tokens.append(Token("op", op, i))
            i += len(op)
    tokens.append(Token("eof", "", n))
    return tokens


def _quoted(statement: str, start: int) -> tuple[str, int]:
    """A backquoted name starting at ``start`` (doubled backquotes escape one); its end offset."""
    j = start + 1
    parts: list[str] = []
    while True:
        end = statement.find("`", j)
        if end < 0:
            raise QueryError(f"unterminated backquoted name starting at {_where(statement, start)}")
        parts.append(statement[j:end])
        if not statement.startswith("``", end):
            break
        parts.append("`")
        j = end + 2
    name = "".join(parts)
    if not name or any(unicodedata.category(c)[0] == "C" or c in _LINE_ENDS for c in name):
        raise QueryError(f"empty or unprintable backquoted name at {_where(statement, start)}")
    return name, end + 1


def where(statement: str, token: Token) -> str:
    """``line L, column C`` of a token, for error messages."""
    return _where(statement, token.pos)
