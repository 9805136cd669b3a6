"""The index as clients see it: a CDN-like front that can list files before it serves them.

PyPI's pages and JSON API can name a just-uploaded file minutes before its download URL
answers (DESIGN, "Package index lag"). This front proxies the sandbox's pypiserver and,
with `lag` seconds set, answers 404 for a file younger than that, while the Simple API
and the PyPI-style JSON API (`/pypi/<project>/<version>/json`, which pypiserver lacks)
already list it. Uploads go straight to pypiserver. With an `upstream` index, project
pages merge the sandbox's files with the upstream's (`sandbox/upstream.py`).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from release_train.sandbox import upstream as world
from release_train.sandbox.index import IndexServer, dist_name_version
from release_train.sandbox.service import HttpService

PROXY_TIMEOUT = 30.0
UPSTREAM_TTL = 300.0  # seconds an upstream project page is served from memory
ADMIN_PATH = "/_sandbox/index"


class IndexCdn(HttpService):
    """A front for `index` on 127.0.0.1:<free port>; `lag` is settable while it runs."""

    name = "index-cdn"

    def __init__(
        self,
        index: IndexServer,
        *,
        lag: float = 0.0,
        clock: Callable[[], float] = time.time,
        upstream: str | None = None,
    ) -> None:
        self.index = index
        self.upstream = upstream
        self.lag = lag
        self.clock = clock
        # project -> (fetched at, page or None): `uv lock` of six real repos asks for the
        # same few hundred third-party pages again and again; the upstream's seldom change.
        self._upstream_pages: dict[str, tuple[float, str | None]] = {}
        self._cache_lock = threading.Lock()
        super().__init__()

    @property
    def url(self) -> str:
        return self.server_url

    @property
    def simple_url(self) -> str:
        return f"{self.url}/simple/"

    @property
    def admin_url(self) -> str:
        return f"{self.url}{ADMIN_PATH}"

    def make_server(self) -> ThreadingHTTPServer:
        return ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))

    def servable(self, filename: str) -> bool:
        """False while `filename` is younger than the lag: listed, but not yet served."""
        path = self.index.packages_dir / filename
        if not path.is_file():
            return True  # let pypiserver answer its own 404
        return self.clock() - path.stat().st_mtime >= self.lag

    def merged_page(self, project: str) -> str | None:
        """`project`'s page with the sandbox's files first, then the upstream's; None if neither
        has it. The sandbox's links point at this front, so its lag applies to them."""
        name = str(canonicalize_name(project))
        local_url = world.project_url(self.index.simple_url, name)
        local_text = world.fetch_page(local_url)
        local = [
            world.Link(link.filename, self.url + link.url.removeprefix(self.index.url), link.attrs)
            for link in world.page_links(local_url, local_text or "")
        ]
        assert self.upstream is not None  # noqa: S101 - only called with an upstream
        remote_url = world.project_url(self.upstream, name)
        remote_text = self._upstream_page(name, remote_url)
        if local_text is None and remote_text is None:
            return None
        links = world.merge(local, world.page_links(remote_url, remote_text or ""))
        return world.render_page(name, links)

    def _upstream_page(self, name: str, url: str) -> str | None:
        now = self.clock()
        with self._cache_lock:
            cached = self._upstream_pages.get(name)
        if cached is not None and now - cached[0] < UPSTREAM_TTL:
            return cached[1]
        text = world.fetch_page(url)
        with self._cache_lock:
            self._upstream_pages[name] = (now, text)
        return text

    def release_json(self, project: str, version: str | None) -> dict[str, Any] | None:
        """PyPI's JSON API for `project` (its latest version, or `version`), or None."""
        by_version: dict[Version, list[dict[str, Any]]] = {}
        for found in self.index.list_files(project):
            try:
                name, raw = dist_name_version(found.filename)
                parsed = Version(raw)
            except (ValueError, InvalidVersion):
                continue
            by_version.setdefault(parsed, []).append(
                {
                    "filename": found.filename,
                    "url": f"{self.url}/packages/{found.filename}",
                    "digests": {"sha256": found.sha256},
                    "packagetype": "bdist_wheel" if found.filename.endswith(".whl") else "sdist",
                }
            )
        if not by_version:
            return None
        wanted = max(by_version) if version is None else _parse(version)
        if wanted is None or wanted not in by_version:
            return None
        return {
            "info": {"name": str(canonicalize_name(name)), "version": str(wanted)},
            "urls": by_version[wanted],
            "releases": {str(v): files for v, files in sorted(by_version.items())},
        }


