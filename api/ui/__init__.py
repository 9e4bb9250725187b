"""The web UI, served by the API app under ``/ui``: a taxonomy explorer, the tagging screen (paper
Fig. 3a) and the verification screen (Fig. 3b). Plain HTML, CSS and one small script shipped inside
the package (no build step, no CDN); every page is the same shell, routed in the browser, so any
``/ui/...`` address (``/ui/concept/wn:n02084071``) is a deep link."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["STATIC", "install"]

STATIC = Path(__file__).resolve().parent / "static"


def install(app: FastAPI) -> None:
    """Mount the UI on ``app``: static files under ``/ui/static``, the page shell elsewhere in ``/ui``."""
    shell = (STATIC / "index.html").read_text(encoding="utf-8")
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")

    @app.get("/ui", include_in_schema=False)
    async def ui_root() -> RedirectResponse:
        return RedirectResponse("/ui/")

    @app.get("/ui/{page:path}", include_in_schema=False)
    async def ui_page(page: str) -> HTMLResponse:
        return HTMLResponse(shell, headers={"Cache-Control": "no-cache"})
