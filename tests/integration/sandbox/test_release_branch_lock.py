"""A second train with its state on the state branch (issue 12, item 3), end to end: while
another machine's run holds `locks/<owner>.json` there, `release` is FAMILY_LOCKED and
neither writes a state nor pushes a branch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from github import Auth, Github, GithubException

from release_train.adapters.branch_store import BranchStore
from release_train.cli import main
from release_train.family_lock import Trains
from release_train.sandbox.control import Sandbox

from .conftest import CENTRAL, central_world, tiny_config

BRANCH = "release-train-state"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Sandbox]:
    yield from central_world(tmp_path)


def test_a_release_while_another_machine_holds_the_branch_lock_is_family_locked(
    world: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for key, value in world.env.items():
        monkeypatch.setenv(key, value)
    gh = Github(base_url=world.github.api_url, auth=Auth.Token(world.github.token))
    central = gh.get_repo(f"{world.owner}/{CENTRAL}")
    actions = {
        "GITHUB_ACTOR": "octo",
        "GITHUB_REPOSITORY": f"{world.owner}/{CENTRAL}",
        "GITHUB_RUN_ID": "5150",
    }
    Trains(BranchStore(central), world.owner, actions, host="runner-7", pid=1).acquire("run-a")
    cfg = tmp_path / "release-train.toml"
    cfg.write_text(tiny_config(world, f'[state]\nstore = "branch"\nrepo = "{CENTRAL}"\n'))
    before = world.github.admin().snapshot()["repos"]
    refs_before = {repo: before[repo]["refs"] for repo in ("alpha_core", "beta_app")}

    code = main(["release", "--all", "--yes", "--config", str(cfg), "--run-id", "run-b"])

    err = capsys.readouterr().err
    assert code == 3, err
    assert err.startswith(
        f"error[FAMILY_LOCKED]: family {world.owner} is locked: run run-a is releasing it (octo, "
        f"https://github.com/{world.owner}/{CENTRAL}/actions/runs/5150, since "
    )
    with pytest.raises(GithubException) as missing:
        central.get_contents("runs", ref=BRANCH)
    assert missing.value.status == 404
    snapshot = world.github.admin().snapshot()
    assert {r: snapshot["repos"][r]["refs"] for r in refs_before} == refs_before
    assert snapshot["pulls"] == []
