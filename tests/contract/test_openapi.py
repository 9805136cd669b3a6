"""The contract's validator itself: it must pass GitHub's own examples and catch real drift."""

from __future__ import annotations

import copy
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from release_train.errors import ReleaseError
from tests.contract.conftest import Exchange, audit
from tests.contract.npm_pack import check_integrity
from tests.contract.openapi import (
    DESCRIPTIONS,
    DOTCOM,
    GHES,
    Contract,
    Description,
    cache_dir,
    fetch,
)

API = "http://127.0.0.1:8080/api/v3"
SHA = "aa218f56b14c9653891f9e74264a383fa43fefbd"


@pytest.fixture(scope="module")
def dotcom(contract: Contract) -> Description:
    return contract.descriptions[DOTCOM]


def example(description: Description, name: str) -> dict[str, Any]:
    """One of GitHub's own response examples, as a fresh copy a test may spoil."""
    value = description.document["components"]["examples"][name]["value"]
    assert isinstance(value, dict)
    return copy.deepcopy(value)


def body(value: Any) -> bytes:
    return json.dumps(value).encode()


def test_both_descriptions_are_loaded_at_the_pinned_version(contract: Contract) -> None:
    assert sorted(contract.descriptions) == sorted(DESCRIPTIONS)
    assert {d.version for d in contract.descriptions.values()} == {"23.0.2"}
    assert contract.descriptions[GHES].document["info"]["x-github-plan"] == "ghes"


@pytest.mark.parametrize(
    ("method", "path", "operation_id"),
    [
        ("GET", f"{API}/repos/o/r", "repos/get"),
        ("GET", f"{API}/repos/o/r/git/ref/heads/release/demo", "git/get-ref"),
        ("PATCH", f"{API}/repos/o/r/git/refs/tags/demo/v1.0.0", "git/update-ref"),
        ("GET", f"{API}/repos/o/r/contents/src/pkg/__init__.py?ref=main", "repos/get-content"),
        ("GET", f"{API}/repos/o/r/contents/?ref=main", "repos/get-content"),
        ("GET", f"{API}/repos/o/r/releases/tags/demo%2Fv1.0.0", "repos/get-release-by-tag"),
        ("GET", f"{API}/repos/o/r/releases/tags/demo/v1.0.0", "repos/get-release-by-tag"),
        ("GET", f"{API}/repos/o/r/commits/{SHA}/status", "repos/get-combined-status-for-ref"),
        ("GET", f"{API}/repos/o/r/commits/{SHA}", "repos/get-commit"),
        ("GET", f"{API}/repos/o/r/pulls/7/merge", "pulls/check-if-merged"),
        ("PUT", f"{API}/repos/o/r/pulls/7/merge", "pulls/merge"),
        ("GET", f"{API}/repos/o/r/actions/runs/5/approvals", "actions/get-reviews-for-run"),
        ("GET", f"{API}/rate_limit", "rate-limit/get"),
    ],
)
def test_a_concrete_path_finds_its_operation(
    dotcom: Description, method: str, path: str, operation_id: str
) -> None:
    operation = dotcom.operation(method, path)
    assert operation is not None and operation.operation_id == operation_id


def test_an_unknown_path_is_a_failure(dotcom: Description) -> None:
    assert dotcom.operation("GET", f"{API}/no/such/endpoint") is None
    verdict = dotcom.validate("GET", f"{API}/no/such/endpoint", 200, b"{}")
    assert not verdict.ok and "no operation" in verdict.problems[0]


def test_githubs_own_example_conforms(dotcom: Description) -> None:
    ref = body(example(dotcom, "git-ref"))
    verdict = dotcom.validate("GET", f"{API}/repos/o/r/git/ref/heads/a", 200, ref)
    assert verdict.ok, str(verdict)
    assert (verdict.response, verdict.schema_checked) == ("200", True)


def test_a_missing_required_field_is_drift(dotcom: Description) -> None:
    ref = example(dotcom, "git-ref")
    del ref["object"]["sha"]
    verdict = dotcom.validate("GET", f"{API}/repos/o/r/git/ref/heads/a", 200, body(ref))
    assert verdict.problems == ["$.object: 'sha' is a required property"]


def test_a_wrong_type_is_drift(dotcom: Description) -> None:
    status = {"state": "success", "total_count": "0"}
    verdict = dotcom.validate("GET", f"{API}/repos/o/r/commits/{SHA}/status", 200, body(status))
    assert any("$.total_count: '0' is not of type 'integer'" in p for p in verdict.problems)


