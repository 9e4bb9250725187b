"""Read the WordNet 3.0 noun hierarchy with nltk's ``WordNetCorpusReader``.

Works from any WordNet 3.0 dict folder (Debian's ``wordnet-base`` puts one in
``/usr/share/wordnet``) or an nltk_data folder. Three things stand between such a folder and
nltk's reader, and :func:`open_wordnet` takes care of them: nltk only opens paths on its own
search path, Debian's folder lacks the ``lexnames`` file, and the reader tries to load the
multilingual mapping (absent here; translations come from Wikidata instead).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bamboo import paths
from bamboo.errors import WordNetNotFound
from bamboo.graph.taxonomy.model import concept_id_for_offset

__all__ = [
    "WordNetNouns",
    "close_wordnet",
    "find_wordnet_dir",
    "open_wordnet",
    "read_member_meronyms",
    "read_modifiers",
    "read_nouns",
    "read_sense_index",
]

#: The 45 lexicographer files of WordNet 3.0, in file-number order (wninput(5WN), lexnames(5WN)).
LEXNAMES: tuple[str, ...] = (
    "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact",
    "noun.attribute", "noun.body", "noun.cognition", "noun.communication", "noun.event",
    "noun.feeling", "noun.food", "noun.group", "noun.location", "noun.motive", "noun.object",
    "noun.person", "noun.phenomenon", "noun.plant", "noun.possession", "noun.process",
    "noun.quantity", "noun.relation", "noun.shape", "noun.state", "noun.substance", "noun.time",
    "verb.body", "verb.change", "verb.cognition", "verb.communication", "verb.competition",
    "verb.consumption", "verb.contact", "verb.creation", "verb.emotion", "verb.motion",
    "verb.perception", "verb.possession", "verb.social", "verb.stative", "verb.weather", "adj.ppl",
)  # fmt: skip
_POS_NUMBER = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}
_REQUIRED = ("data.noun", "index.noun", "noun.exc")

INSTALL_HINT = (
    "WordNet 3.0 was not found. Install it with `apt-get install wordnet-base` (Debian/Ubuntu), or pass "
    "--wordnet PATH (or set BAMBOO_WORDNET) to any WordNet 3.0 dict folder (holding data.noun, index.noun) "
    "or to an nltk_data folder with corpora/wordnet."
)


def _is_dict_dir(path: Path) -> bool:
    return all((path / name).is_file() for name in _REQUIRED)


def find_wordnet_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """Locate a WordNet 3.0 dict folder.

    Args:
        path: A dict folder, an nltk_data folder, or None to search the usual places
            (``$BAMBOO_WORDNET`` is read by the CLI, not here).

    Raises:
        WordNetNotFound: nothing usable at ``path`` / in the usual places, with how to install it.
    """
    if path is not None:
        candidates = [Path(path)]
    else:
        import nltk

        candidates = [Path("/usr/share/wordnet"), Path("/usr/local/share/wordnet")]
        if os.environ.get("WNHOME"):
            candidates.append(Path(os.environ["WNHOME"]) / "dict")
        candidates += [Path(p) for p in nltk.data.path]
    for base in candidates:
        for sub in (base, base / "dict", base / "wordnet", base / "corpora" / "wordnet"):
            if _is_dict_dir(sub):
                return sub
    where = str(path) if path is not None else ", ".join(str(c) for c in candidates)
    raise WordNetNotFound(f"{INSTALL_HINT} Looked in: {where}")


def _prepared_dir(dict_dir: Path, cache_dir: Path | None) -> Path:
    """A copy of ``dict_dir`` with a ``lexnames`` file, or ``dict_dir`` itself when it has one."""
    if (dict_dir / "lexnames").is_file():
        return dict_dir
    stamp = hashlib.sha256(str(dict_dir.resolve()).encode()).hexdigest()[:12]
    root = cache_dir or paths.cache_dir()
    target = root / f"wordnet-{stamp}"
    if not (target / "lexnames").is_file():
        tmp = target.with_name(target.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(dict_dir, tmp, ignore=shutil.ignore_patterns("pixmaps", "*.vrb"))
        (tmp / "lexnames").write_text(
            "".join(
                f"{i:02d}\t{name}\t{_POS_NUMBER[name.split('.')[0]]}\n" for i, name in enumerate(LEXNAMES)
            )
        )
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
    return target


def open_wordnet(path: str | os.PathLike[str] | None = None, *, cache_dir: Path | None = None) -> Any:
    """An nltk ``WordNetCorpusReader`` over WordNet 3.0 (see the module docstring).

    Raises:
        WordNetNotFound: no WordNet at ``path`` or in the usual places, or not version 3.0.
    """
    import nltk
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    class _Reader(WordNetCorpusReader):  # type: ignore[misc]
        def map_wn(self, version: str = "wordnet") -> None:  # no multilingual mapping here
            return None

    folder = _prepared_dir(find_wordnet_dir(path), cache_dir)
    if str(folder) not in nltk.data.path:
        nltk.data.path.insert(0, str(folder))
    with warnings.catch_warnings():
        # "The multilingual functions are not available with this Wordnet version": known, handled above.
        warnings.filterwarnings("ignore", message="The multilingual functions", category=UserWarning)
        reader = _Reader(str(folder), None)
    if reader.get_version() != "3.0":
        raise WordNetNotFound(f"{folder} holds WordNet {reader.get_version()}, not 3.0. {INSTALL_HINT}")
    return reader


def close_wordnet(reader: Any) -> None:
    """Close the data files nltk's reader keeps open (it never closes them itself)."""
    for fh in list(getattr(reader, "_data_file_map", {}).values()):
        fh.close()
    reader._data_file_map = {}
    key_file = getattr(reader, "_key_synset_file", None)
    if key_file is not None:
        key_file.close()
        reader._key_synset_file = None


