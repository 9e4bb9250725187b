"""Corpora for the read-only Cypher endpoint: harmless reads that must run, attacks that must not.

Imported by ``tests/test_cypher_endpoint.py``; kept apart so the lists can grow without touching the
tests. Every attack is refused by the parser (``check_read_only``) or is harmless in the database;
the tests check both, and that the graph's content hash does not move.
"""

from __future__ import annotations

# Reads that must pass the validator and run on the embedded store (the old check refused the
# first block: keywords used as names, labels, relationship types and ArcadeDB's create.uuid()).
READS: list[str] = [
    "RETURN 1 AS set",
    "RETURN 1 AS create",
    "RETURN 1 AS load",
    "RETURN 1 AS delete, 2 AS merge, 3 AS detach, 4 AS remove, 5 AS foreach, 6 AS call",
    "MATCH (c:Concept)-[r:IS_A]->(p) RETURN startNode(r).id AS start, endNode(r).id AS end LIMIT 1",
    "MATCH (s:Set) RETURN count(s) AS n",
    "MATCH ()-[r:UPDATE]->() RETURN count(r) AS n",
    "MATCH ()-[r:CREATE|DELETE]->() RETURN count(r) AS n",
    "RETURN create.uuid() IS NOT NULL AS ok",
    "MATCH (c:Concept {id: 'wn:n02084071'}) RETURN c.name AS name",
    "MATCH (c:Concept) WHERE c.id = $id RETURN c.name AS name",
    "MATCH (c:Concept) WHERE c.name = 'CREATE (n)' RETURN count(c) AS n",
    "MATCH (c:Concept) WHERE c.name CONTAINS 'SET' OR c.name STARTS WITH 'DELETE' RETURN count(c) AS n",
    "MATCH (c:Concept) // a comment with CREATE in it\nRETURN count(c) AS n",
    "MATCH (c:Concept) /* DETACH DELETE c */ RETURN count(c) AS n",
    "match (c:Concept) return count(c) as n",
    "MATCH (c:Concept) RETURN c {.id, .name, set: 1} AS m ORDER BY m.id LIMIT 3",
    "MATCH (c:Concept) RETURN c {.*} AS m LIMIT 1",
    "MATCH (c:Concept)-[:IS_A]->(p:Concept) RETURN c.id AS child, p.id AS parent ORDER BY child",
    "MATCH (c:Concept)-[:IS_A*1..3]->(p) WHERE c.id = 'wn:n02085620' RETURN p.id AS id ORDER BY id",
    "MATCH (c:Concept {id: 'wn:n02085620'})-[:IS_A*]->(p) RETURN count(p) AS n",
    "MATCH (p:Concept)<-[:IS_A]-(c) RETURN p.id AS id, count(c) AS children ORDER BY id",
    "MATCH (a:Concept {id: 'wn:n02085620'}), (b:Concept {id: 'wn:n02084071'}) "
    "MATCH path = shortestPath((a)-[:IS_A*]-(b)) RETURN length(path) AS hops",
    "MATCH (c:Concept) WHERE (c)-[:IS_A]->() RETURN count(c) AS n",
    "MATCH (c:Concept) WHERE NOT (c)<-[:IS_A]-() RETURN count(c) AS leaves",
    "MATCH (c:Concept) WHERE EXISTS { MATCH (c)-[:IS_A]->(:Concept) } RETURN count(c) AS n",
    "MATCH (c:Concept) RETURN COUNT { (c)-[:IS_A]->() } AS parents ORDER BY parents DESC LIMIT 1",
    "MATCH (c:Concept) WITH c ORDER BY c.id LIMIT 5 RETURN collect(c.id) AS ids",
    "MATCH (c:Concept) WITH c.name AS name WHERE name =~ 'n1.*' RETURN count(name) AS n",
    "MATCH (c:Concept) RETURN DISTINCT size(c.name) AS len ORDER BY len",
    "MATCH (c:Concept) RETURN c.id AS id ORDER BY id SKIP 2 LIMIT 2",
    "OPTIONAL MATCH (x:Nope) RETURN x",
    "UNWIND [3, 1, 2] AS x RETURN x ORDER BY x",
    "UNWIND range(1, 5) AS i WITH i WHERE i % 2 = 0 RETURN collect(i) AS evens",
    "RETURN [x IN range(1, 10) WHERE x > 5 | x * 2] AS doubled",
    "MATCH (c:Concept {id: 'wn:n02085620'}) RETURN [(c)-[:IS_A]->(p) | p.id] AS parents",
    "UNWIND [1, 2, 3] AS x RETURN sum(x) AS total",
    "RETURN range(10, 1, -3) AS down, size(range(1, 100000)) AS n",
    "RETURN all(x IN [1, 2] WHERE x > 0) AS a, any(x IN [1, 2] WHERE x > 1) AS b, "
    "none(x IN [1] WHERE x > 1) AS c, single(x IN [1, 2] WHERE x = 2) AS d",
    "RETURN CASE WHEN 1 > 2 THEN 'a' WHEN 2 > 1 THEN 'b' ELSE 'c' END AS v",
    "RETURN CASE 2 WHEN 1 THEN 'one' WHEN 2 THEN 'two' END AS v",
    "RETURN toUpper('dog') AS u, toLower('DOG') AS l, trim('  x ') AS t, substring('hello', 1, 3) AS s",
    "RETURN split('a,b', ',') AS parts, replace('dog', 'd', 'h') AS r, left('dog', 2) AS l",
    "RETURN abs(-3) AS a, ceil(1.2) AS c, floor(1.8) AS f, round(1.5) AS r, sqrt(16.0) AS s",
    "RETURN toInteger('42') AS i, toFloat('1.5') AS f, toString(12) AS s, toBoolean('true') AS b",
    "RETURN coalesce(null, 'x') AS c, head([1, 2]) AS h, last([1, 2]) AS l, tail([1, 2, 3]) AS t",
    "RETURN size([1, 2, 3]) AS n, reverse([1, 2]) AS r, keys({a: 1, b: 2}) AS k",
    "RETURN [1, 2, 3][0] AS first, [1, 2, 3][1..] AS rest, [1, 2, 3][..2] AS front",
    "RETURN {a: 1, b: [1, 2], c: {d: 'e'}} AS m",
    "RETURN 'a\\'b' AS s, \"double \\\"quoted\\\"\" AS d, 'tab\\there' AS t, '\\u00e9' AS e",
    "RETURN 0x1F AS hex, 1.5e3 AS sci, -7 AS neg, 2 ^ 10 AS pow, 7 % 3 AS mod",
    "RETURN 1 = 1 AND 2 <> 3 OR NOT false XOR true AS logic",
    "RETURN null IS NULL AS a, 1 IS NOT NULL AS b, 2 IN [1, 2] AS c",
    "RETURN $x + 1 AS y",
    "RETURN $list AS l, size($list) AS n",
    "MATCH (c:Concept) WHERE c.id IN $ids RETURN c.id AS id ORDER BY id",
    "MATCH (c:Concept) RETURN c.id AS id ORDER BY id LIMIT $n",
    "MATCH (`weird var`:Concept) RETURN count(`weird var`) AS n",
    "MATCH (c:`Concept`) RETURN count(c) AS `the count`",
    "CALL db.labels() YIELD label RETURN label ORDER BY label",
    "CALL db.relationshipTypes() YIELD relationshipType RETURN relationshipType",
    "CALL db.labels() YIELD label WITH label WHERE label = 'Concept' RETURN label",
    "MATCH (c:Concept) CALL { WITH c MATCH (c)-[:IS_A]->(p) RETURN count(p) AS np } RETURN sum(np) AS n",
    "CALL { MATCH (c:Concept) RETURN c.id AS id ORDER BY id LIMIT 1 } RETURN id",
    "MATCH (c:Concept {id: 'wn:n02084071'}) RETURN c.name AS name "
    "UNION MATCH (c:Concept {id: 'wn:n02085374'}) RETURN c.name AS name",
    "RETURN 1 AS x UNION ALL RETURN 1 AS x",
    "MATCH (c:Concept) RETURN count(*) AS n",
    "MATCH (c:Concept) RETURN count(DISTINCT c.name) AS n, min(c.id) AS lo, max(c.id) AS hi",
    "MATCH (c:Concept) RETURN avg(size(c.name)) AS mean, stDev(size(c.name)) AS sd",
    "MATCH (c:Concept) RETURN percentileCont(size(c.name), 0.5) AS median",
    "MATCH (c:Concept) RETURN labels(c) AS l, keys(c) AS k, properties(c).id AS id LIMIT 1",
    "MATCH (c:Concept)-[r:IS_A]->() RETURN type(r) AS t, r.kind AS kind LIMIT 1",
    "MATCH p = (c:Concept)-[:IS_A]->(:Concept) RETURN length(p) AS l, size(nodes(p)) AS n LIMIT 1",
    "RETURN date('2026-11-30').year AS y, duration('P1D').days AS d",
    "RETURN pi() > 3 AS p, e() > 2 AS e, sign(-2) AS s, log(1) AS l, exp(0) AS x",
    "MATCH (c:Concept)\r\nWHERE c.id = 'wn:n02084071'\r\nRETURN c.name AS name",
    "MATCH (c:Concept) WHERE c.id = 'wn:n02084071' RETURN c.name AS name;",
    "  MATCH (c:Concept) RETURN count(c) AS n  ",
]


