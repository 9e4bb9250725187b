"""The records the graph layer hands out: concepts, references to them, pages of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["ENTITY_ID", "Concept", "ConceptRef", "Page", "concept_id_for_offset"]

#: The root of the WordNet noun hierarchy; every concept must reach it.
ENTITY_ID = "wn:n00001740"


def concept_id_for_offset(offset: int) -> str:
    """The Bamboo id of the WordNet 3.0 noun synset at ``offset`` (the ImageNet wnid form).

    >>> concept_id_for_offset(2084071)
    'wn:n02084071'
    """
    return f"wn:n{offset:08d}"


@dataclass(frozen=True)
class Concept:
    """One concept of the label system, as stored on its ``:Concept`` node."""

    id: str
    name: str
    lemmas: tuple[str, ...] = ()
    gloss: str | None = None
    lexname: str | None = None
    synset: str | None = None
    source: str | None = None
    visual: bool | None = None
    common: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    _FIELDS = ("id", "name", "lemmas", "gloss", "lexname", "synset", "source", "visual", "common")

    @classmethod
    def from_properties(cls, props: dict[str, Any]) -> Concept:
        extra = {k: v for k, v in props.items() if k not in cls._FIELDS}
        return cls(
            id=str(props["id"]),
            name=str(props.get("name") or props["id"]),
            lemmas=tuple(props.get("lemmas") or ()),
            gloss=props.get("gloss"),
            lexname=props.get("lexname"),
            synset=props.get("synset"),
            source=props.get("source"),
            visual=props.get("visual"),
            common=props.get("common"),
            extra=extra,
        )


@dataclass(frozen=True)
class ConceptRef:
    """A concept named in a relation: a parent, child, ancestor or descendant.

    ``depth`` is the number of IS_A edges on the shortest path from the asking concept (ancestors);
    ``kind`` is the edge kind (``hypernym`` or ``instance``) for direct parents and children.
    """

    id: str
    name: str
    depth: int | None = None
    kind: str | None = None


@dataclass(frozen=True)
class Page:
    """One page of a long listing; pass ``next_cursor`` back to get the next page (None: the end)."""

    items: list[ConceptRef]
    next_cursor: str | None
