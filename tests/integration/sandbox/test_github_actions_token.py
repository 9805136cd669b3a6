"""A workflow's GITHUB_TOKEN starts no workflows, as on github.com (DESIGN defect 12)."""

from __future__ import annotations

import time

from release_train.adapters.git import git
from tests.integration.sandbox.test_github_fixtures import (
    World,
    commit_on_branch,
    gh_world,
    git_http,
    wait_for,
)

__all__ = ["gh_world"]


def test_a_tag_pushed_with_the_actions_token_publishes_nothing(gh_world: World) -> None:
    actions = gh_world.stand_in.make_token(actions=True)
    clone = gh_world.clone("by-actions", token=actions)
    git(clone, "tag", "demo/v1.1.0")
    git_http(gh_world, clone, "push", "-q", "origin", "demo/v1.1.0", token=actions)
    time.sleep(0.3)  # a publish would have been queued by now (no delay is configured)
    assert gh_world.stand_in.admin().snapshot()["workflow_runs"] == []
    assert gh_world.publisher.calls == []

    # The same push made with an App or personal token starts the release workflow.
    git(clone, "tag", "demo/v1.2.0")
    git_http(gh_world, clone, "push", "-q", "origin", "demo/v1.2.0")
    wait_for(lambda: len(gh_world.publisher.calls) == 1)
    assert gh_world.publisher.calls[0]["tag"] == "demo/v1.2.0"


def test_a_tag_created_through_the_api_with_the_actions_token_publishes_nothing(
    gh_world: World,
) -> None:
    repo = gh_world.github(gh_world.stand_in.make_token(actions=True)).get_repo(
        gh_world.repo.full_name
    )
    repo.create_git_ref("refs/tags/demo/v1.1.0", repo.get_branch("main").commit.sha)
    time.sleep(0.3)
    assert gh_world.publisher.calls == []


def test_a_pull_request_opened_with_the_actions_token_gets_no_checks(gh_world: World) -> None:
    head = commit_on_branch(gh_world, "release/a", {"A.md": "a\n"}, "chore: a")
    actions = gh_world.github(gh_world.stand_in.make_token(actions=True))
    pr = actions.get_repo(gh_world.repo.full_name).create_pull(
        title="release", body="", head="release/a", base="main"
    )
    assert pr.user.login == "github-actions[bot]"
    commit = gh_world.repo.get_commit(head)
    assert commit.get_check_runs().totalCount == 0
    status = commit.get_combined_status()
    assert (status.state, status.total_count) == ("pending", 0)


def test_dispatch_with_the_actions_token_still_runs(gh_world: World) -> None:
    gh_world.admin.set_publish(gh_world.repo.name, mode="dispatch")
    main = gh_world.repo.get_branch("main").commit.sha
    gh_world.repo.create_git_ref("refs/tags/demo/v1.1.0", main)
    actions = gh_world.github(gh_world.stand_in.make_token(actions=True))
    workflow = actions.get_repo(gh_world.repo.full_name).get_workflow("release.yml")
    assert workflow.create_dispatch("main", {"tag": "demo/v1.1.0"})
    wait_for(lambda: len(gh_world.publisher.calls) == 1)
    assert gh_world.publisher.calls[0]["sha"] == main


def test_editing_a_pull_request_does_not_rerun_ci(gh_world: World) -> None:
    head = commit_on_branch(gh_world, "release/b", {"B.md": "b\n"}, "chore: b")
    pr = gh_world.repo.create_pull(title="release", body="", head="release/b", base="main")
    wait_for(lambda: gh_world.repo.get_commit(head).get_check_runs()[0].status == "completed")
    pr.edit(title="release, renamed")
    runs = list(gh_world.repo.get_commit(head).get_check_runs())
    assert [(r.status, r.conclusion) for r in runs] == [("completed", "success")]
