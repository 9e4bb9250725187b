"""Reading real WordNet 3.0 through nltk, and the errors when it is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from bamboo.errors import WordNetNotFound
from bamboo.graph.taxonomy.wordnet import (
    LEXNAMES,
    WordNetNouns,
    close_wordnet,
    find_wordnet_dir,
    open_wordnet,
)


def test_counts_match_wordnet_3_0(wordnet_nouns: WordNetNouns) -> None:
    assert len(wordnet_nouns.concepts) == 82115
    kinds = [e["kind"] for e in wordnet_nouns.edges]
    assert kinds.count("hypernym") == 75850
    assert kinds.count("instance") == 8577


def test_ids_are_imagenet_wnids(wordnet_nouns: WordNetNouns) -> None:
    by_id = {c["id"]: c["props"] for c in wordnet_nouns.concepts}
    dog = by_id["wn:n02084071"]
    assert dog["name"] == "dog" and dog["synset"] == "dog.n.01" and dog["lexname"] == "noun.animal"
    assert dog["lemmas"] == ["dog", "domestic dog", "Canis familiaris"]
    assert by_id["wn:n00001740"]["name"] == "entity"
    assert {"child": "wn:n02084071", "parent": "wn:n02083346", "kind": "hypernym", "source": "wordnet"} in (
        wordnet_nouns.edges
    )


def test_missing_wordnet_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(WordNetNotFound, match="apt-get install wordnet-base") as err:
        find_wordnet_dir(tmp_path / "nowhere")
    assert "nowhere" in str(err.value)
    with pytest.raises(FileNotFoundError):  # also a built-in FileNotFoundError
        open_wordnet(tmp_path)


def test_nltk_data_layout_is_accepted(tmp_path: Path) -> None:
    src = find_wordnet_dir()
    target = tmp_path / "nltk_data" / "corpora" / "wordnet"
    target.mkdir(parents=True)
    for name in ("data.noun", "index.noun", "noun.exc"):
        (target / name).symlink_to(src / name)
    assert find_wordnet_dir(tmp_path / "nltk_data") == target


def test_lexnames_written_for_debian_folder(tmp_path: Path) -> None:
    reader = open_wordnet(cache_dir=tmp_path)
    try:
        assert reader.synset("dog.n.01").lexname() == "noun.animal"
    finally:
        close_wordnet(reader)
    written = list(tmp_path.glob("wordnet-*/lexnames"))
    if written:  # only when the dict folder lacked one (Debian's does)
        lines = written[0].read_text().splitlines()
        assert len(lines) == len(LEXNAMES) == 45
        assert lines[5] == "05\tnoun.animal\t1"
