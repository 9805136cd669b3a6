"""Preflight in API mode: what the token may do on each repo and the rules MERGE will meet.

Run where a release has its token before anyone approves (`release` before the gate, the
Action's plan and release jobs); `plan` on a workspace stays offline. Every repo's finding
is collected, so one plan names them all (DESIGN: "Preflight before approval").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from release_train.config import Config
from release_train.core.plan import Plan
from release_train.core.problems import Problem, Severity, sort_problems
from release_train.errors import ErrorCode, ReleaseError

if TYPE_CHECKING:
    from release_train.adapters.github import GitHub
    from release_train.adapters.github_access import BranchRules, RepoAccess


def _problem(repo: str, code: ErrorCode, severity: Severity, message: str, hint: str) -> Problem:
    return Problem(repo, code, severity, message, hint)


PUSH_HINT = "give the token (or App) contents: write and pull-requests: write on this repo"


def _access_finding(full: str, access: RepoAccess) -> tuple[ErrorCode, Severity, str, str] | None:
    """(code, severity, message, hint) of what keeps the token from releasing `full`."""
    if not access.found:
        message = f"{full} does not exist or the token cannot see it"
        hint = "check `owner` and the repo name, and that the token (App) covers this repository"
        return ErrorCode.REPO_NOT_FOUND, Severity.ERROR, message, hint
    if access.archived:
        message = f"{full} is archived: nothing can be pushed, merged or tagged there"
        return ErrorCode.PERMISSION_DENIED, Severity.ERROR, message, "unarchive it, or leave it out"
    if access.can_push is None:
        message = f"GitHub did not say what the token may do on {full}"
        return ErrorCode.PERMISSION_DENIED, Severity.WARNING, message, PUSH_HINT
    if not access.can_push:
        granted = ", ".join(sorted(k for k, v in (access.permissions or {}).items() if v))
        message = (
            f"the token cannot push to {full} (it may: {granted or 'nothing'}); "
            "the release branch, PR, merge and tag all need push"
        )
        return ErrorCode.PERMISSION_DENIED, Severity.ERROR, message, PUSH_HINT
    return None


def token_problems(github: GitHub, repo: str) -> list[Problem]:
    """PERMISSION_DENIED unless the token can push (branch, PR, merge and tag all need it)."""
    from release_train.adapters.github_access import repo_access  # noqa: PLC0415

    found = _access_finding(f"{github.owner}/{repo}", repo_access(github, repo))
    return [] if found is None else [_problem(repo, *found)]


def rule_problems(repo: str, branch: str, rules: BranchRules) -> list[Problem]:
    """BRANCH_RULES: what the branch's protection and rulesets will make MERGE do or refuse."""
    where = f"{repo}'s {branch}"
    found = []
    if not rules.found:
        message = f"{where} does not exist on GitHub: there is nothing to merge into"
        hint = "set `branch` to the branch releases are merged into"
        return [_problem(repo, ErrorCode.BRANCH_RULES, Severity.ERROR, message, hint)]
    if rules.merge_queue:
        # Told, not refused: MERGE enqueues there (steps/merge_queue.py).
        message = f"{where} merges through a merge queue"
        hint = "MERGE will enqueue the PR and tag the queue's merge commit"
        found.append(_problem(repo, ErrorCode.BRANCH_RULES, Severity.WARNING, message, hint))
    if rules.updates_restricted:
        message = f"{where} restricts updates: only the ruleset's bypass actors may merge"
        hint = "add the token's App to the ruleset's bypass list"
        found.append(_problem(repo, ErrorCode.BRANCH_RULES, Severity.WARNING, message, hint))
    if rules.required_reviews:
        message = f"{where} requires {rules.required_reviews} approving review(s) of each PR"
        hint = "approve each release PR while MERGE waits, or let the App bypass the rule"
        found.append(_problem(repo, ErrorCode.BRANCH_RULES, Severity.WARNING, message, hint))
    if rules.required_checks:
        names = ", ".join(rules.required_checks)
        message = f"{where} requires the checks {names}: MERGE waits until they pass"
        hint = "each must report on the release PR's head within ci_timeout_minutes"
        found.append(_problem(repo, ErrorCode.BRANCH_RULES, Severity.WARNING, message, hint))
    return found


def repo_problems(github: GitHub, config: Config, repo: str) -> list[Problem]:
    from release_train.adapters.github_access import branch_rules  # noqa: PLC0415

    try:
        found = token_problems(github, repo)
        if any(p.code is ErrorCode.REPO_NOT_FOUND for p in found):
            return found
        branch = config.branch_of(repo)
        return found + rule_problems(repo, branch, branch_rules(github, repo, branch))
    except ReleaseError as exc:  # an expected failure of one repo is one more problem
        return [Problem.from_error(exc, repo)]


def access_problems(github: GitHub, config: Config, plan: Plan) -> list[Problem]:
    """The API-mode findings for every repo `plan` releases."""
    repos = [entry.repo for entry in plan.entries]
    if not repos:
        return []
    with ThreadPoolExecutor(max_workers=min(6, len(repos))) as pool:
        found = pool.map(lambda repo: repo_problems(github, config, repo), repos)
    return [problem for problems in found for problem in problems]


def has_token(env: Mapping[str, str]) -> bool:
    """Whether `env` carries the GitHub token the API-mode checks read with."""
    return bool(env.get("GITHUB_TOKEN") or env.get("GH_TOKEN"))


def with_access_problems(config: Config, plan: Plan, env: Mapping[str, str]) -> Plan:
    """`plan` with the API-mode findings added (the token and API URL come from `env`)."""
    from release_train.adapters.github import GitHub  # noqa: PLC0415 - PyGithub only here

    github = GitHub.from_env(config.owner, env)
    problems = [*plan.problems, *access_problems(github, config, plan)]
    return dataclasses.replace(plan, problems=sort_problems(problems))
