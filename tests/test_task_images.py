"""Task images are read only as regular image files inside the allowed folders: links out of them,
folders, FIFOs and ``..`` paths are refused, by :func:`read_image` and by ``/tasks/{id}/image`` on
a real uvicorn server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image
from skimage import data as photos

from bamboo.errors import FileRefused
from bamboo.graph.tasks.db import TaskStore
from bamboo.graph.tasks.images import read_image
from tests.conftest import API_KEY, ServerInfo, serve_app, service_settings


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    """An image folder with a real photo and the traps, and a folder outside it with a photo."""
    root, outside = tmp_path / "images", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    for folder in (root, outside):
        Image.fromarray(np.asarray(photos.chelsea())).save(folder / "chelsea.png")
    (root / "notes.txt").write_text("not an image")
    traps = {
        "passwd.jpg": "/etc/passwd",
        "folder.jpg": str(root / "sub"),
        "out-folder.jpg": str(outside),
        "out.png": str(outside / "chelsea.png"),
        "notes.png": str(root / "notes.txt"),
        "dangling.png": str(root / "none.png"),
        "loop.png": str(root / "loop.png"),
        "inside.png": str(root / "chelsea.png"),
    }
    for name, target in traps.items():
        (root / name).symlink_to(target)
    os.mkfifo(root / "fifo.png")
    return root, outside


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("passwd.jpg", "outside"),  # a link to /etc/passwd named as an image
        ("folder.jpg", "not a regular file"),  # a link to a folder inside
        ("out-folder.jpg", "outside"),  # ... and to one outside
        ("out.png", "outside"),  # a link to a real image outside
        ("notes.png", "not named as an image"),  # a link to a text file inside
        ("fifo.png", "not a regular file"),  # would block a reader forever
        ("loop.png", "cannot be resolved"),
        ("sub/../chelsea.png", "'..'"),  # '..' is refused even where it stays inside
        ("../outside/chelsea.png", "'..'"),
        ("notes.txt", "not named as an image"),
    ],
)
def test_unsafe_images_are_refused(folders: tuple[Path, Path], name: str, says: str) -> None:
    root, _ = folders
    with pytest.raises(FileRefused, match=says):
        read_image(f"{root}/{name}", [root])


def test_safe_images_are_read(folders: tuple[Path, Path]) -> None:
    root, outside = folders
    photo = (root / "chelsea.png").read_bytes()
    found = read_image(root / "chelsea.png", [root])
    assert (found.media_type, found.data, found.path) == (
        "image/png",
        photo,
        (root / "chelsea.png").resolve(),
    )
    assert read_image(root / "inside.png", [root]).data == photo  # a link that stays inside
    assert read_image(outside / "chelsea.png", [root, outside]).data == photo  # a second folder
    with pytest.raises(FileRefused, match="outside"):
        read_image(root / "chelsea.png", [])  # no folder, no image
    with pytest.raises(FileRefused, match="above the 1,000 an image may have"):
        read_image(root / "chelsea.png", [root], max_bytes=1000)
    for missing in ("none.png", "dangling.png"):
        with pytest.raises(FileNotFoundError):
            read_image(root / missing, [root])


@pytest.fixture
def image_url(server: ServerInfo, folders: tuple[Path, Path], tmp_path: Path) -> Iterator[str]:
    """The service over a task store whose images are each of the traps, with ``images`` as the
    one image folder (the task store's own folder is not one then)."""
    from bamboo.api import create_app

    root, outside = folders
    store = TaskStore(tmp_path / "tasks.sqlite")
    names = ["chelsea.png", "passwd.jpg", "folder.jpg", "fifo.png", "sub/../chelsea.png", "none.png"]
    store.add(1, [f"{root}/{n}" for n in names] + [str(outside / "chelsea.png")], ["wn:n02121620"] * 7)
    # the task endpoints read no graph: the session's database, whatever it holds, will do
    settings = service_settings(
        server, server.database, api_key=API_KEY, tasks_db=store.path, task_image_roots=[root]
    )
    with serve_app(create_app(settings)) as url:
        yield url


def test_the_service_serves_only_safe_images(image_url: str, folders: tuple[Path, Path]) -> None:
    root, _ = folders
    with httpx.Client(base_url=image_url, timeout=30) as http:
        ok = http.get("/tasks/1/image")
        assert ok.status_code == 200 and ok.headers["content-type"] == "image/png"
        assert ok.content == (root / "chelsea.png").read_bytes()
        for task, says in [(2, "outside"), (3, "not a regular file"), (4, "not a regular file"), (5, "'..'")]:
            r = http.get(f"/tasks/{task}/image")
            assert r.status_code == 403 and says in r.json()["detail"], r.text
            assert "root:" not in r.text  # nothing of the file itself
        missing = http.get("/tasks/6/image")
        assert missing.status_code == 404 and "missing" in missing.json()["detail"]
        outside = http.get("/tasks/7/image")  # in the task store's folder, no image folder once one is set
        assert outside.status_code == 403 and "outside" in outside.json()["detail"]
