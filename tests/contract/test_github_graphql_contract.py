"""The stand-in's GraphQL API against GitHub's public schema (`@octokit/graphql-schema`).

Three checks keep the stand-in from drifting: each document the engine sends
(`adapters/graphql_documents.DOCUMENTS`) is valid against GitHub's schema; the stand-in's
own schema is a part of GitHub's (same names, same types); and every answer the stand-in
gave while the queue ran has the shape the asking document and GitHub's types demand.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import requests
from github import GithubException
from github.PullRequest import PullRequest
from github.Requester import HTTPRequestsConnectionClass, HTTPSRequestsConnectionClass, Requester
from graphql import GraphQLSchema, build_schema

from release_train.adapters import graphql_documents as docs
from release_train.errors import ReleaseError
from release_train.sandbox.github.graphql_schema import SDL
from tests.contract import graphql_schema
from tests.contract.conftest import ContractWorld, graphql_drift, open_pull
from tests.integration.sandbox.test_github_fixtures import (
    OWNER,
    REPO,
    World,
    commit_on_branch,
    gh_world,
    wait_for,
)

__all__ = ["gh_world"]


@pytest.fixture(scope="session")
def github_schema() -> GraphQLSchema:
    """GitHub's schema: cached, or fetched with npm once (skipped where that cannot be)."""
    if not graphql_schema.cache_file().is_file() and shutil.which("npm") is None:
        pytest.skip("GitHub's GraphQL schema is not cached and npm is not installed")
    try:
        return graphql_schema.load()
    except ReleaseError as exc:
        if graphql_schema.cache_file().is_file():
            raise
        pytest.skip(f"the npm registry is unreachable, so GitHub's schema is not cached: {exc}")


