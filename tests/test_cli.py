"""The ``bamboo`` command, run as a real subprocess against the session's embedded server."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import neo4j
import pytest

from bamboo.graph.store.build import BuildReport
from bamboo.graph.store.embedded import ServerInfo
from bamboo.graph.taxonomy.wordnet import WordNetNouns
from conftest import SHARED_DATA, run_cli


def test_stats_json(server: ServerInfo, wordnet_build: BuildReport) -> None:
    out = run_cli(server, "stats", "--json")
    assert out.returncode == 0, out.stderr
    stats = json.loads(out.stdout)
    assert stats["concepts"] >= 82115
    assert stats["invariants"] == {
        "ok": True,
        "acyclic": True,
        "rooted": True,
        "unique_ids": True,
        "detail": "all invariants hold",
    }
    assert stats["content_hash"] == wordnet_build.content_hash


def test_concept_ancestors_descendants(server: ServerInfo, wordnet_build: BuildReport) -> None:
    concept = json.loads(run_cli(server, "concept", "wn:n02084071", "--json").stdout)
    assert concept["name"] == "dog"
    assert "wn:n02083346" in [p["id"] for p in concept["parents"]]
    ancestors = json.loads(run_cli(server, "ancestors", "wn:n02084071", "--json").stdout)
    assert {"wn:n02083346", "wn:n00001740"} <= {a["id"] for a in ancestors}
    page = json.loads(run_cli(server, "descendants", "wn:n02083346", "--limit", "5", "--json").stdout)
    assert len(page["items"]) == 5 and page["next_cursor"] == page["items"][-1]["id"]
    nxt = json.loads(
        run_cli(
            server, "descendants", "wn:n02083346", "--limit", "5", "--cursor", page["next_cursor"], "--json"
        ).stdout
    )
    assert nxt["items"][0]["id"] > page["next_cursor"]


def test_unknown_concept_is_one_clear_line(server: ServerInfo, wordnet_build: BuildReport) -> None:
    out = run_cli(server, "concept", "wn:n99999999")
    assert out.returncode == 2
    assert "unknown concept id 'wn:n99999999'" in out.stderr
    assert "Traceback" not in out.stderr


def test_usage_errors_are_click_messages_not_tracebacks(server: ServerInfo) -> None:
    for args in (("no-such-command",), ("concept",), ("eval", "linking", "--hidden", "0")):
        out = run_cli(server, *args)
        assert out.returncode == 2, args
        assert "Error" in out.stderr and "Traceback" not in out.stderr


def test_missing_wordnet_is_one_clear_line(server: ServerInfo, tmp_path: Path) -> None:
    out = run_cli(server, "build", "--wordnet", str(tmp_path))
    assert out.returncode == 2
    assert "apt-get install wordnet-base" in out.stderr and "Traceback" not in out.stderr


def test_snapshot_and_export(server: ServerInfo, wordnet_build: BuildReport, tmp_path: Path) -> None:
    out = run_cli(server, "snapshot", str(tmp_path / "tax.npz"))
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "tax.npz").exists()
    out = run_cli(server, "export", "--format", "bamboo-json", str(tmp_path / "b.json"))
    assert out.returncode == 0, out.stderr
    assert json.loads((tmp_path / "b.json").read_text())["id2name"]["wn:n00001740"] == "entity"


def test_db_status_reuses_running_server(server: ServerInfo) -> None:
    out = run_cli(server, "db", "status")
    assert out.returncode == 0 and str(server.pid) in out.stdout
    out = run_cli(server, "db", "start")  # reuses, does not start a second one
    assert out.returncode == 0 and f"pid {server.pid}" in out.stdout


def test_db_status_when_stopped(server: ServerInfo, tmp_path: Path) -> None:
    out = run_cli(server, "db", "status", BAMBOO_GRAPH_DATA_DIR=str(tmp_path))
    assert out.returncode == 1 and "not running" in out.stdout


def test_dead_database_is_a_clear_error(server: ServerInfo, tmp_path: Path) -> None:
    out = run_cli(server, "--uri", "bolt://127.0.0.1:1", "--password", "x" * 16, "stats")
    assert out.returncode == 2
    assert "cannot reach the graph database at bolt://127.0.0.1:1" in out.stderr


def test_build_with_datasets_then_list_them(server: ServerInfo, fresh_database: str, tmp_path: Path) -> None:
    db = {"BAMBOO_GRAPH_DATABASE": fresh_database}
    (tmp_path / "categories_places365.txt").write_text("/a/airfield 0\n/b/bakery/shop 1\n/z/zzzz_nothing 2\n")
    (tmp_path / "imagenet_synsets.txt").write_text("n02084071\nn02121620\n")
    # Named: installed packages (timm) ship more class lists that would be found too.
    out = run_cli(
        server, "build", "--datasets-dir", str(tmp_path), "--datasets", "imagenet-1k,places365", **db
    )
    assert out.returncode == 0, out.stderr
    rows = {r["dataset"]: r for r in json.loads(run_cli(server, "datasets", "--json", **db).stdout)}
    assert rows["imagenet-1k"]["classes"] == 2 == rows["imagenet-1k"]["by_id"]
    places = rows["places365"]
    assert places["classes"] == 3 == places["by_lemma"] + places["new"] and places["new"] >= 1
    assert rows["coco"]["imported"] is False
    concept = json.loads(run_cli(server, "concept", "wn:n02084071", "--json", **db).stdout)
    assert {
        "dataset": "imagenet-1k",
        "index": 0,
        "raw_name": "n02084071",
        "method": "wnid",
        "confidence": 1.0,
    } in concept["datasets"]
    text = run_cli(server, "concept", "wn:n02084071", **db).stdout
    assert "in datasets (1):" in text and "imagenet-1k class 0 'n02084071' (wnid, 1.0)" in text
    stats = json.loads(run_cli(server, "stats", "--json", **db).stdout)
    assert stats["invariants"]["ok"]

    # A malformed or truncated file stops the build before anything is written.
    listed = run_cli(server, "datasets", "--json", **db).stdout
    for name, text, line in [
        ("imagenet_synsets.txt", "n02084071\ndog\n", 2),
        ("categories_places365.txt", "/a/airfield 0\n/b/bakery/shop 1\n/z/zz", 3),
    ]:
        good = (tmp_path / name).read_text()
        (tmp_path / name).write_text(text)
        out = run_cli(server, "build", "--datasets-dir", str(tmp_path), **db)
        assert out.returncode == 2
        assert f"{tmp_path / name}:{line}" in out.stderr and "Traceback" not in out.stderr
        after = json.loads(run_cli(server, "stats", "--json", **db).stdout)
        assert after["content_hash"] == stats["content_hash"]
        assert run_cli(server, "datasets", "--json", **db).stdout == listed
        (tmp_path / name).write_text(good)
    out = run_cli(server, "build", "--datasets", "coco", "--datasets-dir", str(tmp_path), **db)
    assert out.returncode == 2 and "coco: no instances_val2017.json in" in out.stderr


@pytest.mark.slow
@pytest.mark.shared_data("labelsets")
def test_default_offline_build_lists_24_datasets(server: ServerInfo, fresh_database: str) -> None:
    db = {"BAMBOO_GRAPH_DATABASE": fresh_database, "BAMBOO_DATASETS_DIR": str(SHARED_DATA / "labelsets")}
    out = run_cli(server, "build", **db)
    assert out.returncode == 0, out.stderr
    assert re.search(
        r"datasets imported: \d+ concepts and \d+ IS_A edges; invariants: all invariants hold", out.stdout
    )
    rows = [r for r in json.loads(run_cli(server, "datasets", "--json", **db).stdout) if r["imported"]]
    assert len(rows) >= 24
    for r in rows:  # no class lost: every class is mapped or a new concept
        assert r["classes"] == r["by_id"] + r["by_lemma"] + r["new"], r
    # Nothing pending: every concept reaches the root, no review node remains.
    stats = json.loads(run_cli(server, "stats", "--json", **db).stdout)
    assert stats["invariants"]["rooted"] is True, stats
    assert run_cli(server, "concept", "bamboo:pending", **db).returncode != 0
    coco = run_cli(server, "review", "list", "--dataset", "coco", "--json", **db)
    assert coco.returncode == 0 and "placements" in json.loads(coco.stdout)
    in21k = next(r for r in rows if r["dataset"] == "imagenet-21k")
    assert in21k["classes"] == in21k["by_id"] == 21843
    table = run_cli(server, "datasets", **db).stdout
    assert "imagenet-21k" in table and "21843" in table
    person = json.loads(run_cli(server, "concept", "wn:n00007846", "--json", **db).stdout)
    assert {"coco", "pascal-voc", "imagenet-21k"} <= {d["dataset"] for d in person["datasets"]}


def test_import_own_class_list(
    server: ServerInfo, fresh_database: str, wordnet_nouns: WordNetNouns, tmp_path: Path
) -> None:
    """`bamboo import`: a user's list through the same pipeline; a bad file changes nothing."""
    from bamboo.graph.store.build import build_wordnet
    from bamboo.graph.store.graph_store import GraphStore
    from bamboo.graph.taxonomy.invariants import content_hash, read_contents

    rw_database = fresh_database
    db = {"BAMBOO_GRAPH_DATABASE": rw_database}
    admin = neo4j.GraphDatabase.driver(server.uri, auth=(server.user, server.password))
    build_wordnet(GraphStore(admin, rw_database), wordnet_nouns)
    admin.close()
    names = tmp_path / "mine.txt"
    names.write_text("golden retriever\ncell phone\nbook\nZzyzx gadget\n")
    out = run_cli(server, "import", "mine", str(names), "--task", "detection", "--json", **db)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [(r["index"], r["concept"], r["method"]) for r in rows][:3] == [
        (0, "wn:n02099601", "lemma"),
        (1, "wn:n02992529", "lemma"),
        (2, "wn:n02870092", "sense"),  # a detection list: the bound pages, not the written work
    ]
    assert (rows[3]["concept"], rows[3]["method"]) == ("bamboo:zzyzx-gadget", "new")
    assert rows[3]["parent"] == "wn:n02729965" and rows[3]["placed_by"] == "head noun 'gadget'"
    listed = {r["dataset"]: r for r in json.loads(run_cli(server, "datasets", "--json", **db).stdout)}
    assert listed["mine"]["classes"] == 4
    csv_file = tmp_path / "bad.csv"
    csv_file.write_text('name,description\ndog,a dog\n"cat,unclosed\n')
    drv = neo4j.GraphDatabase.driver(server.uri, auth=(server.user, server.password))
    try:
        before = content_hash(read_contents(GraphStore(drv, rw_database)))
        bad = run_cli(server, "import", "bad", str(csv_file), **db)
        assert bad.returncode == 2 and f"{csv_file}:3" in bad.stderr, bad.stderr
        assert content_hash(read_contents(GraphStore(drv, rw_database))) == before
    finally:
        drv.close()
    described = tmp_path / "described.csv"
    described.write_text("name,description\nmouse,a pointing device for a computer\nmouse pad,\n")
    out = run_cli(server, "import", "described", str(described), "--json", **db)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert rows[0]["concept"] == "wn:n03793489"  # the description chose the device, not the rodent


