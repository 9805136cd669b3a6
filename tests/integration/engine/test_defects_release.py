"""DESIGN's known defects 2, 6, 7 and 8 (tags, locks, CI, the index), shown fixed in the sandbox.

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

import pytest

from release_train.console import ConsoleProgress

from .conftest import CI_SECONDS, FAST_WAITS, Rig


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
    rig.admin.set_ci("ci_core", duration=3.0)  # pending when the wait starts, under load too
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
