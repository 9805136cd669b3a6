"""The merge-queue half of the GitHub adapter against the stand-in over HTTP: the queue rule,
REST's refusal, and the GraphQL probe, enqueue and dequeue MERGE relies on."""

from __future__ import annotations

import pytest

from release_train.adapters import github_graphql as graphql
from release_train.adapters.github import GitHub, MergeQueueRequired
from release_train.adapters.merge_guards import MergeQueueRule
from release_train.errors import ErrorCode
from tests.integration.sandbox.test_github_adapter import Waits, client, error_of, open_pull
from tests.integration.sandbox.test_github_fixtures import World, gh_world

__all__ = ["gh_world"]


@pytest.fixture
def hub(gh_world: World) -> GitHub:
    return client(gh_world, Waits())


def test_the_queue_rule_is_read_and_rest_refuses_to_merge_there(
    gh_world: World, hub: GitHub
) -> None:
    assert hub.merge_queue("demo", "main") is None
    gh_world.admin.require_merge_queue("demo", "main", merge_method="SQUASH", delay=60.0)
    number, head = open_pull(gh_world, hub)

    assert hub.merge_queue("demo", "main") == MergeQueueRule("SQUASH", 60, 0)
    error = error_of(lambda: hub.merge("demo", number, sha=head, title="t", message=""))
    assert isinstance(error, MergeQueueRequired) and error.code is ErrorCode.MERGE_FAILED
    assert error.message == (
        "#1: Repository rule violations found: Changes must be made through the merge queue"
    )
    assert gh_world.admin.snapshot()["merges"] == []


def test_enqueue_is_seen_by_the_probe_and_the_queue_and_a_dequeue_has_its_reason(
    gh_world: World, hub: GitHub
) -> None:
    gh_world.admin.require_merge_queue("demo", "main", merge_method="SQUASH", delay=60.0)
    number, head = open_pull(gh_world, hub)
    before = graphql.pull_state(hub, "demo", number)
    assert (before.state, before.merged, before.head, before.entry) == ("OPEN", False, head, None)

    entry = graphql.enqueue(hub, "demo", before.id, head)
    again = graphql.enqueue(hub, "demo", before.id, head)  # a retried mutation: the same entry

    assert entry is not None and again == entry
    assert (entry.state, entry.position) == ("QUEUED", 1)
    assert graphql.pull_state(hub, "demo", number).entry == entry
    [queued] = graphql.entries(hub, "demo", "main")
    assert (queued.id, queued.number) == (entry.id, number)

    graphql.dequeue(hub, "demo", before.id)

    after = graphql.pull_state(hub, "demo", number)
    assert (after.state, after.entry) == ("OPEN", None)
    assert after.removal == "The pull request was removed from the queue manually."
    assert graphql.entries(hub, "demo", "main") == []


def test_an_enqueue_of_a_moved_head_is_a_graphql_error(gh_world: World, hub: GitHub) -> None:
    gh_world.admin.require_merge_queue("demo", "main", merge_method="SQUASH", delay=60.0)
    number, _ = open_pull(gh_world, hub)
    state = graphql.pull_state(hub, "demo", number)

    with pytest.raises(graphql.GraphQLError) as raised:
        graphql.enqueue(hub, "demo", state.id, "0" * 40)

    assert raised.value.message == (
        "GraphQL enqueue pull requests: Head branch was modified. Review and try the merge again."
    )
    assert graphql.pull_state(hub, "demo", number).entry is None
