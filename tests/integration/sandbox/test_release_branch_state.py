"""A run whose state lives on the central repo's state branch, end to end in the sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from github import Auth, Github

from release_train.cli import main
from release_train.sandbox.control import Sandbox

from .conftest import CENTRAL, central_world, tiny_config

RUN_ID = "release-20261125-branch"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Sandbox]:
    yield from central_world(tmp_path)


def config(world: Sandbox, path: Path) -> Path:
    path.write_text(tiny_config(world, f'[state]\nstore = "branch"\nrepo = "{CENTRAL}"\n'))
    return path


def test_the_state_is_on_the_branch_and_archived_there(
    world: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for key, value in world.env.items():
        monkeypatch.setenv(key, value)
    cfg = str(config(world, tmp_path / "release-train.toml"))
    code = main(["release", "--all", "--yes", "--config", cfg, "--run-id", RUN_ID])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "state: branch release-train-state of OmniNode-ai/release-central" in out

    gh = Github(base_url=world.github.api_url, auth=Auth.Token(world.github.token))
    central = gh.get_repo(f"{world.owner}/release-central")
    active = central.get_contents(f"runs/{RUN_ID}.json", ref="release-train-state")
    archived = central.get_contents(f"archive/{RUN_ID}.json", ref="release-train-state")
    assert not isinstance(active, list) and not isinstance(archived, list)
    state = json.loads(active.decoded_content)
    assert state["status"] == "success"
    assert [r["status"] for r in state["repos"].values()] == ["done", "done"]
    assert state["repos"]["beta_app"]["pins"] == {"alpha-core": "==1.0.1"}
    assert archived.decoded_content == active.decoded_content
    assert not list((Path(world.env["RELEASE_TRAIN_STATE_DIR"])).glob("*.json"))

    assert main(["status", RUN_ID, "--config", cfg, "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["status"], result["repos_succeeded"]) == ("SUCCESS", 2)
    # The token reached git through GIT_ASKPASS only: no file of the run's clones holds it.
    work = Path(world.env["RELEASE_TRAIN_WORK_DIR"])
    token = world.github.token.encode()
    leaks = [f for f in sorted(work.rglob("*")) if f.is_file() and token in f.read_bytes()]
    assert leaks == [] and (work / "clones" / world.owner / "alpha_core" / ".git").is_dir()
    assert token.decode() not in out

    # The next run finds the tags this one made (DESIGN defect 1): nothing left to release.
    assert main(["release", "--all", "--yes", "--config", cfg]) == 0
    out = capsys.readouterr().out
    assert "alpha_core (1.0.1)" in out and "beta_app (0.1.1)" in out
    assert out.endswith("Nothing to release.\n")
