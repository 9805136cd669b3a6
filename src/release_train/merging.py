"""MERGE's guards: the base is still the one the plan saw, and CI passed what it must.

The approval covered a set of commits (the plan's base and the release commit on top), and
a merge must not ship more than that, nor ship what CI has not passed (issue 12, items 1
and 2; DESIGN: "The base can move", "Checks register late").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from release_train.context import RepoContext
from release_train.errors import ErrorCode, ReleaseError

if TYPE_CHECKING:  # the plan path must not import PyGithub (tests/integration/test_plan_cli.py)
    from release_train.adapters.github import ChecksState
    from release_train.adapters.merge_guards import Comparison

LISTED = 5  # new commits named in a BASE_MOVED message; the rest are counted
SUBJECT_WIDTH = 72
NOTHING_RAN = (
    "no check ran on the PR at all (a PR opened with a workflow's GITHUB_TOKEN starts no "
    "workflow: use a GitHub App or PAT token); "
)


def check_base(ctx: RepoContext) -> None:
    """BASE_MOVED when the target branch is no longer at the commit the plan saw.

    A squash merge onto a newer branch head would put those newer commits into the tagged
    commit and the published package, with no changelog line and no say in the bump.
    """
    branch, planned = ctx.config.branch_of(ctx.name), ctx.repo.base
    head = ctx.github.branch_sha(ctx.name, branch)
    if head == planned:
        return
    if head is None:
        what = f"{branch} no longer exists (the plan saw it at {planned[:12]})"
    else:
        found = ctx.github.compare(ctx.name, planned, head)
        what = f"{branch} moved since the plan ({planned[:12]} -> {head[:12]}): " + _appeared(
            found, branch
        )
    raise ReleaseError(
        ErrorCode.BASE_MOVED,
        what,
        repo=ctx.name,
        hint=f"the approved plan did not include them: review them, close {ctx.repo.pr_url} "
        f"without merging, and release from a new plan (`release-train release {ctx.name}`, "
        f"or dispatch the workflow again); `release-train resume {ctx.run.run_id}` keeps "
        "refusing",
    )


def _appeared(found: Comparison, branch: str) -> str:
    named = "; ".join(f"{c.sha[:7]} {_subject(c.subject)}" for c in found.commits[:LISTED])
    more = found.ahead_by - min(len(found.commits), LISTED)
    text = f"{found.ahead_by} new commit{'s' if found.ahead_by != 1 else ''}: {named}"
    text += f"; and {more} more" if more > 0 else ""
    if found.behind_by:
        text += f"; {found.behind_by} planned commit(s) are no longer on {branch}"
    return text


def _subject(text: str) -> str:
    """A commit subject fit for one line of a terminal: no control characters, bounded."""
    clean = "".join(c if c.isprintable() else " " for c in text).strip()
    return clean if len(clean) <= SUBJECT_WIDTH else clean[: SUBJECT_WIDTH - 1] + "…"


Verdict = Literal["green", "wait", "none"]


@dataclass(frozen=True)
class ChecksRule:
    """What makes a head green: the required checks, else all seen after the grace period."""

    required: tuple[str, ...]
    grace_end: float  # clock time before which an unrequired green is not trusted

    def verdict(self, state: ChecksState, now: float) -> Verdict:
        """`green`, `wait`, or `none`: no check at all once the grace period is over."""
        if self.required:
            return "wait" if pending(state) or self.missing(state) else "green"
        if now < self.grace_end:
            return "wait"  # a check may still register
        if not state.checks:
            return "none"
        return "wait" if pending(state) else "green"

    def missing(self, state: ChecksState) -> list[str]:
        seen = {check.name for check in state.checks}
        return [name for name in self.required if name not in seen]


def pending(state: ChecksState) -> list[str]:
    return [check.name for check in state.checks if check.state == "pending"]


def wait_for_checks(ctx: RepoContext, sha: str) -> None:
    """Poll the head's checks until green under the branch's rules, within the CI bound."""
    services, config = ctx.services, ctx.config
    start = services.clock()
    required = ctx.github.required_checks(ctx.name, config.branch_of(ctx.name))
    rule = ChecksRule(required.names, start + config.checks_grace_seconds)
    last: list[ChecksState] = []

    def settled() -> bool:
        state = ctx.github.checks(ctx.name, sha)
        last[:] = [state]
        if state.failed:
            raise _failed(ctx, sha, state)
        verdict = rule.verdict(state, services.clock())
        if verdict == "none" and not config.allows_no_checks(ctx.name):
            raise _no_checks(ctx, sha, config.checks_grace_seconds)
        return verdict != "wait"

    what = f"checks of PR #{ctx.repo.pr_number}" + (
        f" (required: {', '.join(rule.required)})"
        if rule.required
        else f" ({config.checks_grace_seconds} s for late checks to register)"
    )

    def states() -> tuple[tuple[str, str], ...]:
        seen = tuple((check.name, check.state) for check in last[0].checks) if last else ()
        missing = rule.missing(last[0]) if last else list(rule.required)
        return seen + tuple((name, "not reported") for name in missing)

    deadline = start + services.waits.ci_timeout
    url = ctx.repo.pr_url
    if not services.poll(ctx.name, what, deadline, settled, url=url, states=states, since=start):
        if not last:
            from release_train.adapters.github import ChecksState  # noqa: PLC0415

            last.append(ChecksState("none", ()))
        raise _timeout(ctx, rule, last[0])


def _failed(ctx: RepoContext, sha: str, state: ChecksState) -> ReleaseError:
    failed = state.failed[0]
    said = f" ({failed.detail})" if failed.detail else ""
    return ReleaseError(
        ErrorCode.CI_FAILED,
        f"check {failed.name!r} failed on {sha[:12]}{said}",
        repo=ctx.name,
        hint=f"see {failed.url or ctx.repo.pr_url}; re-run the check once the cause "
        "is fixed, then resume (only the release commit is ever merged)",
    )


def _no_checks(ctx: RepoContext, sha: str, grace: int) -> ReleaseError:
    return ReleaseError(
        ErrorCode.NO_CHECKS,
        f"no check reported on {sha[:12]} within {grace} s, and {ctx.config.branch_of(ctx.name)} "
        "requires none that the token can read",
        repo=ctx.name,
        hint=NOTHING_RAN + "a release is merged only once CI passed it: add CI to the repo "
        "(or require its checks in branch protection), or set allow_no_checks = true (for "
        f"this repo: [repos.{ctx.name}] allow_no_checks = true), then resume",
    )


def _timeout(ctx: RepoContext, rule: ChecksRule, state: ChecksState) -> ReleaseError:
    bound = ctx.services.waits.ci_timeout
    after = f"after {bound / 60:g} min" if bound >= 60 else f"after {bound:g} s"
    still, missing = pending(state), rule.missing(state)
    parts = [f"checks still pending {after}: {', '.join(still)}"] if still else []
    if missing:
        parts.append(f"required checks never reported {after}: {', '.join(missing)}")
    return ReleaseError(
        ErrorCode.CI_TIMEOUT,
        "; ".join(parts) or f"checks still pending {after}: (none reported)",
        repo=ctx.name,
        hint=(NOTHING_RAN if not state.checks else "")
        + "raise ci_timeout_minutes, or fix the stuck or missing check (a required check "
        "must be reported under exactly that name), then resume",
    )
