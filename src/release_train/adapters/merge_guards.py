"""What MERGE is held to, read from GitHub's answers: required checks and how the base moved.

Pure functions of the JSON GitHub sends, so `github.py` only makes the calls. Required
checks come from two places (DESIGN: "Checks register late"): classic branch protection
and the rulesets that apply to the branch; either may be unreadable with a given token.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MAX_LISTED = 250  # the compare API lists at most this many commits


@dataclass(frozen=True)
class RequiredChecks:
    """The contexts a branch's rules require; `readable`: some source could be read at all."""

    names: tuple[str, ...]
    readable: bool


@dataclass(frozen=True)
class NewCommit:
    sha: str
    subject: str


@dataclass(frozen=True)
class Comparison:
    """`head` against `base`: the commits only head has (oldest first), and how many base has."""

    ahead_by: int
    behind_by: int
    commits: tuple[NewCommit, ...]


@dataclass(frozen=True)
class GitCommit:
    """A commit as `GET /git/commits/{sha}` describes it: its tree and its parents."""

    sha: str
    tree: str
    parents: tuple[str, ...]


def git_commit(data: Mapping[str, Any]) -> GitCommit:
    return GitCommit(
        sha=str(data["sha"]),
        tree=str(data["tree"]["sha"]),
        parents=tuple(str(parent["sha"]) for parent in data.get("parents") or []),
    )


def protection_checks(data: Mapping[str, Any]) -> list[str]:
    """Required contexts of a `branch-protection` answer (`contexts` and `checks`)."""
    policy = data.get("required_status_checks") or {}
    named = [str(c) for c in policy.get("contexts") or []]
    return named + [str(c["context"]) for c in policy.get("checks") or [] if "context" in c]


def ruleset_checks(rules: Iterable[Mapping[str, Any]]) -> list[str]:
    """Required contexts of the `required_status_checks` rules among a branch's rules."""
    found = []
    for rule in rules:
        if rule.get("type") != "required_status_checks":
            continue
        parameters = rule.get("parameters") or {}
        found += [str(c["context"]) for c in parameters.get("required_status_checks") or []]
    return found


@dataclass(frozen=True)
class MergeQueueRule:
    """A `merge_queue` ruleset rule: only the queue may merge into the branch.

    `wait_minutes` is how long the queue may hold an entry for a group to fill up (only
    when a group needs more than one entry), which MERGE adds to its CI bound;
    `merge_method` says how the queue lands a PR.
    """

    merge_method: str = "MERGE"  # MERGE, SQUASH or REBASE
    check_timeout_minutes: int = 60
    wait_minutes: int = 0


def merge_queue_rule(rules: Iterable[Mapping[str, Any]]) -> MergeQueueRule | None:
    """The branch's `merge_queue` rule among its rules, None when it has none."""
    for rule in rules:
        if rule.get("type") != "merge_queue":
            continue
        parameters = rule.get("parameters") or {}
        # GitHub waits for a group to fill only when it needs more than one entry.
        grouped = int(parameters.get("min_entries_to_merge") or 1) > 1
        wait = int(parameters.get("min_entries_to_merge_wait_minutes") or 0) if grouped else 0
        return MergeQueueRule(
            merge_method=str(parameters.get("merge_method") or "MERGE"),
            check_timeout_minutes=int(parameters.get("check_response_timeout_minutes") or 60),
            wait_minutes=wait,
        )
    return None


def required_checks(
    protection: Mapping[str, Any] | None,
    rules: Iterable[Mapping[str, Any]] | None,
    *,
    unprotected: bool = False,
) -> RequiredChecks:
    """Both sources merged; None for a source the token could not read.

    `unprotected`: the protection answer was GitHub's "Branch not protected", which is an
    answer (no rules there), not a refusal.
    """
    names = [
        *(protection_checks(protection) if protection is not None else []),
        *(ruleset_checks(rules) if rules is not None else []),
    ]
    readable = protection is not None or unprotected or rules is not None
    return RequiredChecks(tuple(sorted(set(names))), readable)


def comparison(data: Mapping[str, Any]) -> Comparison:
    """A `commit-comparison` answer as the commits that appeared on top of `base`."""
    commits = tuple(
        NewCommit(str(c["sha"]), str(c["commit"]["message"]).split("\n", 1)[0])
        for c in data.get("commits") or []
    )
    return Comparison(int(data["ahead_by"]), int(data["behind_by"]), commits)
