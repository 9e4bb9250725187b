"""The service's minimal endpoints, served by a real uvicorn server on 127.0.0.1."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from bamboo.api import ServiceSettings, create_app
from bamboo.graph.build import BuildReport
from bamboo.graph.connection import GraphSettings
from bamboo.graph.embedded import ServerInfo

from conftest import free_port


@pytest.fixture(scope="module")
def api_url(server: ServerInfo, wordnet_build: BuildReport) -> Iterator[str]:
    graph = GraphSettings(
        data_dir=server.data_dir, bolt_port=server.bolt_port, http_port=server.http_port, database=server.database
    )
    port = free_port()
    config = uvicorn.Config(create_app(ServiceSettings(graph=graph)), host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert uv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(10)


def test_health(api_url: str) -> None:
    body = httpx.get(f"{api_url}/health").json()
    assert body["status"] == "ok" and body["build_status"] == "complete"


def test_concept(api_url: str) -> None:
    body = httpx.get(f"{api_url}/concepts/wn:n02084071").json()
    assert body["name"] == "dog"
    assert "wn:n02083346" in [p["id"] for p in body["parents"]]


def test_unknown_concept_is_404_naming_the_id(api_url: str) -> None:
    r = httpx.get(f"{api_url}/concepts/wn:n99999999")
    assert r.status_code == 404
    assert "wn:n99999999" in r.json()["detail"]


def test_ancestors_and_descendants(api_url: str) -> None:
    ancestors = httpx.get(f"{api_url}/concepts/wn:n02084071/ancestors").json()
    assert {"wn:n02083346", "wn:n00001740"} <= {a["id"] for a in ancestors}
    page = httpx.get(f"{api_url}/concepts/wn:n02083346/descendants", params={"limit": 3}).json()
    assert len(page["items"]) == 3 and page["next_cursor"]


def test_api_key_placeholder_rejected() -> None:
    with pytest.raises(ValueError, match="real secret"):
        ServiceSettings(api_key="changeme")
