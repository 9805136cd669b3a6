"""Reading GitHub's branch payloads into the rules MERGE will meet (adapters/github_access)."""

from __future__ import annotations

from release_train.adapters.github_access import BranchRules, RepoAccess, _classic_checks, rules_of
from release_train.preflight_access import _access_finding, rule_problems

# `GET /repos/{o}/{r}/branches/{b}` of a protected branch, as GitHub's docs show it.
PROTECTED = {
    "name": "main",
    "protected": True,
    "protection": {
        "enabled": True,
        "required_status_checks": {
            "enforcement_level": "non_admins",
            "contexts": ["ci/build"],
            "checks": [{"context": "ci/build", "app_id": None}, {"context": "lint"}],
        },
    },
}


def test_classic_protection_names_its_required_checks() -> None:
    assert sorted(set(_classic_checks(PROTECTED))) == ["ci/build", "lint"]
    assert _classic_checks({"name": "main", "protected": False}) == []
    off = {"protection": {"enabled": False, "required_status_checks": {"contexts": ["x"]}}}
    assert _classic_checks(off) == []


def test_rules_and_protection_add_up() -> None:
    rules = rules_of(
        [
            {
                "type": "required_status_checks",
                "parameters": {
                    "required_status_checks": [{"context": "tests"}, {"context": "lint"}]
                },
            },
            {"type": "pull_request", "parameters": {"required_approving_review_count": 1}},
            {"type": "update", "parameters": {"update_allows_fetch_and_merge": False}},
            {"type": "deletion"},
        ],
        ["ci/build"],
    )
    assert rules == BranchRules(True, ("ci/build", "lint", "tests"), False, 1, True)


def test_an_unruled_branch_has_no_problem() -> None:
    assert rule_problems("core", "main", rules_of([], [])) == []


def test_restricted_updates_are_a_warning_naming_the_bypass_list() -> None:
    [problem] = rule_problems("core", "main", BranchRules(True, updates_restricted=True))
    assert problem.severity == "warning" and "bypass" in (problem.hint or "")


def test_what_keeps_a_token_from_releasing() -> None:
    def finding(access: RepoAccess) -> tuple[str, str] | None:
        found = _access_finding("o/r", access)
        return None if found is None else (str(found[0]), str(found[1]))

    writable = {"push": True, "pull": True}
    assert finding(RepoAccess(True, permissions=writable)) is None
    assert finding(RepoAccess(False)) == ("REPO_NOT_FOUND", "error")
    assert finding(RepoAccess(True, archived=True, permissions=writable)) == (
        "PERMISSION_DENIED",
        "error",
    )
    assert finding(RepoAccess(True, permissions=None)) == ("PERMISSION_DENIED", "warning")
    assert finding(RepoAccess(True, permissions={"pull": True})) == ("PERMISSION_DENIED", "error")
