"""The realfam fixture gives six clones on their default branches, with every tag."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.realfam.family import REPOS, git_sources, without_unreachable_sources


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


def test_the_prep_drops_only_unreachable_sources_and_requirements_on_no_index(
    realfam: Path,
) -> None:
    reachable = "https://github.com/OmniNode-ai/omnimarket.git"
    prepped = without_unreachable_sources(
        realfam, REPOS, lambda url: url != reachable, lambda name: name == "omnimarket"
    )
    # omnimarket's source is reachable here, so only onex-change-control's go.
    assert sorted(prepped.commits) == [
        "omnibase_core",
        "omnibase_infra",
        "omniclaude",
        "omniintelligence",
    ]
    assert prepped.from_index == set()
    removed = _out(realfam / "omniintelligence", "show", "--format=", "-U0", "HEAD")
    assert [line for line in removed.splitlines() if line.startswith(("-", "+"))] == [
        "--- a/pyproject.toml",
        "+++ b/pyproject.toml",
        '-    "onex-change-control>=0.1.0",',
        '-onex-change-control = { git = "https://github.com/OmniNode-ai/onex_change_control.git",'
        ' branch = "main" }',
    ]
    subject = _out(realfam / "omniclaude", "log", "-1", "--format=%s")
    assert subject == "chore(rehearsal): drop git sources this machine cannot reach"
    # Pushed, as the rehearsal reads the branch: origin/<branch> is the prep commit.
    core = realfam / "omnibase_core"
    assert _out(core, "rev-parse", "origin/dev") == prepped.commits["omnibase_core"]
    assert git_sources(realfam, REPOS) == {"omniintelligence": {"omnimarket": reachable}}
