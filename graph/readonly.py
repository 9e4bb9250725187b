"""Decide whether a user's Cypher statement is read-only, before it reaches the database.

The embedded ArcadeDB server does not refuse writes inside a read transaction, so the check has
to happen here. It is deliberately strict: comments, string literals and backquoted names are
blanked out first (so ``/* */ CREATE`` or ``` `SET` ``` tricks neither hide nor fake a keyword),
then every remaining word is checked against the clauses that write or administer, in any case.
``CALL`` is allowed only for ``CALL { ... }`` subqueries (whose body passes the same check) and a
short allowlist of read-only procedures. One statement per request.
"""

from __future__ import annotations

import re

from bamboo.errors import QueryError

__all__ = ["ALLOWED_PROCEDURES", "check_read_only"]

_FORBIDDEN = {
    "CREATE", "MERGE", "SET", "DELETE", "DETACH", "REMOVE", "DROP", "LOAD", "FOREACH", "ALTER",
    "GRANT", "REVOKE", "DENY", "RENAME", "START", "STOP", "TERMINATE", "ENABLE", "DISABLE", "USE",
    "SHOW", "PERIODIC", "TRANSACTIONS", "FINISH", "INSERT", "UPDATE", "TRUNCATE", "IMPORT",
}  # fmt: skip

ALLOWED_PROCEDURES = frozenset(
    {
        "db.labels",
        "db.relationshiptypes",
        "db.propertykeys",
        "db.schema.visualization",
        "db.schema.nodetypeproperties",
    }
)

_LEXEME = re.compile(
    r"""
    (?P<line_comment>//[^\n]*)
  | (?P<block_comment>/\*.*?(?:\*/|\Z))
  | (?P<string>'(?:[^'\\]|\\.)*(?:'|\Z)|"(?:[^"\\]|\\.)*(?:"|\Z))
  | (?P<quoted>`(?:[^`]|``)*(?:`|\Z))
    """,
    re.VERBOSE | re.DOTALL,
)


def _blank(statement: str) -> str:
    """The statement with comments removed and literals / quoted names replaced by placeholders."""

    def repl(m: re.Match[str]) -> str:
        if m.group("line_comment") or m.group("block_comment"):
            return " "
        if m.group("string"):
            return " '' "
        return " `q` "

    return _LEXEME.sub(repl, statement)


def check_read_only(statement: str) -> str:
    """Return ``statement`` unchanged if it is read-only; raise otherwise.

    Raises:
        QueryError: the statement writes, administers, calls a procedure outside the allowlist,
            or holds more than one statement.
    """
    if not statement or not statement.strip():
        raise QueryError("empty Cypher statement")
    text = _blank(statement)
    body = text.strip().rstrip(";").strip()
    if ";" in body:
        raise QueryError("only one Cypher statement per request")
    # Words that follow a '.' are property or procedure-name parts, or map keys before ':' (`{set: 1}`).
    for m in re.finditer(r"(?<![.\w$])([A-Za-z_][A-Za-z0-9_]*)(?!\s*:(?!:))", body):
        word = m.group(1).upper()
        if word in _FORBIDDEN:
            raise QueryError(f"read-only endpoint: {word} is not allowed")
    for m in re.finditer(r"\bCALL\b\s*(\{|[A-Za-z_][\w.]*)", body, re.IGNORECASE):
        target = m.group(1)
        if target != "{" and target.lower() not in ALLOWED_PROCEDURES:
            raise QueryError(
                f"read-only endpoint: procedure {target} is not allowed "
                f"(allowed: {', '.join(sorted(ALLOWED_PROCEDURES))})"
            )
    return statement