def test_concept_lists_its_dataset_classes(server: ServerInfo, rw_database: str) -> None:
    out = run_cli(server, "concept", "wn:n02084071", "--json", BAMBOO_GRAPH_DATABASE=rw_database)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["id"] == "wn:n02084071" and "wn:n02083346" in {p["id"] for p in doc["parents"]}
    assert {
        "dataset": "toy-det",
        "index": 0,
        "raw_name": "wn:n02084071",
        "method": "lemma",
        "confidence": 0.9,
    } in doc["datasets"]
    text = run_cli(server, "concept", "wn:n02084071", BAMBOO_GRAPH_DATABASE=rw_database)
    assert text.returncode == 0, text.stderr
    assert "toy-det class 0 'wn:n02084071' (lemma, 0.9)" in text.stdout


def test_review_decisions_refuse_bad_items_in_one_line(server: ServerInfo, rw_database: str) -> None:
    db = {"BAMBOO_GRAPH_DATABASE": rw_database}
    for args, message in (
        (("review", "accept", "toy-det#x"), "dataset#index"),
        (("review", "accept", "no-such-set#3"), "no-such-set has no class 3"),
        (("review", "move", "toy-det#0", "wn:n99999999"), "wn:n99999999"),
    ):
        out = run_cli(server, *args, **db)
        assert out.returncode != 0 and message in out.stderr, (args, out.stderr)
        assert "Traceback" not in out.stderr
    # Nothing was written: dog's class in toy-det is still the lemma mapping.
    dog = json.loads(run_cli(server, "concept", "wn:n02084071", "--json", **db).stdout)
    assert {"dataset": "toy-det", "index": 0, "method": "lemma"}.items() <= next(
        d for d in dog["datasets"] if d["dataset"] == "toy-det"
    ).items()


