"""Pull requests on the GitHub stand-in through PyGithub: filters, create, update, real merges."""

from __future__ import annotations

import pytest
from github import GithubException

from release_train.adapters.git import git
from tests.integration.sandbox.test_github_fixtures import (
    OWNER,
    World,
    commit_on_branch,
    gh_world,
    wait_for,
)

__all__ = ["gh_world"]


def test_create_list_get_and_update_a_pull_request(gh_world: World) -> None:
    repo = gh_world.repo
    head = commit_on_branch(
        gh_world, "release/demo", {"CHANGELOG.md": "## 1.1.0\n"}, "chore: release"
    )

    pr = repo.create_pull(
        title="release demo 1.1.0", body="plan abc", head="release/demo", base="main"
    )

    assert (pr.number, pr.state, pr.head.sha, pr.base.ref) == (1, "open", head, "main")
    assert pr.url == f"{gh_world.stand_in.api_url}/repos/{OWNER}/demo/pulls/1"
    assert pr.mergeable is True and pr.commits == 1 and pr.changed_files == 1
    found = repo.get_pulls(head=f"{OWNER}:release/demo", state="open", base="main")
    assert [p.number for p in found] == [1]
    assert list(repo.get_pulls(head=f"{OWNER}:other", state="all")) == []
    assert list(repo.get_pulls(state="closed")) == []

    pr.edit(title="release demo 1.1.1", body="plan def")
    again = repo.get_pull(1)
    assert (again.title, again.body) == ("release demo 1.1.1", "plan def")

    pr.edit(state="closed")
    assert repo.get_pull(1).state == "closed"
    assert [p.number for p in repo.get_pulls(state="closed")] == [1]
    pr.edit(state="open")
    assert repo.get_pull(1).state == "open"


def test_a_second_pull_request_for_the_same_head_is_refused(gh_world: World) -> None:
    commit_on_branch(gh_world, "feature", {"a.txt": "a\n"}, "feat: a")
    gh_world.repo.create_pull(title="one", body="", head="feature", base="main")

    with pytest.raises(GithubException) as raised:
        gh_world.repo.create_pull(title="two", body="", head=f"{OWNER}:feature", base="main")

    assert raised.value.status == 422
    assert (
        raised.value.data["errors"][0]["message"]
        == f"A pull request already exists for {OWNER}:feature."
    )


def test_a_pull_request_without_commits_is_refused(gh_world: World) -> None:
    main = gh_world.repo.get_branch("main").commit.sha
    gh_world.repo.create_git_ref("refs/heads/empty", main)

    with pytest.raises(GithubException) as raised:
        gh_world.repo.create_pull(title="nothing", body="", head="empty", base="main")

    assert raised.value.status == 422
    assert "No commits between main and empty" in str(raised.value.data)


def test_squash_merge_writes_one_commit_with_the_head_tree(gh_world: World) -> None:
    repo = gh_world.repo
    main_before = repo.get_branch("main").commit.sha
    commit_on_branch(gh_world, "feature", {"a.txt": "a\n"}, "feat: a")
    head = commit_on_branch(gh_world, "feature", {"b.txt": "b\n"}, "fix: b")
    pr = repo.create_pull(title="feat: a and b", body="", head="feature", base="main")
    assert pr.is_merged() is False

    status = pr.merge(merge_method="squash", sha=head)

    assert status.merged is True
    bare = gh_world.stand_in.forge.bare_path("demo")
    assert git(bare, "rev-parse", "refs/heads/main").strip() == status.sha
    assert git(bare, "rev-parse", f"{status.sha}^{{tree}}") == git(
        bare, "rev-parse", f"{head}^{{tree}}"
    )
    assert git(bare, "rev-list", "--parents", "-n1", status.sha).split() == [
        status.sha,
        main_before,
    ]
    subject = git(bare, "log", "-1", "--format=%s", status.sha).strip()
    assert subject == f"feat: a and b (#{pr.number})"
    merged = repo.get_pull(pr.number)
    assert (merged.merged, merged.state, merged.merge_commit_sha) == (True, "closed", status.sha)
    assert merged.is_merged() is True


