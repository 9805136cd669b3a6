"""The index's CDN-like front: it can list a file (Simple and JSON API) before serving it."""

# ruff: noqa: S310 (every URL opened here is a loopback http:// URL of the test's own servers)

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from release_train.sandbox.cdn import IndexCdn
from release_train.sandbox.index import IndexServer, sha256_of

from .conftest import valid_wheel


def status_of(url: str, method: str = "GET") -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=10) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code


def set_lag(cdn: IndexCdn, seconds: float) -> dict[str, float]:
    request = urllib.request.Request(
        cdn.admin_url, data=json.dumps({"lag": seconds}).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        data: dict[str, float] = json.loads(reply.read())
    return data


def pip_download(cdn: IndexCdn, spec: str, dest: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--isolated",
            "--no-deps",
            "--no-cache-dir",
            "--index-url",
            cdn.simple_url,
            "-d",
            str(dest),
            spec,
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_without_lag_the_front_serves_what_the_index_has(
    cdn: IndexCdn, index_server: IndexServer, tmp_path: Path
) -> None:
    wheel = valid_wheel(tmp_path)
    index_server.upload([wheel])
    file_url = f"{cdn.url}/packages/{wheel.name}"
    assert (status_of(cdn.simple_url + "tiny-dist/"), status_of(file_url)) == (200, 200)
    assert status_of(file_url, "HEAD") == 200
    assert pip_download(cdn, "tiny-dist==1.0", tmp_path / "dl").returncode == 0


def test_json_api_describes_the_release(
    cdn: IndexCdn, index_server: IndexServer, tmp_path: Path
) -> None:
    index_server.upload(
        [valid_wheel(tmp_path, version="1.0"), valid_wheel(tmp_path, version="1.1")]
    )
    with urllib.request.urlopen(f"{cdn.url}/pypi/Tiny_Dist/1.0/json", timeout=10) as r:
        data = json.loads(r.read())
    assert data["info"] == {"name": "tiny-dist", "version": "1.0"}
    assert [u["filename"] for u in data["urls"]] == ["tiny_dist-1.0-py3-none-any.whl"]
    assert data["urls"][0]["digests"]["sha256"] == sha256_of(
        tmp_path / "tiny_dist-1.0-py3-none-any.whl"
    )
    with urllib.request.urlopen(f"{cdn.url}/pypi/tiny-dist/json", timeout=10) as r:
        assert json.loads(r.read())["info"]["version"] == "1.1"
    assert status_of(f"{cdn.url}/pypi/tiny-dist/2.0/json") == 404
    assert status_of(f"{cdn.url}/pypi/absent/json") == 404


def test_with_lag_a_new_file_is_listed_but_not_installable(
    cdn: IndexCdn, index_server: IndexServer, tmp_path: Path
) -> None:
    assert set_lag(cdn, 3600) == {"lag": 3600.0}
    wheel = valid_wheel(tmp_path)
    index_server.upload([wheel])
    # Listed by both APIs, as PyPI lists files its CDN does not serve yet ...
    assert status_of(cdn.simple_url + "tiny-dist/") == 200
    assert status_of(f"{cdn.url}/pypi/tiny-dist/1.0/json") == 200
    # ... but the file itself is not there, so a resolver cannot install it.
    assert status_of(f"{cdn.url}/packages/{wheel.name}") == 404
    failed = pip_download(cdn, "tiny-dist==1.0", tmp_path / "dl")
    assert failed.returncode != 0
    set_lag(cdn, 0)
    assert pip_download(cdn, "tiny-dist==1.0", tmp_path / "dl").returncode == 0


def test_admin_refuses_bad_input_and_uploads(cdn: IndexCdn) -> None:
    bad = urllib.request.Request(cdn.admin_url, data=b'{"delay": 1}', method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(bad, timeout=10)
    caught.value.close()
    assert caught.value.code == 400
    upload = urllib.request.Request(cdn.url + "/", data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(upload, timeout=10)
    caught.value.close()
    assert caught.value.code == 405


def test_head_then_get_on_one_kept_alive_connection(
    cdn: IndexCdn, index_server: IndexServer, tmp_path: Path
) -> None:
    """uv asks HEAD (for the length) and then GETs the wheel over the same connection."""
    wheel = valid_wheel(tmp_path)
    index_server.upload([wheel])
    host, port = cdn.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("HEAD", f"/packages/{wheel.name}")
        head = connection.getresponse()
        head.read()
        connection.request("GET", f"/packages/{wheel.name}")
        body = connection.getresponse().read()
    finally:
        connection.close()
    assert head.getheader("Content-Length") == str(wheel.stat().st_size)
    assert body == wheel.read_bytes()
