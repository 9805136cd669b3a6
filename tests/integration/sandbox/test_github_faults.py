"""Injected faults on the GitHub stand-in as PyGithub sees them: 5xx, limits, drops, latency."""

from __future__ import annotations

import time

import pytest
import requests
from github import GithubException, GithubRetry

from tests.integration.sandbox.test_github_fixtures import OWNER, World, gh_world

__all__ = ["gh_world"]

REPO_PATH = f"/api/v3/repos/{OWNER}/demo"


def test_a_5xx_for_the_next_request_only(gh_world: World) -> None:
    gh_world.admin.add_fault("error", count=1, status=502, path_prefix=REPO_PATH)
    gh = gh_world.github()

    with pytest.raises(GithubException) as raised:
        gh.get_repo(f"{OWNER}/demo")

    assert raised.value.status == 502
    assert gh.get_repo(f"{OWNER}/demo").name == "demo"
    faults = [
        (r["status"], r["fault"]) for r in gh_world.admin.requests() if r["path"] == REPO_PATH
    ]
    assert faults[-2:] == [(502, "error"), (200, None)]


def test_a_secondary_rate_limit_answers_403_with_retry_after(gh_world: World) -> None:
    gh_world.admin.add_fault("secondary_rate_limit", count=1, retry_after=7, method="POST")
    main = gh_world.repo.get_branch("main").commit.sha

    with pytest.raises(GithubException) as raised:
        gh_world.repo.create_git_ref("refs/heads/limited", main)

    assert raised.value.status == 403
    assert raised.value.data["message"].startswith("You have exceeded a secondary rate limit")
    assert raised.value.headers is not None and raised.value.headers["retry-after"] == "7"
    assert "refs/heads/limited" not in gh_world.admin.snapshot()["repos"]["demo"]["refs"]


def test_pygithub_retry_waits_out_a_secondary_rate_limit(gh_world: World) -> None:
    gh_world.admin.add_fault("secondary_rate_limit", count=1, retry_after=1, path_prefix=REPO_PATH)
    gh = gh_world.github(retry=GithubRetry(total=2, backoff_factor=0))

    started = time.monotonic()
    assert gh.get_repo(f"{OWNER}/demo").name == "demo"

    assert time.monotonic() - started >= 0.9
    statuses = [r["status"] for r in gh_world.admin.requests() if r["path"] == REPO_PATH]
    assert statuses[-2:] == [403, 200]


def test_a_dropped_connection_before_the_effect(gh_world: World) -> None:
    gh_world.admin.add_fault("drop", count=1, path_prefix=REPO_PATH)
    gh = gh_world.github()

    with pytest.raises(requests.exceptions.ConnectionError):
        gh.get_repo(f"{OWNER}/demo")

    assert gh.get_repo(f"{OWNER}/demo").name == "demo"
    assert [r["fault"] for r in gh_world.admin.requests() if r["path"] == REPO_PATH][-2:] == [
        "drop",
        None,
    ]


def test_a_dropped_connection_after_the_effect_leaves_it_done(gh_world: World) -> None:
    main = gh_world.repo.get_branch("main").commit.sha
    gh_world.admin.add_fault("drop", count=1, method="POST", phase="after")

    with pytest.raises(requests.exceptions.ConnectionError):
        gh_world.repo.create_git_ref("refs/heads/ghost", main)

    assert gh_world.admin.snapshot()["repos"]["demo"]["branches"]["ghost"] == main
    with pytest.raises(GithubException) as retried:
        gh_world.repo.create_git_ref("refs/heads/ghost", main)
    assert (retried.value.status, retried.value.data["message"]) == (
        422,
        "Reference already exists",
    )


def test_faults_at_a_rate_replay_with_the_same_seed(gh_world: World) -> None:
    def pattern() -> list[int]:
        gh_world.admin.clear_faults()
        gh_world.admin.add_fault("error", rate=0.5, status=503, path_prefix=REPO_PATH, seed=7)
        gh = gh_world.github()
        seen = []
        for _ in range(12):
            try:
                gh.get_repo(f"{OWNER}/demo")
                seen.append(200)
            except GithubException as exc:
                seen.append(exc.status)
        return seen

    first, second = pattern(), pattern()

    assert first == second
    assert set(first) == {200, 503}


def test_latency_slows_matching_requests(gh_world: World) -> None:
    gh_world.admin.add_fault("latency", count=1, latency=0.3, path_prefix=REPO_PATH)
    gh = gh_world.github()

    started = time.monotonic()
    gh.get_repo(f"{OWNER}/demo")

    assert time.monotonic() - started >= 0.3
    assert gh_world.admin.faults() == []  # a `count` rule is gone once spent
