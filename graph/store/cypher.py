"""Every Cypher statement Bamboo sends, as named constants (Neo4j 5 dialect).

This is the one query module: nothing else in the code base writes query text. Values always
travel as ``$parameters``. The same text runs on Neo4j and on the embedded ArcadeDB server, so a
statement here may only use what both understand (no APOC, no FULLTEXT indexes).
"""

from __future__ import annotations

__all__ = [
    "ALL_CONCEPTS",
    "ALL_EVIDENCE",
    "ALL_IS_A",
    "ALL_VOTES",
    "ANCESTORS",
    "CHILDREN",
    "CLAIM_GUARDS",
    "CONCEPT",
    "CONCEPTS_BY_ID",
    "CONCEPT_BATCHES",
    "CONCEPT_DATASETS",
    "COUNT_CONCEPTS",
    "CREATE_CONCEPTS",
    "CREATE_IS_A",
    "COUNT_IS_A",
    "CREATE_EVIDENCE",
    "CLASS_LINEAGES",
    "CREATE_HAS_CLASS",
    "CYCLE_EDGES",
    "DATASETS",
    "DATASET_CLASSES",
    "DATASET_EXISTS",
    "DATASET_METHOD_COUNTS",
    "DELETE_ALL",
    "DELETE_EVIDENCE",
    "DELETE_HAS_CLASS",
    "DESCENDANTS_PAGE",
    "GUARD_SCHEMA",
    "EVIDENCE_OF",
    "GET_META",
    "GET_METAS",
    "HAS_CLASS_ROWS",
    "IS_A_CHILDREN_OF",
    "IS_A_ROWS",
    "MISSING_CONCEPTS",
    "PARENTS",
    "PLACEMENTS",
    "PLACE_CONCEPTS",
    "ACCEPT_CLASS",
    "MOVE_CLASS",
    "MOVE_PLACEMENT",
    "REVIEW_CLASSES",
    "REVIEW_CONCEPTS",
    "REVIEW_COUNTS",
    "ACCEPT_PLACEMENT",
    "DELETE_EMPTY_PENDING",
    "DELETE_STALE_DATASET_CONCEPTS",
    "SET_COMMON",
    "SET_META",
    "SET_VISUAL",
    "UPSERT_CONCEPTS",
    "UPSERT_DATASET",
    "UPSERT_IS_A",
    "UPSERT_LINKS",
    "UPSERT_VOTE",
    "VOTES",
]

# One guard node per key (CLAIM_GUARDS). Also made by the store before its first guarded write,
# for a store built before guards existed: two first claims of one key must meet on one node.
GUARD_SCHEMA = "CREATE CONSTRAINT guard_key IF NOT EXISTS FOR (g:Guard) REQUIRE g.key IS UNIQUE"

# Idempotent schema: every statement is IF NOT EXISTS, so it can run before every build.
SCHEMA: tuple[str, ...] = (
    "CREATE CONSTRAINT concept_id IF NOT EXISTS FOR (c:Concept) REQUIRE c.id IS UNIQUE",
    "CREATE CONSTRAINT dataset_name IF NOT EXISTS FOR (d:Dataset) REQUIRE d.name IS UNIQUE",
    "CREATE CONSTRAINT meta_key IF NOT EXISTS FOR (m:Meta) REQUIRE m.key IS UNIQUE",
    "CREATE INDEX concept_name IF NOT EXISTS FOR (c:Concept) ON (c.name)",
    # One node per annotator, so that two first votes at once cannot make two (and then two votes).
    "CREATE CONSTRAINT annotator_name IF NOT EXISTS FOR (a:Annotator) REQUIRE a.name IS UNIQUE",
    GUARD_SCHEMA,
)

# --- guards: the first write of a rule-checked transaction (see bamboo.graph.store.locks) ---------

# Rewrites one guard node per key: of two transactions that overlap on a key, the database commits
# one and answers the other with a write conflict (ArcadeDB checks a record's version from the
# moment a transaction first writes it, so the guard must be written before the rule is read).
CLAIM_GUARDS = """
UNWIND $keys AS key
MERGE (g:Guard {key: key})
SET g.claimed = $token
"""

