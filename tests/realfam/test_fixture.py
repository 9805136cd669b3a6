"""The realfam fixture gives six clones on their default branches, with every tag."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.realfam.family import REPOS


def _out(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def test_six_clones_on_their_default_branches(realfam: Path) -> None:
    branches = {r: _out(realfam / r, "branch", "--show-current") for r in REPOS}
    assert branches == {
        "omnibase_spi": "dev",
        "omnibase_core": "dev",
        "omnibase_infra": "dev",
        "omniintelligence": "main",
        "omnimemory": "main",
        "omniclaude": "main",
    }
    assert "v0.23.0" in _out(realfam / "omnibase_spi", "tag", "--list").split()
