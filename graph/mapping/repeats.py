"""Classes of one list that share a name: two meanings, chosen jointly.

ImageNet-1K names two classes *crane* (the bird, the machine) and two *maillot*. A names-only list
with such repeats imports (each class keeps its index); the classes of one name take different
senses where evidence allows:

1. **which senses**: the first class keeps the sense its evidence chose; each later one keeps its
   own choice when that differs, else takes the best sense not yet taken (the evidence's runner-up,
   else WordNet's next sense); with none left it names the same concept as the first, flagged;
2. **who takes which**: the chosen senses are then assigned to the classes jointly, by each class's
   neighbours in the list (mean Wu-Palmer to its settled neighbours, the same evidence
   :func:`bamboo.graph.mapping.senses.choose_sense` weighs). Only an ordered list has neighbours; in
   an alphabetical one nothing tells the two *crane*s apart, and every class of the name is flagged
   ``review`` with the note saying so. An assignment is also flagged when the runner-up assignment is
   within :data:`bamboo.graph.mapping.senses.REVIEW_MARGIN` of it.

The score of an assignment is the sum over the classes of ``_W_NEIGHBOURS`` times that mean; the
evidence that does not depend on the class (sense order, tag counts, imageability, the list's
lexicographer mix) is the same whichever class takes a sense, so it cannot tell them apart and is
left out.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import replace

from bamboo.graph.link.lexicon import Lexicon
from bamboo.graph.mapping.senses import _W_NEIGHBOURS, REVIEW_MARGIN, SenseContext
from bamboo.graph.taxonomy.search import normalize
from bamboo.loaders.base import RawClass

__all__ = ["MAX_JOINT", "separate_repeats"]

#: Classes of one name assigned by trying every permutation; a larger group keeps the order of step 1.
MAX_JOINT = 6


def separate_repeats(
    classes: Sequence[RawClass],
    mapped: list,  # list[MappedClass]; untyped here to keep this module below datasets.py
    senses_of: Callable[[str], Sequence[str]],
    lexicon: Lexicon,
    *,
    ordered: bool,
    objects: bool = False,
) -> list:
    """``mapped`` with same-named classes given different senses (see the module docstring).
    ``senses_of(name)`` lists a name's senses in WordNet order."""
    groups: dict[str, list[int]] = {}
    for i, raw in enumerate(classes):
        groups.setdefault(normalize(raw.display_name), []).append(i)
    out = list(mapped)
    settled = [None if m.new else m.concept for m in out]
    for key, members in groups.items():
        if len(members) < 2:
            continue
        chosen = _choose_senses(key, members, out, senses_of, lexicon)
        movable = [i for i in members if out[i].method in ("sense", "lemma") and i in chosen]
        assigned, settled_by = _assign(movable, chosen, settled, lexicon, ordered, objects)
        final = {i: assigned.get(i, chosen.get(i, out[i].concept)) for i in members}
        first = members[0]
        for i in members:
            m, concept = out[i], final[i]
            notes, review = [m.note] if m.note and concept == m.concept else [], m.review
            if i != first and not m.new:
                same = concept == final[first]
                what = "the same concept" if same else "another sense"
                notes.append(f"repeats the name of class {out[first].index}: {what}")
                review = review or same
            changed = concept != m.concept
            if i in assigned:
                notes.append(settled_by)
                review = review or settled_by != _BY_NEIGHBOURS
            else:
                review = review or changed
            if not changed and notes == [m.note]:
                continue
            out[i] = replace(
                m,
                concept=concept,
                method="sense" if changed else m.method,
                confidence=min(m.confidence, 0.5) if changed or review else m.confidence,
                review=review,
                note="; ".join(n for n in notes if n),
            )
    return out


_BY_NEIGHBOURS = "senses assigned by neighbours"
_UNSETTLED = "which of the same-named classes takes which sense is not settled by evidence"


def _choose_senses(
    key: str,
    members: Sequence[int],
    out: Sequence,
    senses_of: Callable[[str], Sequence[str]],
    lexicon: Lexicon,
) -> dict[int, str]:
    """Step 1: a sense per class of the name (members that are new concepts get none)."""
    chosen: dict[int, str] = {}
    taken: set[str] = set()
    for i in members:
        m = out[i]
        if m.new:
            continue
        if m.concept not in taken:
            chosen[i] = m.concept
            taken.add(m.concept)
            continue
        other = next(
            (c for c in (*m.alternatives, *senses_of(key)) if c not in taken and c in lexicon.concepts),
            None,
        )
        if other is not None:
            chosen[i] = other
            taken.add(other)
    return chosen


def _assign(
    movable: Sequence[int],
    chosen: dict[int, str],
    settled: Sequence[str | None],
    lexicon: Lexicon,
    ordered: bool,
    objects: bool,
) -> tuple[dict[int, str], str]:
    """Step 2: the members' senses permuted to fit their neighbours best, and how it was settled."""
    if len(movable) < 2:
        return {}, ""
    senses = [chosen[i] for i in movable]
    if not ordered or len(movable) > MAX_JOINT:
        return dict(zip(movable, senses, strict=True)), _UNSETTLED
    # the group's own members are not each other's neighbours: their senses are what is decided
    others = [None if j in chosen else c for j, c in enumerate(settled)]
    fit = {}
    for i in movable:
        near = SenseContext.of(others, i, lexicon, ordered=True, objects=objects).neighbours
        for c in senses:
            sims = sorted((lexicon.wu_palmer(c, n) for n in near), reverse=True)[:3]
            fit[i, c] = _W_NEIGHBOURS * sum(sims) / len(sims) if sims else 0.0
    totals = sorted(
        (
            (sum(fit[i, c] for i, c in zip(movable, p, strict=True)), p)
            for p in itertools.permutations(senses)
        ),
        key=lambda t: -t[0],
    )
    best, runner_up = totals[0], totals[1]
    how = _BY_NEIGHBOURS if best[0] - runner_up[0] >= REVIEW_MARGIN else _UNSETTLED
    return dict(zip(movable, best[1], strict=True)), how
