"""What a rehearsal leaves to read: per repo the release commit, PR body, changelog entry,
tag, uploads, warnings and step times, gathered from the sandbox once the train stopped."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name

from release_train.adapters.git import git
from release_train.context import Progress, WaitStatus
from release_train.core.render import md_escape
from release_train.errors import ReleaseError

if TYPE_CHECKING:
    from release_train.core.plan import Plan
    from release_train.core.state import RepoState
    from release_train.runs import Outcome

# The engine reports a step it applied as "done in 1.2s" (engine._step); a step whose effect
# was already there took no time of its own.
_DONE_IN = re.compile(r"^done in (\d+(?:\.\d+)?)s$")
# What each step's time is spent on, for "where the time went".
STEP_WORK = {
    "WORKTREE": "worktree of the release branch",
    "LOCKED": "wait for upstreams on the index, uv lock",
    "LINT": "pre-commit",
    "PUSHED": "git push",
    "PR_CREATED": "open the PR",
    "MERGED": "wait for CI, merge",
    "TAGGED": "tag the merge commit",
    "PUBLISHED": "release workflow (uv build, upload), wait until installable",
}


@dataclass(frozen=True)
class StepTime:
    repo: str
    phase: str
    seconds: float


@dataclass(frozen=True)
class WaitTime:
    repo: str
    phase: str  # the step that waited
    what: str
    seconds: float


@dataclass
class Recorder:
    """A Progress that passes everything on and keeps the warnings, step times and waits.

    A wait lasts from the engine saying what it waits for to the end of that step.
    """

    inner: Progress
    clock: Callable[[], float] = time.monotonic
    warnings: list[tuple[str | None, str]] = field(default_factory=list)
    steps: list[StepTime] = field(default_factory=list)
    waits: list[WaitTime] = field(default_factory=list)
    _open: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def step(self, repo: str, phase: str, outcome: str) -> None:
        found = _DONE_IN.match(outcome)
        now = self.clock()
        with self._lock:
            for what, since in self._open.pop(repo, []):
                self.waits.append(WaitTime(repo, phase, what, round(now - since, 1)))
            if phase != "DONE":  # the end of a repo, not a step
                self.steps.append(StepTime(repo, phase, float(found.group(1)) if found else 0.0))
        self.inner.step(repo, phase, outcome)

    def waiting(self, repo: str, what: str) -> None:
        with self._lock:
            self._open.setdefault(repo, []).append((what, self.clock()))
        self.inner.waiting(repo, what)

    def wait_status(self, repo: str, status: WaitStatus) -> None:
        self.inner.wait_status(repo, status)

    def note(self, repo: str | None, message: str) -> None:
        self.inner.note(repo, message)

    def warning(self, repo: str | None, message: str) -> None:
        with self._lock:
            self.warnings.append((repo, message))
        self.inner.warning(repo, message)

    def failure(self, repo: str, code: str, message: str, hint: str | None) -> None:
        self.inner.failure(repo, code, message, hint)


@dataclass(frozen=True)
class World:
    """A rehearsal's sandbox as the report reads it: running here or detached (`--keep`).

    The paths are the layout `Sandbox.start` gives its root (sandbox/control.py).
    """

    root: Path
    owner: str
    env: Mapping[str, str]

    def bare(self, repo: str) -> Path:
        return self.root / "github" / "git" / self.owner / f"{repo}.git"

    @property
    def packages_dir(self) -> Path:
        return self.root / "index" / "packages"

    def pulls(self) -> list[dict[str, Any]]:
        from release_train.sandbox.github import SandboxAdmin  # noqa: PLC0415

        pulls: list[dict[str, Any]] = SandboxAdmin(self.env["SANDBOX_ADMIN_URL"]).snapshot()[
            "pulls"
        ]
        return pulls


@dataclass
class RepoReport:
    repo: str
    package: str
    tier: int
    branch: str  # the release branch the PR merged into
    upstreams: list[str]  # same-run upstreams, released before this repo
    old_version: str
    new_version: str
    status: str
    tag: str
    tag_sha: str | None
    merge_sha: str | None
    pr_url: str | None
    publish_run_url: str | None
    uploads: list[str]
    pr_body: str
    changelog_entry: str
    diff: str
    steps: list[tuple[str, float]]
    waits: list[tuple[str, str, float]]  # (step, what it waited for, seconds)
    warnings: list[str]
    error: str | None


@dataclass
class Report:
    run_id: str | None
    status: str
    exit_status: int
    wall_seconds: float
    problems: list[str]
    warnings: list[str]
    repos: list[RepoReport]
    error: str | None = None

    @classmethod
    def refused(cls, exc: ReleaseError, recorder: Recorder, wall: float) -> Report:
        warnings = [_warning(repo, message) for repo, message in recorder.warnings]
        return cls(None, "refused", int(exc.code.exit_status), wall, [], warnings, [], exc.render())

    def phase_seconds(self) -> dict[str, float]:
        """Seconds spent per step over all repos: lock, lint, CI and merge, publish and waits."""
        totals: dict[str, float] = {}
        for repo in self.repos:
            for phase, seconds in repo.steps:
                totals[phase] = round(totals.get(phase, 0.0) + seconds, 1)
        return totals

    def render(self, fmt: str) -> str:
        if fmt == "json":
            data = {**asdict(self), "phase_seconds": self.phase_seconds()}
            return json.dumps(data, indent=2, sort_keys=True) + "\n"
        if fmt == "markdown":
            return markdown(self)
        return text(self)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _warning(repo: str | None, message: str) -> str:
    return f"{repo}: {message}" if repo else message


def collect(world: World, plan: Plan, outcome: Outcome, recorder: Recorder, wall: float) -> Report:
    """The report of a finished (or stopped) train, read back from the sandbox."""
    state = outcome.state
    problems = [f"{p.code} {p.repo or '(family)'}: {p.message}" for p in plan.problems]
    warnings = [_warning(repo, message) for repo, message in recorder.warnings]
    if state is None:
        return Report(
            plan.run_id, "nothing to release", outcome.exit_status, wall, problems, warnings, []
        )
    pulls = world.pulls()
    repos = [
        _repo_report(world, state.repos[e.repo], pulls, recorder)
        for e in plan.entries
        if e.repo in state.repos
    ]
    return Report(
        state.run_id, str(state.status), outcome.exit_status, wall, problems, warnings, repos
    )


def _repo_report(
    world: World, repo: RepoState, pulls: list[dict[str, Any]], recorder: Recorder
) -> RepoReport:
    bare = world.bare(repo.repo)
    sha = repo.merge_sha
    diff = git(bare, "show", "--format=fuller", "--stat", "--patch", sha) if sha else ""
    body = next(
        (str(p["body"]) for p in pulls if p["repo"] == repo.repo and p["number"] == repo.pr_number),
        "",
    )
    base_branch = next(
        (
            str(p["base_ref"])
            for p in pulls
            if p["repo"] == repo.repo and p["number"] == repo.pr_number
        ),
        "",
    )
    error = None
    if repo.error is not None:
        found = repo.error
        error = f"{found.code} in {found.step}: {found.message}" + (
            f"\n{found.output}" if found.output else ""
        )
    return RepoReport(
        repo=repo.repo,
        package=repo.package,
        tier=repo.tier,
        branch=base_branch,
        upstreams=list(repo.upstreams),
        old_version=repo.old_version,
        new_version=repo.new_version,
        status=str(repo.status),
        tag=repo.tag,
        tag_sha=repo.tag_sha,
        merge_sha=sha,
        pr_url=repo.pr_url,
        publish_run_url=repo.publish_run_url,
        uploads=uploads(world.packages_dir, repo.package, repo.new_version),
        pr_body=body,
        changelog_entry=changelog_entry(bare, sha) if sha else "",
        diff=diff,
        steps=[(s.phase, s.seconds) for s in recorder.steps if s.repo == repo.repo],
        waits=[(w.phase, w.what, w.seconds) for w in recorder.waits if w.repo == repo.repo],
        warnings=[m for r, m in recorder.warnings if r == repo.repo],
        error=error,
    )


def uploads(packages_dir: Path, package: str, version: str) -> list[str]:
    """The files of `package` `version` the sandbox index holds, sorted."""
    from release_train.sandbox.index import dist_name_version  # noqa: PLC0415

    wanted = (str(canonicalize_name(package)), version)
    found = []
    for path in sorted(packages_dir.iterdir()) if packages_dir.is_dir() else []:
        try:
            name, found_version = dist_name_version(path.name)
        except ValueError:  # not a distribution (pypiserver's own files)
            continue
        if (str(canonicalize_name(name)), found_version) == wanted:
            found.append(path.name)
    return found


def changelog_entry(bare: Path, sha: str, changelog: str = "CHANGELOG.md") -> str:
    """The lines the release commit added to the changelog: its new entry."""
    patch = git(bare, "show", "--format=", "--unified=0", sha, "--", changelog)
    added = [
        line[1:]
        for line in patch.splitlines()
        if line.startswith("+") and not line.startswith("+++")
    ]
    return "\n".join(added).strip("\n") + "\n" if added else ""


def write_report(report: Report, dest: Path) -> None:
    """`report.md`, `report.json`, and per repo its diff, PR body and changelog entry."""
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "report.md").write_text(report.render("markdown"), encoding="utf-8")
    (dest / "report.json").write_text(report.render("json"), encoding="utf-8")
    for repo in report.repos:
        folder = dest / repo.repo
        folder.mkdir(exist_ok=True)
        (folder / "release.diff").write_text(repo.diff, encoding="utf-8")
        (folder / "pr-body.md").write_text(repo.pr_body, encoding="utf-8")
        (folder / "changelog-entry.md").write_text(repo.changelog_entry, encoding="utf-8")


def _fence(body: str, info: str = "") -> list[str]:
    """`body` in a code fence longer than any backtick run inside it (commit text is theirs)."""
    longest = max((len(run) for run in re.findall("`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{info}", body.rstrip("\n"), fence]


def _by_time(report: Report) -> list[tuple[str, float]]:
    """Steps by the seconds they took over all repos, longest first."""
    return sorted(report.phase_seconds().items(), key=lambda kv: (-kv[1], kv[0]))


def _time_lines(report: Report) -> list[str]:
    return [
        f"| {phase} | {STEP_WORK.get(phase, '')} | {seconds:.1f} |"
        for phase, seconds in _by_time(report)
    ]


def markdown(report: Report) -> str:
    lines = [
        f"# Rehearsal `{report.run_id or '(no run)'}`",
        "",
        f"**{md_escape(report.status)}** · {_plural(len(report.repos), 'repo')} · "
        f"wall time {report.wall_seconds:.1f}s · exit status {report.exit_status}",
        "",
    ]
    if report.error:
        lines += ["## Refused", "", *_fence(report.error), ""]
    lines += ["## Where the time went", "", "| step | what | seconds |", "| --- | --- | ---: |"]
    lines += [*_time_lines(report), ""]
    notes = [*report.problems, *report.warnings]
    lines += ["## Warnings", "", *([f"- {md_escape(n)}" for n in notes] or ["- (none)"]), ""]
    for repo in report.repos:
        lines += _repo_markdown(repo)
    return "\n".join(lines).rstrip("\n") + "\n"


def _repo_markdown(repo: RepoReport) -> list[str]:
    steps = ", ".join(f"{phase} {seconds:.1f}s" for phase, seconds in repo.steps)
    lines = [
        f"## {md_escape(repo.repo)} {md_escape(repo.old_version)} → {md_escape(repo.new_version)}",
        "",
        f"- status: {md_escape(repo.status)}",
        f"- tag: `{repo.tag}` at `{repo.tag_sha or '-'}` (merge commit `{repo.merge_sha or '-'}`)",
        f"- PR: {repo.pr_url or '-'}; publish run: {repo.publish_run_url or '-'}",
        f"- uploaded: {', '.join(f'`{f}`' for f in repo.uploads) or '(nothing)'}",
        f"- steps: {steps or '(none)'}",
        *[
            f"- waited {sec:.1f}s in {phase} for {md_escape(what)}"
            for phase, what, sec in repo.waits
        ],
        *[f"- warning: {md_escape(w)}" for w in repo.warnings],
        "",
        *([*_fence(repo.error), ""] if repo.error else []),
        "### Changelog entry",
        "",
        *_fence(repo.changelog_entry or "(none)", "markdown"),
        "",
        "<details><summary>PR body</summary>",
        "",
        *_fence(repo.pr_body or "(none)", "markdown"),
        "",
        "</details>",
        "",
        "<details><summary>Release commit</summary>",
        "",
        *_fence(repo.diff or "(none)", "diff"),
        "",
        "</details>",
        "",
    ]
    return lines


def text(report: Report) -> str:
    lines = [
        "",
        f"Rehearsal {report.run_id or '(no run)'}: {report.status} in {report.wall_seconds:.1f}s",
    ]
    if report.error:
        lines.append(report.error)
    for repo in report.repos:
        files = ", ".join(repo.uploads) or "nothing uploaded"
        lines.append(f"  {repo.repo:<18} {repo.tag:<12} {files}")
        if repo.error:
            lines.append(f"  {'':<18} error: {repo.error.splitlines()[0]}")
    shown = _by_time(report)
    if shown:
        lines.append("  time by step: " + ", ".join(f"{p} {s:.1f}s" for p, s in shown))
    for note in [*report.problems, *report.warnings]:
        lines.append(f"  warning: {note}")
    return "\n".join(lines) + "\n"
