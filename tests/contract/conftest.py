"""Fixtures of the contract tests: GitHub's OpenAPI description, a stand-in, and what it sent.

Responses are observed where PyGithub receives them: a `requests` response hook on the
session of PyGithub's own connection class (installed with PyGithub's public
`Requester.injectConnectionClasses`), so the status and the exact body bytes are checked,
not what PyGithub made of them.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from github import Github
from github.PullRequest import PullRequest
from github.Repository import Repository
from github.Requester import (
    HTTPRequestsConnectionClass,
    HTTPSRequestsConnectionClass,
    Requester,
)
from graphql import GraphQLSchema

from release_train.sandbox.github import GitHubStandIn, SandboxAdmin
from release_train.sandbox.github.graphql_api import PATH as GRAPHQL_PATH
from tests.contract import graphql_schema
from tests.contract.openapi import DESCRIPTIONS, Contract, Verdict
from tests.integration.sandbox.test_github_fixtures import (
    OWNER,
    REPO,
    PublishRecorder,
    build_source,
    make_github,
)


@dataclass(frozen=True)
class Exchange:
    """One response as it came off the wire."""

    method: str
    url: str
    status: int
    body: bytes
    content_type: str | None
    request: bytes = b""  # the request body (a GraphQL exchange is checked by its query)

    @property
    def graphql(self) -> bool:
        return urlsplit(self.url).path == GRAPHQL_PATH


@dataclass
class Recorder:
    """Every response PyGithub received while the recorder was installed, in order."""

    exchanges: list[Exchange] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hook(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        exchange = Exchange(
            method=str(response.request.method),
            url=str(response.request.url),
            status=response.status_code,
            body=response.content,
            content_type=response.headers.get("Content-Type"),
            request=_bytes(response.request.body),
        )
        with self._lock:
            self.exchanges.append(exchange)
        return response


def _bytes(body: object) -> bytes:
    if isinstance(body, str):
        return body.encode()
    return body if isinstance(body, bytes) else b""


def _recording(recorder: Recorder) -> tuple[type[Any], type[Any]]:
    """PyGithub's connection classes, with the recorder hooked into each one's session."""

    class RecordingHttp(HTTPRequestsConnectionClass):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.session.hooks["response"].append(recorder.hook)

    class RecordingHttps(HTTPSRequestsConnectionClass):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.session.hooks["response"].append(recorder.hook)

    return RecordingHttp, RecordingHttps


@pytest.fixture(scope="session")
def contract() -> Contract:
    """Both descriptions, fetched with `npm pack` on the first run and cached after."""
    return Contract.load()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    """Install before any `Github` is made: a requester picks its connection class at birth."""
    recording = Recorder()
    Requester.injectConnectionClasses(*_recording(recording))
    try:
        yield recording
    finally:
        Requester.resetConnectionClasses()


@dataclass
class ContractWorld:
    """A running stand-in hosting `OWNER/REPO`, and PyGithub pointed at it through the recorder."""

    stand_in: GitHubStandIn
    gh: Github
    repo: Repository
    admin: SandboxAdmin
    publisher: PublishRecorder
    recorder: Recorder
    contract: Contract
    # Operations a test checks against some descriptions only (a feature GHES lacks).
    scopes: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def github(self, token: str | None = None) -> Github:
        return make_github(self.stand_in, token)

    def expect(
        self, operation_id: str, status: int, *, only: tuple[str, ...] | None = None
    ) -> list[Verdict]:
        """Every recorded response of `operation_id` conforms, and one of them had `status`."""
        if only is not None:
            self.scopes[operation_id] = only
        return expect(self.contract, self.recorder, operation_id, status, only=only)

    def audit(self) -> list[str]:
        """Drift in any response recorded during the test, whichever operation it answered."""
        return audit(self.contract, self.recorder.exchanges, self.scopes)


def audit(
    contract: Contract, exchanges: list[Exchange], scopes: dict[str, tuple[str, ...]]
) -> list[str]:
    """Each failing verdict, except against descriptions a test scoped its operation out of."""
    drift = []
    for exchange in exchanges:
        if exchange.graphql:  # GitHub's GraphQL schema, not the OpenAPI description, says
            drift += graphql_drift(exchange)
            continue
        verdicts = contract.validate(
            exchange.method, exchange.url, exchange.status, exchange.body, exchange.content_type
        )
        for verdict in verdicts:
            op = verdict.operation.operation_id if verdict.operation else ""
            if not verdict.ok and verdict.description in scopes.get(op, DESCRIPTIONS):
                drift.append(str(verdict))
    return drift


@functools.cache
def _github_graphql_schema() -> GraphQLSchema:
    return graphql_schema.load()


def graphql_drift(exchange: Exchange) -> list[str]:
    """Where one GraphQL answer departs from its query and GitHub's GraphQL schema."""
    sent = json.loads(exchange.request or b"{}")
    query, operation = sent.get("query") or "", sent.get("operationName")
    answer = json.loads(exchange.body or b"{}")
    problems = graphql_schema.response_problems(_github_graphql_schema(), query, answer, operation)
    named = re.search(r"\b(?:query|mutation)\s+(\w+)", query)
    label = operation or (named[1] if named else query[:40])
    return [f"[graphql] {label}: {problem}" for problem in problems]


def expect(
    contract: Contract,
    recorder: Recorder,
    operation_id: str,
    status: int,
    *,
    only: tuple[str, ...] | None = None,
) -> list[Verdict]:
    verdicts = [
        verdict
        for exchange in recorder.exchanges
        for verdict in contract.validate(
            exchange.method,
            exchange.url,
            exchange.status,
            exchange.body,
            exchange.content_type,
            only=only,
        )
        if verdict.operation is not None and verdict.operation.operation_id == operation_id
    ]
    seen = sorted({(v.method, v.path.split("?")[0], v.status) for v in verdicts})
    assert any(v.status == status for v in verdicts), (
        f"no {status} response of {operation_id} was recorded; saw {seen}"
    )
    failures = [str(v) for v in verdicts if not v.ok]
    assert not failures, "drift from GitHub's OpenAPI description:\n" + "\n".join(failures)
    return verdicts


@pytest.fixture
def world(tmp_path: Path, recorder: Recorder, contract: Contract) -> Iterator[ContractWorld]:
    publisher = PublishRecorder()
    stand_in = GitHubStandIn(tmp_path / "world", publisher=publisher)
    stand_in.start()
    try:
        stand_in.add_repo(REPO, build_source(tmp_path / "source"))
        admin = SandboxAdmin(stand_in.admin_url)
        admin.set_ci(REPO, duration=0.2)
        gh = make_github(stand_in)
        repo = gh.get_repo(f"{OWNER}/{REPO}")
        world = ContractWorld(stand_in, gh, repo, admin, publisher, recorder, contract)
        yield world
    finally:
        stand_in.stop()
    drift = world.audit()
    assert not drift, "drift from GitHub's OpenAPI description:\n" + "\n".join(drift)


def branch_with_commit(world: ContractWorld, branch: str, path: str, text: str) -> str:
    """`branch` from main plus one commit that writes `path`, made through the API."""
    repo = world.repo
    repo.create_git_ref(f"refs/heads/{branch}", repo.get_branch("main").commit.sha)
    result = repo.create_file(path, f"feat: {path}", text, branch=branch)
    return str(result["commit"].sha)


def open_pull(world: ContractWorld, branch: str = "release/demo") -> PullRequest:
    branch_with_commit(world, branch, f"{branch.replace('/', '-')}.txt", "change\n")
    return world.repo.create_pull(title="release demo", body="plan", head=branch, base="main")
