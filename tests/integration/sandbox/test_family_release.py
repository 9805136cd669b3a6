"""`family_release` against the stand-in: a release of `train/<run id>` in the central repo."""

from __future__ import annotations

from pathlib import Path

from release_train.adapters.github import GitHub
from release_train.config import Config
from release_train.family_release import central_repo
from tests.integration.sandbox.test_github_adapter import Waits, client
from tests.integration.sandbox.test_github_fixtures import OWNER, World, gh_world

__all__ = ["gh_world"]


def test_the_family_release_tags_the_default_branch_once(gh_world: World) -> None:
    hub: GitHub = client(gh_world, Waits())
    url = hub.create_family_release(f"{OWNER}/demo", "train/r1", "Family release r1", "## note")
    assert url.endswith(f"/{OWNER}/demo/releases/tag/train/r1")
    # A retried POST, or the re-run of a finished run: the release there is kept.
    again = hub.create_family_release(f"{OWNER}/demo", "train/r1", "Family release r1", "other")
    assert again == url
    snapshot = gh_world.admin.snapshot()
    [release] = [r for r in snapshot["releases"] if r["tag_name"] == "train/r1"]
    assert (release["body"], release["draft"]) == ("## note", False)
    assert hub.tag_sha("demo", "train/r1") == snapshot["repos"]["demo"]["branches"]["main"]


def test_the_central_repo_is_the_configs_then_the_actions_then_the_states(tmp_path: Path) -> None:
    def config(**keys: object) -> Config:
        return Config.model_validate({"owner": "acme", "repos": {"a": {}}, **keys})

    action = {"GITHUB_REPOSITORY": "other/central"}
    assert central_repo(config(family_release_repo="rel"), action) == "acme/rel"
    assert central_repo(config(), action) == "other/central"
    branch = {"store": "branch", "repo": "state-repo"}
    assert central_repo(config(state=branch), {}) == "acme/state-repo"
    assert central_repo(config(), {}) is None
