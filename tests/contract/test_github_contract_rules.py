"""The operations MERGE's guards use, driven through PyGithub and checked against the spec:
branch protection, the rules of a branch, and comparing two commits."""

from __future__ import annotations

import pytest
from github import GithubException

from tests.contract.conftest import ContractWorld, branch_with_commit


def test_repos_get_branch_protection(world: ContractWorld) -> None:
    world.admin.set_ci("demo", required=["test"])
    protection = world.repo.get_branch("main").get_protection()
    assert protection.required_status_checks.contexts == ["test"]
    world.expect("repos/get-branch-protection", 200)


def test_repos_get_branch_protection_404_not_protected(world: ContractWorld) -> None:
    with pytest.raises(GithubException) as raised:
        world.repo.get_branch("main").get_protection()
    assert raised.value.status == 404
    world.expect("repos/get-branch-protection", 404)


def test_repos_get_branch_protection_403_unreadable(world: ContractWorld) -> None:
    world.admin.set_ci("demo", required=["test"], protection_readable=False)
    with pytest.raises(GithubException) as raised:
        world.repo.get_branch("main").get_protection()
    assert raised.value.status == 403
    verdicts = world.expect("repos/get-branch-protection", 403)
    assert {v.response for v in verdicts if v.status == 403} == {"api-wide:forbidden"}


@pytest.mark.parametrize("ruleset", [["build", "test"], []], ids=["with-checks", "no-rules"])
def test_repos_get_branch_rules(world: ContractWorld, ruleset: list[str]) -> None:
    world.admin.set_ci("demo", ruleset=ruleset)
    # PyGithub has no method for this endpoint; the adapter calls it the same way.
    _, data = world.gh.requester.requestJsonAndCheck("GET", f"{world.repo.url}/rules/branches/main")
    found = [c["context"] for r in data for c in r["parameters"]["required_status_checks"]]
    assert found == ruleset
    world.expect("repos/get-branch-rules", 200)


def test_repos_compare_commits_with_basehead(world: ContractWorld) -> None:
    base = world.repo.get_branch("main").commit.sha
    head = branch_with_commit(world, "moved", "moved.txt", "moved\n")
    comparison = world.repo.compare(base, head)
    assert (comparison.status, comparison.ahead_by, comparison.behind_by) == ("ahead", 1, 0)
    assert [c.sha for c in comparison.commits] == [head]
    world.expect("repos/compare-commits", 200)
