"""What the token may do on a repo, and the branch rules MERGE will meet, read before approval.

Both reads need no more than read access: `GET /repos/{o}/{r}` carries the token's
`permissions`, the branch's `protection` summary names the classic required checks, and
`GET /repos/{o}/{r}/rules/branches/{b}` lists every active ruleset rule of the branch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from release_train.adapters.github import GitHub
from release_train.adapters.github_rest import seg
from release_train.adapters.merge_guards import protection_checks, ruleset_checks
from release_train.adapters.retry import PER_PAGE


@dataclass(frozen=True)
class RepoAccess:
    """The repo as the token sees it; `permissions` None when GitHub did not say."""

    found: bool
    archived: bool = False
    permissions: Mapping[str, bool] | None = None

    @property
    def can_push(self) -> bool | None:
        return None if self.permissions is None else bool(self.permissions.get("push"))


@dataclass(frozen=True)
class BranchRules:
    """The rules of one branch that decide how (and whether) the release PR can merge."""

    found: bool  # False: no such branch
    required_checks: tuple[str, ...] = ()
    merge_queue: bool = False
    required_reviews: int = 0
    updates_restricted: bool = False  # an `update` rule: only bypass actors may move it


def repo_access(github: GitHub, repo: str) -> RepoAccess:
    answer = github.repo_call("GET", repo, "", "read the repository", (404,))
    if answer.status == 404:
        return RepoAccess(found=False)
    data = answer.data
    permissions = data.get("permissions")
    return RepoAccess(
        found=True,
        archived=bool(data.get("archived")),
        permissions={str(k): bool(v) for k, v in permissions.items()} if permissions else None,
    )


def _classic_checks(branch: Mapping[str, Any]) -> list[str]:
    """The required checks of a branch object's protection summary (MERGE reads the same)."""
    protection = branch.get("protection") or {}
    if not protection.get("enabled", branch.get("protected")):
        return []
    return protection_checks(protection)


def rules_of(rules: Sequence[Mapping[str, Any]], classic: Sequence[str]) -> BranchRules:
    """Rulesets' rules (plus the classic protection's required checks) as one summary."""
    checks = {*classic, *ruleset_checks(rules)}
    queue, reviews, restricted = False, 0, False
    for rule in rules:
        kind, parameters = rule.get("type"), rule.get("parameters") or {}
        if kind == "merge_queue":
            queue = True
        elif kind == "pull_request":
            reviews = max(reviews, int(parameters.get("required_approving_review_count") or 0))
        elif kind == "update":
            restricted = True
    return BranchRules(True, tuple(sorted(checks)), queue, reviews, restricted)


def branch_rules(github: GitHub, repo: str, branch: str) -> BranchRules:
    answer = github.repo_call("GET", repo, f"/branches/{seg(branch)}", "read branches", (404,))
    if answer.status == 404:
        return BranchRules(found=False)
    classic = _classic_checks(answer.data)
    params = {"per_page": str(PER_PAGE)}
    sub = f"/rules/branches/{seg(branch)}"
    rules = github.repo_call("GET", repo, sub, "read branch rules", (404,), params=params)
    return rules_of(rules.data if rules.status != 404 else [], classic)
