"""Reading GitHub's branch rules and comparisons into what MERGE is held to (pure parsing)."""

from __future__ import annotations

from typing import Any

from release_train.adapters.merge_guards import (
    Comparison,
    MergeQueueRule,
    NewCommit,
    RequiredChecks,
    comparison,
    merge_queue_rule,
    required_checks,
)

PROTECTION = {
    "required_status_checks": {
        "contexts": ["ci/jenkins", "test"],
        "checks": [{"context": "test", "app_id": 15368}, {"context": "lint", "app_id": None}],
    }
}
RULES = [
    {"type": "pull_request", "parameters": {"required_approving_review_count": 1}},
    {
        "type": "required_status_checks",
        "parameters": {
            "required_status_checks": [{"context": "build", "integration_id": 1}],
            "strict_required_status_checks_policy": False,
        },
    },
]


def test_protection_and_rulesets_are_merged_sorted_and_deduplicated() -> None:
    found = required_checks(PROTECTION, RULES)
    assert found == RequiredChecks(("build", "ci/jenkins", "lint", "test"), True)


def test_protection_without_status_checks_requires_nothing() -> None:
    assert required_checks({"enforce_admins": {"enabled": True}}, []) == RequiredChecks((), True)


def test_unreadable_sources_fall_back_to_nothing_required() -> None:
    assert required_checks(None, None) == RequiredChecks((), False)
    assert required_checks(None, None, unprotected=True) == RequiredChecks((), True)
    assert required_checks(None, RULES) == RequiredChecks(("build",), True)


def test_a_comparison_keeps_each_commits_subject_only() -> None:
    data = {
        "ahead_by": 3,
        "behind_by": 1,
        "commits": [
            {"sha": "a" * 40, "commit": {"message": "fix: one\n\nthe body"}},
            {"sha": "b" * 40, "commit": {"message": "feat: two"}},
        ],
    }
    assert comparison(data) == Comparison(
        3, 1, (NewCommit("a" * 40, "fix: one"), NewCommit("b" * 40, "feat: two"))
    )


def test_a_merge_queue_rule_is_read_with_its_parameters() -> None:
    parameters: dict[str, Any] = {
        "check_response_timeout_minutes": 30,
        "grouping_strategy": "ALLGREEN",
        "max_entries_to_build": 5,
        "max_entries_to_merge": 5,
        "merge_method": "SQUASH",
        "min_entries_to_merge": 1,
        "min_entries_to_merge_wait_minutes": 2,
    }
    queue = {"type": "merge_queue", "parameters": parameters}
    assert merge_queue_rule([*RULES, queue]) == MergeQueueRule("SQUASH", 30, 0)
    parameters["min_entries_to_merge"] = 3  # groups of three: the queue may wait for them
    assert merge_queue_rule([queue]) == MergeQueueRule("SQUASH", 30, 2)
    assert merge_queue_rule([{"type": "merge_queue"}]) == MergeQueueRule("MERGE", 60, 0)
    assert merge_queue_rule(RULES) is None
