"""Shared fixtures: real git families built in temp dirs by the sandbox builders."""

from __future__ import annotations

from pathlib import Path

import pytest

from release_train.sandbox.family import build_sample_family, config_text


@pytest.fixture
def sample_family(tmp_path: Path) -> Path:
    """The six-repo sample family with its `release-train.toml`, in a fresh workspace."""
    workspace = tmp_path / "family"
    build_sample_family(workspace)
    (workspace / "release-train.toml").write_text(config_text(), encoding="utf-8")
    return workspace
