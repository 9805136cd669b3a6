"""GitHub's merge queue over GraphQL: a PR's queue state, enqueue, dequeue, the queue's entries.

REST has no merge-queue endpoints, so MERGE speaks GraphQL on a queue branch. Every request
goes through the same counted, bounded retry loop as the REST calls (`retry.py`): PyGithub's
`graphql_query` raises on any error status, which would hide the status that loop judges
(rate limits, 5xx), so the POST to the requester's `graphql_url` is sent as a plain JSON
request and GraphQL's own `errors` are read here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from release_train.adapters import graphql_documents as documents
from release_train.adapters.github import GitHub
from release_train.adapters.retry import Call
from release_train.errors import ErrorCode, ReleaseError

QUEUE_PAGE = 100  # entries read of one queue: MERGE only asks whether any is ahead


@dataclass(frozen=True)
class QueueEntry:
    """A PR's place in a merge queue: `state` is GitHub's MergeQueueEntryState."""

    id: str
    state: str  # QUEUED, AWAITING_CHECKS, MERGEABLE, UNMERGEABLE, LOCKED
    position: int
    number: int | None = None  # the PR's number, where the query asked for it


@dataclass(frozen=True)
class QueueState:
    """What MERGE decides on: the PR's node id, whether it merged (and into what), its head,
    and its queue entry if it has one."""

    id: str
    state: str  # OPEN, CLOSED, MERGED
    merged: bool
    merge_commit: str | None
    head: str
    entry: QueueEntry | None
    removal: str | None = None  # the reason of the PR's latest removal from the queue


class GraphQLError(ReleaseError):
    """GitHub answered, with GraphQL `errors` instead of (or beside) the data."""


def query(
    github: GitHub, repo: str, document: str, variables: Mapping[str, Any], action: str
) -> Any:
    """The `data` of one GraphQL request; GraphQLError when GitHub answered with `errors`."""
    api = github.api
    call = Call("POST", api.requester.graphql_url, action, repo=repo)
    answer = api.call(call, body={"query": document, "variables": dict(variables)})
    data = answer.data if isinstance(answer.data, dict) else {}
    errors = data.get("errors") or []
    if errors:
        said = "; ".join(str(e.get("message") or e) for e in errors if isinstance(e, dict))
        raise GraphQLError(
            ErrorCode.GITHUB_ERROR,
            f"GraphQL {action}: {said or errors}",
            repo=repo,
            hint="GitHub refused the request; its message says why, then resume",
        )
    return data.get("data") or {}


def pull_state(github: GitHub, repo: str, number: int) -> QueueState:
    variables = {"owner": github.owner, "name": repo, "number": number}
    data = query(github, repo, documents.PULL_REQUEST_QUEUE_STATE, variables, "read pull requests")
    pull = (data.get("repository") or {}).get("pullRequest")
    if not pull:
        raise ReleaseError(
            ErrorCode.PR_FAILED,
            f"no pull request #{number}",
            repo=repo,
            hint="the run's PR is gone from GitHub: check the repo, then resume",
        )
    merge_commit = pull.get("mergeCommit") or {}
    merged = bool(pull.get("merged"))
    return QueueState(
        id=str(pull["id"]),
        state=str(pull["state"]),
        merged=merged,
        merge_commit=str(merge_commit["oid"]) if merged and merge_commit.get("oid") else None,
        head=str(pull["headRefOid"]),
        entry=_entry(pull.get("mergeQueueEntry")),
        removal=_removal(pull.get("timelineItems")),
    )


def enqueue(github: GitHub, repo: str, pull_id: str, expected_head: str) -> QueueEntry | None:
    """Add the PR to its base's merge queue only while its head is `expected_head`."""
    variables = {"pullRequestId": pull_id, "expectedHeadOid": expected_head}
    data = query(github, repo, documents.ENQUEUE_PULL_REQUEST, variables, "enqueue pull requests")
    return _entry((data.get("enqueuePullRequest") or {}).get("mergeQueueEntry"))


def dequeue(github: GitHub, repo: str, pull_id: str) -> None:
    query(github, repo, documents.DEQUEUE_PULL_REQUEST, {"id": pull_id}, "dequeue pull requests")


def entries(github: GitHub, repo: str, branch: str) -> list[QueueEntry]:
    """The entries of `branch`'s merge queue, front first; none when it has no queue."""
    variables = {"owner": github.owner, "name": repo, "branch": branch, "first": QUEUE_PAGE}
    data = query(github, repo, documents.MERGE_QUEUE_ENTRIES, variables, "read merge queues")
    queue = (data.get("repository") or {}).get("mergeQueue") or {}
    nodes = (queue.get("entries") or {}).get("nodes") or []
    found = [entry for entry in map(_entry, nodes) if entry is not None]
    return sorted(found, key=lambda e: e.position)


def _removal(timeline: Mapping[str, Any] | None) -> str | None:
    """The reason of the latest `RemovedFromMergeQueueEvent`, if GitHub gave one."""
    nodes = (timeline or {}).get("nodes") or []
    reasons = [str(node["reason"]) for node in nodes if node and node.get("reason")]
    return reasons[-1] if reasons else None


def _entry(data: Mapping[str, Any] | None) -> QueueEntry | None:
    if not data:
        return None
    pull = data.get("pullRequest") or {}
    number = pull.get("number")
    return QueueEntry(
        id=str(data["id"]),
        state=str(data["state"]),
        position=int(data.get("position") or 0),
        number=int(number) if number is not None else None,
    )