# Of the IS_A edges $rows ({child, parent}), those that close a cycle: the parent is the child or
# lies under it. Walks down from the child: a new concept has few descendants.
CYCLE_EDGES = """
UNWIND $rows AS row
MATCH (c:Concept {id: row.child})<-[:IS_A*0..]-(p:Concept {id: row.parent})
RETURN DISTINCT row.child AS child, row.parent AS parent
LIMIT 1
"""

# --- writes (batched: one UNWIND per transaction) -------------------------------------------

# $rows: [{id, props: {name, lemmas, gloss, lexname, synset, source, ...}}]
UPSERT_CONCEPTS = """
UNWIND $rows AS row
MERGE (c:Concept {id: row.id})
SET c += row.props
"""

# Bulk path into an empty store (GraphStore.bulk_create): CREATE, no MERGE lookups.
# $rows: [{id, props}]
CREATE_CONCEPTS = """
UNWIND $rows AS row
CREATE (c:Concept {id: row.id})
SET c += row.props
"""

# The child and parent of each row's edge: the start of every statement that writes IS_A or EVIDENCE edges.
_EDGE_ENDS = """
UNWIND $rows AS row
MATCH (c:Concept {id: row.child})
MATCH (p:Concept {id: row.parent})
"""

# $rows: [{child, parent, props}]: props holds kind, source and any provenance (method, score...).
CREATE_IS_A = (
    _EDGE_ENDS
    + """CREATE (c)-[e:IS_A]->(p)
SET e += row.props
"""
)

# $rows: [{child, parent, kind, source}]
UPSERT_IS_A = (
    _EDGE_ENDS
    + """MERGE (c)-[e:IS_A]->(p)
SET e.kind = row.kind, e.source = row.source
"""
)

# $rows: [{child, parent, kind, source, method, score, evidence}]: links with their provenance.
UPSERT_LINKS = (
    _EDGE_ENDS
    + """MERGE (c)-[e:IS_A]->(p)
SET e.kind = row.kind, e.source = row.source, e.method = row.method, e.score = row.score,
    e.evidence = row.evidence
"""
)

# $rows: [{id, parent, method, score, evidence, source}]: a new (dataset or person) concept's
# placement replaces whatever parent it had: one IS_A edge of kind 'placement'.
PLACE_CONCEPTS = """
UNWIND $rows AS row
MATCH (c:Concept {id: row.id})
MATCH (p:Concept {id: row.parent})
OPTIONAL MATCH (c)-[old:IS_A]->(:Concept)
DELETE old
WITH DISTINCT c, p, row
MERGE (c)-[e:IS_A]->(p)
SET e.kind = 'placement', e.source = row.source, e.method = row.method, e.score = row.score,
    e.evidence = row.evidence
"""

# The placement of each concept among $ids that exists: its parent and how it was decided.
PLACEMENTS = """
UNWIND $ids AS id
MATCH (c:Concept {id: id})
OPTIONAL MATCH (c)-[e:IS_A]->(p:Concept)
RETURN c.id AS id, c.lemmas AS lemmas, c.review AS review, c.source AS source, p.id AS parent,
       e.method AS method, e.score AS score
"""

# Concepts the datasets or Wikidata brought (not WordNet's) whose placement awaits review.
REVIEW_CONCEPTS = """
MATCH (c:Concept {review: 'check'})-[e:IS_A]->(p:Concept)
WHERE c.source IN ['datasets', 'wikidata']
OPTIONAL MATCH (c)<-[:HAS_CLASS]-(d:Dataset)
WITH c, e, p, collect(DISTINCT d.name) AS datasets
WHERE $dataset IS NULL OR $dataset IN datasets
RETURN c.id AS id, c.name AS name, p.id AS parent, p.name AS parent_name, e.score AS score,
       c.placed_by AS placed_by, c.alternatives AS alternatives, c.review_note AS note,
       datasets
ORDER BY score, id
LIMIT $limit
"""

# Dataset classes whose sense choice awaits review.
REVIEW_CLASSES = """
MATCH (d:Dataset)-[h:HAS_CLASS]->(c:Concept)
WHERE h.review = 'check' AND ($dataset IS NULL OR d.name = $dataset)
RETURN d.name AS dataset, h.index AS index, h.raw_name AS raw_name, c.id AS concept, c.name AS name,
       h.confidence AS score, h.note AS note, h.alternatives AS alternatives
ORDER BY score, dataset, index
LIMIT $limit
"""

