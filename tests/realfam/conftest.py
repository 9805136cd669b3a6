"""The real OmniNode family as fixtures: clones of the bundles in ../shared/realfam.

Cloning the six bundles takes a few seconds, so one session-wide copy is made and each
test that changes anything gets its own `git clone --shared` of it (cheap). When the
folder is absent the tests skip with that reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.realfam.family import REALFAM, clone_family, realfam_config


@pytest.fixture(scope="session")
def realfam_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six clones, each on `dev` where it exists, else `main` (read-only by convention)."""
    if not REALFAM.is_dir():
        pytest.skip(f"the real family's bundles are not at {REALFAM}")
    return clone_family(REALFAM, tmp_path_factory.mktemp("realfam") / "family")


@pytest.fixture
def realfam(realfam_master: Path, tmp_path: Path) -> Path:
    """A workspace of the six repos that a test may change, with a `release-train.toml`."""
    workspace = clone_family(realfam_master, tmp_path / "family", shared=True)
    (workspace / "release-train.toml").write_text(realfam_config(), encoding="utf-8")
    return workspace