@dataclass
class GraphqlLog:
    """Each GraphQL request PyGithub sent, with the answer it received, in order."""

    exchanges: list[tuple[dict[str, Any], int, dict[str, Any]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hook(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        body = response.request.body
        if str(response.request.url).endswith("/api/graphql") and isinstance(body, bytes | str):
            sent = json.loads(body)
            with self._lock:
                self.exchanges.append((sent, response.status_code, response.json()))
        return response


@pytest.fixture
def graphql_log() -> Iterator[GraphqlLog]:
    """Install before any `Github` is made: a requester picks its connection class at birth."""
    log = GraphqlLog()

    class Http(HTTPRequestsConnectionClass):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.session.hooks["response"].append(log.hook)

    class Https(HTTPSRequestsConnectionClass):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.session.hooks["response"].append(log.hook)

    Requester.injectConnectionClasses(Http, Https)
    try:
        yield log
    finally:
        Requester.resetConnectionClasses()


@pytest.mark.parametrize("name", sorted(docs.DOCUMENTS))
def test_each_engine_document_is_valid_against_githubs_schema(
    github_schema: GraphQLSchema, name: str
) -> None:
    assert graphql_schema.document_problems(github_schema, docs.DOCUMENTS[name]) == []
    assert graphql_schema.document_problems(build_schema(SDL), docs.DOCUMENTS[name]) == []


def test_the_stand_ins_schema_is_a_part_of_githubs(github_schema: GraphQLSchema) -> None:
    assert graphql_schema.subset_problems(github_schema, build_schema(SDL)) == []


def test_the_check_catches_drift(github_schema: GraphQLSchema) -> None:
    """The checks themselves can fail: a retyped field, a missing one, a wrong enum value."""
    drifted = build_schema(SDL.replace("position: Int!", "position: String!"))
    assert graphql_schema.subset_problems(github_schema, drifted) == [
        "MergeQueueEntry.position: String!, GitHub's is Int!"
    ]
    answer = {"data": {"dequeuePullRequest": {"mergeQueueEntry": {"id": "x", "state": "DONE"}}}}
    assert graphql_schema.response_problems(github_schema, docs.DEQUEUE, answer) == [
        "data.dequeuePullRequest.mergeQueueEntry.position: missing",
        "data.dequeuePullRequest.mergeQueueEntry.state: 'DONE' is not a MergeQueueEntryState",
    ]
    assert graphql_schema.document_problems(github_schema, "{ viewer { mergeQueue } }") == [
        "Cannot query field 'mergeQueue' on type 'User'."
    ]


def _pr(world: World, branch: str, text: str) -> tuple[PullRequest, str]:
    head = commit_on_branch(world, branch, {f"{branch.replace('/', '-')}.md": text}, "chore: x")
    pr = world.repo.create_pull(title=f"release {branch}", body="plan", head=branch, base="main")
    return pr, head


def _run_the_queue(world: World) -> None:
    """Every document, and the answers a merge, a removal and the errors bring."""
    gh = world.github()
    query = gh.requester.graphql_query
    world.admin.require_merge_queue(REPO, "main", delay=0.2)
    merged, merged_head = _pr(world, "release/one", "one\n")
    query(docs.ENQUEUE, {"pullRequestId": merged.node_id, "expectedHeadOid": merged_head})
    query(docs.MERGE_QUEUE, {"owner": OWNER, "name": REPO, "branch": "main", "first": 5})
    query(docs.PULL_REQUEST_NODE, {"id": merged.node_id})

    def probe(number: int) -> dict[str, Any]:
        _, data = query(docs.PULL_REQUEST, {"owner": OWNER, "name": REPO, "number": number})
        found: dict[str, Any] = data["data"]["repository"]["pullRequest"]
        return found

    wait_for(lambda: probe(merged.number)["merged"], timeout=20)
    query(docs.PULL_REQUEST_NODE, {"id": merged.node_id})
    world.admin.set_ci(REPO, failing=["test"])
    removed, removed_head = _pr(world, "release/two", "two\n")
    query(docs.ENQUEUE, {"pullRequestId": removed.node_id, "expectedHeadOid": removed_head})
    wait_for(lambda: probe(removed.number)["timelineItems"]["nodes"] != [], timeout=20)
    for document, variables in (
        (docs.DEQUEUE, {"id": removed.node_id}),  # not in the queue any more
        (docs.ENQUEUE, {"pullRequestId": removed.node_id, "expectedHeadOid": "0" * 40}),
        (docs.PULL_REQUEST_NODE, {"id": "bm9wZQ"}),
        (docs.PULL_REQUEST, {"owner": OWNER, "name": REPO, "number": 99}),
    ):
        with pytest.raises(GithubException):  # PyGithub: 400, or 404 for a lone NOT_FOUND
            query(document, variables)
    world.admin.set_ci(REPO, failing=[])
    dequeued, dequeued_head = _pr(world, "release/three", "three\n")
    world.admin.require_merge_queue(REPO, "main", delay=30)
    query(docs.ENQUEUE, {"pullRequestId": dequeued.node_id, "expectedHeadOid": dequeued_head})
    query(docs.DEQUEUE, {"id": dequeued.node_id})


def test_every_answer_of_the_stand_in_conforms_to_githubs_schema(
    github_schema: GraphQLSchema, graphql_log: GraphqlLog, tmp_path: Path, gh_world: World
) -> None:
    _run_the_queue(gh_world)
    sent = {request["query"] for request, _, _ in graphql_log.exchanges}
    assert sent == set(docs.DOCUMENTS.values())  # each document was exercised
    assert {status for _, status, _ in graphql_log.exchanges} == {200}
    errors = [answer for _, _, answer in graphql_log.exchanges if "errors" in answer]
    assert [e["type"] for answer in errors for e in answer["errors"]] == [
        "UNPROCESSABLE",
        "UNPROCESSABLE",
        "NOT_FOUND",
        "NOT_FOUND",
    ]
    drift = [
        f"{request.get('operationName') or request['query'][:40]}: {problem}"
        for request, _, answer in graphql_log.exchanges
        for problem in graphql_schema.response_problems(github_schema, request["query"], answer)
    ]
    assert drift == []


def test_the_contract_world_audits_its_graphql_exchanges(world: ContractWorld) -> None:
    """Any contract test that sends GraphQL has its answers checked too (`conftest.audit`)."""
    world.admin.require_merge_queue(REPO, "main", delay=30)
    pr = open_pull(world)
    variables = {"pullRequestId": pr.node_id, "expectedHeadOid": pr.head.sha}
    world.gh.requester.graphql_query(docs.ENQUEUE, variables)
    sent = [e for e in world.recorder.exchanges if e.graphql]
    assert [graphql_drift(e) for e in sent] == [[]]
    drifted = replace(sent[0], body=sent[0].body.replace(b'"QUEUED"', b'"DONE"'))
    assert graphql_drift(drifted) == [
        "[graphql] EnqueuePullRequest: data.enqueuePullRequest.mergeQueueEntry.state: "
        "'DONE' is not a MergeQueueEntryState"
    ]
