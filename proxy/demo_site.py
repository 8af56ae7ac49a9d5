"""The demo's legacy site: a few pages, an image and a JSON API, served as an old site would.

`python -m proxy.demo_site [--port 8000]`. Pages come from `demo/site/`: the home
page writes the numbers in several formats, `/contact` is shown in click display,
`/legacy` is a windows-1252 page, `/offres` is sent gzip-compressed, `/logo.png`
is an image and `/api/agences.json` a JSON API (never rewritten).
"""

from __future__ import annotations

import argparse
import gzip
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

SITE = Path(__file__).resolve().parent.parent / "demo" / "site"
DEFAULT_PORT = 8000

# path -> (file, Content-Type)
FILES: dict[str, tuple[str, str]] = {
    "/": ("home.html", "text/html; charset=utf-8"),
    "/contact": ("contact.html", "text/html; charset=utf-8"),
    "/legacy": ("legacy.html", "text/html"),
    "/style.css": ("style.css", "text/css"),
    "/logo.png": ("logo.png", "image/png"),
}
GZIPPED: dict[str, tuple[str, str]] = {"/offres": ("offres.html", "text/html; charset=utf-8")}
AGENCIES = [
    {"ville": "Avignon", "telephone": "04 90 26 07 16"},
    {"ville": "Annecy", "telephone": "+33 4 50 98 27 56"},
    {"ville": "Paris", "telephone": "01 85 08 37 37"},
]


def build_app(site: Path = SITE) -> web.Application:
    app = web.Application()
    for path, (name, content_type) in FILES.items():
        app.router.add_get(path, _file(site / name, content_type))
    for path, (name, content_type) in GZIPPED.items():
        app.router.add_get(path, _file(site / name, content_type, compress=True))
    app.router.add_get("/api/agences.json", _agencies)
    return app


def _file(
    path: Path, content_type: str, *, compress: bool = False
) -> Callable[[web.Request], Awaitable[web.Response]]:
    body = path.read_bytes()
    headers = {"Content-Type": content_type, "Last-Modified": "Mon, 04 Jan 1999 10:00:00 GMT"}
    if compress:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, headers=headers)

    return handler


async def _agencies(request: web.Request) -> web.Response:
    return web.Response(
        text=json.dumps(AGENCIES, ensure_ascii=False), content_type="application/json"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="The demo's legacy site.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args()
    web.run_app(build_app(), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
