"""Git over HTTP under injected faults: transient failures are retried, refusals are not."""

from __future__ import annotations

from pathlib import Path

import pytest

from release_train.adapters import clones
from release_train.adapters.backoff import Backoff
from release_train.adapters.git import git
from release_train.errors import ErrorCode, ReleaseError
from tests.integration.sandbox.test_github_fixtures import OWNER, REPO, World, gh_world

__all__ = ["gh_world"]

GIT = f"/{OWNER}/{REPO}.git"
IDENTITY = ("-c", "user.name=x", "-c", "user.email=x@example.invalid")


def run_auth(world: World, waits: list[float], attempts: int = 4) -> clones.GitAuth:
    auth = clones.GitAuth.for_token(world.stand_in.token, world.tmp / "auth")
    return clones.GitAuth(auth.askpass, auth.token, Backoff(attempts, 0.5, 4.0, waits.append))


def git_faults(world: World) -> list[tuple[str, int, str | None]]:
    return [
        (r["method"], r["status"], r["fault"])
        for r in world.admin.requests()
        if r["kind"] == "git" and r["fault"]
    ]


@pytest.mark.parametrize(
    "fault",
    [{"kind": "error", "status": 502}, {"kind": "drop"}, {"kind": "error", "status": 503}],
    ids=["502", "drop", "503"],
)
def test_a_clone_and_a_fetch_ride_out_a_failed_request(
    gh_world: World, tmp_path: Path, fault: dict[str, object]
) -> None:
    waits: list[float] = []
    auth = run_auth(gh_world, waits)
    url = gh_world.stand_in.clone_url(REPO)
    gh_world.admin.add_fault(count=1, path_prefix=GIT, **fault)  # type: ignore[arg-type]

    dest = clones.fresh_clone(url, tmp_path / "clones" / REPO, "main", auth)

    assert git(dest, "log", "-1", "--format=%s").strip() == "docs: readme"
    assert len(git_faults(gh_world)) == 1 and len(waits) == 1
    gh_world.admin.add_fault(count=1, path_prefix=GIT, **fault)  # type: ignore[arg-type]
    clones.fresh_clone(url, dest, "main", auth)  # the existing clone fetches
    assert len(git_faults(gh_world)) == 2 and len(waits) == 2


def test_a_push_that_met_a_502_is_pushed_again(gh_world: World, tmp_path: Path) -> None:
    waits: list[float] = []
    auth = run_auth(gh_world, waits)
    dest = clones.fresh_clone(gh_world.stand_in.clone_url(REPO), tmp_path / "c", "main", auth)
    git(dest, *IDENTITY, "commit", "-q", "--allow-empty", "-m", "x")
    head = git(dest, "rev-parse", "HEAD").strip()
    gh_world.admin.add_fault("error", count=1, status=502, method="POST", path_prefix=GIT)

    clones.authed(auth, dest, "push", "--quiet", "origin", "HEAD:refs/heads/pushed")

    assert clones.ls_remote(auth, dest, "refs/heads/pushed") == head
    assert git_faults(gh_world) == [("POST", 502, "error")] and len(waits) == 1


def _empty_commit(dest: Path, message: str) -> None:
    git(
        dest,
        "-c",
        "user.name=x",
        "-c",
        "user.email=x@x",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        message,
    )


def test_a_refused_push_and_a_lasting_outage_are_not_hidden(
    gh_world: World, tmp_path: Path
) -> None:
    waits: list[float] = []
    auth = run_auth(gh_world, waits, attempts=3)
    dest = clones.fresh_clone(gh_world.stand_in.clone_url(REPO), tmp_path / "c", "main", auth)
    _empty_commit(dest, "x")
    clones.authed(auth, dest, "push", "--quiet", "origin", "HEAD:refs/heads/side")
    git(dest, "reset", "-q", "--hard", "HEAD^")
    _empty_commit(dest, "y")

    with pytest.raises(ReleaseError) as rejected:  # non-fast-forward: final at once
        clones.authed(auth, dest, "push", "--quiet", "origin", "HEAD:refs/heads/side")
    assert rejected.value.code is ErrorCode.GIT_FAILED and waits == []

    gh_world.admin.add_fault("error", count=3, status=502, path_prefix=GIT)
    with pytest.raises(ReleaseError) as down:
        clones.ls_remote(auth, dest, "refs/heads/main")
    assert "502" in (down.value.output or "") and len(waits) == 2  # three tries, then it says so
