"""What MERGE is held to, on the stand-in: branch protection, rulesets, late checks, compare.

The stand-in side (what PyGithub reads) and the adapter side (`required_checks`, `compare`)
of each, against the same running world.
"""

from __future__ import annotations

import time

import pytest
from github import GithubException

from release_train.adapters.github import GitHub
from release_train.adapters.merge_guards import NewCommit, RequiredChecks
from tests.integration.sandbox.test_github_adapter import Waits as Sleeps
from tests.integration.sandbox.test_github_adapter import client, error_of, open_pull
from tests.integration.sandbox.test_github_fixtures import (
    World,
    commit_on_branch,
    gh_world,
    wait_for,
)

__all__ = ["gh_world"]


@pytest.fixture
def hub(gh_world: World) -> GitHub:
    return client(gh_world, Sleeps())


def _names(hub: GitHub, head: str) -> list[tuple[str, str]]:
    return [(c.name, c.state) for c in hub.checks("demo", head).checks]


def test_branch_protection_reports_the_required_contexts(gh_world: World, hub: GitHub) -> None:
    gh_world.admin.set_ci("demo", required=["test", "lint"])

    protection = gh_world.repo.get_branch("main").get_protection()

    assert protection.required_status_checks.contexts == ["test", "lint"]
    assert hub.required_checks("demo", "main") == RequiredChecks(("lint", "test"), True)


def test_an_unprotected_branch_is_readable_and_requires_nothing(
    gh_world: World, hub: GitHub
) -> None:
    with pytest.raises(GithubException) as raised:
        gh_world.repo.get_branch("main").get_protection()
    assert (raised.value.status, raised.value.data["message"]) == (404, "Branch not protected")

    assert hub.required_checks("demo", "main") == RequiredChecks((), True)


def test_a_ruleset_requires_checks_and_holds_the_merge(gh_world: World, hub: GitHub) -> None:
    gh_world.admin.set_ci("demo", ruleset=["build"], checks=["test"], duration=0.05)
    number, head = open_pull(gh_world, hub)
    wait_for(lambda: _names(hub, head) == [("test", "success")])

    assert hub.required_checks("demo", "main") == RequiredChecks(("build",), True)
    error = error_of(lambda: hub.merge("demo", number, sha=head, title="t", message=""))
    assert error.message == '#1 not mergeable: 405 Required status check "build" is expected.'


def test_protection_unreadable_by_the_token_falls_back_to_the_rulesets(
    gh_world: World, hub: GitHub
) -> None:
    gh_world.admin.set_ci("demo", required=["test"], ruleset=["build"], protection_readable=False)

    with pytest.raises(GithubException) as raised:
        gh_world.repo.get_branch("main").get_protection()
    assert raised.value.status == 403

    # The protection's `test` cannot be seen; the ruleset's `build` can.
    assert hub.required_checks("demo", "main") == RequiredChecks(("build",), True)


def test_a_late_check_registers_after_its_delay_and_may_fail(gh_world: World, hub: GitHub) -> None:
    gh_world.admin.set_ci(
        "demo", checks=["lint", "e2e"], late={"e2e": 1.0}, failing=["e2e"], duration=0.05
    )
    started = time.monotonic()
    _, head = open_pull(gh_world, hub)

    wait_for(lambda: _names(hub, head) == [("lint", "success")])
    early = time.monotonic() - started
    wait_for(lambda: len(_names(hub, head)) == 2)
    wait_for(lambda: hub.checks("demo", head).state == "failure")

    assert early < 1.0  # lint alone was green before e2e existed
    assert _names(hub, head) == [("e2e", "failure"), ("lint", "success")]


def test_compare_lists_the_commits_that_appeared_on_the_branch(
    gh_world: World, hub: GitHub
) -> None:
    base = gh_world.repo.get_branch("main").commit.sha
    first = commit_on_branch(gh_world, "main", {"a.txt": "a\n"}, "fix: one\n\nbody")
    second = commit_on_branch(gh_world, "main", {"b.txt": "b\n"}, "feat: two")

    found = hub.compare("demo", base, "main")
    seen = gh_world.repo.compare(base, second)

    assert (found.ahead_by, found.behind_by) == (2, 0)
    assert found.commits == (NewCommit(first, "fix: one"), NewCommit(second, "feat: two"))
    assert (seen.status, seen.ahead_by, [c.sha for c in seen.commits]) == (
        "ahead",
        2,
        [first, second],
    )
    assert gh_world.repo.compare(second, base).status == "behind"