# --- attacks ---------------------------------------------------------------------------------
# Writes, admin commands and escapes into other languages, each a complete statement.
PAYLOADS: list[str] = [
    "CREATE (n:Concept {id: 'pwned'})",
    "MERGE (n:Concept {id: 'pwned'})",
    "MATCH (n:Concept {id: 'wn:n02084071'}) SET n.name = 'pwned'",
    "MATCH (n:Concept {id: 'wn:n02084071'}) SET n += {name: 'pwned'}",
    "MATCH (n:Concept {id: 'wn:n02084071'}) SET n:Pwned",
    "MATCH (n:Concept {id: 'wn:n02084071'}) REMOVE n.name",
    "MATCH (n:Concept {id: 'wn:n02084071'}) DELETE n",
    "MATCH (n) DETACH DELETE n",
    "MATCH ()-[r:IS_A]->() DELETE r",
    "MATCH (n:Concept) WITH n LIMIT 1 FOREACH (x IN [1] | SET n.name = 'pwned')",
    "CALL { CREATE (:Pwned) } IN TRANSACTIONS",
    "MATCH (n:Concept) CALL { WITH n SET n.name = 'pwned' } IN TRANSACTIONS OF 1 ROW",
    "CREATE INDEX pwned FOR (n:Concept) ON (n.gloss)",
    "DROP INDEX concept_name",
    "CREATE CONSTRAINT pwned FOR (n:Pwned) REQUIRE n.id IS UNIQUE",
    "DROP CONSTRAINT concept_id",
    "LOAD CSV FROM 'file:///etc/hostname' AS line RETURN line",
    "LOAD CSV WITH HEADERS FROM 'file:///etc/passwd' AS line RETURN line",
    "SHOW USERS",
    "SHOW TRANSACTIONS",
    "SHOW CURRENT USER",
    "TERMINATE TRANSACTIONS 'bolt-1'",
    "CREATE USER eve SET PASSWORD 'pw'",
    "ALTER USER root SET PASSWORD 'pwned'",
    "GRANT ALL ON DATABASE * TO PUBLIC",
    "USE system SHOW DATABASES",
    "CREATE DATABASE pwned",
    "STOP DATABASE bamboo",
    "CALL `merge`.`node`(['Pwned'], {id: 'x'}, {}, {})",
    "CALL merge.node(['Pwned'], {id: 'x'}, {}, {})",
    "CALL `do.when`(true, 'CREATE (:Pwned)', '', {})",
    "CALL do.when(true, $q, '', {})",
    "CALL `algo.pagerank`()",
    "CALL apoc.create.node(['Pwned'], {})",
    "CALL apoc.periodic.iterate('MATCH (n) RETURN n', 'DETACH DELETE n', {})",
    "CALL dbms.security.createUser('eve', 'pw', false)",
    "CALL db.createLabel('Pwned')",
    "CALL db.index.fulltext.createNodeIndex('x', ['Concept'], ['name'])",
    "RETURN sql.eval('(INSERT INTO Concept SET id = \"pwned\")')",
    "RETURN sql.eval('(COMMIT)')",
    "RETURN `sql`.`eval`('(INSERT INTO Concept SET id = \"pwned\")')",
    "RETURN `sql.eval`('(SELECT 1)')",
    "RETURN util.sleep(20000)",
    "RETURN `util`.`sleep`(20000)",
    "RETURN create.vNode(['Pwned'], {}) AS v",
    "RETURN apoc.util.sleep(20000)",
    "INSERT INTO Concept SET id = 'pwned'",
    "UPDATE Concept SET name = 'pwned'",
    "MATCH (n) RETURN n; MATCH (m) DETACH DELETE m",
    "RETURN 1 UNION CREATE (n:Pwned) RETURN 1",
    "MATCH (n) WHERE EXISTS { CREATE (:Pwned) } RETURN n",
    "RETURN COUNT { MERGE (:Pwned) } AS n",
    "RETURN [x IN [1] | sql.eval('(DELETE FROM Concept)')] AS l",
    "WITH 1 AS x CREATE (:Pwned)",
    "OPTIONAL MATCH (n:Nope) MERGE (m:Pwned)",
    "USING PERIODIC COMMIT LOAD CSV FROM 'file:///x' AS l CREATE (:Pwned)",
    "FINISH",
    "MATCH (n) RETURN n ORDER BY n.id SKIP 0 LIMIT 1 SET n.x = 1",
]

