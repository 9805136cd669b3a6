"""Release workflows on the GitHub stand-in: publish on a tag or a dispatch, runs, approvals."""

from __future__ import annotations

import pytest
from github import UnknownObjectException

from release_train.errors import ErrorCode, ReleaseError
from tests.integration.sandbox.test_github_fixtures import OWNER, World, gh_world, wait_for

__all__ = ["gh_world"]


def _tag_through_the_api(world: World, name: str) -> str:
    main = world.repo.get_branch("main").commit.sha
    tag = world.repo.create_git_tag(name, f"Release {name}", main, "commit")
    world.repo.create_git_ref(f"refs/tags/{name}", tag.sha)
    return main


def _completed_runs(world: World) -> list[str]:
    return [r.status for r in world.repo.get_workflow_runs() if r.status == "completed"]


def test_a_release_tag_made_through_the_api_publishes_and_is_listed(gh_world: World) -> None:
    main = _tag_through_the_api(gh_world, "demo/v1.1.0")

    wait_for(lambda: len(_completed_runs(gh_world)) == 1)

    assert [(c["tag"], c["sha"]) for c in gh_world.publisher.calls] == [("demo/v1.1.0", main)]
    run = gh_world.repo.get_workflow_runs()[0]
    assert (run.event, run.head_sha, run.head_branch, run.conclusion) == (
        "push",
        main,
        "demo/v1.1.0",
        "success",
    )
    assert gh_world.repo.get_workflow_run(run.id).id == run.id
    snapshot = gh_world.admin.snapshot()
    assert snapshot["workflow_runs"][0]["files"] == ["demo-1.1.0.tar.gz"]


def test_the_publish_delay_keeps_the_run_queued(gh_world: World) -> None:
    gh_world.stand_in.set_publish_delay(0.4)
    _tag_through_the_api(gh_world, "demo/v1.1.0")

    assert gh_world.repo.get_workflow_runs()[0].status == "queued"
    assert gh_world.publisher.calls == []
    wait_for(lambda: len(_completed_runs(gh_world)) == 1)
    assert len(gh_world.publisher.calls) == 1


def test_a_failing_publisher_fails_the_run(gh_world: World) -> None:
    gh_world.publisher.fail_with = ReleaseError(ErrorCode.PUBLISH_FAILED, "uv build failed")
    _tag_through_the_api(gh_world, "demo/v1.1.0")

    wait_for(lambda: len(_completed_runs(gh_world)) == 1)

    assert gh_world.repo.get_workflow_runs()[0].conclusion == "failure"
    assert gh_world.admin.snapshot()["workflow_runs"][0]["error"] == "uv build failed"


def test_other_tags_do_not_publish(gh_world: World) -> None:
    _tag_through_the_api(gh_world, "nightly")

    assert gh_world.repo.get_workflow_runs().totalCount == 0


def test_dispatch_mode_publishes_only_on_workflow_dispatch(gh_world: World) -> None:
    gh_world.admin.set_publish("demo", mode="dispatch")
    main = _tag_through_the_api(gh_world, "demo/v1.1.0")
    assert gh_world.repo.get_workflow_runs().totalCount == 0

    workflow = gh_world.repo.get_workflow("release.yml")
    assert workflow.create_dispatch("main", {"tag": "demo/v1.1.0"}) is True

    wait_for(lambda: len(_completed_runs(gh_world)) == 1)
    run = gh_world.repo.get_workflow_runs()[0]
    assert (run.event, run.conclusion) == ("workflow_dispatch", "success")
    assert [(c["tag"], c["sha"]) for c in gh_world.publisher.calls] == [("demo/v1.1.0", main)]
    assert [r.id for r in workflow.get_runs()] == [run.id]


def test_a_repo_without_a_release_workflow(gh_world: World) -> None:
    gh_world.admin.set_publish("demo", mode="none")
    _tag_through_the_api(gh_world, "demo/v1.1.0")

    with pytest.raises(UnknownObjectException):
        gh_world.repo.get_workflow("release.yml")
    assert gh_world.repo.get_workflow_runs().totalCount == 0


def test_environment_approvals_of_a_run(gh_world: World) -> None:
    _tag_through_the_api(gh_world, "demo/v1.1.0")
    run_id = gh_world.repo.get_workflow_runs()[0].id
    path = f"/repos/{OWNER}/demo/actions/runs/{run_id}/approvals"
    _, empty = gh_world.gh.requester.requestJsonAndCheck("GET", path)
    assert empty == []

    gh_world.admin.add_approval(
        "demo", run_id, user="alice", comment="plan ok", environment="release"
    )

    _, reviews = gh_world.gh.requester.requestJsonAndCheck("GET", path)
    assert [(r["state"], r["user"]["login"], r["comment"]) for r in reviews] == [
        ("approved", "alice", "plan ok")
    ]
    assert reviews[0]["environments"][0]["name"] == "release"


def test_approvals_of_an_unknown_run_are_404(gh_world: World) -> None:
    with pytest.raises(UnknownObjectException):
        gh_world.gh.requester.requestJsonAndCheck(
            "GET", f"/repos/{OWNER}/demo/actions/runs/999999/approvals"
        )
