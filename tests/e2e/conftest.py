"""Session fixtures of the act end-to-end tests: the Docker daemon and the images they need.

The daemon, the stand-in base image and the action image are made once per session; the
images persist in the e2e cache directory, so a second session on one machine starts warm.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .docker_world import (
    Daemon,
    act_image_name,
    build_action_image,
    cache_dir,
    ensure_base_image,
    ensure_daemon,
    unavailable_reason,
)

PROJECT = Path(__file__).resolve().parents[2]
# The `uses:` of the central workflow; `--local-repository` maps it onto this checkout.
ACTION_USES = "release-train/release-train@" + "0" * 40
# A cold session debootstraps the base image (~2.5 min here); the per-test default is less.
E2E_TIMEOUT = 1500


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: runs workflows under act with a Docker daemon")


def _unavailable(reason: str) -> None:
    # On CI `.ci/run` installs everything first, so a missing piece there is a failure.
    if os.environ.get("CI"):
        pytest.fail(f"e2e: {reason}")
    pytest.skip(f"e2e: {reason}")


@pytest.fixture(scope="session")
def e2e_cache() -> Path:
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    return cache


@pytest.fixture(scope="session")
def docker_daemon(e2e_cache: Path) -> Iterator[Daemon]:
    """A daemon that answers: the one at $DOCKER_HOST, or ours, stopped at the end."""
    reason = unavailable_reason()
    if reason is not None:
        _unavailable(reason)
    daemon = ensure_daemon(e2e_cache)
    try:
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture(scope="session")
def base_image(docker_daemon: Daemon, e2e_cache: Path) -> str:
    """The Dockerfile's `FROM` image, built from Debian packages if it is not there yet."""
    return ensure_base_image(docker_daemon, PROJECT / "Dockerfile", e2e_cache)


@pytest.fixture(scope="session")
def action_image(docker_daemon: Daemon, base_image: str) -> str:
    """release-train's action image, under the name act looks for with --rebuild=false."""
    name = act_image_name(ACTION_USES)
    build_action_image(docker_daemon, PROJECT, name, base_image)
    return name
