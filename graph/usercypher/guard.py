"""Read-only Cypher by construction: parse a user statement, allowlist it, write it out anew.

A statement is tokenised by :mod:`bamboo.graph.usercypher.lexer` and parsed by a recursive-descent
parser of the *read* subset of Neo4j 5 Cypher. Whatever the parser does not know is refused, so
the rule is an allowlist, not a list of forbidden words:

* clauses: ``MATCH``, ``OPTIONAL MATCH``, ``WHERE``, ``WITH``, ``UNWIND``, ``RETURN``, ``ORDER BY``,
  ``SKIP``/``OFFSET``, ``LIMIT``, ``UNION [ALL]``, ``CALL { ... }`` subqueries (not ``IN
  TRANSACTIONS``) and ``CALL`` of the read-only procedures in :data:`ALLOWED_PROCEDURES`;
* expressions: literals, parameters, operators, patterns, comprehensions, ``CASE``, ``EXISTS``/
  ``COUNT``/``COLLECT`` subqueries, and calls of the built-in functions in :data:`ALLOWED_FUNCTIONS`
  (nothing that writes, sleeps, or runs another language such as ArcadeDB's ``sql.eval``).
  ArcadeDB cannot interrupt an expression, so the ones whose cost has no bound are refused too:
  ``reduce``, a list iteration inside another, and ``range`` beyond :data:`MAX_RANGE` values, with
  non-literal bounds, or inside an iteration.

Procedure and function names are matched on their unquoted, case-folded name, so backquoting
(``CALL `merge`.`node` ``) changes nothing. The statement sent to the database is *not* the user's
text but the one written from the parsed tokens (:func:`check_read_only` returns it): no comment,
no unusual whitespace or escape survives, keywords are ASCII, and names that are not plain ASCII
identifiers are backquoted. One validator serves Neo4j and the embedded store.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from bamboo.errors import QueryError
from bamboo.graph.usercypher.lexer import Token, tokenize, where

__all__ = [
    "ALLOWED_FUNCTIONS",
    "ALLOWED_PROCEDURES",
    "MAX_GROWTH",
    "MAX_NESTING",
    "MAX_RANGE",
    "MAX_REPARSE",
    "MAX_TOKENS",
    "check_read_only",
]

MAX_NESTING = 40
MAX_RANGE = 100_000
#: How many times larger than its inputs a value the statement builds may be. Each variable a
#: projection or UNWIND names gets a size factor: the sum of the factors of the variables its
#: expression reads (``s + s`` doubles ``s``), squared where a growing function or a list
#: iteration can multiply them (``replace(s, 'a', s)``, ``[x IN l | l]``). A statement whose
#: factor passes this bound is refused: ``WITH s + s + s + s AS s`` repeated builds a gigabyte in
#: seconds inside the database, where no time limit interrupts a single expression. (Rows, and so
#: ``collect()``, are bounded by the time limit instead.)
MAX_GROWTH = 256
#: Tokens a statement may hold (long lists belong in parameters).
MAX_TOKENS = 10_000
#: The parser backtracks where Cypher is ambiguous (``(a)`` starts a pattern or an expression); the
#: tokens it may read again are bounded by this many times the statement's tokens (plus a constant),
#: so checking a statement costs time linear in its length whatever its shape.
MAX_REPARSE = 4

ALLOWED_PROCEDURES: dict[str, str] = {
    name.lower(): name
    for name in (
        "db.labels",
        "db.relationshipTypes",
        "db.propertyKeys",
        "db.schema.visualization",
        "db.schema.nodeTypeProperties",
        "db.schema.relTypeProperties",
        "db.index.fulltext.queryNodes",
        "db.index.fulltext.queryRelationships",
        "dbms.components",
    )
}

# Neo4j 5's built-in functions that only compute from their arguments (plus the clock and a random
# source), and ArcadeDB's ``create.uuid``. Nothing here writes, sleeps, reads files or switches
# language; ArcadeDB's other namespaces (``sql.*``, ``util.*``, ``algo.*``, ...) stay out.
ALLOWED_FUNCTIONS: dict[str, str] = {
    name.lower(): name
    for name in (
        "avg collect count max min percentileCont percentileDisc stDev stDevP sum "
        "keys labels nodes range relationships reverse tail toBooleanList toFloatList toIntegerList "
        "toStringList coalesce elementId endNode head id last length nullIf properties randomUUID size "
        "startNode timestamp toBoolean toBooleanOrNull toFloat toFloatOrNull toInteger toIntegerOrNull "
        "type valueType char_length character_length exists isEmpty isNaN "
        "abs ceil floor rand round sign e exp log log10 sqrt acos asin atan atan2 cos cosh cot coth "
        "degrees haversin pi radians sin sinh tan tanh "
        "btrim left lower ltrim normalize replace right rtrim split substring toLower toString "
        "toStringOrNull toUpper trim upper "
        "date datetime localdatetime localtime time duration "
        "date.truncate datetime.truncate localdatetime.truncate localtime.truncate time.truncate "
        "datetime.fromepoch datetime.fromepochmillis duration.between duration.inDays duration.inMonths "
        "duration.inSeconds point point.distance point.withinBBox distance "
        "vector.similarity.cosine vector.similarity.euclidean "
        "create.uuid"
    ).split()
}

_CLAUSES = ("MATCH", "OPTIONAL", "UNWIND", "WITH", "RETURN", "CALL")
_WRITE_WORDS = frozenset(
    (
        "CREATE MERGE SET DELETE DETACH NODETACH REMOVE DROP LOAD FOREACH ALTER GRANT REVOKE DENY RENAME "
        "START STOP TERMINATE ENABLE DISABLE USE SHOW FINISH INSERT UPDATE TRUNCATE IMPORT USING "
        "ALLOCATE DEALLOCATE"
    ).split()
)
# Cypher keywords: a name that spells one is written out backquoted, so a database can never read
# it as a keyword where we read a name.
_KEYWORDS = _WRITE_WORDS | frozenset(
    (
        "ALL AND ANY AS ASC ASCENDING BY CALL CASE COLLECT CONTAINS COUNT DESC DESCENDING DISTINCT "
        "ELSE END ENDS EXISTS FALSE IN INF INFINITY IS LIMIT MATCH NAN NONE NOT NULL OF OFFSET ON "
        "OPTIONAL OR ORDER REDUCE RETURN ROWS SINGLE SKIP STARTS THEN TRANSACTIONS TRUE UNION UNWIND "
        "WHEN WHERE WITH XOR YIELD SHORTESTPATH ALLSHORTESTPATHS CONSTRAINT INDEX DATABASE"
    ).split()
)
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_COMPARISONS = ("=", "<>", "<", ">", "<=", ">=", "=~")
_LITERALS = {"TRUE", "FALSE", "NULL", "NAN", "INF", "INFINITY"}


def _name(text: str) -> str:
    if _PLAIN.fullmatch(text) and text.upper() not in _KEYWORDS:
        return text
    return "`" + text.replace("`", "``") + "`"


def _string(value: str) -> str:
    out = ["'"]
    for ch in value:
        if ch == "\\":
            out.append("\\\\")
        elif ch == "'":
            out.append("\\'")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ch in "\x7f\x85\u2028\u2029" or 0x80 <= ord(ch) < 0xA0:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append("'")
    return "".join(out)


def _join(pieces: list[str]) -> str:
    """Pieces separated by one space, except inside brackets and before commas."""
    out: list[str] = []
    for piece in pieces:
        if out and not (out[-1].endswith(("(", "[", ":")) or piece.startswith((")", "]", ",", ":"))):
            out.append(" ")
        out.append(piece)
    return "".join(out)


class _Backtrack(Exception):
    pass


class _Parser:
    def __init__(self, statement: str) -> None:
        self.text = statement
        self.tokens = tokenize(statement, max_tokens=MAX_TOKENS)
        self.work_left = (MAX_REPARSE + 1) * len(self.tokens) + 256
        self._i = 0
        self.out: list[str] = []
        self.depth = 0
        self.deepest = 0
        # expr() parses memoised by (position, inside an iteration): where the parser backtracks,
        # a span it already parsed as an expression is not parsed again (packrat parsing), so the
        # work stays linear however deeply patterns and expressions nest in each other
        self.memo: dict[tuple[int, bool], tuple[int, list[str], int, list[Token]] | None] = {}
        self.trying = 0
        self.iterating = 0
        self.growth: dict[str, int] = {}  # variable -> size factor (see MAX_GROWTH); 1 when absent
        # variable-length relationships and quantified paths taken so far (rewound on backtrack)
        self.var_lengths: list[Token] = []

    # --- tokens -------------------------------------------------------------------------

    @property
    def i(self) -> int:
        return self._i

    @i.setter
    def i(self, value: int) -> None:
        if value > self._i:
            self.work_left -= value - self._i
            if self.work_left < 0:
                raise QueryError(
                    "the statement is too ambiguous to check in bounded time (patterns and "
                    "expressions nested in each other); simplify it or pass values as parameters"
                )
        self._i = value

    def peek(self, k: int = 0) -> Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def kw(self, *words: str, k: int = 0) -> bool:
        return self.peek(k).upper in words

    def op(self, *ops: str, k: int = 0) -> bool:
        tok = self.peek(k)
        return tok.kind == "op" and tok.text in ops

    def is_name(self, k: int = 0) -> bool:
        return self.peek(k).kind in ("name", "quoted")

    def fail(self, message: str, token: Token | None = None) -> QueryError:
        if self.trying:
            raise _Backtrack
        token = token or self.peek()
        return QueryError(f"{message} at {where(self.text, token)}")

    def unexpected(self) -> QueryError:
        tok = self.peek()
        if tok.kind == "eof":
            return self.fail("the statement ends too early")
        if tok.upper in _WRITE_WORDS:
            return self.fail(
                f"read-only endpoint: {tok.upper} is not allowed (only MATCH, OPTIONAL MATCH, WHERE, WITH, "
                "UNWIND, RETURN, ORDER BY, SKIP, LIMIT, UNION, CALL {...} and read-only procedures)"
            )
        shown = tok.text if tok.kind in ("name", "op", "number") else tok.kind
        return self.fail(f"unexpected {shown!r}")

    def emit(self, text: str, *, glue: bool = False) -> None:
        if glue and self.out:
            self.out[-1] += text
        else:
            self.out.append(text)

    def take_kw(self, word: str) -> None:
        if not self.kw(word):
            raise self.unexpected() if self.peek().kind != "eof" else self.fail(f"expected {word}")
        self.i += 1
        self.emit(word)

    def take_op(self, op: str, *, glue: bool = False) -> None:
        if not self.op(op):
            tok = self.peek()
            if tok.kind == "eof":
                raise self.fail(f"expected {op!r} but the statement ends")
            raise self.fail(f"expected {op!r}, found {tok.text if tok.kind != 'string' else 'a string'!r}")
        self.i += 1
        self.emit(op, glue=glue)

    def take_name(self, *, glue: bool = False) -> str:
        tok = self.peek()
        if tok.kind not in ("name", "quoted"):
            raise self.fail("expected a name") if tok.kind != "eof" else self.unexpected()
        self.i += 1
        self.emit(_name(tok.text), glue=glue)
        return tok.text

    @contextmanager
    def nested(self) -> Iterator[None]:
        self.depth += 1
        self.deepest = max(self.deepest, self.depth)
        if self.depth > MAX_NESTING:
            raise QueryError(f"the statement is nested more than {MAX_NESTING} levels deep")
        try:
            yield
        finally:
            self.depth -= 1

    @contextmanager
    def iteration(self, token: Token) -> Iterator[None]:
        """The body of a list iteration (comprehension, reduce, all/any/none/single).

        One level only: the embedded store cannot interrupt an expression that iterates inside
        an iteration (it runs past every time limit), so such a statement is refused here.
        """
        if self.iterating:  # not subject to backtracking: this is a refusal, not a parse failure
            raise QueryError(
                "read-only endpoint: a list iteration inside another one is not allowed "
                f"(use UNWIND, which the database can interrupt) at {where(self.text, token)}"
            )
        self.iterating += 1
        mark = len(self.var_lengths)
        try:
            yield
        finally:
            self.iterating -= 1
        self.bounded_patterns(mark, "inside a list iteration")

    def bounded_patterns(self, mark: int, where_: str) -> None:
        """Refuse the variable-length patterns taken since ``mark`` (in an expression: the embedded
        store cannot interrupt an expression, so such a pattern runs past every time limit and on
        after its transaction is terminated; MATCH, EXISTS { } and COUNT { } can be interrupted)."""
        if len(self.var_lengths) > mark:
            raise QueryError(
                f"read-only endpoint: a variable-length pattern {where_} is not allowed (the database "
                "cannot interrupt it); use MATCH, EXISTS { ... } or COUNT { ... } at "
                f"{where(self.text, self.var_lengths[mark])}"
            )

    def attempt(self, parse: Callable[[], None]) -> bool:
        """Run ``parse``; on failure rewind tokens and output and return False."""
        mark, out_len, out_last = self.i, len(self.out), self.out[-1] if self.out else None
        var_len = len(self.var_lengths)
        self.trying += 1
        try:
            parse()
            return True
        except _Backtrack:
            self.i = mark
            del self.var_lengths[var_len:]
            del self.out[out_len:]
            if out_last is not None and self.out:
                self.out[-1] = out_last
            return False
        finally:
            self.trying -= 1

    # --- statements and clauses ---------------------------------------------------------

    def statement(self) -> str:
        self.union()
        if self.op(";"):
            self.i += 1
            if self.peek().kind != "eof":
                raise self.fail("only one Cypher statement per request")
        if self.peek().kind != "eof":
            raise self.unexpected()
        return _join(self.out)

    def union(self) -> None:
        self.query()
        while self.kw("UNION"):
            self.take_kw("UNION")
            if self.kw("ALL", "DISTINCT"):
                self.take_kw(self.peek().upper)
            self.query()

    def query(self) -> None:
        if not self.kw(*_CLAUSES):
            raise self.unexpected()
        while self.kw(*_CLAUSES):
            word = self.peek().upper
            if word in ("MATCH", "OPTIONAL"):
                self.match()
            elif word == "UNWIND":
                self.take_kw("UNWIND")
                start = self.i
                self.expr()
                factor = self.size_factor(start, self.i)
                self.take_kw("AS")
                self.growth[self.take_name()] = factor
            elif word == "WITH":
                self.take_kw("WITH")
                self.projection()
                self.where()
            elif word == "RETURN":
                self.take_kw("RETURN")
                self.projection()
            else:
                self.call()
        if not (self.peek().kind == "eof" or self.op(";", "}") or self.kw("UNION")):
            raise self.unexpected()

    def match(self) -> None:
        if self.kw("OPTIONAL"):
            self.take_kw("OPTIONAL")
        self.take_kw("MATCH")
        self.pattern()
        while self.op(","):
            self.take_op(",")
            self.pattern()
        self.where()

    def where(self) -> None:
        if self.kw("WHERE"):
            self.take_kw("WHERE")
            self.expr()

    def projection(self) -> None:
        if self.kw("DISTINCT"):
            self.take_kw("DISTINCT")
        if self.op("*"):
            self.take_op("*")
        else:
            self.item()
        while self.op(","):
            self.take_op(",")
            self.item()
        if self.kw("ORDER"):
            self.take_kw("ORDER")
            self.take_kw("BY")
            self.sort_item()
            while self.op(","):
                self.take_op(",")
                self.sort_item()
        if self.kw("SKIP", "OFFSET"):
            self.take_kw(self.peek().upper)
            self.expr()
        if self.kw("LIMIT"):
            self.take_kw("LIMIT")
            self.expr()

    def item(self) -> None:
        start = self.i
        self.expr()
        factor = self.size_factor(start, self.i)
        if self.kw("AS"):
            self.take_kw("AS")
            self.growth[self.take_name()] = factor

    _GROWING = frozenset(("replace", "split", "reverse", "tostringlist", "tointegerlist", "tofloatlist"))

    def size_factor(self, start: int, end: int) -> int:
        """How many times larger than its inputs the expression in tokens ``start:end`` may be."""
        total, square = 0, False
        tokens = self.tokens
        for k in range(start, end):
            tok = tokens[k]
            if tok.kind == "op" and tok.text == "|":
                square = True  # a list iteration's projection
            if tok.kind not in ("name", "quoted") or (tok.kind == "name" and tok.upper in _KEYWORDS):
                continue
            before = tokens[k - 1] if k > start else None
            after = tokens[k + 1]
            if after.kind == "op" and after.text == "(":
                square = square or tok.text.lower() in self._GROWING
                continue  # a function's name
            if before is not None and before.kind == "op" and before.text in (".", ":", "$"):
                continue  # a property key, a label or a parameter
            if after.kind == "op" and after.text == ":":
                continue  # a map key
            total += self.growth.get(tok.text, 1)
        factor = max(total, 1) ** 2 if square else max(total, 1)
        if factor > MAX_GROWTH:
            raise QueryError(
                "read-only endpoint: this statement can build a value more than "
                f"{MAX_GROWTH} times larger than its inputs (a value fed back into itself through "
                "WITH, e.g. WITH s + s AS s repeated); the database cannot interrupt building it "
                f"at {where(self.text, tokens[start])}"
            )
        return factor

    def sort_item(self) -> None:
        self.expr()
        if self.kw("ASC", "ASCENDING", "DESC", "DESCENDING"):
            self.take_kw(self.peek().upper)

    def call(self) -> None:
        self.take_kw("CALL")
        if self.op("(", "{"):
            if self.op("("):  # CALL (a, b) { ... } imports variables
                self.take_op("(")
                if self.op("*"):
                    self.take_op("*")
                elif not self.op(")"):
                    self.take_name()
                    while self.op(","):
                        self.take_op(",")
                        self.take_name()
                self.take_op(")")
            self.subquery()
            if self.kw("IN"):
                raise self.fail(
                    "read-only endpoint: CALL { ... } IN TRANSACTIONS is not allowed (it commits)"
                )
            return
        tok = self.peek()
        name = self.qualified_name()
        canonical = ALLOWED_PROCEDURES.get(name.lower())
        if canonical is None:
            raise self.fail(
                f"read-only endpoint: procedure {name} is not allowed "
                f"(allowed: {', '.join(sorted(ALLOWED_PROCEDURES.values()))})",
                tok,
            )
        self.emit(canonical)
        if self.op("("):
            self.arguments()
        else:
            self.emit("()", glue=True)
        if self.kw("YIELD"):
            self.take_kw("YIELD")
            if self.op("*"):
                self.take_op("*")
            else:
                self.yield_item()
                while self.op(","):
                    self.take_op(",")
                    self.yield_item()
            self.where()

    def yield_item(self) -> None:
        self.take_name()
        if self.kw("AS"):
            self.take_kw("AS")
            self.take_name()

    def subquery(self) -> None:
        with self.nested():
            self.take_op("{")
            self.union()
            self.take_op("}")

    def qualified_name(self) -> str:
        """``a.b.c`` with any part bare or backquoted; consumed, not emitted."""
        parts = []
        while True:
            tok = self.peek()
            if tok.kind not in ("name", "quoted"):
                raise self.fail("expected a name")
            parts.append(tok.text)
            self.i += 1
            if not (self.op(".") and self.is_name(1)):
                return ".".join(parts)
            self.i += 1

    def arguments(self) -> None:
        self.take_op("(", glue=True)
        if self.kw("DISTINCT"):
            self.take_kw("DISTINCT")
        if not self.op(")"):
            self.expr()
            while self.op(","):
                self.take_op(",")
                self.expr()
        self.take_op(")")

    # --- patterns -----------------------------------------------------------------------

    def pattern(self) -> None:
        if self.is_name() and self.op("=", k=1):
            self.take_name()
            self.take_op("=")
        if self.kw("SHORTESTPATH", "ALLSHORTESTPATHS") and self.op("(", k=1):
            self.emit({"SHORTESTPATH": "shortestPath"}.get(self.peek().upper, "allShortestPaths"))
            self.i += 1
            self.take_op("(", glue=True)
            self.path()
            self.take_op(")")
        else:
            self.path()

    def path(self, *, need_relationship: bool = False) -> None:
        with self.nested():
            self.path_part()
            steps = 0
            while self.op("-", "<"):
                self.relationship()
                self.path_part()
                steps += 1
            if need_relationship and not steps:
                raise self.fail("expected a relationship")

    def path_part(self) -> None:
        if self.op("(") and self.op("(", k=1):  # parenthesised path, optionally quantified
            self.take_op("(")
            self.path()
            self.where()
            self.take_op(")")
            self.quantifier()
        else:
            self.node()

    def quantifier(self) -> None:
        if self.op("+", "*", "{"):
            self.var_lengths.append(self.peek())
        if self.op("+", "*"):
            self.take_op(self.peek().text)
        elif self.op("{"):
            self.take_op("{")
            if self.peek().kind == "number":
                self.integer()
            if self.op(","):
                self.take_op(",")
                if self.peek().kind == "number":
                    self.integer()
            self.take_op("}")

    def integer(self) -> None:
        tok = self.peek()
        if tok.kind != "number" or not tok.text.isdigit():
            raise self.fail("expected an integer")
        self.i += 1
        self.emit(tok.text)

    def node(self) -> None:
        self.take_op("(")
        if self.is_name() and not self.kw("WHERE"):
            self.take_name()
        if self.op(":") or self.kw("IS"):
            self.label_expression()
        if self.op("{") or self.peek().kind == "param":
            self.properties()
        self.where()
        self.take_op(")")

    def properties(self) -> None:
        if self.peek().kind == "param":
            self.param()
        else:
            self.map_literal()

    def label_expression(self) -> None:
        if self.kw("IS"):
            self.take_kw("IS")
        else:
            self.take_op(":")
        self.label_or()

    def label_or(self) -> None:
        with self.nested():
            self.label_and()
            while self.op("|"):
                self.take_op("|")
                if self.op(":"):
                    self.take_op(":")
                self.label_and()

    def label_and(self) -> None:
        self.label_not()
        while self.op("&", ":"):
            self.take_op(self.peek().text)
            self.label_not()

    def label_not(self) -> None:
        if self.op("!"):
            self.take_op("!")
            self.label_not()
        elif self.op("%"):
            self.take_op("%")
        elif self.op("("):
            self.take_op("(")
            self.label_or()
            self.take_op(")")
        else:
            self.take_name()

    def relationship(self) -> None:
        left = self.op("<")
        if left:
            self.i += 1
        if not self.op("-"):
            raise self.fail("expected '-' in a relationship pattern")
        self.i += 1
        self.emit("<-" if left else "-")
        if self.op("["):
            self.take_op("[", glue=True)
            if self.is_name() and not self.kw("WHERE"):
                self.take_name()
            if self.op(":"):
                self.take_op(":")
                self.label_or()
            if self.op("*"):
                self.var_lengths.append(self.peek())
                self.take_op("*")
                if self.peek().kind == "number":
                    self.integer()
                if self.op(".."):
                    self.take_op("..")
                    if self.peek().kind == "number":
                        self.integer()
            if self.op("{") or self.peek().kind == "param":
                self.properties()
            self.where()
            self.take_op("]")
        if not self.op("-"):
            raise self.fail("expected '-' to close a relationship pattern")
        self.i += 1
        self.emit("-", glue=True)
        if self.op(">"):
            self.i += 1
            self.emit(">", glue=True)
        self.quantifier()

    # --- expressions --------------------------------------------------------------------

    def expr(self) -> None:
        key = (self._i, self.iterating > 0)
        if key in self.memo:
            hit = self.memo[key]
            if hit is None:  # this span failed to parse as an expression before
                if self.trying:
                    raise _Backtrack
            elif self.depth + hit[2] <= MAX_NESTING:
                self._i, pieces = hit[0], hit[1]
                self.out.extend(pieces)
                self.var_lengths.extend(hit[3])
                return
        start_out, last = len(self.out), self.out[-1] if self.out else None
        start_var = len(self.var_lengths)
        outer_deepest, self.deepest = self.deepest, self.depth
        try:
            with self.nested():
                self.binary(0)
        except _Backtrack:
            self.memo[key] = None
            raise
        finally:
            reached, self.deepest = self.deepest, max(outer_deepest, self.deepest)
        if not start_out or self.out[start_out - 1] == last:  # nothing glued onto what came before
            self.memo[key] = (
                self._i,
                self.out[start_out:],
                reached - self.depth,
                self.var_lengths[start_var:],
            )

    _LEVELS = (("OR",), ("XOR",), ("AND",))

    def binary(self, level: int) -> None:
        if level == len(self._LEVELS):
            self.negation()
            return
        self.binary(level + 1)
        while self.kw(*self._LEVELS[level]):
            self.take_kw(self.peek().upper)
            self.binary(level + 1)

    def negation(self) -> None:
        while self.kw("NOT"):
            self.take_kw("NOT")
        self.comparison()

    def comparison(self) -> None:
        self.predicate()
        while self.op(*_COMPARISONS):
            self.take_op(self.peek().text)
            self.predicate()

    def predicate(self) -> None:
        self.additive()
        while True:
            if self.kw("STARTS", "ENDS") and self.kw("WITH", k=1):
                self.take_kw(self.peek().upper)
                self.take_kw("WITH")
                self.additive()
            elif self.kw("CONTAINS", "IN"):
                self.take_kw(self.peek().upper)
                self.additive()
            elif self.kw("IS") and (self.kw("NULL", k=1) or (self.kw("NOT", k=1) and self.kw("NULL", k=2))):
                self.take_kw("IS")
                if self.kw("NOT"):
                    self.take_kw("NOT")
                self.take_kw("NULL")
            else:
                return

    def additive(self) -> None:
        self.multiplicative()
        while self.op("+", "-"):
            self.take_op(self.peek().text)
            self.multiplicative()

    def multiplicative(self) -> None:
        self.power()
        while self.op("*", "/", "%"):
            self.take_op(self.peek().text)
            self.power()

    def power(self) -> None:
        self.unary()
        while self.op("^"):
            self.take_op("^")
            self.unary()

    def unary(self) -> None:
        if self.op("+", "-"):
            self.take_op(self.peek().text)
            with self.nested():
                self.unary()
            return
        self.postfix()

    def postfix(self) -> None:
        self.atom()
        while True:
            if self.op(".") and self.is_name(1):
                self.take_op(".", glue=True)
                self.take_name(glue=True)
            elif self.op("["):
                with self.nested():
                    self.take_op("[", glue=True)
                    if not self.op(".."):
                        self.expr()
                    if self.op(".."):
                        self.take_op("..")
                        if not self.op("]"):
                            self.expr()
                    self.take_op("]")
            elif self.op(":") and (self.is_name(1) or self.op("!", "%", "(", k=1)):
                self.take_op(":")
                self.label_or()
            else:
                return

    def atom(self) -> None:
        tok = self.peek()
        with self.nested():
            if tok.kind == "number":
                self.i += 1
                self.emit(tok.text)
            elif tok.kind == "string":
                self.i += 1
                self.emit(_string(tok.text))
            elif tok.kind == "param":
                self.param()
            elif tok.upper in _LITERALS and not self.op("(", ".", k=1):
                self.i += 1
                self.emit(tok.upper)
            elif tok.upper in ("EXISTS", "COUNT", "COLLECT") and self.op("{", k=1):
                self.i += 1
                self.emit(tok.upper)
                self.subquery_expression()
            elif tok.upper == "COUNT" and self.op("(", k=1) and self.op("*", k=2) and self.op(")", k=3):
                self.i += 4
                self.emit("count(*)")
            elif tok.upper == "CASE":
                self.case()
            elif tok.upper in ("ALL", "ANY", "NONE", "SINGLE") and self.op("(", k=1):
                self.i += 1
                self.emit(tok.upper.lower())
                self.take_op("(", glue=True)
                self.take_name()
                self.take_kw("IN")
                self.expr()
                with self.iteration(tok):
                    self.where()
                self.take_op(")")
            elif tok.upper == "REDUCE" and self.op("(", k=1):
                # ArcadeDB cannot interrupt an expression, and a reduce can cost quadratically
                # (string or list accumulation): no time limit would hold.
                raise QueryError(
                    "read-only endpoint: reduce() is not allowed (the database cannot interrupt it); "
                    f"use UNWIND with an aggregation at {where(self.text, tok)}"
                )
            elif tok.upper in ("SHORTESTPATH", "ALLSHORTESTPATHS") and self.op("(", k=1):
                raise QueryError(
                    f"read-only endpoint: {tok.text} in an expression is not allowed (the database "
                    f"cannot interrupt it); use it in MATCH at {where(self.text, tok)}"
                )
            elif self.op("["):
                self.bracket()
            elif self.op("{"):
                self.map_literal()
            elif self.op("("):
                mark = len(self.var_lengths)
                if self.attempt(lambda: self.path(need_relationship=True)):
                    self.bounded_patterns(mark, "in an expression")
                else:
                    self.take_op("(")
                    self.expr()
                    self.take_op(")")
            elif tok.kind in ("name", "quoted"):
                self.name_atom()
            else:
                raise self.unexpected()

    def param(self) -> None:
        tok = self.peek()
        self.i += 1
        self.emit("$" + _name(tok.text) if not tok.text.isdigit() else "$" + tok.text)

    def name_atom(self) -> None:
        # A function call (`f(`, `a.b.f(`, any part backquoted), a map projection, or a variable.
        k = 0
        while self.is_name(k) and self.op(".", k=k + 1) and self.is_name(k + 2):
            k += 2
        if self.is_name(k) and self.op("(", k=k + 1):
            tok = self.peek()
            name = self.qualified_name()
            canonical = ALLOWED_FUNCTIONS.get(name.lower())
            if canonical is None:
                raise self.fail(
                    f"read-only endpoint: function {name} is not allowed "
                    "(only built-in functions that neither write, sleep nor run another language)",
                    tok,
                )
            if canonical == "range":
                self.bounded_range(tok)
                return
            self.emit(canonical)
            self.arguments()
            return
        self.take_name()
        if self.op("{"):
            self.map_projection()

    def bounded_range(self, tok: Token) -> None:
        """``range(a, b[, step])`` with integer literals spanning at most MAX_RANGE values, and not
        inside a list iteration: the one function that makes a list out of nothing, and the
        database cannot interrupt the expressions that consume it."""
        bounds: list[int] = []
        self.emit("range")
        self.take_op("(", glue=True)
        while True:
            sign = -1 if self.op("-") else 1
            if sign < 0:
                self.take_op("-")
            num = self.peek()
            if num.kind != "number" or not num.text.isdigit():
                raise QueryError(
                    "read-only endpoint: range() takes integer literals only (no parameters or "
                    f"expressions) at {where(self.text, tok)}"
                )
            self.i += 1
            self.emit(num.text, glue=sign < 0)
            bounds.append(sign * int(num.text))
            if not self.op(","):
                break
            self.take_op(",")
        self.take_op(")")
        if len(bounds) not in (2, 3) or (len(bounds) == 3 and bounds[2] == 0):
            raise QueryError(f"range() takes a start, an end and a non-zero step at {where(self.text, tok)}")
        step = bounds[2] if len(bounds) == 3 else 1
        size = max(0, (bounds[1] - bounds[0]) // step + 1)
        if size > MAX_RANGE:
            raise QueryError(
                f"read-only endpoint: range() may make at most {MAX_RANGE} values, not {size} "
                f"at {where(self.text, tok)}"
            )
        if self.iterating:
            raise QueryError(
                "read-only endpoint: range() inside a list iteration is not allowed "
                f"(use UNWIND, which the database can interrupt) at {where(self.text, tok)}"
            )

    def case(self) -> None:
        self.take_kw("CASE")
        if not self.kw("WHEN"):
            self.expr()
        if not self.kw("WHEN"):
            raise self.fail("expected WHEN")
        while self.kw("WHEN"):
            self.take_kw("WHEN")
            self.expr()
            self.take_kw("THEN")
            self.expr()
        if self.kw("ELSE"):
            self.take_kw("ELSE")
            self.expr()
        self.take_kw("END")

    def subquery_expression(self) -> None:
        # EXISTS { <query> } or EXISTS { <pattern> [WHERE ...] }; COUNT and COLLECT alike.
        with self.nested():
            self.take_op("{")
            if self.kw(*_CLAUSES):
                self.union()
            else:
                self.pattern()
                while self.op(","):
                    self.take_op(",")
                    self.pattern()
                self.where()
            self.take_op("}")

    def bracket(self) -> None:
        """A list literal, a list comprehension or a pattern comprehension."""
        start = self.peek()
        self.take_op("[")
        if self.op("]"):
            self.take_op("]", glue=True)
            return
        if self.is_name() and self.kw("IN", k=1):  # [x IN list WHERE ... | ...]
            self.take_name()
            self.take_kw("IN")
            self.expr()
            with self.iteration(start):
                self.where()
                if self.op("|"):
                    self.take_op("|")
                    self.expr()
            self.take_op("]")
            return

        def pattern_comprehension() -> None:
            if self.is_name() and self.op("=", k=1):
                self.take_name()
                self.take_op("=")
            self.path(need_relationship=True)
            with self.iteration(start):
                self.where()
                self.take_op("|")
                self.expr()
            self.take_op("]")

        starts_pattern = self.op("(") or (self.is_name() and self.op("=", k=1))
        mark = len(self.var_lengths)
        if starts_pattern and self.attempt(pattern_comprehension):
            self.bounded_patterns(mark, "in a pattern comprehension")
            return
        self.expr()
        while self.op(","):
            self.take_op(",")
            self.expr()
        self.take_op("]")

    def map_key(self) -> None:
        self.take_name()
        self.take_op(":", glue=True)

    def map_literal(self) -> None:
        with self.nested():
            self.take_op("{")
            if not self.op("}"):
                self.map_key()
                self.expr()
                while self.op(","):
                    self.take_op(",")
                    self.map_key()
                    self.expr()
            self.take_op("}")

    def map_projection(self) -> None:
        with self.nested():
            self.take_op("{")
            first = True
            while not self.op("}"):
                if not first:
                    self.take_op(",")
                first = False
                if self.op("."):
                    self.take_op(".")
                    if self.op("*"):
                        self.take_op("*", glue=True)
                    else:
                        self.take_name(glue=True)
                elif self.is_name() and self.op(":", k=1):
                    self.map_key()
                    self.expr()
                else:
                    self.take_name()
            self.take_op("}")


def check_read_only(statement: str) -> str:
    """The statement as it is to be sent to the database, if it is one read-only statement.

    The returned text is written from the parsed tokens: same meaning, no comments, canonical
    strings, names and keywords.

    Raises:
        QueryError: the statement is empty, malformed, holds more than one statement, or uses a
            clause, procedure or function outside the read-only allowlist; the message says which
            and where.
    """
    if not statement or not statement.strip():
        raise QueryError("empty Cypher statement")
    try:
        return _Parser(statement).statement()
    except RecursionError:
        raise QueryError(f"the statement is nested more than {MAX_NESTING} levels deep") from None
