"""The index front with an upstream: the family's new versions from the sandbox, the rest beyond."""

# ruff: noqa: S310 (the URLs opened here are the test's own loopback servers, or the configured index)

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from release_train.sandbox import upstream
from release_train.sandbox.cdn import UPSTREAM_TTL, IndexCdn
from release_train.sandbox.index import IndexServer, free_port

from .conftest import valid_wheel


@pytest.fixture
def world_index(tmp_path: Path) -> Iterator[IndexServer]:
    """A second pypiserver: the rest of the world, with a third-party package and an old
    release of the family's `fam_core`."""
    with IndexServer(tmp_path / "upstream") as server:
        wheels = tmp_path / "upstream-wheels"
        server.upload(
            [
                valid_wheel(wheels, "third_party", "1.0"),
                valid_wheel(wheels, "fam_core", "1.0"),
                valid_wheel(wheels, "fam_core", "2.0"),  # also in the sandbox, same name
            ]
        )
        yield server


@pytest.fixture
def front(
    index_server: IndexServer, world_index: IndexServer, tmp_path: Path
) -> Iterator[IndexCdn]:
    """The sandbox's front over its index (fam_core 2.0 and 3.0), `world_index` upstream."""
    wheels = tmp_path / "sandbox-wheels"
    index_server.upload(
        [
            valid_wheel(wheels, "fam_core", "2.0"),
            valid_wheel(wheels, "fam_core", "3.0", requires=["third_party>=1"]),
        ]
    )
    with IndexCdn(index_server, upstream=world_index.simple_url) as cdn:
        yield cdn


def _page(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as reply:
        return str(reply.read().decode())


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code


def test_a_project_page_lists_the_sandbox_files_first_then_the_upstreams(
    front: IndexCdn, world_index: IndexServer
) -> None:
    links = upstream.page_links(front.simple_url, _page(f"{front.simple_url}fam-core/"))

    assert [(link.filename, link.url.split("#")[0]) for link in links] == [
        ("fam_core-2.0-py3-none-any.whl", f"{front.url}/packages/fam_core-2.0-py3-none-any.whl"),
        ("fam_core-3.0-py3-none-any.whl", f"{front.url}/packages/fam_core-3.0-py3-none-any.whl"),
        (
            "fam_core-1.0-py3-none-any.whl",
            f"{world_index.url}/packages/fam_core-1.0-py3-none-any.whl",
        ),
    ]
    assert all("#sha256=" in link.url for link in links)


def test_projects_only_one_side_has_and_projects_neither_has(front: IndexCdn) -> None:
    third = upstream.page_links(front.simple_url, _page(f"{front.simple_url}Third_Party/"))

    assert [link.filename for link in third] == ["third_party-1.0-py3-none-any.whl"]
    assert _status(f"{front.simple_url}nowhere-at-all/") == 404


def test_an_unreachable_upstream_fails_the_page_rather_than_half_answering(
    index_server: IndexServer,
) -> None:
    with IndexCdn(index_server, upstream=f"http://127.0.0.1:{free_port()}/simple/") as cdn:
        assert _status(f"{cdn.simple_url}fam-core/") == 502


def _uv(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["uv", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=300
    )


def _uv_env(front: IndexCdn, tmp_path: Path, offline_env: dict[str, str]) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PIP_"))}
    return {
        **base,
        **offline_env,
        "UV_NO_CONFIG": "1",
        "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
        "UV_DEFAULT_INDEX": front.simple_url,
        "UV_PYTHON_DOWNLOADS": "never",
    }


def test_uv_lock_and_install_resolve_through_the_front(
    front: IndexCdn, world_index: IndexServer, tmp_path: Path, offline_env: dict[str, str]
) -> None:
    project = tmp_path / "app"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        'dependencies = ["fam-core>=3", "third-party"]\n',
        encoding="utf-8",
    )
    env = _uv_env(front, tmp_path, offline_env)

    locked = _uv(["lock"], project, env)
    assert locked.returncode == 0, locked.stderr
    lock = (project / "uv.lock").read_text(encoding="utf-8")
    assert f'{front.url}/packages/fam_core-3.0-py3-none-any.whl"' in lock
    assert f'{world_index.url}/packages/third_party-1.0-py3-none-any.whl"' in lock

    venv = tmp_path / "venv"
    assert _uv(["venv", "-q", str(venv)], tmp_path, env).returncode == 0
    installed = _uv(
        ["pip", "install", "--python", str(venv), "fam-core==1.0", "third-party"], tmp_path, env
    )
    assert installed.returncode == 0, installed.stderr
    listed = _uv(["pip", "list", "--python", str(venv), "--format", "json"], tmp_path, env)
    versions = {p["name"]: p["version"] for p in json.loads(listed.stdout)}
    assert versions == {"fam-core": "1.0", "third-party": "1.0"}


def test_the_configured_index_is_the_first_variable_set_then_pips_config() -> None:
    assert upstream.index_from({"PIP_INDEX_URL": "https://b/simple"}, "https://c") == (
        "https://b/simple"
    )
    both = {"UV_INDEX_URL": "https://a/simple", "PIP_INDEX_URL": "https://b/simple"}
    assert upstream.index_from(both, None) == "https://a/simple"
    assert (
        upstream.index_from({"UV_DEFAULT_INDEX": " "}, "https://c/simple\n") == "https://c/simple"
    )
    assert upstream.index_from({}, None) == "https://pypi.org/simple"


def test_the_front_serves_a_real_project_from_the_machines_index(index_server: IndexServer) -> None:
    configured = upstream.configured_index()
    try:
        upstream.fetch_page(upstream.project_url(configured, "packaging"))
    except (OSError, urllib.error.URLError) as exc:
        pytest.skip(f"the configured index {configured} is not reachable: {exc}")
    with IndexCdn(index_server, upstream=configured) as cdn:
        links = upstream.page_links(cdn.simple_url, _page(f"{cdn.simple_url}packaging/"))
    names = [link.filename for link in links]
    assert "packaging-24.0-py3-none-any.whl" in names
    assert all(link.url.startswith(("http://", "https://", "file://")) for link in links)


def test_upstream_pages_are_kept_for_a_while_and_then_asked_again(
    index_server: IndexServer, world_index: IndexServer, tmp_path: Path
) -> None:
    now = [1000.0]
    with IndexCdn(index_server, upstream=world_index.simple_url, clock=lambda: now[0]) as cdn:
        page = f"{cdn.simple_url}third-party/"
        assert len(upstream.page_links(page, _page(page))) == 1
        world_index.upload([valid_wheel(tmp_path / "later", "third_party", "2.0")])

        now[0] += UPSTREAM_TTL - 1
        assert len(upstream.page_links(page, _page(page))) == 1
        now[0] += 2
        assert [link.filename for link in upstream.page_links(page, _page(page))] == [
            "third_party-1.0-py3-none-any.whl",
            "third_party-2.0-py3-none-any.whl",
        ]