@dataclass(frozen=True)
class WordNetNouns:
    """WordNet's noun synsets as graph rows (see :func:`read_nouns`)."""

    concepts: list[dict[str, Any]]
    edges: list[dict[str, Any]]


def _concept_rows(
    reader: Any, tag_counts: dict[str, int]
) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    for synset in reader.all_synsets("n"):
        cid = concept_id_for_offset(synset.offset())
        lemmas = [name.replace("_", " ") for name in synset.lemma_names()]
        props = {
            "name": lemmas[0],
            "lemmas": lemmas,
            "gloss": synset.definition(),
            "lexname": synset.lexname(),
            "synset": synset.name(),
            "wnid": cid[3:],
            "tag_count": tag_counts.get(cid, 0),
            "source": "wordnet",
        }
        edges = [
            {
                "child": cid,
                "parent": concept_id_for_offset(p.offset()),
                "kind": "hypernym",
                "source": "wordnet",
            }
            for p in synset.hypernyms()
        ] + [
            {
                "child": cid,
                "parent": concept_id_for_offset(p.offset()),
                "kind": "instance",
                "source": "wordnet",
            }
            for p in synset.instance_hypernyms()
        ]
        yield {"id": cid, "props": props}, edges


def read_nouns(path: str | os.PathLike[str] | None = None, *, cache_dir: Path | None = None) -> WordNetNouns:
    """All WordNet 3.0 noun synsets and their hypernym / instance-hypernym edges, sorted by id.

    Each concept's ``tag_count`` is how often its lemmas were tagged with this sense in the
    semantic concordances (``cntlist.rev``): a word-frequency signal for entry-level concepts.
    """
    tag_counts: dict[str, int] = {}
    for senses in read_sense_index(path).values():
        for cid, count in senses:
            tag_counts[cid] = tag_counts.get(cid, 0) + count
    reader = open_wordnet(path, cache_dir=cache_dir)
    concepts: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    try:
        for concept, out in _concept_rows(reader, tag_counts):
            concepts.append(concept)
            edges.extend(out)
    finally:
        close_wordnet(reader)
    concepts.sort(key=lambda r: r["id"])
    edges.sort(key=lambda r: (r["child"], r["parent"]))
    return WordNetNouns(concepts=concepts, edges=edges)


def read_modifiers(path: str | os.PathLike[str] | None = None) -> frozenset[str]:
    """Every adjective and adverb lemma (``index.adj``, ``index.adv``), normalised: the words that
    modify a noun (*long* nose gar, *hot* dry noodles) rather than name a maker."""
    from bamboo.graph.taxonomy.search import normalize

    dict_dir = find_wordnet_dir(path)
    words: set[str] = set()
    for name in ("index.adj", "index.adv"):
        for line in (dict_dir / name).read_text(encoding="utf-8", errors="replace").splitlines():
            if line and not line.startswith(" "):
                words.add(normalize(line.split(" ", 1)[0]))
    return frozenset(words)


def read_sense_index(path: str | os.PathLike[str] | None = None) -> dict[str, list[tuple[str, int]]]:
    """Each noun lemma's synsets in WordNet's sense order, with their tag counts.

    ``index.noun`` lists a lemma's synsets most frequent first; ``cntlist.rev`` gives the number of
    times each sense was tagged in the semantic concordances (0 when absent). Keys are
    :func:`bamboo.graph.taxonomy.search.normalize`-d lemmas; values ``[(concept id, tag count), ...]``.
    """
    from bamboo.graph.taxonomy.search import normalize

    dict_dir = find_wordnet_dir(path)
    counts: dict[tuple[str, int], int] = {}
    cntlist = dict_dir / "cntlist.rev"
    if cntlist.is_file():
        for line in cntlist.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.split()
            if len(parts) == 3 and "%1:" in parts[0]:
                counts[(parts[0].split("%", 1)[0], int(parts[1]))] = int(parts[2])
    senses: dict[str, list[tuple[str, int]]] = {}
    for line in (dict_dir / "index.noun").read_text(encoding="utf-8", errors="replace").splitlines():
        if not line or line.startswith(" "):
            continue  # the licence header
        parts = line.split()
        lemma, n_synsets, n_pointers = parts[0], int(parts[2]), int(parts[3])
        offsets = parts[4 + n_pointers + 2 : 4 + n_pointers + 2 + n_synsets]
        senses[normalize(lemma)] = [
            (concept_id_for_offset(int(off)), counts.get((lemma, rank), 0))
            for rank, off in enumerate(offsets, 1)
        ]
    return senses


def read_member_meronyms(path: str | os.PathLike[str] | None = None) -> dict[str, list[str]]:
    """WordNet's member meronyms of nouns, ``{group concept: [member concepts]}`` in file order.

    A taxon's members are its sub-taxa and the organisms it groups: *class Aves* has the order
    *Passeriformes* and the organism *bird*; *genus Quercus* has *oak*. Read straight from
    ``data.noun`` (pointer ``%m``), which is much faster than asking nltk synset by synset.
    """
    dict_dir = find_wordnet_dir(path)
    members: dict[str, list[str]] = {}
    with open(dict_dir / "data.noun", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.startswith(" ") or "%m" not in line:
                continue
            fields = line.split(" | ", 1)[0].split()
            n_words = int(fields[3], 16)
            at = 4 + 2 * n_words
            n_pointers = int(fields[at])
            found = [
                concept_id_for_offset(int(fields[at + 1 + 4 * i + 1]))
                for i in range(n_pointers)
                if fields[at + 1 + 4 * i] == "%m" and fields[at + 1 + 4 * i + 2] == "n"
            ]
            if found:
                members[concept_id_for_offset(int(fields[0]))] = found
    return members
