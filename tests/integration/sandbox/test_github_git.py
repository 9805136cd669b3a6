"""Git on the GitHub stand-in: refs and tag objects through PyGithub, clone/push over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest
from github import GithubException

from release_train.adapters.git import git
from release_train.errors import ReleaseError
from tests.integration.sandbox.test_github_fixtures import (
    World,
    auth_env,
    commit_on_branch,
    gh_world,
    git_http,
    wait_for,
)

__all__ = ["gh_world"]


def test_refs_create_get_match_update_and_delete(gh_world: World) -> None:
    repo = gh_world.repo
    main = repo.get_branch("main").commit.sha

    created = repo.create_git_ref("refs/heads/work", main)
    assert (created.ref, created.object.sha, created.object.type) == (
        "refs/heads/work",
        main,
        "commit",
    )
    assert created.url.startswith(gh_world.stand_in.api_url)
    assert repo.get_git_ref("heads/work").object.sha == main
    assert [r.ref for r in repo.get_git_matching_refs("heads/")] == [
        "refs/heads/main",
        "refs/heads/work",
    ]

    with pytest.raises(GithubException) as exists:
        repo.create_git_ref("refs/heads/work", main)
    assert (exists.value.status, exists.value.data["message"]) == (422, "Reference already exists")

    ahead = commit_on_branch(gh_world, "work", {"a.txt": "a\n"}, "feat: a")
    ref = repo.get_git_ref("heads/work")
    with pytest.raises(GithubException) as backwards:
        ref.edit(main)
    assert (backwards.value.status, backwards.value.data["message"]) == (
        422,
        "Update is not a fast forward",
    )
    ref.edit(main, force=True)
    assert repo.get_git_ref("heads/work").object.sha == main != ahead

    ref.delete()
    with pytest.raises(GithubException) as gone:
        repo.get_git_ref("heads/work")
    assert gone.value.status == 404
    assert gone.value.data["message"] == "Not Found"


def test_annotated_tag_objects_are_real_git_tags(gh_world: World) -> None:
    repo = gh_world.repo
    main = repo.get_branch("main").commit.sha

    tag = repo.create_git_tag("demo/v1.1.0", "Release demo 1.1.0", main, "commit")
    ref = repo.create_git_ref("refs/tags/demo/v1.1.0", tag.sha)

    assert (ref.object.type, ref.object.sha) == ("tag", tag.sha)
    fetched = repo.get_git_tag(tag.sha)
    assert (fetched.tag, fetched.object.sha, fetched.message) == (
        "demo/v1.1.0",
        main,
        "Release demo 1.1.0\n",
    )
    bare = gh_world.stand_in.forge.bare_path("demo")
    assert git(bare, "cat-file", "-t", tag.sha).strip() == "tag"
    assert git(bare, "rev-parse", "demo/v1.1.0^{commit}").strip() == main
    commit = repo.get_git_commit(main)
    assert commit.sha == main and commit.message.startswith("docs: readme")


def test_clone_with_a_blob_filter_and_push_a_branch(gh_world: World) -> None:
    clone = gh_world.clone(args=("--filter=blob:none",))

    assert git(clone, "config", "remote.origin.partialclonefilter").strip() == "blob:none"
    assert (clone / "README.md").read_text() == "# demo\n"
    assert "http" in git(clone, "remote", "get-url", "origin")
    assert gh_world.stand_in.token not in git(clone, "remote", "get-url", "origin")
    git(clone, "checkout", "-q", "-b", "feature")
    (clone / "b.txt").write_text("b\n")
    git(clone, "add", "b.txt")
    git(clone, "commit", "-q", "-m", "feat: b")
    git_http(gh_world, clone, "push", "-q", "origin", "feature")

    pushed = git(clone, "rev-parse", "HEAD").strip()
    assert gh_world.repo.get_branch("feature").commit.sha == pushed


def test_pushing_to_an_open_pull_request_runs_ci_on_the_new_head(gh_world: World) -> None:
    clone = gh_world.clone()
    git(clone, "checkout", "-q", "-b", "feature")
    (clone / "b.txt").write_text("b\n")
    git(clone, "add", "b.txt")
    git(clone, "commit", "-q", "-m", "feat: b")
    git_http(gh_world, clone, "push", "-q", "origin", "feature")
    pr = gh_world.repo.create_pull(title="feat: b", body="", head="feature", base="main")

    (clone / "b.txt").write_text("b2\n")
    git(clone, "commit", "-q", "-am", "fix: b")
    git_http(gh_world, clone, "push", "-q", "origin", "feature")

    new_head = git(clone, "rev-parse", "HEAD").strip()
    assert gh_world.repo.get_pull(pr.number).head.sha == new_head
    runs = gh_world.repo.get_commit(new_head).get_check_runs()
    assert runs.totalCount == 1


def test_a_pushed_release_tag_publishes(gh_world: World) -> None:
    clone = gh_world.clone()
    git(clone, "tag", "-a", "demo/v1.1.0", "-m", "Release demo 1.1.0")
    git(clone, "tag", "not-a-release")

    git_http(gh_world, clone, "push", "-q", "origin", "demo/v1.1.0", "not-a-release")

    head = git(clone, "rev-parse", "HEAD").strip()
    wait_for(lambda: len(gh_world.publisher.calls) == 1)
    call = gh_world.publisher.calls[0]
    assert (call["repo"], call["tag"], call["sha"]) == ("demo", "demo/v1.1.0", head)
    assert call["bare_repo"] == gh_world.stand_in.forge.bare_path("demo")


def test_git_without_a_token_gets_401(gh_world: World, tmp_path: Path) -> None:
    with pytest.raises(ReleaseError) as raised:
        git(
            tmp_path,
            "ls-remote",
            gh_world.stand_in.clone_url("demo"),
            env={"GIT_TERMINAL_PROMPT": "0"},
        )
    assert raised.value.output is not None
    assert "terminal prompts disabled" in raised.value.output or "401" in raised.value.output
    statuses = [r["status"] for r in gh_world.admin.requests() if r["kind"] == "git"]
    assert statuses == [401]


def test_a_read_only_token_can_fetch_but_not_push(gh_world: World) -> None:
    read_only = gh_world.stand_in.make_token(read_only=True)
    clone = gh_world.clone(token=read_only)
    git(clone, "commit", "-q", "--allow-empty", "-m", "chore: empty")

    with pytest.raises(ReleaseError) as raised:
        git(clone, "push", "-q", "origin", "HEAD:refs/heads/other", env=auth_env(read_only))

    assert raised.value.output is not None and "403" in raised.value.output
    assert "refs/heads/other" not in gh_world.admin.snapshot()["repos"]["demo"]["refs"]
