"""Access errors through PyGithub, checked against the spec: 401, read-only 403, rate limits.

GitHub lists 401 and 403 under few operations and documents them once for the whole API;
these tests also pin down which of the two descriptions' responses each answer matched.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from github import GithubException

from tests.contract.conftest import ContractWorld, branch_with_commit
from tests.integration.sandbox.test_github_fixtures import OWNER, REPO

FULL_NAME = f"{OWNER}/{REPO}"


# Rate limits, authentication and permissions.


def test_rate_limit_get(world: ContractWorld) -> None:
    limits = world.gh.get_rate_limit()
    assert limits.resources.core.limit == 5000 and limits.resources.core.remaining > 0
    world.expect("rate-limit/get", 200)


def test_repos_get_401_bad_credentials(world: ContractWorld) -> None:
    with pytest.raises(GithubException) as raised:
        world.github("ghs_not_a_token").get_repo(FULL_NAME)
    assert raised.value.status == 401
    # `repos/get` does not list 401: GitHub documents it once, for every operation.
    verdicts = world.expect("repos/get", 401)
    assert {v.response for v in verdicts if v.status == 401} == {"api-wide:requires_authentication"}


def test_pulls_create_403_read_only_token(world: ContractWorld) -> None:
    branch_with_commit(world, "feature", "a.txt", "a\n")
    reader = world.github(world.stand_in.make_token(read_only=True)).get_repo(FULL_NAME)
    with pytest.raises(GithubException) as raised:
        reader.create_pull(title="nope", body="", head="feature", base="main")
    assert raised.value.status == 403
    verdicts = world.expect("pulls/create", 403)
    assert {v.response for v in verdicts if v.status == 403} == {"403"}


def test_git_create_ref_403_read_only_token(world: ContractWorld) -> None:
    sha = world.repo.get_branch("main").commit.sha
    reader = world.github(world.stand_in.make_token(read_only=True)).get_repo(FULL_NAME)
    with pytest.raises(GithubException) as raised:
        reader.create_git_ref("refs/heads/nope", sha)
    assert raised.value.status == 403
    verdicts = world.expect("git/create-ref", 403)
    assert {v.response for v in verdicts if v.status == 403} == {"api-wide:forbidden"}


def test_git_create_ref_403_secondary_rate_limit(world: ContractWorld) -> None:
    sha = world.repo.get_branch("main").commit.sha
    world.admin.add_fault("secondary_rate_limit", count=1, method="POST", retry_after=1)
    started = time.monotonic()
    with pytest.raises(GithubException) as raised:
        world.repo.create_git_ref("refs/heads/limited", sha)
    assert raised.value.status == 403 and time.monotonic() - started < 5
    assert "secondary rate limit" in raised.value.data["message"]
    verdicts = world.expect("git/create-ref", 403)
    assert {v.response for v in verdicts if v.status == 403} == {"api-wide:forbidden"}


def test_the_recorder_sees_every_api_response_the_stand_in_sent(world: ContractWorld) -> None:
    world.repo.get_branch("main")
    world.gh.get_rate_limit()
    logged = [(e["method"], e["path"], e["status"]) for e in world.admin.requests()]
    recorded = [(e.method, urlsplit(e.url).path, e.status) for e in world.recorder.exchanges]
    assert recorded == [entry for entry in logged if entry[1].startswith("/api/v3/")]
