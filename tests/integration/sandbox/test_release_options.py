"""Engine options end to end: parallel repos, GitHub Releases, a repo that never publishes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from github import Auth, Github

from release_train.cli import main
from release_train.sandbox.control import Sandbox
from release_train.sandbox.family import Hook

from .conftest import build_tiny_repo, tiny_config, tiny_family

RUN_ID = "release-20261125-options"


def three_repos(
    dest: Path, *, before_tag: Hook | None = None, after_tag: Hook | None = None
) -> list[Path]:
    """`alpha_core` <- `beta_app`, and `gamma_tool` on its own."""
    family = tiny_family(dest, before_tag=before_tag, after_tag=after_tag)
    alone = build_tiny_repo(
        dest, "gamma-tool", "2.0.0", "gamma_tool/v2.0.0", before_tag=before_tag, after_tag=after_tag
    )
    return [*family, alone]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Sandbox]:
    sandbox = Sandbox.start(tmp_path / "world", family=three_repos)
    try:
        sandbox.github.admin().set_publish("gamma_tool", mode="none")
        for repo in ("alpha_core", "gamma_tool"):
            sandbox.github.admin().set_ci(repo, duration=1.5)
        yield sandbox
    finally:
        sandbox.stop()


def test_parallel_release_with_github_releases_and_an_unpublished_repo(
    world: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for key, value in world.env.items():
        monkeypatch.setenv(key, value)
    config = tmp_path / "release-train.toml"
    config.write_text(
        tiny_config(world, "github_release = true\n") + '[repos.gamma_tool]\npublish = "none"\n'
    )
    result = tmp_path / "result.json"
    args = ["--config", str(config), "--run-id", RUN_ID, "--result-file", str(result)]
    code = main(["release", "--all", "--yes", "--max-parallel", "2", *args])
    out = capsys.readouterr().out
    assert code == 0, out

    state = json.loads(
        (Path(world.env["RELEASE_TRAIN_STATE_DIR"]) / "archive" / f"{RUN_ID}.json").read_text()
    )
    repos = state["repos"]

    def span(repo: str, first: str, last: str) -> tuple[str, str]:
        marks = {m["phase"]: m["at"] for m in repos[repo]["phase_history"]}
        return marks[first], marks[last]

    # With two slots the independent repo ran alongside alpha_core, both waiting for CI ...
    alpha, gamma = (
        span("alpha_core", "WORKTREE", "MERGED"),
        span("gamma_tool", "WORKTREE", "MERGED"),
    )
    assert alpha[0] < gamma[1] and gamma[0] < alpha[1]
    # ... while beta_app, which depends on alpha_core, started only once it was done.
    assert span("beta_app", "WORKTREE", "DONE")[0] > span("alpha_core", "DONE", "DONE")[0]

    gh = Github(base_url=world.github.api_url, auth=Auth.Token(world.github.token))
    for repo in ("alpha_core", "beta_app", "gamma_tool"):
        release = gh.get_repo(f"{world.owner}/{repo}").get_release(repos[repo]["tag"])
        assert release.tag_name == repos[repo]["tag"] and not release.draft
        # The version's entry only, not the whole CHANGELOG.md.
        assert release.body.startswith(f"## [{repos[repo]['new_version']}](")
        assert "# Changelog" not in release.body
        assert repos[repo]["release_url"] == release.html_url
    # publish = "none": no workflow run is waited for, and the index is not claimed.
    assert repos["gamma_tool"]["index_status"] == "skipped"
    assert repos["gamma_tool"]["publish_run_url"] is None
    details = {d["repo"]: d for d in json.loads(result.read_text())["details"]}
    assert details["gamma_tool"]["pypi_status"] == "skipped"
    assert details["alpha_core"]["pypi_status"] == "available"
