"""DESIGN's "Known defects of the original", each shown fixed against the sandbox.

Every test names the defect it covers; its docstring says what the original did and why
the test fails on that behaviour.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import pytest

from release_train.adapters import clones
from release_train.adapters.git import git
from release_train.config import FailurePolicy
from release_train.console import ConsoleProgress
from release_train.core.state import RunState, run_result

from .conftest import BOT, CI_SECONDS, FAST_WAITS, Rig, tree_bytes


def test_defect2_tag_is_the_merge_commit_not_mains_later_head(rig: Rig) -> None:
    """The original pulled `main` and tagged its head: a commit merged after the release PR
    would be tagged. Here a commit lands on main between MERGE and TAG (the run is paused
    there, then killed and resumed): the tag must point at the recorded merge commit."""
    config = rig.config("merge")
    rig.push("mrg_core", "fix: make the release worth it")
    args = ("release", "mrg_core", "--yes", "--run-id", "mrg-1")
    with rig.paused(*args, after="mrg_core:MERGED", config=config) as run:
        later = rig.push("mrg_core", "feat: merged after the release PR")
        assert "mrg_core" in run.output
    paused = rig.state("mrg-1").repos["mrg_core"]
    assert paused.phase == "MERGED" and paused.merge_sha is not None

    resumed = rig.cli("resume", "mrg-1", config=config)

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    repo = rig.state("mrg-1").repos["mrg_core"]
    server = rig.repo_snapshot("mrg_core")
    [pull] = [p for p in rig.pulls("mrg_core") if p["head_ref"] == repo.branch]
    assert repo.merge_sha == paused.merge_sha == pull["merge_commit_sha"]
    assert server["tags"][repo.tag] == repo.merge_sha == repo.tag_sha
    assert server["branches"]["main"] == later != repo.merge_sha


def test_defect6_lock_waits_until_the_upstream_installs_not_until_it_is_listed(
    rig: Rig, capsys: pytest.CaptureFixture[str]
) -> None:
    """The original ran a dependent's `uv lock` right after its upstream's tag (it waited for
    the index only at the very end, if at all), and its index check was the JSON API. Here the
    CDN lists the new upstream seconds before it serves it: LOCK must wait (and say so) and
    succeed, at a moment when the JSON page already listed the file, so a JSON check passed."""
    seen: list[tuple[str, int]] = []  # (version the JSON API lists, status of its first file)

    def sleep(seconds: float) -> None:
        seen.append(_json_and_file(rig, "lag-core"))
        time.sleep(seconds)

    rig.world.cdn.lag = 3.0
    try:
        status, state = rig.release(
            rig.config("lag"),
            "lag-1",
            waits=replace(FAST_WAITS, skip_index_wait=True),
            sleep=sleep,
        )
    finally:
        rig.world.cdn.lag = 0.0

    out = capsys.readouterr().out
    assert status == 0, out
    upstream, app = state.repos["lag_core"], state.repos["lag_app"]
    assert [upstream.status, app.status] == ["done", "done"]
    wanted = f"lag-core=={upstream.new_version}"
    assert re.search(
        rf"^  lag_app +\.\.\. +waiting for {re.escape(wanted)} to be installable from the index "
        "before uv lock$",
        out,
        re.MULTILINE,
    ), out
    assert (upstream.new_version, 404) in seen  # listed, not served: the original went ahead
    lock = rig.show("lag_app", "main", "uv.lock")
    assert f'name = "lag-core"\nversion = "{upstream.new_version}"' in lock


def _json_and_file(rig: Rig, package: str) -> tuple[str, int]:
    """What a client of the index front sees now: the listed version, its file's status."""
    base = rig.world.cdn.url
    try:
        with urllib.request.urlopen(f"{base}/pypi/{package}/json", timeout=10) as reply:  # noqa: S310
            data = json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        exc.close()
        return ("", exc.code)
    url = data["urls"][0]["url"]
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:  # noqa: S310
            return (data["info"]["version"], reply.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return (data["info"]["version"], exc.code)


def test_defect7_a_check_pending_past_the_bound_is_ci_timeout(
    rig: Rig, capsys: pytest.CaptureFixture[str]
) -> None:
    """The original waited for CI without a bound: a stuck check hung the release forever.
    Here the check stays pending far beyond a 2 s CI bound: the repo fails CI_TIMEOUT, names
    the pending check, and nothing is merged."""
    rig.admin.set_ci("ci_core", duration=600.0)
    try:
        started = time.monotonic()
        status, state = rig.release(
            rig.config("ci"), "ci-timeout", waits=replace(FAST_WAITS, ci_timeout=2.0)
        )
        elapsed = time.monotonic() - started
    finally:
        rig.admin.set_ci("ci_core", duration=CI_SECONDS)

    assert status == 1, capsys.readouterr().out
    repo = state.repos["ci_core"]
    assert repo.error is not None and repo.error.code == "CI_TIMEOUT"
    assert (repo.status, repo.phase, repo.error.step) == ("failed", "PR_CREATED", "MERGE")
    assert "test" in repo.error.message
    assert elapsed < 30
    [pull] = [p for p in rig.pulls("ci_core") if p["head_ref"] == repo.branch]
    assert (pull["state"], pull["merged"]) == ("open", False)


class PushWhen(ConsoleProgress):
    """Progress that pushes someone else's commit to the release branch at one moment."""

    def __init__(self, rig: Rig, branch: str, moment: tuple[str, str]) -> None:
        super().__init__()
        self.rig, self.branch, self.moment = rig, branch, moment
        self.pushed: list[str] = []

    def _maybe_push(self, event: str, text: str) -> None:
        kind, marker = self.moment
        if kind == event and marker in text and not self.pushed:
            self.pushed.append(self.rig.push("ci_core", "fix: not ours", branch=self.branch))

    def step(self, repo: str, phase: str, outcome: str) -> None:
        super().step(repo, phase, outcome)
        self._maybe_push("step", f"{repo}:{phase}")

    def waiting(self, repo: str, what: str) -> None:
        super().waiting(repo, what)
        self._maybe_push("waiting", f"{repo}:{what}")


@pytest.mark.parametrize(
    ("moment", "cause"),
    [
        (("step", "ci_core:PR_CREATED"), "not the release commit"),
        # The head checked before the wait was ours: the merge call's expected SHA refuses.
        (("waiting", "ci_core:checks of PR"), "head moved"),
    ],
    ids=["after-pr-created", "while-waiting-for-ci"],
)
def test_defect7_merge_refuses_a_head_that_moved(
    rig: Rig, capsys: pytest.CaptureFixture[str], moment: tuple[str, str], cause: str
) -> None:
    """The original merged whatever the PR's head was once CI was green, so a commit pushed
    to the release branch was released unreviewed. Here someone pushes to the release branch
    after the PR exists (before the CI wait, or during it): MERGE_FAILED, nothing merged."""
    run_id = f"ci-moved-{moment[0]}"
    main_before = rig.repo_snapshot("ci_core")["branches"]["main"]
    progress = PushWhen(rig, f"release/{run_id}/ci_core", moment)
    rig.admin.set_ci("ci_core", duration=1.0)  # CI still pending when the wait starts
    try:
        status, state = rig.release(rig.config("ci"), run_id, progress=progress)
    finally:
        rig.admin.set_ci("ci_core", duration=CI_SECONDS)

    out = capsys.readouterr().out
    assert status == 1, out
    assert progress.pushed, out
    repo = state.repos["ci_core"]
    assert repo.error is not None and repo.error.code == "MERGE_FAILED", out
    assert cause in repo.error.message
    assert repo.merge_sha is None and repo.phase == "PR_CREATED"
    [pull] = [p for p in rig.pulls("ci_core") if p["head_ref"] == repo.branch]
    assert (pull["merged"], pull["head_sha"]) == (False, progress.pushed[0])
    assert pull["head_sha"] != repo.release_commit
    assert rig.repo_snapshot("ci_core")["branches"]["main"] == main_before


def test_defect7_a_failed_check_is_ci_failed_with_its_name_and_url(
    rig: Rig, capsys: pytest.CaptureFixture[str]
) -> None:
    """The original merged once CI stopped running, whatever it concluded, and could not
    say what failed. Here the `test` check fails: CI_FAILED naming the check, with the
    check run's own URL in the hint, and the PR left open."""
    rig.admin.set_ci("ci_core", conclusion="failure")
    try:
        status, state = rig.release(rig.config("ci"), "ci-red")
    finally:
        rig.admin.set_ci("ci_core", conclusion="success")

    assert status == 1, capsys.readouterr().out
    repo = state.repos["ci_core"]
    assert repo.error is not None and repo.error.code == "CI_FAILED"
    assert "'test'" in repo.error.message
    [check] = [
        c
        for c in rig.admin.snapshot()["check_runs"]
        if c["repo"] == "ci_core" and c["sha"] == repo.release_commit
    ]
    assert check["conclusion"] == "failure"
    server = rig.world.github.server_url
    url = f"{server}/{rig.world.owner}/ci_core/actions/runs/"
    assert url in (repo.error.hint or "") and f"/job/{check['id']}" in (repo.error.hint or "")
    [pull] = [p for p in rig.pulls("ci_core") if p["head_ref"] == repo.branch]
    assert (pull["state"], pull["merged"]) == ("open", False)


def test_defect8_an_index_timeout_is_reported_as_timeout_not_available(rig: Rig) -> None:
    """The original's result said `pypi_status: available` for every DONE repo, even when
    its index wait timed out. Here the publish run is slower than the index bound (0 min):
    the repo is DONE (merge and tag stand), with the warning printed and `timeout` in the
    summary, the state and the result file."""
    result_file = rig.root / "result.json"
    args = ("release", "idx_core", "--yes", "--run-id", "idx-1", "--pypi-timeout-minutes", "0")

    done = rig.cli(*args, "--result-file", str(result_file), config=rig.config("index"))

    assert done.returncode == 0, done.stdout + done.stderr
    repo = rig.state("idx-1").repos["idx_core"]
    assert (repo.status, repo.phase, repo.index_status) == ("done", "DONE", "timeout")
    assert f"warning: idx-core=={repo.new_version} not installable after 0 min" in done.stdout
    assert re.search(rf"^  idx_core .* {re.escape(repo.tag)} +timeout$", done.stdout, re.M)
    result = json.loads(result_file.read_text())
    assert result["status"] == "SUCCESS"
    [detail] = result["details"]
    assert (detail["pypi_status"], detail["phase"], detail["status"]) == ("timeout", "DONE", "done")
    [publish_run] = [r for r in rig.workflow_runs("idx_core") if r["tag"] == repo.tag]
    assert publish_run["status"] != "completed"  # still on its way: the index had nothing yet


class Counts(NamedTuple):
    status: str
    attempted: int
    succeeded: int
    failed: int
    blocked: int
    skipped: int


def _counts(state: RunState) -> Counts:
    result = run_result(state)
    numbers = ("attempted", "succeeded", "failed", "blocked", "skipped")
    return Counts(result.status, *(getattr(result, f"repos_{n}") for n in numbers))


def _where(state: RunState) -> dict[str, tuple[str, str, str | None]]:
    return {name: (r.status, r.phase, r.blocked_by) for name, r in state.repos.items()}


def test_defect9_fail_fast_blocks_and_counts_blocked_apart_from_skipped(
    rig: Rig, capsys: pytest.CaptureFixture[str]
) -> None:
    """The original had no BLOCKED status (blocked repos stayed at phase PLANNED) and counted
    every PLANNED repo without an error as skipped. Here a tier-2 repo's CI fails under
    fail-fast: the rest of its tier and the next tier are `blocked` (phase PLANNED), the
    result counts them as blocked and only the NOTHING_TO_RELEASE repo as skipped; once CI
    is fixed and re-run, a resume releases the failed and the blocked repos."""
    config = rig.config("policy")
    rig.push("pol_core", "fix: the fail-fast round")
    rig.admin.set_ci("pol_app", conclusion="failure")
    try:
        status, state = rig.release(config, "pol-ff")
    finally:
        rig.admin.set_ci("pol_app", conclusion="success")
    out = capsys.readouterr().out

    assert status == 1, out
    assert state.skipped == {"pol_docs": "1.0.0"}
    assert _where(state) == {
        "pol_core": ("done", "DONE", None),
        "pol_app": ("failed", "PR_CREATED", None),
        "pol_cli": ("blocked", "PLANNED", "pol_app"),
        "pol_ext": ("blocked", "PLANNED", "pol_app"),
    }
    app = state.repos["pol_app"]
    assert app.error is not None and app.error.code == "CI_FAILED"
    assert _counts(state) == Counts("PARTIAL", 2, succeeded=1, failed=1, blocked=2, skipped=1)
    assert "blocked by pol_app: pol_cli, pol_ext" in out

    assert app.release_commit is not None
    rig.admin.rerun_ci("pol_app", app.release_commit)  # "Re-run all jobs", now green
    status, state = rig.resume(config, "pol-ff")

    assert status == 0, capsys.readouterr().out
    assert {name: r.status for name, r in state.repos.items()} == dict.fromkeys(
        ["pol_core", "pol_app", "pol_cli", "pol_ext"], "done"
    )
    assert _counts(state) == Counts("SUCCESS", 4, succeeded=4, failed=0, blocked=0, skipped=1)
    assert state.attempts == 2
    assert len([p for p in rig.pulls("pol_app") if p["head_ref"] == app.branch]) == 1


# Branch protection that wants a check CI never posts: the merge is refused (405) until the
# rule is lifted.
UNMET_RULE = ["deploy/preview"]


def test_defect9_keep_going_blocks_only_the_dependents(
    rig: Rig, capsys: pytest.CaptureFixture[str]
) -> None:
    """Under keep-going, a failed repo blocks only what depends on it: its sibling in the tier
    is released, its dependent is blocked (not skipped), the planned skip stays a skip."""
    rig.push("pol_core", "fix: the keep-going round")
    rig.admin.set_ci("pol_app", required=UNMET_RULE)
    try:
        status, state = rig.release(
            rig.config("policy"), "pol-kg", failure_policy=FailurePolicy.KEEP_GOING
        )
    finally:
        rig.admin.set_ci("pol_app", required=[])

    assert status == 1, capsys.readouterr().out
    assert _where(state) == {
        "pol_core": ("done", "DONE", None),
        "pol_app": ("failed", "PR_CREATED", None),
        "pol_cli": ("done", "DONE", None),
        "pol_ext": ("blocked", "PLANNED", "pol_app"),
    }
    assert _counts(state) == Counts("PARTIAL", 3, succeeded=2, failed=1, blocked=1, skipped=1)


def test_defect12_a_workflow_token_tag_starts_no_publish_run_and_dispatch_fixes_it(
    rig: Rig,
) -> None:
    """A tag pushed with a workflow's GITHUB_TOKEN starts no other workflow; the original
    waited for (or ignored) a publish that never came. Here, with such a token in tag mode,
    PUBLISH fails PUBLISH_NOT_STARTED with the App/PAT hint. Switched to `publish = "dispatch"`
    the resumed run dispatches the release workflow once: killed while waiting for the index
    and resumed again, it finds that run instead of dispatching a second one."""
    env = {"GITHUB_TOKEN": rig.admin.make_token(actions=True)}
    settings = {"publish_start_timeout_seconds": 2}
    config = rig.config("token", settings=settings)

    failed = rig.cli("release", "tok_core", "--yes", "--run-id", "tok-1", config=config, env=env)

    assert failed.returncode == 1, failed.stdout + failed.stderr
    repo = rig.state("tok-1").repos["tok_core"]
    assert repo.error is not None and repo.error.code == "PUBLISH_NOT_STARTED"
    assert (repo.phase, repo.error.step) == ("TAGGED", "PUBLISH")
    assert "GITHUB_TOKEN" in (repo.error.hint or "") and "PAT" in (repo.error.hint or "")
    assert "hint: a tag created with a workflow's GITHUB_TOKEN" in failed.stdout
    assert rig.repo_snapshot("tok_core")["tags"][repo.tag] == repo.merge_sha
    assert rig.workflow_runs("tok_core") == []

    rig.admin.set_publish("tok_core", mode="dispatch", delay=2.0)
    config = rig.config("token", settings=settings, repos={"tok_core": {"publish": "dispatch"}})
    wanted = f"waiting for tok-core=={repo.new_version} to be installable"
    with rig.running("resume", "tok-1", until=wanted, config=config, env=env):
        pass  # killed while the dispatched run is on its way
    assert len(rig.workflow_runs("tok_core")) == 1

    resumed = rig.cli("resume", "tok-1", config=config, env=env)

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    repo = rig.state("tok-1").repos["tok_core"]
    assert (repo.status, repo.index_status) == ("done", "available")
    [publish_run] = rig.workflow_runs("tok_core")
    assert (publish_run["event"], publish_run["tag"]) == ("workflow_dispatch", repo.tag)


def _persons_workspace(rig: Rig, wip: str) -> Path:
    """A person's clone of ws_core: a feature branch with a local commit (adding `wip`), a
    modified file, a staged file and an untracked one, as a working copy looks any day."""
    workspace = rig.root / "person"
    workspace.mkdir()
    auth = clones.GitAuth.for_token(rig.world.github.token, rig.root / "person-auth")
    url = clones.repo_url(rig.world.github.server_url, rig.world.owner, "ws_core")
    clones.authed(auth, workspace, "clone", "--quiet", url, "ws_core")
    clone = workspace / "ws_core"
    git(clone, "checkout", "--quiet", "-b", "feature/wip")
    (clone / "src" / "ws_core" / wip).write_text('"""Not ready."""\n\nWIP = True\n')
    git(clone, "add", "--all")
    git(clone, *BOT, "commit", "--quiet", "-m", "feat: local work in progress")
    (clone / "src" / "ws_core" / "__init__.py").write_text('"""Edited, not saved in git."""\n')
    (clone / "staged.txt").write_text("staged\n")
    git(clone, "add", "staged.txt")
    (clone / "notes.txt").write_text("my notes\n")
    return workspace


def _working_copy(clone: Path) -> dict[str, object]:
    return {
        "files": tree_bytes(clone),
        "status": git(clone, "status", "--porcelain=v1", "--untracked-files=all"),
        "staged": git(clone, "diff", "--cached"),
        "head": git(clone, "rev-parse", "HEAD"),
        "branch": git(clone, "symbolic-ref", "HEAD"),
        "stash": git(clone, "stash", "list"),
    }


def test_defect13_workspace_release_leaves_the_persons_clone_as_it_was(rig: Rig) -> None:
    """The original ran `git pull --ff-only` in the person's own clone, mutating their
    working copy (or failing on it). Here a release in `--workspace` mode works in a worktree
    the run owns: the person's files, index, HEAD and branch are byte-identical afterwards,
    and the run's worktree is gone."""
    rig.push("ws_core", "fix: something to release from the workspace")
    workspace = _persons_workspace(rig, "wip_1.py")
    clone = workspace / "ws_core"
    before = _working_copy(clone)

    args = ("release", "ws_core", "--yes", "--run-id", "ws-1", "--workspace", str(workspace))
    done = rig.cli(*args, config=rig.config("workspace"))

    assert done.returncode == 0, done.stdout + done.stderr
    assert rig.state("ws-1").repos["ws_core"].status == "done"
    assert _working_copy(clone) == before
    assert git(clone, "worktree", "list", "--porcelain").count("worktree ") == 1


def test_defect13_workspace_release_is_cut_from_main_not_the_checked_out_branch(
    rig: Rig,
) -> None:
    """Releasing in a person's workspace must release the server's `main`, as the original
    did after its pull: the feature branch they have checked out, with a commit they never
    pushed, is not part of the release (no bump from it, not on main afterwards)."""
    main = rig.push("ws_core", "fix: the change this release is for")
    workspace = _persons_workspace(rig, "wip_2.py")

    args = ("release", "ws_core", "--yes", "--run-id", "ws-2", "--workspace", str(workspace))
    done = rig.cli(*args, config=rig.config("workspace"))

    assert done.returncode == 0, done.stdout + done.stderr
    repo = rig.state("ws-2").repos["ws_core"]
    assert (repo.base, repo.bump) == (main, "patch")
    assert "wip_2.py" not in rig.show("ws_core", "main", "src/ws_core/").split()


def _untouched(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `root`, .git included, with its mtime: any write shows."""
    return {
        str(path.relative_to(root)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_defect13_fresh_clone_mode_never_touches_the_workspace(rig: Rig) -> None:
    """Without --workspace the run clones afresh into its own work dir: a person's clone in
    the directory the command runs from (where its config lives) is not read or written."""
    rig.push("ws_core", "fix: something to release from fresh clones")
    workspace = _persons_workspace(rig, "wip_3.py")
    config = workspace / "release-train.toml"
    config.write_text(rig.config("workspace").read_text())
    before = _untouched(workspace)

    done = rig.cli("release", "ws_core", "--yes", "--run-id", "ws-3", cwd=workspace)

    assert done.returncode == 0, done.stdout + done.stderr
    repo = rig.state("ws-3").repos["ws_core"]
    assert repo.status == "done"
    assert repo.worktree_path is not None
    assert Path(repo.worktree_path).is_relative_to(rig.work_dir)
    assert _untouched(workspace) == before


def test_defect14_a_second_run_on_the_same_day_never_overwrites_the_first(
    rig: Rig, capsys: pytest.CaptureFixture[str]
) -> None:
    """The run id is the repos and the date, so the original's second release of the same
    repos on the same day reused the first's id and state file. Here the second run gets the
    id with `-2` and its own state, the first's archived state stays byte-identical, and an
    explicit `--run-id` of the finished run is refused (RUN_EXISTS, exit 3) with every state
    file untouched and nothing pushed."""
    config = rig.config("day")
    rig.push("day_core", "fix: the first change of the day")
    status, first = rig.release(config, None)
    assert status == 0, capsys.readouterr().out
    archived = rig.state_dir / "archive" / f"{first.run_id}.json"
    first_state = archived.read_bytes()

    rig.push("day_core", "fix: the second change of the day")
    status, second = rig.release(config, None)

    out = capsys.readouterr().out
    assert status == 0, out
    assert second.run_id == f"{first.run_id}-2"
    assert f"run id {first.run_id} is taken by an earlier run; this run is {second.run_id}" in out
    assert archived.read_bytes() == first_state
    assert [first.repos["day_core"].new_version, second.repos["day_core"].new_version] == [
        "1.0.1",
        "1.0.2",
    ]

    rig.push("day_core", "fix: the third change of the day")
    states, pulls = tree_bytes(rig.state_dir, skip=()), rig.pulls("day_core")
    args = ("release", "day_core", "--yes", "--run-id", first.run_id)
    refused = rig.cli(*args, config=config)

    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert f"error[RUN_EXISTS]: run {first.run_id} already exists" in refused.stderr
    assert tree_bytes(rig.state_dir, skip=()) == states
    assert rig.pulls("day_core") == pulls
    assert f"release/{first.run_id}/day_core" not in rig.repo_snapshot("day_core")["branches"]