def test_merge_commit_method_keeps_both_parents(gh_world: World) -> None:
    repo = gh_world.repo
    main_before = repo.get_branch("main").commit.sha
    head = commit_on_branch(gh_world, "feature", {"a.txt": "a\n"}, "feat: a")
    pr = repo.create_pull(title="feat: a", body="", head="feature", base="main")

    status = pr.merge(merge_method="merge")

    parents = repo.get_git_commit(status.sha).parents
    assert [p.sha for p in parents] == [main_before, head]


def test_merge_refuses_a_moved_head_with_409(gh_world: World) -> None:
    repo = gh_world.repo
    first = commit_on_branch(gh_world, "feature", {"a.txt": "a\n"}, "feat: a")
    pr = repo.create_pull(title="feat: a", body="", head="feature", base="main")
    commit_on_branch(gh_world, "feature", {"a.txt": "a2\n"}, "fix: a")

    with pytest.raises(GithubException) as raised:
        pr.merge(merge_method="squash", sha=first)

    assert raised.value.status == 409
    assert (
        raised.value.data["message"] == "Head branch was modified. Review and try the merge again."
    )
    assert repo.get_pull(pr.number).merged is False


def test_merge_refuses_a_conflict_with_405(gh_world: World) -> None:
    repo = gh_world.repo
    commit_on_branch(gh_world, "feature", {"README.md": "# from feature\n"}, "docs: feature")
    pr = repo.create_pull(title="docs", body="", head="feature", base="main")
    readme = repo.get_contents("README.md", ref="main")
    assert not isinstance(readme, list)
    repo.update_file("README.md", "docs: main", "# from main\n", readme.sha, branch="main")

    assert repo.get_pull(pr.number).mergeable_state == "dirty"
    with pytest.raises(GithubException) as raised:
        pr.merge(merge_method="squash")

    assert (raised.value.status, raised.value.data["message"]) == (405, "Merge conflict")


def test_merge_refuses_a_merged_pull_request_with_405(gh_world: World) -> None:
    commit_on_branch(gh_world, "feature", {"a.txt": "a\n"}, "feat: a")
    pr = gh_world.repo.create_pull(title="feat: a", body="", head="feature", base="main")
    pr.merge(merge_method="squash")

    with pytest.raises(GithubException) as raised:
        pr.merge(merge_method="squash")

    assert raised.value.status == 405


def test_required_checks_block_the_merge_until_green(gh_world: World) -> None:
    gh_world.admin.set_ci("demo", required=["test"], duration=0.3)
    head = commit_on_branch(gh_world, "feature", {"a.txt": "a\n"}, "feat: a")
    pr = gh_world.repo.create_pull(title="feat: a", body="", head="feature", base="main")

    with pytest.raises(GithubException) as raised:
        pr.merge(merge_method="squash", sha=head)
    assert raised.value.status == 405
    assert 'Required status check "test"' in raised.value.data["message"]

    wait_for(lambda: gh_world.repo.get_pull(pr.number).mergeable_state == "clean")
    assert pr.merge(merge_method="squash", sha=head).merged is True


def test_a_push_to_the_head_branch_moves_the_pull_request(gh_world: World) -> None:
    repo = gh_world.repo
    commit_on_branch(gh_world, "feature", {"a.txt": "a\n"}, "feat: a")
    pr = repo.create_pull(title="feat: a", body="", head="feature", base="main")

    moved = commit_on_branch(gh_world, "feature", {"a.txt": "a2\n"}, "fix: a")

    assert repo.get_pull(pr.number).head.sha == moved
    assert [run.name for run in repo.get_commit(moved).get_check_runs()] == ["test"]


def test_a_body_longer_than_githubs_limit_is_refused_with_422(gh_world: World) -> None:
    """GitHub answers 422 "body is too long (maximum is 65536 characters)"; so does the
    stand-in, on create and on edit, so a release that sent such a body fails here too."""
    repo = gh_world.repo
    commit_on_branch(gh_world, "long-body", {"b.txt": "b\n"}, "fix: b")

    with pytest.raises(GithubException) as created:
        repo.create_pull(title="long", body="x" * 65_537, head="long-body", base="main")
    pr = repo.create_pull(title="long", body="x" * 65_536, head="long-body", base="main")
    with pytest.raises(GithubException) as edited:
        pr.edit(body="y" * 65_537)

    for raised in (created, edited):
        assert raised.value.status == 422
        assert raised.value.data["errors"][0]["message"] == (
            "body is too long (maximum is 65536 characters)"
        )
    assert repo.get_pull(pr.number).body == "x" * 65_536
