"""The read-only Cypher validator: parse, allowlist, re-write (no database needed)."""

from __future__ import annotations

import pytest
from cypher_corpus import READS, attacks
from hypothesis import given, settings, strategies as st

from bamboo.errors import QueryError
from bamboo.graph.usercypher.guard import _KEYWORDS, ALLOWED_FUNCTIONS, ALLOWED_PROCEDURES, check_read_only
from bamboo.graph.usercypher.lexer import tokenize

_WRITES = {
    "CREATE", "MERGE", "SET", "DELETE", "DETACH", "REMOVE", "DROP", "LOAD", "FOREACH", "ALTER", "GRANT",
    "REVOKE", "DENY", "TERMINATE", "SHOW", "USE", "INSERT", "UPDATE", "FINISH", "TRANSACTIONS", "START",
    "STOP",
}  # fmt: skip
_BUILTIN_FORMS = {"shortestpath", "allshortestpaths", "all", "any", "none", "single", "reduce", "count"}


def harmless(canonical: str) -> bool:
    """True when the re-written statement has no write word, procedure or function outside the allowlists.

    The re-writer backquotes every name that spells a keyword, so a bare write word in its output
    would be a write clause; names followed by '(' are calls.
    """
    tokens = tokenize(canonical)
    for i, tok in enumerate(tokens):
        if tok.kind == "name" and tok.upper in _WRITES and tokens[i + 1].text != ".":  # not create.uuid()
            return False
        if tok.kind == "quoted" or (tok.kind == "name" and tok.upper not in _KEYWORDS):
            if tokens[i + 1].text != "(":
                continue
            j, parts = i, [tok.text]
            while j >= 2 and tokens[j - 1].text == "." and tokens[j - 2].kind in ("name", "quoted"):
                parts.insert(0, tokens[j - 2].text)
                j -= 2
            name = ".".join(parts).lower()
            called = tokens[j - 1].upper == "CALL" if j else False
            allowed = ALLOWED_PROCEDURES if called else ALLOWED_FUNCTIONS
            if name not in allowed and name not in _BUILTIN_FORMS:
                return False
    return True


@pytest.mark.parametrize("statement", READS)
def test_reads_pass_and_rewriting_is_stable(statement: str) -> None:
    canonical = check_read_only(statement)
    assert harmless(canonical)
    assert check_read_only(canonical) == canonical


def test_attack_corpus_is_refused_or_harmless() -> None:
    corpus = attacks()
    assert len(corpus) >= 300
    passed = []
    for statement in corpus:
        try:
            canonical = check_read_only(statement)
        except QueryError as exc:
            assert str(exc) and "\n" not in str(exc)
            continue
        assert harmless(canonical), (statement, canonical)
        passed.append(canonical)
    # What passes is only the string-escape wrapper, whose payload really is a comment.
    assert set(passed) == {"RETURN '\\\\'"}


@pytest.mark.parametrize(
    ("statement", "says"),
    [
        ("RETURN 1 //\rCREATE (n)", "CREATE is not allowed"),
        ("CALL `merge`.`node`(['X'], {})", "procedure merge.node is not allowed"),
        ("CALL `do.when`(true, $q, '', {})", "procedure do.when is not allowed"),
        ("RETURN sql.eval('(COMMIT)')", "function sql.eval is not allowed"),
        ("RETURN `util`.`sleep`(100)", "function util.sleep is not allowed"),
        ("CALL { MATCH (n) RETURN n } IN TRANSACTIONS", "IN TRANSACTIONS is not allowed"),
        ("RETURN 1; RETURN 2", "only one Cypher statement"),
        ("RETURN '\\x'", "unknown escape sequence"),
        ("RETURN 1 /* open", "unterminated comment"),
        ("RETURN " + "[" * 100 + "]" * 100, "nested more than"),
        ("MATCH (n) \u017fET n.x = 1", "unexpected"),
        ("RETURN reduce(s = '', x IN range(1, 10) | s + 'x')", "reduce() is not allowed"),
        ("RETURN range(1, 1000000)", "at most 100000 values"),
        ("RETURN range(1, $n)", "integer literals only"),
        ("RETURN [x IN [1] | [y IN [2] | y]]", "list iteration inside another"),
    ],
)
def test_refusals_say_what_and_where(statement: str, says: str) -> None:
    with pytest.raises(QueryError, match="line 1, column|nested more than|empty") as info:
        check_read_only(statement)
    assert says in str(info.value)


