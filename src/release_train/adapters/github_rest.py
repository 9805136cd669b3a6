"""GitHub's REST API for one owner: the counted, retried transport and the repository call.

The base of the adapter (`github.py`, `github_publishing.py`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any
from urllib.parse import quote

from github import Auth, Github
from github.Repository import Repository

from release_train.adapters.retry import Answer, Api, Call, Retry
from release_train.errors import ErrorCode, ReleaseError


class RestClient:
    """One owner's repositories through PyGithub's requester, each call retried within bounds.

    PyGithub's own pacing and urllib3 retries are off: this class retries (see `retry.py`)
    so that every retry is counted in `requests` and every create can verify "already
    exists" against what it meant to create (DESIGN: "Retries are not free").
    """

    def __init__(
        self,
        api_url: str,
        token: str,
        owner: str,
        *,
        attempts: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if attempts < 1:
            raise ReleaseError(
                ErrorCode.USAGE,
                f"attempts must be at least 1, not {attempts}",
                hint="give 1 or more attempts",
            )
        self._gh = Github(
            base_url=api_url.rstrip("/"),
            auth=Auth.Token(token),
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=None,
            timeout=30,
            lazy=True,  # `repository()` objects fetch nothing until an attribute needs it
        )
        self._api = Api(self._gh.requester, Retry(attempts, backoff, max_backoff, sleep))
        self.owner = owner
        self._lock = threading.Lock()
        self._repos: dict[str, Repository] = {}

    @property
    def retry(self) -> Retry:
        """The retry policy of this adapter's calls, for others that call GitHub (the store)."""
        return self._api.retry

    @property
    def api(self) -> Api:
        """The counted, retried transport, for the GraphQL calls (`github_graphql.py`)."""
        return self._api

    @property
    def requests(self) -> int:
        """HTTP requests this adapter's calls made, retries included (not `repository()`'s)."""
        return self._api.count

    def repository(self, repo: str) -> Repository:
        """PyGithub's lazy repository object (no request until an attribute needs one)."""
        with self._lock:
            if repo not in self._repos:
                self._repos[repo] = self._gh.get_repo(f"{self.owner}/{repo}")
            return self._repos[repo]

    def repo_call(
        self,
        method: str,
        repo: str,
        sub: str,
        action: str,
        expect: Collection[int] = (),
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        replay: bool = True,
    ) -> Answer:
        """One API call under `/repos/{owner}/{repo}`; statuses in `expect` come back.

        The adapter's one way to a repository's endpoints, with its retries, error codes
        and redaction: what reads a few facts no step needs (preflight's access checks,
        `init`) call it instead of a method of their own.
        """
        path = f"/repos/{seg(self.owner)}/{seg(repo)}{sub}"
        call = Call(method, path, action, repo=repo, expect=expect, replay=replay)
        return self._api.call(call, params=params, body=body)

    def repo_read(
        self,
        repo: str,
        sub: str,
        action: str,
        missing: ReleaseError,
        *,
        params: Mapping[str, str] | None = None,
    ) -> Answer:
        """GET `sub` of `repo`, raising `missing` when GitHub answers 404."""
        answer = self.repo_call("GET", repo, sub, action, (404,), params=params)
        if answer.status == 404:
            raise missing
        return answer

    def _pages(self, repo: str, sub: str, key: str, params: Mapping[str, str]) -> list[Any]:
        path = f"/repos/{seg(self.owner)}/{seg(repo)}{sub}"
        return self._api.pages(Call("GET", path, "read checks", repo=repo), key, params)


def seg(text: str) -> str:
    """A path segment (or a ref name with its slashes), percent-encoded."""
    return quote(text, safe="/")