# Ways to hide a payload from a validator that reads the text differently from the database.
WRAPPERS: list[str] = [
    "{p}",
    "RETURN 1 //\r{p}",
    "RETURN 1 // x\x85{p}",
    "RETURN 1 // x\u2028{p}",
    "RETURN 1 // x\u2029{p}",
    "RETURN 1 /* a */ {p}",
    "RETURN '\\\\' // ' {p}",
    "RETURN 1 AS a {p}",
]

HANDWRITTEN: list[str] = [
    "RETURN 1 //\rCREATE (:Pwned)",
    "RETURN 1 //\r\nCREATE (:Pwned)",
    "RETURN 1 /* unterminated CREATE (:Pwned)",
    "RETURN 1 /* /* nested */ CREATE (:Pwned) */",
    "RETURN 'unterminated CREATE (:Pwned)",
    "RETURN 'a\\'b' CREATE (:Pwned)",
    "RETURN '\\'' CREATE (:Pwned) RETURN ''",
    "RETURN '\\u0027' CREATE (:Pwned) RETURN '\\u0027'",
    "RETURN '\\x' AS s",
    'RETURN "\\"" CREATE (:Pwned) RETURN ""',
    "RETURN `a``b` CREATE (:Pwned)",
    "RETURN `unterminated CREATE (:Pwned)",
    "MATCH (n) \u017fET n.name = 'pwned'",
    "MATCH (n) SEt n.name = 'pwned'",
    "\uff23\uff32\uff25\uff21\uff34\uff25 (:Pwned)",
    "CREATE\u00a0(:Pwned)",
    "CRE\u200bATE (:Pwned)",
    "C\u0308REATE (:Pwned)",
    "MATCH (n) DETACH\tDELETE n",
    "MATCH (n) DETACH\x0bDELETE n",
    "MATCH (n) DETACH\x0cDELETE n",
    "MATCH (n)\u3000DETACH DELETE n",
    "MATCH (n) DETACH/**/DELETE n",
    "MATCH (n)DETACH DELETE(n)",
    "MaTcH (n) dEtAcH dElEtE n",
    "MATCH (n) RETURN n\n;\nCREATE (m)",
    "MATCH (n) RETURN n;;",
    "RETURN 1; RETURN 2",
    "RETURN 1;//\rCREATE (:Pwned)",
    "CALL db.labels() YIELD label CREATE (:Pwned)",
    "CALL db.labels() YIELD label MERGE (:Pwned {id: label})",
    "CALL `db`.`labels`() YIELD label SET label.x = 1",
    "CALL `db.labels`() YIELD label RETURN label UNION CALL merge.node(['X'], {}) YIELD node RETURN node",
    "CALL dB.LaBeLs() YIELD label DETACH DELETE label",
    "CALL { CALL { CREATE (:Pwned) } }",
    "CALL { MATCH (n) RETURN n } IN TRANSACTIONS OF 10 ROWS",
    "CALL () { CREATE (:Pwned) }",
    "CALL (*) { CREATE (:Pwned) } RETURN 1",
    "MATCH (n) CALL { WITH n DETACH DELETE n } RETURN 1",
    "RETURN [(n)-->(m) | sql.eval('(DELETE FROM Concept)')] AS l",
    "RETURN CASE WHEN true THEN util.sleep(20000) END",
    "RETURN reduce(a = 0, x IN [1] | sql.eval('(COMMIT)')) AS r",
    "RETURN {a: sql.eval('(COMMIT)')} AS m",
    "MATCH (n {id: sql.eval('(COMMIT)')}) RETURN n",
    "MATCH (n) WHERE util.sleep(1) RETURN n",
    "RETURN toUpper(`sql`.eval('(COMMIT)'))",
    "RETURN sql . eval('(COMMIT)')",
    "RETURN sql/**/.eval('(COMMIT)')",
    "RETURN sql.\neval('(COMMIT)')",
    "RETURN apoc.cypher.runFirstColumnSingle('CREATE (:Pwned)', {})",
    "CALL apoc.cypher.doIt('CREATE (:Pwned)', {})",
    "CALL apoc.cypher.runWrite('CREATE (:Pwned)', {})",
    "CALL apoc.load.json('file:///etc/passwd')",
    "CALL apoc.export.csv.all('/tmp/pwned.csv', {})",
    "CALL apoc.trigger.add('x', 'CREATE (:Pwned)', {})",
    "CALL dbms.killQuery('query-1')",
    "CALL dbms.listQueries()",
    "CALL dbms.setConfigValue('x', 'y')",
    "CALL db.clearQueryCaches()",
    "CALL db.awaitIndexes(100000)",
    "CALL db.index.vector.createNodeIndex('x', 'Concept', 'v', 3, 'cosine')",
    "EXPLAIN CREATE (:Pwned)",
    "PROFILE CREATE (:Pwned)",
    "CYPHER runtime=interpreted CREATE (:Pwned)",
    ":begin",
    "SELECT FROM Concept",
    "sql:INSERT INTO Concept SET id = 'pwned'",
    "{sql}INSERT INTO Concept SET id = 'pwned'",
    "DELETE FROM Concept",
    "TRUNCATE TYPE Concept UNSAFE",
    "ALTER TYPE Concept NAME Pwned",
    "IMPORT DATABASE file:///etc/passwd",
    "BACKUP DATABASE",
    "MATCH (n) RETURN n LIMIT 1 UNION ALL MATCH (m) SET m.x = 1 RETURN m",
    "RETURN 1 AS x ORDER BY x CREATE (:Pwned)",
    "UNWIND [1] AS x CREATE (:Pwned)",
    "UNWIND [1] AS x MERGE (:Pwned {x: x})",
    "MATCH (n) WITH n REMOVE n.name",
    "MATCH (n) WITH n LIMIT 1 NODETACH DELETE n",
    "RETURN 1 AS `x` CREATE (:Pwned)",
    "MATCH (n:`Concept` {`id`: 'wn:n02084071'}) SET n.`name` = 'pwned'",
    "MATCH (n) RETURN n {.*, x: sql.eval('(COMMIT)')}",
    "RETURN $`x` + sql.eval('(COMMIT)')",
    "MATCH (a), (b), (c) RETURN util.sleep(1)",
    "RETURN reduce(s = '', x IN range(1, 100000) | s + 'xxxxxxxxxx') AS quadratic",
    "RETURN reduce(s = 0, x IN range(1, 6000000) | s + reduce(t = 0, y IN range(1, 6000000) | t + y))",
    "RETURN size(range(1, 6000000)) AS big",
    "RETURN range(1, $n) AS from_param",
    "RETURN range(1, toInteger('9999999999')) AS computed",
    "RETURN [x IN range(1, 100000) | range(1, 100000)] AS square",
    "RETURN [x IN range(1, 3) WHERE any(y IN range(1, 3) WHERE y = x)] AS nested",
    "UNWIND [1] AS x RETURN [(a)-->(b) | [(b)-->(c) | c]] AS nested_patterns",
    "RETURN 1 +",
    "RETURN (1",
    "MATCH (n RETURN n",
    "RETURN \x00 CREATE (:Pwned)",
    "RETURN 1 \x1b CREATE (:Pwned)",
    "RETURN '\ud800' AS s",
    "RETURN " + "[" * 200 + "]" * 200,
    "RETURN " + "(" * 300 + "1" + ")" * 300,
    "RETURN " + "-" * 400 + "1",
    "",
    "   ",
    "// only a comment",
    "/* only a comment */",
    ";",
]


