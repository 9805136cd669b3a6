"""Who may do what: a token's permissions on a repo, and the ruleset rules of its branches."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from release_train.sandbox.github.model import RuleRecord, TokenRecord

if TYPE_CHECKING:
    from release_train.sandbox.github.forge import Forge


def permissions(token: TokenRecord) -> dict[str, bool]:
    """The repo object's `permissions` for `token`: a read-only token may only pull."""
    write = not token.read_only
    return {"admin": False, "maintain": False, "push": write, "triage": write, "pull": True}


def _applies(rule: RuleRecord, branch: str, default: str) -> bool:
    for pattern in rule.branches:
        if pattern == "~ALL" or (pattern == "~DEFAULT_BRANCH" and branch == default):
            return True
        if fnmatchcase(branch, pattern.removeprefix("refs/heads/")):
            return True
    return False


def stored_rules(forge: Forge, repo: str, branch: str) -> list[Any]:
    """The admin-set rules of `repo` that apply to `branch`, in GitHub's detailed shape."""
    with forge.store.lock:
        rules = list(forge.store.state.repos[repo].rules)
    default = forge.default_branch(forge.repos[repo])
    return [
        {
            "type": rule.type,
            **({"parameters": rule.parameters} if rule.parameters is not None else {}),
            "ruleset_source_type": "Repository",
            "ruleset_source": f"{forge.owner}/{repo}",
            "ruleset_id": rule.ruleset_id,
        }
        for rule in rules
        if _applies(rule, branch, default)
    ]


def set_rules(forge: Forge, repo: str, rules: Any) -> list[dict[str, Any]]:
    """Replace `repo`'s rules (the admin API): each `{type, parameters?, branches?}`."""
    if not isinstance(rules, list) or not all(isinstance(rule, dict) for rule in rules):
        raise ValueError("`rules` must be a list of objects")  # the admin API's 400
    with forge.store.lock:
        record = forge.store.state.repos[repo]
        record.rules = [
            RuleRecord.model_validate({**rule, "ruleset_id": forge.store.next_id()})
            for rule in rules
        ]
        return [rule.model_dump() for rule in record.rules]
