"""The verification task store: SQLite rules, the /tasks endpoints on a real uvicorn server, and the
active-learning loop waiting on it until the votes are in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image
from skimage import data as photos

from bamboo.errors import TaskNotFound, VoteRejected
from bamboo.sdk.loop import ActiveLoop, PoolImage
from bamboo.sdk.tasks import AwaitingVotes, TaskStore, TaskStoreAnnotator
from tests.conftest import API_KEY, ServerInfo, serve_app, service_settings, task_loop

CAT, DOG = "wn:n02121620", "wn:n02084071"


def photo_files(folder: Path) -> list[str]:
    out = []
    for name, pixels in (
        ("chelsea.png", photos.chelsea()),
        ("coffee.png", photos.coffee()),
        ("astro.png", photos.astronaut()),
    ):
        Image.fromarray(np.asarray(pixels)).save(folder / name)
        out.append(str(folder / name))
    return out


def test_task_store_rules(tmp_path: Path) -> None:
    store = TaskStore(tmp_path / "tasks.sqlite")
    images = photo_files(tmp_path)
    assert store.add(0, images[:2], [CAT, DOG], names={CAT: "cat", DOG: "dog"}) == 2
    assert store.add(0, images[:2], [CAT, DOG]) == 0  # idempotent
    first = store.next("a1")[0]
    assert (first.query_name, first.decision) == ("cat", None)
    store.vote(first.id, "a1", True)
    store.vote(first.id, "a1", False)  # a re-vote replaces
    assert (store.task(first.id).yes, store.task(first.id).no) == (0, 1)
    assert store.next("a1")[0].id != first.id  # a1 answered it
    assert store.next("a2")[0].id == first.id  # started tasks first
    for who in ("a2", "a3", "a4"):
        d = store.vote(first.id, who, True)
    assert (d.yes, d.no, d.decision) == (3, 1, True)
    with pytest.raises(VoteRejected, match="already decided"):
        store.vote(first.id, "a5", False)
    with pytest.raises(TaskNotFound):
        store.vote(999, "a1", True)
    assert store.progress() == {"tasks": 2, "decided": 1, "valid": 1, "votes": 4}
    assert [t.id for t in store.references(CAT)] == [first.id]


@pytest.fixture
def tasks_url(
    server: ServerInfo, rw_database: str, tmp_path: Path
) -> Iterator[tuple[str, TaskStore, list[str]]]:
    from bamboo.api import create_app

    store = TaskStore(tmp_path / "tasks.sqlite")
    images = photo_files(tmp_path)
    store.add(
        1,
        [images[0], images[1], "http://127.0.0.1:9/none.jpg"],
        [CAT, DOG, DOG],
        names={CAT: "cat", DOG: "dog"},
    )
    settings = service_settings(server, rw_database, api_key=API_KEY, tasks_db=store.path)
    with serve_app(create_app(settings)) as url:
        yield url, store, images


def test_task_endpoints(tasks_url: tuple[str, TaskStore, list[str]], api_url: str) -> None:
    url, store, images = tasks_url
    with httpx.Client(base_url=url) as http:
        nxt = http.get("/tasks/next", params={"annotator": "x"}).json()
        assert nxt[0]["query_name"] == "cat" and nxt[0]["image_url"] == "/tasks/1/image"
        image = http.get("/tasks/1/image")
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        assert image.content == Path(images[0]).read_bytes()
        assert http.get("/tasks/3/image", follow_redirects=False).status_code == 307
        assert http.post("/tasks/1/votes", json={"annotator": "x", "value": True}).status_code == 401
        h = {"X-API-Key": API_KEY}
        for who in ("x", "y", "z"):
            r = http.post("/tasks/1/votes", json={"annotator": who, "value": True}, headers=h)
        assert r.json() == {"task": 1, "yes": 3, "no": 0, "decision": True, "p_yes": None, "risk": None}
        late = http.post("/tasks/1/votes", json={"annotator": "w", "value": False}, headers=h)
        assert late.status_code == 409 and "decided" in late.json()["detail"]
        missing = http.get("/tasks/99")
        assert missing.status_code == 404 and missing.json()["error"] == "TaskNotFound"
        assert (
            http.post("/tasks/1/votes", json={"annotator": "bad name!", "value": True}, headers=h).status_code
            == 422
        )
        assert http.get("/tasks/progress").json() == {"tasks": 3, "decided": 1, "valid": 1, "votes": 3}
        assert [t["id"] for t in http.get("/tasks/references", params={"concept": CAT}).json()] == [1]
    assert store.task(1).yes == 3  # written to the store the loop reads
    off = httpx.get(f"{api_url}/tasks/next")  # a service without a task store
    assert off.status_code == 503 and "BAMBOO_TASKS_DB" in off.json()["detail"]


def test_adaptive_task_endpoints_report_p_yes_and_risk(server: ServerInfo, tmp_path: Path) -> None:
    from bamboo.api import create_app

    store = TaskStore(tmp_path / "adaptive.sqlite", risk=0.05)
    images = photo_files(tmp_path)
    store.add(1, images, [CAT, DOG, CAT], names={CAT: "cat", DOG: "dog"})
    store.set_priors({1: 0.99, 2: 0.5, 3: 0.7})
    store.set_skills({"good": (0.9, 0.9, 40), "spam": (0.5, 0.5, 40)})
    # the task endpoints read no graph: the session's database, whatever it holds, will do
    settings = service_settings(server, server.database, api_key=API_KEY, tasks_db=store.path)
    h = {"X-API-Key": API_KEY}
    with serve_app(create_app(settings)) as url, httpx.Client(base_url=url) as http:
        one = http.get("/tasks/1").json()
        assert (one["decision"], one["max_risk"]) == (True, 0.05)  # the confident prior decides it
        assert one["p_yes"] == pytest.approx(0.99) and one["risk"] == pytest.approx(0.01)
        queue = http.get("/tasks/next", params={"annotator": "good", "limit": 5}).json()
        assert [t["id"] for t in queue] == [2, 3]  # open tasks, the most uncertain first
        assert [t["risk"] for t in queue] == pytest.approx([0.5, 0.3])
        assert http.get("/tasks/next", params={"annotator": "spam"}).json() == []  # helps no task
        d = http.post("/tasks/3/votes", json={"annotator": "good", "value": False}, headers=h).json()
        p = 0.7 * 0.1 / (0.7 * 0.1 + 0.3 * 0.9)  # the prior times the good annotator's likelihood of No
        assert d["p_yes"] == pytest.approx(p) and d["risk"] == pytest.approx(p) and d["decision"] is None
        assert http.get("/tasks/3").json()["p_yes"] == pytest.approx(p)
        late = http.post("/tasks/1/votes", json={"annotator": "good", "value": False}, headers=h)
        assert late.status_code == 409 and "decided" in late.json()["detail"]  # decided with no vote
        assert (
            http.post("/tasks/2/votes", json={"annotator": "good", "value": "maybe"}, headers=h).status_code
            == 422
        )
        assert http.get("/tasks/0").status_code == 422
        assert http.get("/tasks/next", params={"limit": 0}).status_code == 422
        assert http.get("/tasks/99").status_code == 404
    assert store.task(3).no == 1 and store.task(1).yes + store.task(1).no == 0  # nothing half-written


def test_loop_waits_for_votes_then_goes_on(tmp_path: Path) -> None:
    images = photo_files(tmp_path)
    store = TaskStore(tmp_path / "tasks.sqlite")
    feats = {k: np.array([i, 1.0 - i]) for i, k in enumerate(images)}

    def predict(checkpoint: str, keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
        return np.full((len(keys), 2), 0.5), np.stack([feats[k] for k in keys])

    def loop() -> ActiveLoop:
        annotator = TaskStoreAnnotator(store, {CAT: 0, DOG: 1}, names={CAT: "cat", DOG: "dog"})
        return task_loop(tmp_path / "al", predict, annotator, cold_start=1)

    loop().add_pool([PoolImage(images[0], CAT), PoolImage(images[1], DOG), PoolImage(images[2], DOG)])
    first = loop()
    stopped = first.run(1)  # returns cleanly, the round recorded as awaiting annotations
    assert isinstance(first.awaiting, AwaitingVotes) and first.awaiting.open_tasks == 2
    assert "2 of 2 verification tasks still need votes" in stopped[0]["awaiting"]["message"]
    assert first.done() == {(0, "rectify"), (0, "sample")}
    assert {(t.image, t.query) for t in store.tasks(0)} <= {
        (images[0], CAT),
        (images[1], DOG),
        (images[2], DOG),
    }
    for t in store.tasks(0):
        for who in ("a", "b", "c"):
            store.vote(t.id, who, t.query == CAT)  # the cat photo is valid, the "dog" one is not
    reports = loop().run(1)
    assert reports[0]["annotate"] == {"annotated": 2, "valid": 1}
    assert "awaiting" not in reports[0]