def attacks() -> list[str]:
    """Every payload in every wrapper, then the hand-written ones."""
    out = [wrapper.replace("{p}", payload) for wrapper in WRAPPERS for payload in PAYLOADS]
    return out + HANDWRITTEN


# --- resource attacks: statements that are read-only but would hold a core, a slot or memory ---------


def nested_literals(width: int, levels: int, *, closed: bool = True) -> str:
    """``RETURN [({k:[({k: ... [1,1,...] ...})]})]``: each level is both a pattern and an expression
    to a parser, which once re-parsed every level about three times (a 19.8 KB body held the whole
    service 36 s)."""
    inner = "[" + ",".join(["1"] * width) + ("]" if closed else "")
    for _ in range(levels):
        inner = "[({k:" + inner + "})]"
    return "RETURN " + inner + " AS x"


def doubling(start: str = "xxxxxxxxxx", rounds: int = 7, copies: int = 10) -> str:
    """A string fed back into itself: ``copies ** rounds`` times the literal (100 MB by default)."""
    grow = "+".join(["s"] * copies)
    return f"WITH '{start}' AS s " + " ".join([f"WITH {grow} AS s"] * rounds) + " RETURN s"


# Each is refused by the parser: unbounded work the database cannot interrupt, or more parsing than
# a linear budget. Keyed by what it attacks.
RESOURCE_ATTACKS: dict[str, str] = {
    "parser: nested literals, 19.8 KB": nested_literals(9900, 5),
    "parser: nested literals, unclosed": nested_literals(3000, 12, closed=False),
    "parser: 12,000 tokens": "RETURN [" + ",".join(["1"] * 6000) + "] AS x",
    "database: variable-length pattern comprehension": (
        "MATCH (c:Concept {id:'wn:n02084071'}) RETURN size([(c)-[*]-(x) | 1]) AS n"
    ),
    "database: path comprehension": (
        "MATCH (c:Concept {id:'wn:n02084071'}) RETURN [p = (c)-[*]-() | length(p)][0]"
    ),
    "database: pattern predicate": "MATCH (c:Concept) WHERE (c)-[*]-() RETURN count(c) AS n",
    "database: quantified path in an expression": (
        "MATCH (c:Concept {id:'wn:n02084071'}) RETURN size([((c)--())+ | 1]) AS n"
    ),
    "database: shortestPath in an expression": (
        "MATCH (a:Concept {id:'wn:n02084071'}) RETURN shortestPath((a)-[*]-(:Concept {id:'wn:n00001740'}))"
    ),
    "database: subquery with a variable-length pattern in an iteration": (
        "MATCH (c:Concept {id:'wn:n02084071'}) RETURN [x IN [1, 2] | COUNT { (c)-[*]-() }] AS n"
    ),
    "memory: a string doubled in a loop (100 MB)": doubling(),
    "memory: replace() squaring": (
        "WITH 'abc' AS s WITH replace(s, 'a', s) AS s WITH replace(s, 'a', s) AS s "
        "WITH replace(s, 'a', s) AS s RETURN s"
    ),
    "memory: a list fed into its own comprehension": (
        "WITH [1, 2, 3, 4] AS l WITH [x IN l | l] AS l WITH [x IN l | l] AS l WITH [x IN l | l] AS l RETURN l"
    ),
}