# A person accepts a new concept's placement as it is.
ACCEPT_PLACEMENT = """
MATCH (c:Concept {id: $id})-[e:IS_A]->(:Concept)
WHERE c.source IN ['datasets', 'wikidata']
SET c.review = 'accepted', c.reviewed_by = $by, e.method = 'person', e.score = 1.0
RETURN c.id AS id
"""

# A person accepts one dataset class's concept as it is.
ACCEPT_CLASS = """
MATCH (d:Dataset {name: $dataset})-[h:HAS_CLASS]->(c:Concept)
WHERE h.index = $index
SET h.review = 'accepted', h.reviewed_by = $by, h.confidence = 1.0
RETURN c.id AS id
"""

# A person re-points one dataset class to the concept $concept.
MOVE_CLASS = """
MATCH (d:Dataset {name: $dataset})-[h:HAS_CLASS]->(:Concept)
WHERE h.index = $index
MATCH (c:Concept {id: $concept})
CREATE (d)-[:HAS_CLASS {index: h.index, raw_name: h.raw_name, method: 'person', confidence: 1.0,
                        note: h.note, review: 'accepted', reviewed_by: $by,
                        alternatives: h.alternatives}]->(c)
DELETE h
RETURN c.id AS id
"""

# A person moves a new concept under $parent.
MOVE_PLACEMENT = """
MATCH (c:Concept {id: $id})
WHERE c.source IN ['datasets', 'wikidata']
MATCH (p:Concept {id: $parent})
OPTIONAL MATCH (c)-[old:IS_A]->(:Concept)
DELETE old
WITH DISTINCT c, p
MERGE (c)-[e:IS_A]->(p)
SET e.kind = 'placement', e.source = 'review', e.method = 'person', e.score = 1.0,
    e.evidence = 'moved by ' + $by, c.review = 'accepted', c.reviewed_by = $by
RETURN c.id AS id
"""

# Concepts a dataset once created under the old 'ds:<dataset>:<index>' scheme that no dataset
# names any more, and the old review node once empty.
DELETE_STALE_DATASET_CONCEPTS = """
MATCH (c:Concept)
WHERE c.id STARTS WITH 'ds:'
OPTIONAL MATCH (c)<-[h:HAS_CLASS]-(:Dataset)
WITH c, count(h) AS n
WHERE n = 0
DETACH DELETE c
"""

# The new concepts (``bamboo:``) a dataset's classes named before its re-import.
DATASET_NEW_CONCEPTS = """
MATCH (:Dataset {name: $name})-[:HAS_CLASS]->(c:Concept)
WHERE c.id STARTS WITH 'bamboo:'
RETURN DISTINCT c.id AS id
"""

# Of those, the ones no class names any more (the mapping improved, or the class left the list)
# and with no children, evidence or votes: nothing but their own IS_A.
DELETE_ORPHAN_NEW_CONCEPTS = """
UNWIND $ids AS id
MATCH (c:Concept {id: id})
OPTIONAL MATCH (c)<-[i]-()
WITH c, count(i) AS incoming
WHERE incoming = 0
OPTIONAL MATCH (c)-[o]->()
WHERE type(o) <> 'IS_A'
WITH c, count(o) AS outgoing
WHERE outgoing = 0
DETACH DELETE c
"""

DELETE_EMPTY_PENDING = """
MATCH (p:Concept {id: 'bamboo:pending'})
OPTIONAL MATCH (p)<-[r:IS_A]-(:Concept)
WITH p, count(r) AS n
WHERE n = 0
DETACH DELETE p
"""

SET_META = """
MERGE (m:Meta {key: $key})
SET m.value = $value
"""

# Removes every node and relationship of the database (tests and `bamboo db reset`).
DELETE_ALL = "MATCH (n) DETACH DELETE n"

GET_META = "MATCH (m:Meta {key: $key}) RETURN m.value AS value"

GET_METAS = "MATCH (m:Meta) WHERE m.key IN $keys RETURN m.key AS key, m.value AS value"

