"""The Wikidata step the commands that take ``--wikidata`` share (``bamboo import``, ``bamboo build``):
the endpoint and ``--wn31-map`` checked before anything is written, the linker, and the one line that
says what it did."""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from bamboo.errors import ConfigurationError, printable

if TYPE_CHECKING:
    from bamboo.graph.mapping.datasets import ClassMapper
    from bamboo.graph.wikidata.names import NameLinker

__all__ = ["name_linker", "say_wikidata", "wikidata_inputs"]

console = Console(soft_wrap=True)


def _http_url(text: str) -> bool:
    """Whether ``text`` parses as an http(s) URL with a host (and no whitespace or control characters)."""
    try:
        parts = urllib.parse.urlsplit(text)
    except ValueError:
        return False
    printable_text = text.isprintable() and " " not in text
    return parts.scheme in ("http", "https") and bool(parts.hostname) and printable_text


def wikidata_inputs(url: str | None, wn31_map: Path | None) -> dict[str, str] | None:
    """Check ``--wikidata`` and read ``--wn31-map`` (before anything is written: a bad one stops here)."""
    if url is not None and not _http_url(url):
        raise ConfigurationError(
            f"--wikidata takes an http(s) SPARQL endpoint URL, not {printable(url, 80)!r}"
        )
    return _read_wn31(wn31_map)


def _read_wn31(path: Path | None) -> dict[str, str] | None:
    """``--wn31-map``'s pairs (read before anything is written, so a bad file stops the import)."""
    if path is None:
        return None
    if not path.is_file():
        raise ConfigurationError(f"--wn31-map {path}: no such file")
    from bamboo.graph.wikidata.sync import read_wn31_map

    return read_wn31_map(path)


def name_linker(
    endpoint: str, mapper: ClassMapper, wn31_map: dict[str, str] | None
) -> tuple[NameLinker | None, str]:
    """The Wikidata linker for ``--wikidata``, or ``None`` and why there is none."""
    try:
        from bamboo.graph.wikidata.client import WikidataClient
        from bamboo.graph.wikidata.names import NameLinker

        client = WikidataClient(endpoint, timeout_s=60, max_retries=3, max_wait_s=60)
        probe = WikidataClient(endpoint, timeout_s=10, max_retries=0, min_interval_s=0)
    except ImportError as exc:
        return None, f"{exc.name or 'SPARQLWrapper'} is not installed (pip install -e '.[wikidata]')"
    return NameLinker(client, mapper.lexicon, wn31_map=wn31_map, probe=probe), ""


def say_wikidata(endpoint: str, linker: NameLinker | None, skipped: str, as_json: bool) -> None:
    """One line on what the Wikidata step did (on stderr, so ``--json`` output stays JSON lines), or
    why it was skipped."""
    err = Console(stderr=True, soft_wrap=True, highlight=False)
    why = skipped or (linker.report.skipped if linker else "")
    if why:
        err.print(
            f"Wikidata linking skipped: {printable(endpoint, 120)}: {printable(why, 300)}; "
            "the offline placements stand",
            markup=False,
        )
        return
    if linker is None:
        return
    r = linker.report
    line = (
        f"wikidata: {r.names} names looked up, {r.matched} match an item"
        + (f" ({r.by_id} by the list's Freebase id)" if r.by_id else "")
        + f", {r.placed} placed, "
        f"{r.ambiguous} ambiguous (flagged), {r.outside_domain} outside the list domain, "
        f"{r.no_path} with no path to a known concept ({r.requests} requests, {r.seconds:.1f} s)"
    )
    (err if as_json else console).print(line, markup=False, highlight=False)
