"""Index availability means installable: real uv against pypiserver behind the lagging CDN front."""

# ruff: noqa: S310 (every URL opened here is a loopback http:// URL of the test's own servers)

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import pytest

from release_train.adapters.index import installable, wait_installable
from release_train.errors import ErrorCode, ReleaseError
from release_train.sandbox.cdn import IndexCdn
from release_train.sandbox.index import IndexServer, free_port

from .conftest import valid_wheel

LONG_LAG = 3600.0


def get_json(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=10) as reply:
        data: dict[str, object] = json.loads(reply.read())
    return data


def test_installable_only_once_the_cdn_serves_the_file(
    cdn: IndexCdn, index_server: IndexServer, tmp_path: Path
) -> None:
    assert not installable("tiny-dist", "1.0", index_url=cdn.simple_url)

    cdn.lag = LONG_LAG
    index_server.upload([valid_wheel(tmp_path / "dists")])
    # Both APIs already name the file: a listing check would call it available...
    release = get_json(f"{cdn.url}/pypi/tiny-dist/1.0/json")
    assert release["urls"] == [
        {
            "filename": "tiny_dist-1.0-py3-none-any.whl",
            "url": f"{cdn.url}/packages/tiny_dist-1.0-py3-none-any.whl",
            "digests": {"sha256": index_server.list_files("tiny-dist")[0].sha256},
            "packagetype": "bdist_wheel",
        }
    ]
    with urllib.request.urlopen(f"{cdn.simple_url}tiny-dist/", timeout=10) as page:
        assert "tiny_dist-1.0-py3-none-any.whl" in page.read().decode()
    # ...but the file still 404s at the edge, so a resolver cannot install it.
    assert not installable("tiny-dist", "1.0", index_url=cdn.simple_url)

    cdn.lag = 0.0
    assert installable("tiny-dist", "1.0", index_url=cdn.simple_url)
    assert not installable("tiny-dist", "2.0", index_url=cdn.simple_url)


def test_a_cached_file_does_not_fake_availability(
    cdn: IndexCdn, index_server: IndexServer, tmp_path: Path
) -> None:
    cache = tmp_path / "uv-cache"
    index_server.upload([valid_wheel(tmp_path / "dists")])
    assert installable("tiny-dist", "1.0", index_url=cdn.simple_url, cache_dir=cache)
    assert any(cache.iterdir())

    # Now the edge lists the file but will not serve it: uv's cache holds the very wheel
    # (a plain cached install succeeds here), yet the probe must ask the index again.
    os.utime(index_server.packages_dir / "tiny_dist-1.0-py3-none-any.whl")
    cdn.lag = LONG_LAG
    assert not installable("tiny-dist", "1.0", index_url=cdn.simple_url, cache_dir=cache)


def test_an_unreachable_index_is_an_error_and_its_credentials_stay_hidden() -> None:
    url = f"http://release-bot:s3cr3t-pw@127.0.0.1:{free_port()}/simple/"
    with pytest.raises(ReleaseError) as caught:
        installable("tiny-dist", "1.0", index_url=url)
    error = caught.value
    assert error.code == ErrorCode.INDEX_ERROR
    assert error.repo == "tiny-dist"
    assert "Connection refused" in (error.output or "")
    assert "127.0.0.1" in error.message
    assert "s3cr3t-pw" not in error.render()
    assert "release-bot" not in error.render()


class FakeTime:
    """An injected clock and sleeper: sleeping advances the clock and is recorded."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_wait_installable_returns_when_the_lag_ends_mid_wait(
    cdn: IndexCdn, index_server: IndexServer, tmp_path: Path
) -> None:
    cdn.lag = LONG_LAG
    index_server.upload([valid_wheel(tmp_path / "dists")])
    time = FakeTime()
    reported: list[float] = []

    def sleep(seconds: float) -> None:
        time.sleep(seconds)
        if len(time.sleeps) == 3:
            cdn.lag = 0.0  # the edge catches up during the third pause

    found = wait_installable(
        "tiny-dist",
        "1.0",
        index_url=cdn.simple_url,
        timeout=60,
        clock=time.clock,
        sleep=sleep,
        on_wait=reported.append,
    )

    assert found
    assert time.sleeps == [1.0, 2.0, 4.0]
    assert reported == time.sleeps


def test_wait_installable_times_out_without_sleeping_past_the_deadline(cdn: IndexCdn) -> None:
    time = FakeTime()

    found = wait_installable(
        "tiny-dist",
        "1.0",
        index_url=cdn.simple_url,
        timeout=10,
        first_wait=1.0,
        max_wait=4.0,
        clock=time.clock,
        sleep=time.sleep,
    )

    assert not found
    # Doubling, capped at max_wait, and the last pause cut to what the deadline leaves.
    assert time.sleeps == [1.0, 2.0, 4.0, 3.0]
    assert sum(time.sleeps) == 10.0
    assert max(time.sleeps) <= 4.0


def test_wait_installable_raises_the_index_error_it_never_got_past() -> None:
    time = FakeTime()
    with pytest.raises(ReleaseError) as caught:
        wait_installable(
            "tiny-dist",
            "1.0",
            index_url=f"http://127.0.0.1:{free_port()}/simple/",
            timeout=0,
            clock=time.clock,
            sleep=time.sleep,
        )
    assert caught.value.code == ErrorCode.INDEX_ERROR
    assert time.sleeps == []
