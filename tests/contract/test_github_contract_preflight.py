"""The preflight's reads (repo permissions, branch rules) through our adapter, against the spec."""

from __future__ import annotations

from release_train.adapters.github import GitHub
from release_train.adapters.github_access import branch_rules, repo_access
from tests.contract.conftest import ContractWorld
from tests.integration.sandbox.test_github_fixtures import OWNER, REPO
from tests.integration.sandbox.test_preflight_access import MERGE_QUEUE, REQUIRED_CHECKS, REVIEWS


def _adapter(world: ContractWorld, token: str | None = None) -> GitHub:
    return GitHub(world.stand_in.api_url, token or world.stand_in.token, OWNER, attempts=1)


def test_repos_get_permissions_of_a_read_only_token(world: ContractWorld) -> None:
    reader = _adapter(world, world.stand_in.make_token(read_only=True))
    access = repo_access(reader, REPO)
    assert access.permissions == {
        "admin": False,
        "maintain": False,
        "push": False,
        "triage": False,
        "pull": True,
    }
    world.expect("repos/get", 200)


def test_repos_get_branch_rules(world: ContractWorld) -> None:
    world.admin.set_rules(REPO, [MERGE_QUEUE, REQUIRED_CHECKS, REVIEWS, {"type": "deletion"}])
    rules = branch_rules(_adapter(world), REPO, "main")
    assert rules.merge_queue and rules.required_checks == ("lint", "tests")
    world.expect("repos/get-branch-rules", 200)
    world.expect("repos/get-branch", 200)


def test_repos_get_branch_rules_empty(world: ContractWorld) -> None:
    assert branch_rules(_adapter(world), REPO, "main").required_checks == ()
    world.expect("repos/get-branch-rules", 200)
