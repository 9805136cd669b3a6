"""MERGE's guards: the base is still the one the plan saw, and CI passed what it must.

The approval covered a set of commits (the plan's base and the release commit on top), and
a merge must not ship more than that, nor ship what CI has not passed (issue 12, items 1
and 2; DESIGN: "The base can move", "Checks register late").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from release_train.context import RepoContext
from release_train.errors import BUG_HINT, ErrorCode, ReleaseError

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


def check_merged(ctx: RepoContext, merge_sha: str) -> None:
    """MERGED_UNPLANNED when the merge commit holds more than the release commit.

    The guards before the merge leave gaps no API closes: the branch can move between the
    last look and GitHub's merge, a queue can land an entry enqueued in between ahead of
    the release, and someone can merge the release PR by hand after the branch moved. The
    tag is what gets built and published, so TAG first checks that the merge commit's tree
    is the release commit's: then the tag ships the approved plan's base plus the release
    commit, and nothing else.
    """
    release, base = ctx.repo.release_commit, ctx.repo.base
    if release is None:
        raise ReleaseError(
            ErrorCode.INTERNAL, "TAG without a release commit", repo=ctx.name, hint=BUG_HINT
        )
    merged = ctx.github.git_commit(ctx.name, merge_sha)
    if merged.tree == ctx.github.git_commit(ctx.name, release).tree:
        return
    branch, tag = ctx.config.branch_of(ctx.name), ctx.repo.tag
    parent = merged.parents[0] if merged.parents else base
    if parent != base:
        what = f"it was made on {parent[:12]}, not on the plan's base {base[:12]}: " + _appeared(
            ctx.github.compare(ctx.name, base, parent), branch
        )
    else:
        what = "its files differ from the release commit's"
    raise ReleaseError(
        ErrorCode.MERGED_UNPLANNED,
        f"the merge commit {merge_sha[:12]} holds more than the release commit "
        f"{release[:12]}: {what}",
        repo=ctx.name,
        hint=f"the release is merged into {branch} but not tagged, and nothing is published: "
        f"review what else landed; to ship it as merged, tag it yourself (`git tag {tag} "
        f"{merge_sha} && git push origin {tag}`) and resume; otherwise revert the release "
        "commit and release from a new plan",
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
