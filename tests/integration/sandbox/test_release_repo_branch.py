"""A repo released from its own `branch` (dev) while the family releases main, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from github import Auth, Github

from release_train.adapters.git import git
from release_train.cli import main
from release_train.sandbox.builder import RepoBuilder
from release_train.sandbox.control import Sandbox
from release_train.sandbox.family import Hook

from .conftest import build_tiny_repo

RUN_ID = "release-20261202-devbranch"


def promoted(
    dest: Path, *, before_tag: Hook | None = None, after_tag: Hook | None = None
) -> list[Path]:
    """`delta_lib`: v1.0.0 published; v1.1.0 tagged on main only; on dev a hotfix tagged
    v1.0.1 (not on main), then one fix of its own."""
    path = build_tiny_repo(
        dest, "delta-lib", "1.0.0", "v1.0.0", before_tag=before_tag, after_tag=after_tag
    )
    RepoBuilder(path).tag("v1.1.0")  # main's fix after v1.0.0, promoted and tagged on main
    git(path, "branch", "dev", "v1.0.0")
    dev = RepoBuilder(path, branch="dev", commits=3, clock=1800000000)
    dev.commit(["fix: hotfix on dev"])
    dev.tag("v1.0.1")
    dev.commit(["fix: only on dev"])
    git(path, "checkout", "-q", "main")
    return [path]


def test_a_repo_branch_is_planned_cut_and_merged_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    world = Sandbox.start(tmp_path / "world", family=promoted)
    try:
        for key, value in world.env.items():
            monkeypatch.setenv(key, value)
        gh = Github(base_url=world.github.api_url, auth=Auth.Token(world.github.token))
        repo = gh.get_repo(f"{world.owner}/delta_lib")
        main_before = repo.get_branch("main").commit.sha
        config = tmp_path / "release-train.toml"
        config.write_text(
            f'owner = "{world.owner}"\nindex_url = "{world.cdn.simple_url}"\n'
            'tag_format = "v{version}"\n[repos.delta_lib]\nbranch = "dev"\n'
        )
        result = tmp_path / "result.json"
        args = ["--config", str(config), "--run-id", RUN_ID, "--result-file", str(result)]
        code = main(["release", "--all", "--yes", "--skip-pypi-wait", *args])
        out = capsys.readouterr().out
        assert code == 0, out
        detail = json.loads(result.read_text())["details"][0]
        # Above v1.1.0, which dev does not reach; only dev's own fix is unreleased.
        assert (detail["old_version"], detail["new_version"]) == ("1.1.0", "1.1.1")
        pulls = list(repo.get_pulls(state="all"))
        assert [p.base.ref for p in pulls] == ["dev"]
        assert repo.get_branch("main").commit.sha == main_before
        assert repo.get_git_ref("tags/v1.1.1").object.sha
        changelog = repo.get_contents("CHANGELOG.md", ref="dev")
        assert not isinstance(changelog, list)
        entry = changelog.decoded_content.decode().split("\n## ", 2)[1]
        # What no release tag holds: not main's fix (v1.1.0), not the hotfix (v1.0.1).
        assert "only on dev" in entry
        assert "after the release" not in entry and "hotfix" not in entry
    finally:
        world.stop()
