"""Which versions the index lists: one read-only Simple API query, JSON or HTML, and the plan."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

import pytest

from release_train.adapters.index import released_versions
from release_train.config import Config
from release_train.errors import ErrorCode, ReleaseError
from release_train.planning import PlanRequest, plan_workspace
from release_train.sandbox.builder import Change, RepoBuilder
from release_train.sandbox.cdn import IndexCdn
from release_train.sandbox.index import IndexServer, free_port

from .conftest import valid_wheel

PEP691 = "application/vnd.pypi.simple.v1+json"


def _basic(pair: str) -> str:
    return f"Basic {base64.b64encode(pair.encode()).decode()}"


class Pep691:
    """A 127.0.0.1 index that answers PEP 691 JSON only, as PyPI does when asked for it."""

    def __init__(self, pages: dict[str, dict[str, Any]], auth: str | None = None) -> None:
        self.pages, self.auth = pages, auth
        self.seen: list[dict[str, str]] = []
        front = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def do_GET(self) -> None:
                front.seen.append(dict(self.headers))
                name = self.path.removeprefix("/simple/").strip("/")
                if front.auth and self.headers.get("Authorization") != _basic(front.auth):
                    self.send_response(401)
                    self.end_headers()
                    return
                if name not in front.pages:
                    self.send_response(404)
                    self.end_headers()
                    return
                body = json.dumps(front.pages[name]).encode()
                self.send_response(200)
                self.send_header("Content-Type", PEP691)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/simple/"

    def __enter__(self) -> Pep691:
        Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def json_index() -> Iterator[Pep691]:
    files = [
        {"filename": "omnibase_core-0.47.0-py3-none-any.whl"},
        {"filename": "omnibase_core-0.47.1.tar.gz"},
        {"filename": "omnibase_core-0.9.0-py3-none-any.whl"},
        {"filename": "omnibase_core-0.1.win32.exe"},  # not a wheel or sdist: no version
    ]
    pages: dict[str, dict[str, Any]] = {
        "omnibase-core": {"meta": {"api-version": "1.0"}, "name": "omnibase-core", "files": files},
        "omnibase-spi": {
            "meta": {"api-version": "1.1"},
            "name": "omnibase-spi",
            "files": [],
            "versions": ["0.23.0", "0.22.0", "not a version"],
        },
    }
    with Pep691(pages) as index:
        yield index


def test_pep691_json_files_and_pep700_versions(json_index: Pep691) -> None:
    # Normalised names (PEP 503): `omnibase_core` is asked for as omnibase-core.
    assert released_versions("omnibase_core", index_url=json_index.url) == (
        "0.9.0",
        "0.47.0",
        "0.47.1",
    )
    assert released_versions("Omnibase.SPI", index_url=json_index.url) == ("0.22.0", "0.23.0")
    assert json_index.seen[0]["Accept"].startswith(PEP691)
    assert released_versions("absent", index_url=json_index.url) == ()


def test_html_of_pypiserver_behind_the_cdn(
    cdn: IndexCdn, index_server: IndexServer, tmp_path: Path
) -> None:
    assert released_versions("tiny-dist", index_url=cdn.simple_url) == ()  # a 404
    index_server.upload([valid_wheel(tmp_path / "d", version="1.0")])
    index_server.upload([valid_wheel(tmp_path / "d", version="1.10")])
    assert released_versions("tiny_dist", index_url=cdn.simple_url) == ("1.0", "1.10")


def test_credentials_go_in_a_header_and_never_in_messages() -> None:
    with Pep691({"lib": {"files": [], "versions": ["1.0"]}}, auth="__token__:s3cret") as index:
        authed = index.url.replace("http://", "http://__token__:s3cret@")
        assert released_versions("lib", index_url=authed) == ("1.0",)
        with pytest.raises(ReleaseError) as failed:
            released_versions("lib", index_url=authed.replace("s3cret", "wrong"))
    assert failed.value.code is ErrorCode.INDEX_ERROR
    assert "HTTP 401" in failed.value.message and "wrong" not in failed.value.message


def test_a_dead_index_is_index_error() -> None:
    with pytest.raises(ReleaseError) as failed:
        released_versions("lib", index_url=f"http://127.0.0.1:{free_port()}/simple/")
    assert failed.value.code is ErrorCode.INDEX_ERROR


def test_the_plan_refuses_a_version_the_index_already_has(
    index_server: IndexServer, tmp_path: Path
) -> None:
    path = tmp_path / "ws" / "tiny"
    pyproject = '[project]\nname = "tiny-dist"\nversion = "1.0"\n'
    builder = RepoBuilder(path).init()
    builder.commit([Change("chore: init", {"pyproject.toml": pyproject})])
    builder.tag("tiny/v1.0")
    builder.commit(["fix: a"])
    # 1.0.1 was published but never tagged; 1.2 too: the plan would collide and go backwards.
    index_server.upload([valid_wheel(tmp_path / "d", version=v) for v in ("1.0", "1.0.1", "1.2")])
    config = Config.model_validate(
        {
            "owner": "o",
            "repos": {"tiny": {"publish": "none"}},  # no release workflow to check
            "index_url": f"{index_server.url}/simple/",
        }
    )
    online = plan_workspace(config, tmp_path / "ws", PlanRequest(query_index=True), date.today())
    assert online.entries[0].new == "1.0.1"
    assert sorted((p.code, p.message) for p in online.problems) == [
        (ErrorCode.VERSION_BACKWARDS, "1.0.1 would go backwards: 1.2 exists (on the index)"),
        (ErrorCode.VERSION_COLLISION, "tiny-dist 1.0.1 is already on the index"),
    ]
    offline = plan_workspace(config, tmp_path / "ws", PlanRequest(), date.today())
    assert offline.problems == () and offline.plan_hash == online.plan_hash