# --- reads ----------------------------------------------------------------------------------

CONCEPT = "MATCH (c:Concept {id: $id}) RETURN properties(c) AS concept"
CONCEPTS_BY_ID = "UNWIND $ids AS id MATCH (c:Concept {id: id}) RETURN properties(c) AS concept"

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

# Every concept's map in about $batches records (random groups: the read order is not kept).
CONCEPT_BATCHES = """
MATCH (c:Concept)
WITH toInteger(rand() * $batches) AS batch, properties(c) AS props
WITH batch, collect(props) AS rows
RETURN rows
"""

ALL_IS_A = """
MATCH (c:Concept)-[e:IS_A]->(p:Concept)
RETURN c.id AS child, p.id AS parent, e.kind AS kind, e.source AS source, e.method AS method,
       e.score AS score
"""

# The whole-graph reads return their rows as one list in one record: the per-record cost of a
# Bolt stream (ArcadeDB flushes every record) was most of the time at 300K edges. A list keeps
# the nulls that collect() would drop from a plain column.
IS_A_ROWS = """
MATCH (c:Concept)-[e:IS_A]->(p:Concept)
RETURN collect([c.id, p.id, e.kind, e.source, e.method, e.score]) AS rows
"""

HAS_CLASS_ROWS = """
MATCH (d:Dataset)-[h:HAS_CLASS]->(c:Concept)
RETURN collect([c.id, d.name, h.index, h.raw_name, h.method, h.confidence]) AS rows
"""

COUNT_CONCEPTS = "MATCH (c:Concept) RETURN count(c) AS n"
COUNT_IS_A = "MATCH (:Concept)-[e:IS_A]->(:Concept) RETURN count(e) AS n"


# --- datasets -------------------------------------------------------------------------------

UPSERT_DATASET = """
MERGE (d:Dataset {name: $name})
SET d += $props
"""

# $rows: [{index, raw_name, concept, method, confidence, note, review, alternatives, lineage}]; lineage:
# the class's taxonomy as ["genus=Quercus", ...] (null when the list gives none).
# Run after DELETE_HAS_CLASS in the same transaction: CREATE, since MERGE from one dataset node
# would scan its edges for every row.
CREATE_HAS_CLASS = """
MATCH (d:Dataset {name: $name})
UNWIND $rows AS row
MATCH (c:Concept {id: row.concept})
CREATE (d)-[:HAS_CLASS {index: row.index, raw_name: row.raw_name, method: row.method,
                        confidence: row.confidence, note: row.note, review: row.review,
                        alternatives: row.alternatives, lineage: row.lineage}]->(c)
"""

CLASS_LINEAGES = """
MATCH (d:Dataset)-[h:HAS_CLASS]->(:Concept)
WHERE h.lineage IS NOT NULL
RETURN d.name AS dataset, h.index AS index, h.raw_name AS raw_name, h.lineage AS lineage
ORDER BY dataset, index
"""

DATASETS = """
MATCH (d:Dataset)
OPTIONAL MATCH (d)-[h:HAS_CLASS]->(:Concept)
RETURN properties(d) AS dataset, count(h) AS classes
ORDER BY dataset.name
"""

DATASET_CLASSES = """
MATCH (d:Dataset {name: $name})-[h:HAS_CLASS]->(c:Concept)
OPTIONAL MATCH (c)-[e:IS_A {kind: 'placement'}]->(p:Concept)
RETURN h.index AS index, h.raw_name AS raw_name, h.method AS method, h.confidence AS confidence,
       c.id AS concept, c.name AS name,
       CASE WHEN h.review = 'check' OR c.review = 'check' THEN 'check' ELSE null END AS review,
       p.id AS parent, e.evidence AS placed_by
ORDER BY index
"""

DATASET_EXISTS = "MATCH (d:Dataset {name: $name}) RETURN d.name AS name"

CONCEPT_DATASETS = """
MATCH (d:Dataset)-[h:HAS_CLASS]->(:Concept {id: $id})
RETURN d.name AS dataset, h.index AS index, h.raw_name AS raw_name, h.method AS method,
       h.confidence AS confidence
ORDER BY dataset, index
"""

