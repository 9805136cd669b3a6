"""MERGE's rules for green and for a moved base, as pure functions of what GitHub reported."""

from __future__ import annotations

from release_train.adapters.github import CheckInfo, ChecksState, CheckState
from release_train.adapters.merge_guards import Comparison, NewCommit
from release_train.merging import ChecksRule, _appeared, _subject


def _state(*checks: tuple[str, CheckState]) -> ChecksState:
    found = tuple(CheckInfo(name, state, None) for name, state in checks)
    if not found:
        return ChecksState("none", ())
    return ChecksState("pending" if any(s == "pending" for _, s in checks) else "success", found)


def test_required_checks_are_green_only_when_each_one_is() -> None:
    rule = ChecksRule(("deploy", "test"), grace_end=100.0)
    assert rule.verdict(_state(("test", "success")), now=0.0) == "wait"
    assert rule.missing(_state(("test", "success"))) == ["deploy"]
    assert rule.verdict(_state(("test", "success"), ("deploy", "pending")), now=0.0) == "wait"
    green = _state(("test", "success"), ("deploy", "success"), ("extra", "success"))
    assert rule.verdict(green, now=0.0) == "green"  # no grace: the rules say what counts


def test_without_required_checks_green_waits_for_the_grace_period() -> None:
    rule = ChecksRule((), grace_end=60.0)
    green = _state(("lint", "success"))
    assert rule.verdict(green, now=59.9) == "wait"  # a late check may still register
    assert rule.verdict(green, now=60.0) == "green"
    assert rule.verdict(_state(("lint", "success"), ("e2e", "pending")), now=61.0) == "wait"


def test_no_check_at_all_after_the_grace_period_is_none() -> None:
    rule = ChecksRule((), grace_end=60.0)
    assert rule.verdict(_state(), now=30.0) == "wait"
    assert rule.verdict(_state(), now=60.0) == "none"


def test_new_commits_are_listed_up_to_five_then_counted() -> None:
    commits = tuple(NewCommit(f"{i:040d}", f"fix: change {i}") for i in range(7))
    text = _appeared(Comparison(9, 0, commits), "main")
    assert text.startswith("9 new commits: 0000000 fix: change 0; 0000000 fix: change 1;")
    assert "fix: change 4; and 4 more" in text and "change 5" not in text
    one = _appeared(Comparison(1, 2, commits[:1]), "main")
    assert one == "1 new commit: 0000000 fix: change 0; 2 planned commit(s) are no longer on main"


def test_a_subject_loses_control_characters_and_is_bounded() -> None:
    assert _subject("fix: \x1b[31mred\x1b[0m") == "fix:  [31mred [0m"
    assert len(_subject("x" * 200)) == 72 and _subject("x" * 200).endswith("…")
