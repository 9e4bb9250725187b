"""Every Cypher statement Bamboo sends, as named constants (Neo4j 5 dialect).

This is the one query module: nothing else in the code base writes query text. Values always
travel as ``$parameters``. The same text runs on Neo4j and on the embedded ArcadeDB server, so a
statement here may only use what both understand (no APOC, no FULLTEXT indexes).
"""

from __future__ import annotations

__all__ = [
    "ALL_CONCEPTS",
    "ALL_IS_A",
    "ANCESTORS",
    "CHILDREN",
    "CONCEPT",
    "COUNT_CONCEPTS",
    "COUNT_CONCEPTS_BY_SOURCE",
    "COUNT_IS_A",
    "COUNT_IS_A_BY_KIND",
    "DELETE_ALL",
    "DESCENDANTS_PAGE",
    "DUPLICATE_IDS",
    "GET_META",
    "PARENTS",
    "SCHEMA",
    "SET_META",
    "UPSERT_CONCEPTS",
    "UPSERT_IS_A",
]

# Idempotent schema: every statement is IF NOT EXISTS, so it can run before every build.
SCHEMA: tuple[str, ...] = (
    "CREATE CONSTRAINT concept_id IF NOT EXISTS FOR (c:Concept) REQUIRE c.id IS UNIQUE",
    "CREATE CONSTRAINT dataset_name IF NOT EXISTS FOR (d:Dataset) REQUIRE d.name IS UNIQUE",
    "CREATE CONSTRAINT meta_key IF NOT EXISTS FOR (m:Meta) REQUIRE m.key IS UNIQUE",
    "CREATE INDEX concept_name IF NOT EXISTS FOR (c:Concept) ON (c.name)",
)

# --- writes (batched: one UNWIND per transaction) -------------------------------------------

# $rows: [{id, props: {name, lemmas, gloss, lexname, synset, source, ...}}]
UPSERT_CONCEPTS = """
UNWIND $rows AS row
MERGE (c:Concept {id: row.id})
SET c += row.props
"""

# $rows: [{child, parent, kind, source}]
UPSERT_IS_A = """
UNWIND $rows AS row
MATCH (c:Concept {id: row.child})
MATCH (p:Concept {id: row.parent})
MERGE (c)-[e:IS_A]->(p)
SET e.kind = row.kind, e.source = row.source
"""

SET_META = """
MERGE (m:Meta {key: $key})
SET m.value = $value
"""

# Removes every node and relationship of the database (tests and `bamboo db reset`).
DELETE_ALL = "MATCH (n) DETACH DELETE n"

GET_META = "MATCH (m:Meta {key: $key}) RETURN m.value AS value"

# --- reads ----------------------------------------------------------------------------------

CONCEPT = "MATCH (c:Concept {id: $id}) RETURN properties(c) AS concept"

PARENTS = """
MATCH (:Concept {id: $id})-[e:IS_A]->(p:Concept)
RETURN p.id AS id, p.name AS name, e.kind AS kind
ORDER BY id
"""

CHILDREN = """
MATCH (:Concept {id: $id})<-[e:IS_A]-(c:Concept)
RETURN c.id AS id, c.name AS name, e.kind AS kind
ORDER BY id
"""

# Depth is the length of the shortest IS_A path from the concept to the ancestor.
ANCESTORS = """
MATCH p = (:Concept {id: $id})-[:IS_A*1..]->(a:Concept)
RETURN a.id AS id, a.name AS name, min(length(p)) AS depth
ORDER BY depth, id
"""

# Keyset paging: ids strictly after $after, in id order, at most $limit of them.
DESCENDANTS_PAGE = """
MATCH (:Concept {id: $id})<-[:IS_A*1..]-(d:Concept)
WITH DISTINCT d
WHERE d.id > $after
RETURN d.id AS id, d.name AS name
ORDER BY id
LIMIT $limit
"""

ALL_CONCEPTS = "MATCH (c:Concept) RETURN properties(c) AS props"

ALL_IS_A = """
MATCH (c:Concept)-[e:IS_A]->(p:Concept)
RETURN c.id AS child, p.id AS parent, e.kind AS kind, e.source AS source
"""

COUNT_CONCEPTS = "MATCH (c:Concept) RETURN count(c) AS n"
COUNT_IS_A = "MATCH (:Concept)-[e:IS_A]->(:Concept) RETURN count(e) AS n"
COUNT_CONCEPTS_BY_SOURCE = "MATCH (c:Concept) RETURN c.source AS source, count(c) AS n ORDER BY source"
COUNT_IS_A_BY_KIND = "MATCH (:Concept)-[e:IS_A]->(:Concept) RETURN e.kind AS kind, count(e) AS n ORDER BY kind"

DUPLICATE_IDS = """
MATCH (c:Concept)
WITH c.id AS id, count(c) AS n
WHERE n > 1
RETURN id, n
ORDER BY id
LIMIT 20
"""
