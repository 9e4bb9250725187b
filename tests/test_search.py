"""The in-memory name search: normalisation and the order of its hits."""

from __future__ import annotations

import unicodedata

from hypothesis import given, strategies as st

from bamboo.graph.taxonomy.search import SearchIndex, normalize


def _unicode_path(text: str) -> str:
    """The general normalisation, without normalize's ASCII shortcut."""
    text = unicodedata.normalize("NFKD", text.replace("_", " ")).casefold()
    return " ".join("".join(ch for ch in text if not unicodedata.combining(ch)).split())


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_shortcut_matches_the_unicode_path(text: str) -> None:
    assert normalize(text) == _unicode_path(text)


@given(st.text())
def test_normalize_is_idempotent(text: str) -> None:
    assert normalize(normalize(text)) == normalize(text)


def test_accents_case_and_separators_fold() -> None:
    assert normalize("  Crème_Brûlée ") == "creme brulee"
    assert normalize("STRASSE") == normalize("straße")


def test_exact_then_prefix_then_fuzzy() -> None:
    index = SearchIndex(
        [
            {"id": "a", "name": "dog", "lemmas": ["dog", "domestic_dog"]},
            {"id": "b", "name": "dogwood", "labels_zh": ["山茱萸"]},
            {"id": "c", "name": "hot dog"},
            {"id": "d", "name": "doge", "labels_it": ["Doge"]},
        ]
    )
    hits = index.search("Dog")
    assert [(h.id, h.match) for h in hits[:3]] == [("a", "exact"), ("d", "prefix"), ("b", "prefix")]
    assert index.search("domestic dog")[0].matched == "domestic_dog"
    assert [h.id for h in index.search("山茱萸")] == ["b"]
    assert [h.id for h in index.search("doge", lang="it")] == ["d"]
    assert index.search("dogwod", fuzzy=False) == []
    assert [(h.id, h.match) for h in index.search("dogwod")] == [("b", "fuzzy")]


def test_index_entries_sort_as_their_tuples() -> None:
    """The array sort gives the order of sorted((key, lang, id, original)) tuples, ties included."""
    index = SearchIndex(
        [
            {"id": "b", "name": "Dog", "lemmas": ["dog", "DOG"], "labels_fr": ["chien"]},
            {"id": "a", "name": "dog", "labels_de": ["Hund"], "labels_fr": ["Chien", "chien"]},
            {"id": "c", "name": "Crème", "lemmas": ["creme", "crème"]},
        ]
    )
    state = index.state()
    entries = []
    for k, key in enumerate(state["choices"]):
        for i in range(int(state["bounds"][k]), int(state["bounds"][k + 1])):
            number = int(state["concept"][i])
            entries.append(
                (
                    key,
                    state["lang_names"][state["lang"][i]],
                    state["ids"][number],
                    state["original"][i] or key,
                )
            )
    assert entries == sorted(entries)
    assert len(entries) == 11
    assert SearchIndex.from_state(state).search("chien", lang="fr")[0].id == "a"