def test_rewrite_drops_comments_and_canonicalises_names() -> None:
    assert check_read_only("match (n:Concept) // hidden\rreturn n.name as set") == (
        "MATCH (n:Concept) RETURN n.name AS `set`"
    )
    assert check_read_only("RETURN 'a\\'b\nc' AS `x``y`, $`p q`") == "RETURN 'a\\'b\\nc' AS `x``y`, $`p q`"
    assert check_read_only("MATCH (\u017fet) RETURN \u017fet") == "MATCH (`\u017fet`) RETURN `\u017fet`"
    assert check_read_only("CALL DB.LABELS() YIELD label RETURN label").startswith("CALL db.labels()")


# --- generated attacks -------------------------------------------------------------------------

_SEPARATORS = [
    " ", "\t", "\n", "\r", "\r\n", "\x0b", "\x0c", "\x85", "\u00a0", "\u2028", "\u2029", "\u3000",
    "/**/", "/* x */", "//\n", "//\r", "// x\u2028", "// x\x85",
]  # fmt: skip
_WRITE_CLAUSES = [
    "CREATE (:Pwned)", "MERGE (:Pwned)", "SET n.x = 1", "DELETE n", "DETACH DELETE n", "REMOVE n.x",
    "FOREACH (x IN [1] | SET n.x = x)", "LOAD CSV FROM 'file:///etc/hostname' AS l", "DROP INDEX i",
    "CALL { CREATE (:Pwned) } IN TRANSACTIONS", "CALL merge.node(['X'], {})", "SHOW USERS",
    "CALL do.when(true, $q, '', {})", "WITH sql.eval('(COMMIT)') AS x", "WITH util.sleep(1) AS x",
]  # fmt: skip


def _recase(word: str, flips: list[bool]) -> str:
    return "".join(c.swapcase() if f else c for c, f in zip(word, flips + [False] * len(word), strict=False))


@st.composite
def hidden_write(draw: st.DrawFn) -> str:
    clause = draw(st.sampled_from(_WRITE_CLAUSES))
    head, _, tail = clause.partition(" ")
    head = _recase(head, draw(st.lists(st.booleans(), max_size=12)))
    quoting = draw(st.sampled_from(["plain", "backquoted-call", "string-escape"]))
    if quoting == "backquoted-call" and "." in tail.split("(")[0]:
        name, _, rest = tail.partition("(")
        tail = ".".join(f"`{p}`" for p in name.split(".")) + "(" + rest
    sep = [draw(st.sampled_from(_SEPARATORS)) for _ in range(3)]
    prefix = draw(
        st.sampled_from(
            [
                "MATCH (n)",
                "MATCH (n) RETURN n",
                "RETURN 1",
                "RETURN '\\\\'",
                "RETURN 'a\\'b'",
                "RETURN `x``y`",
            ]
        )
    )
    return f"{prefix}{sep[0]}{head}{sep[1]}{tail}{sep[2]}RETURN 1"


def _refused_or_harmless(statement: str) -> str | None:
    """The guard's re-written ``statement``, asserted harmless; None when the guard refuses it."""
    try:
        canonical = check_read_only(statement)
    except QueryError:
        return None
    assert harmless(canonical), (statement, canonical)
    return canonical


@settings(max_examples=400, deadline=None)
@given(hidden_write())
def test_generated_hidden_writes_are_refused(statement: str) -> None:
    # Only a write that really sits inside a comment may pass, and then it is gone from the output.
    _refused_or_harmless(statement)


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("MATCHRETURNcreatesetdl(){}[]`'\"\\/*;:.-<>=$ \n\r\u2028,0123abn")),
        max_size=80,
    )
)
def test_any_text_is_refused_or_harmless(statement: str) -> None:
    canonical = _refused_or_harmless(statement)
    if canonical is not None:
        assert check_read_only(canonical) == canonical
