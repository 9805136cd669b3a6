"""The stand-in's merge queue, with PyGithub over HTTP: REST refuses, GraphQL enqueues, CI decides.

The GraphQL documents are the engine's own (`adapters/graphql_documents`), sent through
PyGithub's `Requester.graphql_query`, so what is tested here is what MERGE will send.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import requests
from github import GithubException
from github.PullRequest import PullRequest

from release_train.adapters import graphql_documents as docs
from tests.integration.sandbox.test_github_fixtures import (
    OWNER,
    REPO,
    World,
    commit_on_branch,
    gh_world,
    wait_for,
)

__all__ = ["gh_world"]

QUEUE_REQUIRED = "Repository rule violations found\n\nChanges must be made through the merge queue"


def graphql(world: World, query: str, **variables: Any) -> dict[str, Any]:
    """The JSON answer of one GraphQL request; GraphQL errors raise (PyGithub's 400)."""
    _, data = world.gh.requester.graphql_query(query, variables)
    return data


def graphql_errors(world: World, query: str, **variables: Any) -> list[dict[str, Any]]:
    with pytest.raises(GithubException) as caught:
        world.gh.requester.graphql_query(query, variables)
    errors: list[dict[str, Any]] = caught.value.data["errors"]
    return errors


def release_pr(world: World, branch: str = "release/demo") -> tuple[PullRequest, str]:
    head = commit_on_branch(world, branch, {"CHANGELOG.md": "# 1.1.0\n"}, "chore: release 1.1.0")
    pr = world.repo.create_pull(title="release 1.1.0", body="plan", head=branch, base="main")
    return pr, head


def probe(world: World, number: int) -> dict[str, Any]:
    data = graphql(world, docs.PULL_REQUEST, owner=OWNER, name=REPO, number=number)
    found: dict[str, Any] = data["data"]["repository"]["pullRequest"]
    return found


def enqueue(world: World, pr: PullRequest, head: str) -> dict[str, Any]:
    data = graphql(world, docs.ENQUEUE, pullRequestId=pr.node_id, expectedHeadOid=head)
    entry: dict[str, Any] = data["data"]["enqueuePullRequest"]["mergeQueueEntry"]
    return entry


def test_a_queue_branch_refuses_the_rest_merge_with_githubs_message(gh_world: World) -> None:
    gh_world.admin.require_merge_queue(REPO, "main")
    pr, head = release_pr(gh_world)
    with pytest.raises(GithubException) as caught:
        pr.merge(merge_method="squash", sha=head)
    assert (caught.value.status, caught.value.data["message"]) == (405, QUEUE_REQUIRED)
    rules = gh_world.repo._requester.requestJsonAndCheck(
        "GET", f"/repos/{OWNER}/{REPO}/rules/branches/main"
    )[1]
    assert [(r["type"], r["parameters"]["merge_method"]) for r in rules] == [
        ("merge_queue", "SQUASH")
    ]


def test_enqueue_merges_with_the_queues_commit_on_the_branch(gh_world: World) -> None:
    gh_world.admin.require_merge_queue(REPO, "main", delay=0.3)
    main_before = gh_world.repo.get_branch("main").commit.sha
    pr, head = release_pr(gh_world)
    entry = enqueue(gh_world, pr, head)
    assert (entry["state"], entry["position"]) == ("QUEUED", 1)
    state = probe(gh_world, pr.number)
    assert (state["id"], state["isInMergeQueue"], state["mergeQueueEntry"]) == (
        pr.node_id,
        True,
        entry,
    )
    queued = graphql(gh_world, docs.MERGE_QUEUE, owner=OWNER, name=REPO, branch="main", first=10)
    nodes = queued["data"]["repository"]["mergeQueue"]["entries"]["nodes"]
    assert [(n["id"], n["pullRequest"]["number"]) for n in nodes] == [(entry["id"], pr.number)]
    wait_for(lambda: probe(gh_world, pr.number)["merged"], timeout=20)
    state = probe(gh_world, pr.number)
    merge_sha = state["mergeCommit"]["oid"]
    assert (state["state"], state["mergeQueueEntry"], state["isInMergeQueue"]) == (
        "MERGED",
        None,
        False,
    )
    assert gh_world.repo.get_branch("main").commit.sha == merge_sha
    commit = gh_world.repo.get_commit(merge_sha)
    assert [p.sha for p in commit.parents] == [main_before]  # squashed onto the old tip
    assert commit.commit.message == "release 1.1.0 (#1)\n\n* chore: release 1.1.0\n"
    rest = gh_world.repo.get_pull(pr.number)
    assert (rest.merged, rest.state, rest.merge_commit_sha) == (True, "closed", merge_sha)
    snapshot = gh_world.admin.snapshot()
    assert snapshot["merge_queue"] == []
    refs = snapshot["repos"][REPO]["refs"]
    assert not [r for r in refs if r.startswith("refs/heads/gh-readonly-queue/")]
    assert [c["sha"] for c in snapshot["check_runs"]].count(merge_sha) == 1  # merge_group CI


def test_a_failing_merge_group_check_removes_the_entry_with_a_reason(gh_world: World) -> None:
    gh_world.admin.require_merge_queue(REPO, "main")
    pr, head = release_pr(gh_world)
    wait_for(lambda: gh_world.repo.get_commit(head).get_check_runs().totalCount == 1)
    gh_world.admin.set_ci(REPO, failing=["test"])  # the merge group's CI fails, not the PR's
    main_before = gh_world.repo.get_branch("main").commit.sha
    enqueue(gh_world, pr, head)
    wait_for(lambda: probe(gh_world, pr.number)["mergeQueueEntry"] is None, timeout=20)
    state = probe(gh_world, pr.number)
    assert (state["state"], state["merged"]) == ("OPEN", False)
    assert state["timelineItems"]["nodes"][0]["reason"] == (
        'The merge group failed the required status check "test".'
    )
    assert gh_world.repo.get_branch("main").commit.sha == main_before
    refs = gh_world.admin.snapshot()["repos"][REPO]["refs"]
    assert not [r for r in refs if r.startswith("refs/heads/gh-readonly-queue/")]


def test_dequeue_takes_the_pr_out_and_it_stays_open(gh_world: World) -> None:
    gh_world.admin.require_merge_queue(REPO, "main", delay=30)
    pr, head = release_pr(gh_world)
    entry = enqueue(gh_world, pr, head)
    data = graphql(gh_world, docs.DEQUEUE, id=pr.node_id)
    assert data["data"]["dequeuePullRequest"]["mergeQueueEntry"] == entry  # as it was
    state = probe(gh_world, pr.number)
    assert (state["state"], state["mergeQueueEntry"]) == ("OPEN", None)
    assert state["timelineItems"]["nodes"][0]["reason"] == (
        "The pull request was removed from the queue manually."
    )
    errors = graphql_errors(gh_world, docs.DEQUEUE, id=pr.node_id)
    assert [(e["type"], e["path"], e["message"]) for e in errors] == [
        ("UNPROCESSABLE", ["dequeuePullRequest"], "Pull request is not in the merge queue")
    ]


def test_a_wrong_expected_head_is_refused_and_nothing_is_queued(gh_world: World) -> None:
    gh_world.admin.require_merge_queue(REPO, "main")
    pr, _ = release_pr(gh_world)
    stale = gh_world.repo.get_branch("main").commit.sha
    errors = graphql_errors(gh_world, docs.ENQUEUE, pullRequestId=pr.node_id, expectedHeadOid=stale)
    assert [(e["type"], e["path"], e["message"]) for e in errors] == [
        (
            "UNPROCESSABLE",
            ["enqueuePullRequest"],
            "Head branch was modified. Review and try the merge again.",
        )
    ]
    assert probe(gh_world, pr.number)["mergeQueueEntry"] is None


def test_enqueue_without_a_queue_and_unknown_ids_are_graphql_errors(gh_world: World) -> None:
    pr, head = release_pr(gh_world)
    errors = graphql_errors(gh_world, docs.ENQUEUE, pullRequestId=pr.node_id, expectedHeadOid=head)
    assert [(e["type"], e["message"]) for e in errors] == [
        ("UNPROCESSABLE", "Merge queue is not enabled for the branch main")
    ]
    errors = graphql_errors(gh_world, docs.PULL_REQUEST_NODE, id="bm9wZQ")
    assert [(e["type"], e["path"]) for e in errors] == [("NOT_FOUND", ["node"])]
    node = graphql(gh_world, docs.PULL_REQUEST_NODE, id=pr.node_id)["data"]["node"]
    assert (node["__typename"], node["number"], node["headRefOid"]) == ("PullRequest", 1, head)


def test_a_connection_dropped_after_enqueue_leaves_the_entry_queued(gh_world: World) -> None:
    """What a crash test of the engine relies on: the mutation took effect, the answer is lost."""
    gh_world.admin.require_merge_queue(REPO, "main", delay=30)
    pr, head = release_pr(gh_world)
    gh_world.admin.add_fault("drop", count=1, graphql="enqueuePullRequest", phase="after")
    probe(gh_world, pr.number)  # a query is not the mutation: the fault does not fire
    with pytest.raises(requests.exceptions.ConnectionError):
        enqueue(gh_world, pr, head)
    entry = probe(gh_world, pr.number)["mergeQueueEntry"]
    assert (entry["state"], entry["position"]) == ("QUEUED", 1)
    assert enqueue(gh_world, pr, head) == entry  # enqueuing again finds the same entry
    log = [(r["path"], r["fault"]) for r in gh_world.admin.requests() if r["kind"] == "api"]
    assert ("/api/graphql", "drop") in log


def test_entries_merge_in_order_each_on_the_one_before(gh_world: World) -> None:
    gh_world.admin.require_merge_queue(REPO, "main", delay=0.5)
    first, first_head = release_pr(gh_world, "release/one")
    second, second_head = release_pr(gh_world, "release/two")
    assert enqueue(gh_world, first, first_head)["position"] == 1
    assert enqueue(gh_world, second, second_head)["position"] == 2
    wait_for(lambda: probe(gh_world, second.number)["merged"], timeout=30)
    one = probe(gh_world, first.number)["mergeCommit"]["oid"]
    two = probe(gh_world, second.number)["mergeCommit"]["oid"]
    assert [p.sha for p in gh_world.repo.get_commit(two).parents] == [one]
    assert gh_world.repo.get_branch("main").commit.sha == two


def test_a_push_to_the_head_takes_the_pr_out_of_the_queue(gh_world: World) -> None:
    gh_world.admin.require_merge_queue(REPO, "main", delay=30)
    pr, head = release_pr(gh_world)
    enqueue(gh_world, pr, head)
    commit_on_branch(gh_world, "release/demo", {"CHANGELOG.md": "# 1.1.1\n"}, "fix: late")
    state = probe(gh_world, pr.number)
    assert (state["state"], state["mergeQueueEntry"]) == ("OPEN", None)
    assert state["timelineItems"]["nodes"][0]["reason"] == (
        "The pull request's head branch was updated."
    )


def test_a_restarted_stand_in_finishes_its_queue(gh_world: World) -> None:
    gh_world.admin.require_merge_queue(REPO, "main")
    gh_world.admin.set_ci(REPO, duration=1.0)
    pr, head = release_pr(gh_world)
    enqueue(gh_world, pr, head)
    wait_for(lambda: probe(gh_world, pr.number)["mergeQueueEntry"]["state"] == "AWAITING_CHECKS")
    gh_world.stand_in.stop()
    gh_world.stand_in.start()
    world = replace(gh_world, gh=gh_world.github(), admin=gh_world.stand_in.admin())
    wait_for(lambda: probe(world, pr.number)["merged"], timeout=20)
    assert world.gh.get_repo(f"{OWNER}/{REPO}").get_pull(pr.number).merged


def test_graphql_past_the_rate_limit_answers_rate_limited(gh_world: World) -> None:
    pr, _ = release_pr(gh_world)
    gh_world.admin.set_rate_limit(0)
    errors = graphql_errors(gh_world, docs.PULL_REQUEST_NODE, id=pr.node_id)
    gh_world.admin.set_rate_limit(5000)
    assert errors == [
        {"type": "RATE_LIMITED", "message": "API rate limit exceeded for release-train-bot."}
    ]


def test_a_branch_moved_under_the_queue_gets_a_new_merge_group(gh_world: World) -> None:
    gh_world.admin.require_merge_queue(REPO, "main")
    gh_world.admin.set_ci(REPO, duration=3.0)  # time to push before it merges
    pr, head = release_pr(gh_world)
    enqueue(gh_world, pr, head)
    wait_for(lambda: probe(gh_world, pr.number)["mergeQueueEntry"]["state"] == "AWAITING_CHECKS")
    moved = commit_on_branch(gh_world, "main", {"NOTES.md": "notes\n"}, "docs: notes")
    wait_for(lambda: probe(gh_world, pr.number)["merged"], timeout=30)
    merge_sha = probe(gh_world, pr.number)["mergeCommit"]["oid"]
    assert [p.sha for p in gh_world.repo.get_commit(merge_sha).parents] == [moved]
    assert gh_world.repo.get_branch("main").commit.sha == merge_sha


def test_dequeue_takes_the_entrys_id_as_well_as_the_prs(gh_world: World) -> None:
    gh_world.admin.require_merge_queue(REPO, "main", delay=30)
    pr, head = release_pr(gh_world)
    entry = enqueue(gh_world, pr, head)
    data = graphql(gh_world, docs.DEQUEUE, id=entry["id"])
    assert data["data"]["dequeuePullRequest"]["mergeQueueEntry"]["id"] == entry["id"]
    assert probe(gh_world, pr.number)["mergeQueueEntry"] is None
