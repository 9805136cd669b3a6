"""API-mode preflight against the GitHub stand-in over HTTP: the token, and the branch rules."""

from __future__ import annotations

from typing import Any

from release_train.adapters.github import GitHub
from release_train.adapters.github_access import branch_rules, repo_access
from release_train.config import parse_config
from release_train.core.problems import Severity
from release_train.errors import ErrorCode
from release_train.preflight_access import repo_problems
from tests.integration.sandbox.test_github_fixtures import OWNER, REPO, World, gh_world

__all__ = ["gh_world"]

MERGE_QUEUE: dict[str, Any] = {
    "type": "merge_queue",
    "parameters": {
        "check_response_timeout_minutes": 60,
        "grouping_strategy": "ALLGREEN",
        "max_entries_to_build": 5,
        "max_entries_to_merge": 5,
        "merge_method": "SQUASH",
        "min_entries_to_merge": 1,
        "min_entries_to_merge_wait_minutes": 5,
    },
}
REQUIRED_CHECKS: dict[str, Any] = {
    "type": "required_status_checks",
    "parameters": {
        "required_status_checks": [{"context": "tests"}, {"context": "lint"}],
        "strict_required_status_checks_policy": False,
    },
}
REVIEWS: dict[str, Any] = {
    "type": "pull_request",
    "parameters": {
        "dismiss_stale_reviews_on_push": False,
        "require_code_owner_review": False,
        "require_last_push_approval": False,
        "required_approving_review_count": 2,
        "required_review_thread_resolution": False,
    },
}
CONFIG = parse_config({"owner": OWNER, "repos": {REPO: {}}}, "test")


def adapter(world: World, token: str | None = None) -> GitHub:
    return GitHub(world.stand_in.api_url, token or world.stand_in.token, OWNER, attempts=1)


def codes(problems: list[Any]) -> list[tuple[str, str]]:
    return [(str(p.code), str(p.severity)) for p in problems]


def test_a_writable_token_on_an_unruled_branch_has_no_problem(gh_world: World) -> None:
    access = repo_access(adapter(gh_world), REPO)
    assert access.found and access.can_push is True and not access.archived
    assert repo_problems(adapter(gh_world), CONFIG, REPO) == []


def test_a_read_only_token_is_permission_denied(gh_world: World) -> None:
    reader = adapter(gh_world, gh_world.stand_in.make_token(read_only=True))
    assert repo_access(reader, REPO).can_push is False
    problems = repo_problems(reader, CONFIG, REPO)
    assert codes(problems) == [("PERMISSION_DENIED", "error")]
    assert "cannot push to OmniNode-ai/demo (it may: pull)" in problems[0].message


def test_a_repo_the_token_cannot_see_is_named(gh_world: World) -> None:
    config = parse_config({"owner": OWNER, "repos": {"ghost": {}}}, "test")
    problems = repo_problems(adapter(gh_world), config, "ghost")
    assert codes(problems) == [("REPO_NOT_FOUND", "error")]


def test_a_missing_release_branch_is_an_error(gh_world: World) -> None:
    config = parse_config({"owner": OWNER, "branch": "trunk", "repos": {REPO: {}}}, "test")
    problems = repo_problems(adapter(gh_world), config, REPO)
    assert codes(problems) == [("BRANCH_RULES", "error")]
    assert "trunk does not exist" in problems[0].message


def test_rulesets_shape_merge(gh_world: World) -> None:
    gh_world.admin.set_rules(REPO, [MERGE_QUEUE, REQUIRED_CHECKS, REVIEWS])
    rules = branch_rules(adapter(gh_world), REPO, "main")
    assert (rules.merge_queue, rules.required_checks, rules.required_reviews) == (
        True,
        ("lint", "tests"),
        2,
    )
    problems = repo_problems(adapter(gh_world), CONFIG, REPO)
    assert codes(problems) == [
        ("BRANCH_RULES", "warning"),  # the merge queue: MERGE enqueues there
        ("BRANCH_RULES", "warning"),
        ("BRANCH_RULES", "warning"),
    ]
    assert problems[0].message == f"{REPO}'s main merges through a merge queue"
    assert problems[0].hint == "MERGE will enqueue the PR and tag the queue's merge commit"
    assert any("requires the checks lint, tests" in p.message for p in problems)
    assert any("2 approving review(s)" in p.message for p in problems)


def test_rules_of_other_branches_do_not_apply(gh_world: World) -> None:
    gh_world.admin.set_rules(REPO, [{**MERGE_QUEUE, "branches": ["dev"]}])
    assert not branch_rules(adapter(gh_world), REPO, "main").merge_queue
    gh_world.admin.set_rules(REPO, [{**MERGE_QUEUE, "branches": ["ma*"]}])
    assert branch_rules(adapter(gh_world), REPO, "main").merge_queue


def test_only_errors_stop_a_release(gh_world: World) -> None:
    gh_world.admin.set_rules(REPO, [REQUIRED_CHECKS])
    problems = repo_problems(adapter(gh_world), CONFIG, REPO)
    assert [p.severity for p in problems] == [Severity.WARNING]
    assert problems[0].code is ErrorCode.BRANCH_RULES