def test_a_bad_date_time_is_drift(dotcom: Description) -> None:
    run = example(dotcom, "check-run")
    run["started_at"] = "yesterday"
    verdict = dotcom.validate("GET", f"{API}/repos/o/r/check-runs/4", 200, body(run))
    assert any("$.started_at: 'yesterday' is not a 'date-time'" in p for p in verdict.problems)


def test_null_is_allowed_where_github_marks_nullable_without_a_type(dotcom: Description) -> None:
    """GitHub's reading of `nullable`: a check run in progress has `conclusion: null`."""
    run = example(dotcom, "check-run")
    run.update(status="in_progress", conclusion=None, completed_at=None)
    assert dotcom.validate("GET", f"{API}/repos/o/r/check-runs/4", 200, body(run)).ok
    run["conclusion"] = "green"
    verdict = dotcom.validate("GET", f"{API}/repos/o/r/check-runs/4", 200, body(run))
    assert any(p.startswith("$.conclusion: 'green' is not one of") for p in verdict.problems)


def test_an_undescribed_status_is_a_failure(dotcom: Description) -> None:
    verdict = dotcom.validate("GET", f"{API}/repos/o/r/git/ref/heads/a", 418, b"{}")
    assert verdict.problems == [
        "status 418 is not described for git/get-ref (GET /repos/{owner}/{repo}/git/ref/{ref}) "
        "(described: 200, 404, 409)"
    ]


def test_api_wide_statuses_use_the_descriptions_shared_responses(dotcom: Description) -> None:
    error = {"message": "Resource not accessible by integration", "documentation_url": "x"}
    verdict = dotcom.validate("POST", f"{API}/repos/o/r/git/refs", 403, body(error))
    assert verdict.ok and verdict.response == "api-wide:forbidden"
    verdict = dotcom.validate("POST", f"{API}/repos/o/r/git/refs", 403, body({"message": 403}))
    assert verdict.problems == ["$.message: 403 is not of type 'string'"]
    missing = dotcom.validate("GET", f"{API}/repos/o/r/actions/runs/9", 404, body(error))
    assert missing.ok and missing.response == "api-wide:not_found"


def test_bodies_must_be_what_the_status_allows(dotcom: Description) -> None:
    merged = f"{API}/repos/o/r/pulls/7/merge"
    assert dotcom.validate("GET", merged, 204, b"").ok
    spoken = dotcom.validate("GET", merged, 204, b"{}")
    assert spoken.problems == ["a 204 response must have no body"]
    broken = dotcom.validate("GET", f"{API}/repos/o/r", 404, b"Not Found")
    assert broken.problems == ["the body is not JSON: b'Not Found'"]
    html = dotcom.validate("GET", f"{API}/repos/o/r", 404, b"{}", "text/html")
    assert html.problems == ["content type 'text/html', described: application/json"]


def test_a_cached_description_is_reused_without_npm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELEASE_TRAIN_CACHE", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools-here"))
    target = cache_dir("0.0.0")
    assert target == tmp_path / "openapi" / "0.0.0"
    target.mkdir(parents=True)
    (target / f"{DOTCOM}.json").write_text("{}", encoding="utf-8")
    assert fetch([DOTCOM], version="0.0.0") == {DOTCOM: target / f"{DOTCOM}.json"}


def test_a_tarball_that_does_not_match_the_pinned_digest_is_refused(tmp_path: Path) -> None:
    tarball = tmp_path / "package.tgz"
    with tarfile.open(tarball, "w:gz"):
        pass
    with pytest.raises(ReleaseError, match="does not match the pinned sha512 digest"):
        check_integrity(tarball, "sha512-AAAA")


def test_the_audit_reports_drift_outside_a_tests_scope(contract: Contract) -> None:
    run_details = Exchange(
        "POST",
        f"{API}/repos/o/r/actions/workflows/1/dispatches",
        200,
        body({"workflow_run_id": 1, "run_url": "u", "html_url": "h"}),
        "application/json",
    )
    undescribed = Exchange("GET", f"{API}/repos/o/r", 418, b"{}", "application/json")
    drift = audit(contract, [run_details, undescribed], {})
    # GHES 3.19 knows only the 204 of a dispatch; both descriptions reject the 418.
    assert [line.split(" ->")[0] for line in drift] == [
        "[ghes-3.19] actions/create-workflow-dispatch "
        "(POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches)",
        "[api.github.com] repos/get (GET /repos/{owner}/{repo})",
        "[ghes-3.19] repos/get (GET /repos/{owner}/{repo})",
    ]
    scoped = audit(contract, [run_details], {"actions/create-workflow-dispatch": (DOTCOM,)})
    assert scoped == []
