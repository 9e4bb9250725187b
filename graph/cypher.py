"""Every Cypher statement Bamboo sends, as named constants (Neo4j 5 dialect).

This is the one query module: nothing else in the code base writes query text. Values always
travel as ``$parameters``. The same text runs on Neo4j and on the embedded ArcadeDB server, so a
statement here may only use what both understand (no APOC, no FULLTEXT indexes).
"""

from __future__ import annotations

__all__ = [
    "ALL_CONCEPTS",
    "ALL_EVIDENCE",
    "ALL_HAS_CLASS",
    "ALL_IS_A",
    "ALL_VOTES",
    "ANCESTORS",
    "CHILDREN",
    "CONCEPT",
    "CONCEPTS_BY_ID",
    "CONCEPT_DATASETS",
    "COUNT_CONCEPTS",
    "COUNT_IS_A",
    "CREATE_EVIDENCE",
    "CREATE_HAS_CLASS",
    "DATASETS",
    "DATASET_CLASSES",
    "DATASET_EXISTS",
    "DATASET_METHOD_COUNTS",
    "DELETE_ALL",
    "DELETE_EVIDENCE",
    "DELETE_HAS_CLASS",
    "DESCENDANTS_PAGE",
    "EVIDENCE_OF",
    "GET_META",
    "GET_METAS",
    "LINKED_OF",
    "MISSING_CONCEPTS",
    "PARENTS",
    "PENDING_CONCEPTS",
    "PLACE_PENDING",
    "PROPOSE_PENDING",
    "SET_CLASS_LINK",
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

# $rows: [{child, parent, kind, source, method, score, evidence}]: links with their provenance.
UPSERT_LINKS = """
UNWIND $rows AS row
MATCH (c:Concept {id: row.child})
MATCH (p:Concept {id: row.parent})
MERGE (c)-[e:IS_A]->(p)
SET e.kind = row.kind, e.source = row.source, e.method = row.method, e.score = row.score,
    e.evidence = row.evidence
"""

# $rows: [{id, parent, method, score, evidence}]: a pending dataset concept placed by the linkers
# leaves the review node, gains its parent, and its dataset classes record how it was linked.
PLACE_PENDING = """
UNWIND $rows AS row
MATCH (c:Concept {id: row.id})-[r:IS_A]->(:Concept {id: $pending})
MATCH (p:Concept {id: row.parent})
DELETE r
MERGE (c)-[e:IS_A]->(p)
SET e.kind = 'link', e.source = 'bamboo-link', e.method = row.method, e.score = row.score,
    e.evidence = row.evidence,
    c.review = 'linked', c.proposed_parent = null, c.proposed_by = null, c.proposed_score = null,
    c.proposed_evidence = null
"""

# Run after PLACE_PENDING: the placed concepts' dataset classes record how they were linked.
SET_CLASS_LINK = """
UNWIND $rows AS row
MATCH (c:Concept {id: row.id})
MATCH (c)<-[h:HAS_CLASS]-(:Dataset)
SET h.method = row.method, h.confidence = row.score
"""

# $rows: [{id, parent, method, score, evidence}]: a link the policy was not sure of, kept on the
# pending concept for a person to accept.
PROPOSE_PENDING = """
UNWIND $rows AS row
MATCH (c:Concept {id: row.id})-[:IS_A]->(:Concept {id: $pending})
SET c.proposed_parent = row.parent, c.proposed_by = row.method, c.proposed_score = row.score,
    c.proposed_evidence = row.evidence
"""

PENDING_CONCEPTS = """
MATCH (c:Concept)-[:IS_A]->(:Concept {id: $pending})
RETURN c.id AS id, c.name AS name, c.source AS dataset, c.suggested_parent AS suggested_parent,
       c.suggested_by AS suggested_by
ORDER BY id
"""

# The dataset concepts (among $ids) already placed by the linkers, with their link.
LINKED_OF = """
UNWIND $ids AS id
MATCH (c:Concept {id: id})-[e:IS_A]->(:Concept)
WHERE c.review = 'linked' AND e.source = 'bamboo-link'
RETURN c.id AS id, e.method AS method, e.score AS score
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

ALL_IS_A = """
MATCH (c:Concept)-[e:IS_A]->(p:Concept)
RETURN c.id AS child, p.id AS parent, e.kind AS kind, e.source AS source, e.method AS method,
       e.score AS score
"""

COUNT_CONCEPTS = "MATCH (c:Concept) RETURN count(c) AS n"
COUNT_IS_A = "MATCH (:Concept)-[e:IS_A]->(:Concept) RETURN count(e) AS n"


# --- datasets -------------------------------------------------------------------------------

UPSERT_DATASET = """
MERGE (d:Dataset {name: $name})
SET d += $props
"""

# $rows: [{index, raw_name, concept, method, confidence, note, review, alternatives}]
# Run after DELETE_HAS_CLASS in the same transaction: CREATE, since MERGE from one dataset node
# would scan its edges for every row.
CREATE_HAS_CLASS = """
MATCH (d:Dataset {name: $name})
UNWIND $rows AS row
MATCH (c:Concept {id: row.concept})
CREATE (d)-[:HAS_CLASS {index: row.index, raw_name: row.raw_name, method: row.method,
                        confidence: row.confidence, note: row.note, review: row.review,
                        alternatives: row.alternatives}]->(c)
"""

DATASETS = """
MATCH (d:Dataset)
OPTIONAL MATCH (d)-[h:HAS_CLASS]->(:Concept)
RETURN properties(d) AS dataset, count(h) AS classes
ORDER BY dataset.name
"""

DATASET_CLASSES = """
MATCH (d:Dataset {name: $name})-[h:HAS_CLASS]->(c:Concept)
RETURN h.index AS index, h.raw_name AS raw_name, h.method AS method, h.confidence AS confidence,
       c.id AS concept, c.name AS name, h.review AS review
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

ALL_HAS_CLASS = """
MATCH (d:Dataset)-[h:HAS_CLASS]->(c:Concept)
RETURN c.id AS concept, d.name AS dataset, h.index AS index, h.raw_name AS raw_name, h.method AS method,
       h.confidence AS confidence
"""


# Before re-importing a dataset: its old class edges go, in the same transaction as the new ones.
MISSING_CONCEPTS = """
UNWIND $ids AS id
OPTIONAL MATCH (c:Concept {id: id})
WITH id, c
WHERE c IS NULL
RETURN id
"""

DELETE_EVIDENCE = """
MATCH (:Concept)-[e:EVIDENCE {dataset: $name}]->(:Concept)
DELETE e
"""

# Run after DELETE_EVIDENCE in the same transaction.
CREATE_EVIDENCE = """
UNWIND $rows AS row
MATCH (c:Concept {id: row.child})
MATCH (p:Concept {id: row.parent})
CREATE (c)-[:EVIDENCE {dataset: $name, kind: row.kind}]->(p)
"""

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

DATASET_METHOD_COUNTS = """
MATCH (d:Dataset)-[h:HAS_CLASS]->(:Concept)
RETURN d.name AS dataset, h.method AS method, count(h) AS n
"""