def test_help_keeps_square_brackets() -> None:
    """Help text is plain text: "[image path or url] [class_index]" was read as Rich markup and lost."""
    out = subprocess.run(
        [sys.executable, "-m", "bamboo.cli", "dedup", "--help"], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "[image path or url] [class_index]" in out.stdout, out.stdout


def test_concept_by_name_and_search(server: ServerInfo, wordnet_build: BuildReport) -> None:
    """``bamboo concept`` takes a name only one concept has; several: the candidates with glosses."""
    one = run_cli(server, "concept", "golden retriever", "--json")
    assert one.returncode == 0, one.stderr
    assert json.loads(one.stdout)["id"] == "wn:n02099601"
    many = run_cli(server, "concept", "dog")
    assert many.returncode == 2 and many.stderr.count("\n") == 1, many.stderr
    assert "concepts are named 'dog', most common first: wn:n02084071 dog:" in many.stderr
    none = run_cli(server, "concept", "n02084071")
    assert none.returncode == 2 and "did you mean 'wn:n02084071'" in none.stderr, none.stderr
    found = run_cli(server, "search", "dog", "--json")
    assert found.returncode == 0, found.stderr
    rows = json.loads(found.stdout)
    assert rows[0]["id"] == "wn:n02084071" and rows[0]["match"] == "exact" and rows[0]["gloss"]
    assert any(r["match"] == "prefix" for r in rows)  # dogcart, dogfight ...


def test_eval_mapping_reports_placement_under_the_gold_parent_and_entity(
    server: ServerInfo, tmp_path: Path
) -> None:
    """``bamboo eval mapping`` on a small gold list, every figure checked by hand: two exact rows
    (one right), two held-out car names whose gold parent is *car* (one reaches it by its head noun),
    one name nothing places (under *entity*); and an alphabetical pair of *crane*s among birds and
    machines, scored as a group."""
    gold = tmp_path / "gold.tsv"
    gold.write_text(
        "mixed\tdog\tn02084071\n"
        "mixed\tcat\tn02985606\n"  # the cat-o'-nine-tails: not the feline, and nothing says so
        "mixed\tZqmotor Zx Sedan 2012\tn02958343\tparent\n"
        "mixed\tZqmotor Qv\tn02958343\tparent\n"
        "mixed\tQqzx Vvqz\tn00001740\tparent\n"
        "cranes\tbulldozer\tn02916179\n"
        "cranes\tcrane\tn03126707\n"
        "cranes\tcrane\tn02012849\n"
        "cranes\tegret\tn02008796\n"
        "cranes\texcavator\tn03996416\n"
        "cranes\tforklift\tn03384352\n"
        "cranes\tpelican\tn02051845\n"
        "cranes\tstork\tn02002075\n"
    )
    imaged = tmp_path / "imaged.txt"  # as ImageNet-1K's list: both cranes have images
    imaged.write_text("n03126707\nn02012849\n")
    out = run_cli(server, "eval", "mapping", str(gold), "--imaged", str(imaged), "--json")
    assert out.returncode == 0, out.stderr
    mixed, cranes = json.loads(out.stdout)
    assert (mixed["exact"], mixed["accuracy"], mixed["parent_rows"]) == (2, 0.5, 3)
    assert mixed["under_parent"] == round(2 / 3, 4)  # the sedan under car; entity "under" entity
    assert mixed["under_entity"] == 2  # "Zqmotor Qv" and "Qqzx Vvqz"
    # sorted names, no neighbours: the two cranes take the bird and the machine, in an order nothing
    # settles; the grouped figure does not count that order, the strict one does
    assert cranes["grouped_accuracy"] == 1.0 and cranes["accuracy"] in (0.75, 1.0)