def _parse(version: str) -> Version | None:
    try:
        return Version(version)
    except InvalidVersion:
        return None


def _project_of(path: str) -> str:
    """The project of a Simple API project page's path (`/simple/<project>/`), else ''."""
    parts = path.split("/")
    if len(parts) in (3, 4) and parts[1] == "simple" and parts[2] and parts[3:] in ([], [""]):
        return parts[2]
    return ""


def _handler(cdn: IndexCdn) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        front = cdn

    return Handler


class _Handler(BaseHTTPRequestHandler):
    front: IndexCdn
    protocol_version = "HTTP/1.1"
    _head_only = False

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the index's own log has the requests that matter."""

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == ADMIN_PATH:
            self._json(200, {"lag": self.front.lag})
        elif path.startswith("/pypi/") and path.endswith("/json"):
            self._pypi_json(path.removeprefix("/pypi/").removesuffix("/json").strip("/"))
        elif path.startswith("/packages/") and not self.front.servable(path.rsplit("/", 1)[-1]):
            self._json(404, {"message": "Not Found (not yet on this edge)"})
        elif self.front.upstream and _project_of(path):
            self._merged(_project_of(path))
        else:
            self._proxy()

    def do_HEAD(self) -> None:
        # One handler serves every request of a kept-alive connection: reset the flag, or
        # the GET that follows a HEAD gets headers without a body.
        self._head_only = True
        try:
            self.do_GET()
        finally:
            self._head_only = False

    def do_POST(self) -> None:
        if self.path != ADMIN_PATH:
            self._json(405, {"message": "uploads go to INDEX_UPLOAD_URL"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
            self.front.lag = float(body["lag"])
        except (ValueError, KeyError, TypeError):
            self._json(400, {"error": 'expected {"lag": <seconds>}'})
            return
        self._json(200, {"lag": self.front.lag})

    def _pypi_json(self, rest: str) -> None:
        project, _, version = rest.partition("/")
        data = self.front.release_json(project, version or None)
        if data is None:
            self._json(404, {"message": "Not Found"})
        else:
            self._json(200, data)

    def _merged(self, project: str) -> None:
        try:
            page = self.front.merged_page(project)
        except (OSError, urllib.error.URLError) as exc:
            # Half a page would let a resolver pick from the sandbox alone: say it failed.
            self._json(502, {"message": f"the upstream index did not answer: {exc}"})
            return
        if page is None:
            self._json(404, {"message": "Not Found"})
        else:
            self._send(200, "text/html; charset=utf-8", page.encode())

    def _proxy(self) -> None:
        upstream = self.front.index.url + self.path
        request = urllib.request.Request(  # noqa: S310 (loopback URL of our own pypiserver)
            upstream,
            headers={"Accept": self.headers.get("Accept", "*/*")},
            method="HEAD" if self._head_only else "GET",
        )
        try:
            with urllib.request.urlopen(request, timeout=PROXY_TIMEOUT) as reply:  # noqa: S310
                body = reply.read()
                # A HEAD answer has no body but must carry the file's length: uv reads it.
                length = reply.headers.get("Content-Length") if self._head_only else None
                self._send(reply.status, reply.headers.get("Content-Type", ""), body, length)
        except urllib.error.HTTPError as exc:
            with exc:
                self._send(exc.code, exc.headers.get("Content-Type", ""), exc.read())

    def _json(self, status: int, data: dict[str, Any]) -> None:
        self._send(status, "application/json", json.dumps(data).encode())

    def _send(self, status: int, content_type: str, body: bytes, length: str | None = None) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", length or str(len(body)))
        self.end_headers()
        if not self._head_only:
            self.wfile.write(body)
