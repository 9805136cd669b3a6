"""The GitHub stand-in's admin API and lifecycle: snapshot, request log, tokens, persistence."""

from __future__ import annotations

from pathlib import Path

import pytest

from release_train.errors import ErrorCode, ReleaseError
from release_train.sandbox.github import GitHubStandIn, SandboxAdmin, release_version
from tests.integration.sandbox.test_github_fixtures import (
    OWNER,
    World,
    build_source,
    commit_on_branch,
    gh_world,
    make_github,
)

__all__ = ["gh_world"]


def test_snapshot_shows_refs_pulls_merges_and_checks(gh_world: World) -> None:
    head = commit_on_branch(gh_world, "feature", {"a.txt": "a\n"}, "feat: a")
    pr = gh_world.repo.create_pull(title="feat: a", body="", head="feature", base="main")
    merged = pr.merge(merge_method="squash", sha=head)

    snapshot = gh_world.admin.snapshot()

    demo = snapshot["repos"]["demo"]
    assert demo["branches"] == {"feature": head, "main": merged.sha}
    assert demo["tags"]["demo/v1.0.0"] == gh_world.repo.get_commit("demo/v1.0.0").sha
    assert snapshot["pulls"][0]["merged"] is True
    assert (snapshot["pulls"][0]["merge_commit_sha"], snapshot["pulls"][0]["head_ref"]) == (
        merged.sha,
        "feature",
    )
    assert [(m["number"], m["method"], m["sha"]) for m in snapshot["merges"]] == [
        (1, "squash", merged.sha)
    ]
    assert [(c["sha"], c["name"]) for c in snapshot["check_runs"]] == [(head, "test")]


def test_request_log_counts_calls_and_resets(gh_world: World) -> None:
    gh_world.admin.clear_requests()
    gh_world.repo.get_branch("main")
    gh_world.repo.get_pulls().totalCount  # noqa: B018 - the call is the point

    log = gh_world.admin.requests()

    assert [(r["method"], r["path"], r["status"]) for r in log] == [
        ("GET", f"/api/v3/repos/{OWNER}/demo/branches/main", 200),
        ("GET", f"/api/v3/repos/{OWNER}/demo/pulls", 200),
    ]
    assert {r["login"] for r in log} == {"release-train-bot"}
    gh_world.admin.clear_requests()
    assert gh_world.admin.requests() == []


def test_admin_tokens_repos_and_errors(gh_world: World, tmp_path: Path) -> None:
    token = gh_world.admin.make_token()
    gh_world.admin.add_repo("second", build_source(tmp_path / "second-source"))

    repo = make_github(gh_world.stand_in, token).get_repo(f"{OWNER}/second")

    assert repo.default_branch == "main"
    assert gh_world.admin.info()["repos"] == ["demo", "second"]
    with pytest.raises(ReleaseError) as unknown:
        gh_world.admin.set_ci("missing", conclusion="failure")
    assert unknown.value.code is ErrorCode.SANDBOX_ERROR
    with pytest.raises(ReleaseError):
        gh_world.admin.add_fault("error")  # neither a rate nor a count


def test_an_admin_client_of_a_stopped_stand_in_says_so() -> None:
    with pytest.raises(ReleaseError) as raised:
        SandboxAdmin("http://127.0.0.1:9/_sandbox").info()
    assert raised.value.code is ErrorCode.SANDBOX_ERROR


def test_state_persists_across_a_restart(tmp_path: Path) -> None:
    root = tmp_path / "world"
    with GitHubStandIn(root) as first:
        first.add_repo("demo", build_source(tmp_path / "source"))
        gh = make_github(first)
        main = gh.get_repo(f"{OWNER}/demo").get_branch("main").commit.sha
        repo = gh.get_repo(f"{OWNER}/demo")
        repo.create_git_ref("refs/heads/feature", main)
        repo.create_file("a.txt", "feat: a", "a\n", branch="feature")
        repo.create_pull(title="feat: a", body="", head="feature", base="main")
        token = first.token

    with GitHubStandIn(root) as second:
        assert second.token == token
        pulls = make_github(second).get_repo(f"{OWNER}/demo").get_pulls(state="open")
        assert [p.title for p in pulls] == ["feat: a"]


@pytest.mark.parametrize(
    ("tag", "version"),
    [
        ("omnibase_core/v1.5.0", "1.5.0"),
        ("v1.5.0", "1.5.0"),
        ("v2.0.0rc1", "2.0.0rc1"),
        ("nightly", None),
        ("v-not-a-version", None),
        ("release-1.0", None),
    ],
)
def test_release_tags_end_in_v_and_a_pep440_version(tag: str, version: str | None) -> None:
    assert release_version(tag) == version