# --- tags (paper §3.3): one current vote per (annotator, concept, tag), plus an append-only log --

UPSERT_VOTE = """
MATCH (c:Concept {id: $concept})
MERGE (a:Annotator {name: $annotator})
MERGE (a)-[v:VOTED {tag: $tag}]->(c)
SET v.value = $value, v.at = $at
CREATE (:VoteLog {annotator: $annotator, concept: $concept, tag: $tag, value: $value, at: $at})
"""

VOTES = """
MATCH (a:Annotator)-[v:VOTED]->(:Concept {id: $id})
RETURN a.name AS annotator, v.tag AS tag, v.value AS value, v.at AS at
ORDER BY tag, at, annotator
"""

SET_VISUAL = "MATCH (c:Concept {id: $id}) SET c.visual = $value"
SET_COMMON = "MATCH (c:Concept {id: $id}) SET c.common = $value"


ALL_VOTES = """
MATCH (a:Annotator)-[v:VOTED]->(c:Concept)
RETURN c.id AS concept, a.name AS annotator, v.tag AS tag, v.value AS value, v.at AS at
"""


# Before re-importing a dataset: its old class edges go, in the same transaction as the new ones.
MISSING_CONCEPTS = """
UNWIND $ids AS id
OPTIONAL MATCH (c:Concept {id: id})
WITH id, c
WHERE c IS NULL
RETURN id
"""

# The IS_A edges into the concepts $ids (their children), for checking a write before it happens.
IS_A_CHILDREN_OF = """
UNWIND $ids AS id
MATCH (p:Concept {id: id})<-[:IS_A]-(c:Concept)
RETURN c.id AS child, p.id AS parent
"""

DELETE_EVIDENCE = """
MATCH (:Concept)-[e:EVIDENCE {dataset: $name}]->(:Concept)
DELETE e
"""

# Run after DELETE_EVIDENCE in the same transaction.
CREATE_EVIDENCE = (
    _EDGE_ENDS
    + """CREATE (c)-[:EVIDENCE {dataset: $name, kind: row.kind}]->(p)
"""
)

ALL_EVIDENCE = """
MATCH (c:Concept)-[e:EVIDENCE]->(p:Concept)
RETURN c.id AS child, p.id AS parent, e.kind AS kind, e.dataset AS dataset
ORDER BY dataset, child, kind, parent
"""

EVIDENCE_OF = """
MATCH (c:Concept {id: $id})-[e:EVIDENCE]->(p:Concept)
RETURN p.id AS concept, e.kind AS kind, e.dataset AS dataset
ORDER BY dataset, kind, concept
"""

DELETE_HAS_CLASS = """
MATCH (:Dataset {name: $name})-[h:HAS_CLASS]->(:Concept)
DELETE h
"""

REVIEW_COUNTS = """
MATCH (d:Dataset)-[h:HAS_CLASS]->(c:Concept)
WHERE h.review = 'check' OR c.review = 'check'
RETURN d.name AS dataset, count(h) AS n
"""

DATASET_METHOD_COUNTS = """
MATCH (d:Dataset)-[h:HAS_CLASS]->(:Concept)
RETURN d.name AS dataset, h.method AS method, count(h) AS n
"""

# Concepts named ``$text`` (name or one of its lemmas, ``$lower`` case-folded), then those whose name
# starts with it: the most common sense first (tag count). For the CLI's ``concept`` and ``search``.
FIND_CONCEPTS = """
MATCH (c:Concept)
WHERE c.name = $text OR $text IN c.lemmas OR toLower(c.name) = $lower OR $lower IN c.lemmas
RETURN c.id AS id, c.name AS name, c.gloss AS gloss, coalesce(c.tag_count, 0) AS tag_count, 'exact' AS match
ORDER BY tag_count DESC, id
LIMIT $limit
UNION
MATCH (c:Concept)
WHERE toLower(c.name) STARTS WITH $lower AND toLower(c.name) <> $lower
RETURN c.id AS id, c.name AS name, c.gloss AS gloss, coalesce(c.tag_count, 0) AS tag_count, 'prefix' AS match
ORDER BY tag_count DESC, id
LIMIT $limit
"""
