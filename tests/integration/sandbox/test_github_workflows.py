"""The stand-in starts a release run as the repo's own workflow file says, as GitHub does."""

from __future__ import annotations

import pytest
from github import GithubException, UnknownObjectException

from release_train.sandbox.builder import Change, RepoBuilder
from tests.integration.sandbox.test_github_fixtures import World, commit_on_branch, gh_world

__all__ = ["gh_world"]

WORKFLOW = ".github/workflows/release.yml"
DISPATCH = "  workflow_dispatch:\n    inputs:\n      tag:\n        required: true\n"


def _on(triggers: str) -> str:
    return f"name: Release\non:\n{triggers}jobs:\n  publish:\n    runs-on: ubuntu-latest\n"


def _tag_main(world: World, name: str) -> str:
    main = world.repo.get_branch("main").commit.sha
    world.repo.create_git_ref(f"refs/tags/{name}", main)
    return main


def _run_tags(world: World) -> list[str | None]:
    # A run is recorded as the ref is created: nothing to wait for, either way.
    return [run["tag"] for run in world.admin.snapshot()["workflow_runs"]]


@pytest.mark.parametrize(
    ("push", "tag", "starts"),
    [
        ("tags: ['v[0-9]+.[0-9]+.[0-9]+']", "v10.2.30", True),
        ("tags: ['v[0-9]+.[0-9]+.[0-9]+']", "v1.2", False),
        ("tags: ['v*', '!v*-rc*']", "v1.0.0", True),
        ("tags: ['v*', '!v*-rc*']", "v1.0.0-rc1", False),
        ("tags-ignore: ['nightly*']", "nightly-2026", False),
        ("tags-ignore: ['nightly*']", "demo/v1.1.0", True),
        ("tags: ['*']", "demo/v1.1.0", False),
        ("tags: ['**']", "demo/v1.1.0", True),
        ("tags: ['v[12].0']", "v3.0", False),
        ("branches: [main]", "v1.0.0", False),
        ("paths: ['src/**']", "v1.0.0", True),
    ],
)
def test_a_pushed_tag_starts_a_run_only_when_the_workflows_filters_match(
    gh_world: World, push: str, tag: str, starts: bool
) -> None:
    commit_on_branch(gh_world, "main", {WORKFLOW: _on(f"  push:\n    {push}\n")}, "ci: release")

    _tag_main(gh_world, tag)

    assert _run_tags(gh_world) == ([tag] if starts else [])


def test_the_workflow_is_read_at_the_tagged_commit(gh_world: World) -> None:
    before = gh_world.repo.get_branch("main").commit.sha
    commit_on_branch(gh_world, "main", {WORKFLOW: _on("  push:\n    tags: ['x*']\n")}, "ci: x")

    gh_world.repo.create_git_ref("refs/tags/demo/v1.0.1", before)  # the old file: `*/v[0-9]*`
    _tag_main(gh_world, "demo/v1.0.2")  # the new file: `x*` only
    _tag_main(gh_world, "x1")

    assert _run_tags(gh_world) == ["demo/v1.0.1", "x1"]


def test_a_tag_on_a_commit_without_the_workflow_starts_nothing(gh_world: World) -> None:
    source = RepoBuilder(gh_world.tmp / "plain").init()
    source.commit([Change("feat: first", {"README.md": "# plain\n"})])
    gh_world.stand_in.add_repo("plain", source.path)
    repo = gh_world.gh.get_repo(f"{gh_world.repo.owner.login}/plain")

    repo.create_git_ref("refs/tags/v1.0.0", repo.get_branch("main").commit.sha)

    assert _run_tags(gh_world) == []


def test_a_repo_hosted_with_another_workflow_file_publishes_by_that_one(gh_world: World) -> None:
    source = RepoBuilder(gh_world.tmp / "publishing").init()
    workflow = _on("  push:\n    tags: ['rel-*']\n" + DISPATCH)
    source.commit([Change("feat: first", {".github/workflows/publish.yml": workflow})])
    gh_world.stand_in.add_repo("publishing", source.path, workflow="publish.yml")
    repo = gh_world.gh.get_repo(f"{gh_world.repo.owner.login}/publishing")

    main = repo.get_branch("main").commit.sha
    repo.create_git_ref("refs/tags/v1.0.0", main)
    repo.create_git_ref("refs/tags/rel-1", main)

    runs = gh_world.admin.snapshot()["workflow_runs"]
    assert [(r["repo"], r["tag"]) for r in runs] == [("publishing", "rel-1")]
    assert repo.get_workflow("publish.yml").path == ".github/workflows/publish.yml"
    with pytest.raises(UnknownObjectException):
        repo.get_workflow("release.yml")


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"tag": "demo/v1.0.0", "dry_run": "true"}, 'Unexpected inputs provided: ["dry_run"]'),
        ({}, "Required input 'tag' not provided"),
    ],
)
def test_a_dispatch_whose_inputs_the_workflow_does_not_declare_is_422(
    gh_world: World, inputs: dict[str, str], message: str
) -> None:
    workflow = gh_world.repo.get_workflow("release.yml")

    with pytest.raises(GithubException) as raised:
        workflow.create_dispatch("main", inputs, throw=True)

    assert (raised.value.status, raised.value.data["message"]) == (422, message)
    assert _run_tags(gh_world) == []


def test_a_dispatch_of_a_workflow_without_the_trigger_is_422(gh_world: World) -> None:
    commit_on_branch(gh_world, "main", {WORKFLOW: _on("  push:\n    tags: ['v*']\n")}, "ci: push")
    workflow = gh_world.repo.get_workflow("release.yml")

    with pytest.raises(GithubException) as raised:
        workflow.create_dispatch("main", {"tag": "demo/v1.0.0"}, throw=True)

    assert raised.value.status == 422
    assert raised.value.data["message"] == "Workflow does not have 'workflow_dispatch' trigger"


def test_a_dispatch_with_the_declared_inputs_runs(gh_world: World) -> None:
    optional = (
        "  workflow_dispatch:\n    inputs:\n      tag: {}\n"
        "      dry_run:\n        required: true\n        default: 'no'\n"
    )
    commit_on_branch(gh_world, "main", {WORKFLOW: _on(optional)}, "ci: dispatch only")
    workflow = gh_world.repo.get_workflow("release.yml")

    assert workflow.create_dispatch("main", {"tag": "demo/v1.0.0"}, throw=True) is True

    assert _run_tags(gh_world) == ["demo/v1.0.0"]
