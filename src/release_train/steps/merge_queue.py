"""MERGE on a branch only a merge queue may merge: enqueue exactly the release commit, wait for
the queue to land it, and record the merge commit GitHub recorded for the PR.

The queue is probed, never remembered: each attempt reads the PR's queue state first, so a
crash after the enqueue finds the entry and waits on it instead of enqueuing again, and a
resume after a removal enqueues again only while the PR is open at the release commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from release_train import merging
from release_train.adapters import github_graphql as graphql
from release_train.adapters.github_graphql import GraphQLError, QueueEntry, QueueState
from release_train.adapters.merge_guards import MergeQueueRule
from release_train.context import RepoContext
from release_train.errors import ErrorCode, ReleaseError

GONE_PROBES = 2  # looks without an entry or a merge before the entry counts as removed


def land(ctx: RepoContext, number: int, rule: MergeQueueRule | None) -> None:
    """Put PR `number` through its base's merge queue; `ctx.repo.merge_sha` once merged."""
    state = graphql.pull_state(ctx.github, ctx.name, number)
    if not state.merged and state.entry is None:
        _enter(ctx, number, state)
    _wait(ctx, number, rule)


def _enter(ctx: RepoContext, number: int, state: QueueState) -> None:
    """Enqueue, after the guards the REST path holds the merge to.

    GitHub adds a PR to a queue only once it passed the branch's required checks and
    approvals ("Merging a pull request with a merge queue"; `gh pr merge` enables auto-merge
    instead until then), so MERGE waits for them first, as the REST path does: a red check
    on the PR is CI_FAILED at once, not an enqueue GitHub refuses.

    The base guard holds at the moment of the enqueue: the branch is still at the plan's
    base and nothing is queued ahead, so the queue's merge group is exactly the plan's base
    plus the release commit (the queue builds each group on the entries ahead of it). After
    that the queue itself moves the base, to the group's commit, which is not the move
    `check_base` guards against; `expectedHeadOid` keeps anything but the release commit out.
    """
    expected = ctx.repo.release_commit or state.head
    _check_open(ctx, number, state, expected)
    merging.check_base(ctx)  # before a long CI wait, so a moved base fails fast
    merging.wait_for_checks(ctx, state.head)
    merging.check_base(ctx)  # the base may have moved while CI ran
    _check_nothing_ahead(ctx, number)
    try:
        graphql.enqueue(ctx.github, ctx.name, state.id, expected)
    except GraphQLError as exc:
        # A retried mutation whose first attempt took effect is refused as already queued.
        again = graphql.pull_state(ctx.github, ctx.name, number)
        if again.merged or (again.entry is not None and again.head == expected):
            return
        raise ReleaseError(
            ErrorCode.MERGE_FAILED,
            f"cannot add PR #{number} to the merge queue: {exc.message}",
            repo=ctx.name,
            hint=f"check the PR's required checks, reviews and conflicts at {ctx.repo.pr_url}, "
            "then resume",
        ) from exc
    ctx.services.progress.note(ctx.name, f"PR #{number} added to the merge queue")


def _check_open(ctx: RepoContext, number: int, state: QueueState, expected: str) -> None:
    if state.state != "OPEN":
        raise ReleaseError(
            ErrorCode.MERGE_FAILED,
            f"PR #{number} is {state.state.lower()}, not open: it cannot be enqueued",
            repo=ctx.name,
            hint=f"reopen {ctx.repo.pr_url} (its head must still be the release commit), "
            "then resume",
        )
    if state.head != expected:
        raise ReleaseError(
            ErrorCode.MERGE_FAILED,
            f"PR #{number} head is {state.head[:12]}, not the release commit {expected[:12]}",
            repo=ctx.name,
            hint="someone pushed to the release branch; only the release commit is merged",
        )


def _check_nothing_ahead(ctx: RepoContext, number: int) -> None:
    """BASE_MOVED when other PRs are queued: they would land first, under the release's tag."""
    branch = ctx.config.branch_of(ctx.name)
    ahead = [e for e in graphql.entries(ctx.github, ctx.name, branch) if e.number != number]
    if not ahead:
        return
    named = ", ".join(f"#{e.number}" for e in ahead)
    raise ReleaseError(
        ErrorCode.BASE_MOVED,
        f"the merge queue of {branch} holds {named}: the queue would land "
        f"{'them' if len(ahead) > 1 else 'it'} first, into the release, unplanned",
        repo=ctx.name,
        hint=f"wait until {branch}'s merge queue is empty, then release from a new plan "
        "(what they merge changes the release), or dequeue them and resume",
    )


@dataclass
class _Watch:
    """The entry as last seen, so progress says each change of position or state once."""

    seen: QueueEntry | None = None
    said: set[tuple[str, int]] = field(default_factory=set)
    gone: int = 0  # probes in a row that found neither an entry nor a merge


def _wait(ctx: RepoContext, number: int, rule: MergeQueueRule | None) -> None:
    services, watch = ctx.services, _Watch()
    # The queue may hold an entry for a group to fill before it even starts CI on it.
    bound = services.waits.ci_timeout + (rule.wait_minutes * 60.0 if rule else 0.0)
    branch = ctx.config.branch_of(ctx.name)

    def landed() -> bool:
        state = graphql.pull_state(ctx.github, ctx.name, number)
        if state.merged and state.merge_commit:
            ctx.repo.merge_sha = state.merge_commit  # GitHub's record, never the branch head
            return True
        if state.entry is None:
            # The queue drops the entry as it lands the group; the PR may show `merged` a
            # moment later, so only a second look without either is a removal.
            watch.gone += 1
            if watch.gone >= GONE_PROBES:
                raise _removed(ctx, number, state)
            return False
        watch.gone = 0
        _tell(ctx, number, state.entry, watch)
        return False

    def states() -> tuple[tuple[str, str], ...]:
        entry = watch.seen
        return () if entry is None else ((f"position {entry.position}", entry.state.lower()),)

    what = f"PR #{number} in the merge queue of {branch}"
    if not services.poll(
        ctx.name, what, services.clock() + bound, landed, url=ctx.repo.pr_url, states=states
    ):
        raise _timeout(ctx, number, bound, watch.seen)


def _tell(ctx: RepoContext, number: int, entry: QueueEntry, watch: _Watch) -> None:
    watch.seen = entry
    key = (entry.state, entry.position)
    if key not in watch.said:
        watch.said.add(key)
        ctx.services.progress.note(
            ctx.name,
            f"PR #{number} in the merge queue: position {entry.position}, {entry.state.lower()}",
        )


def _removed(ctx: RepoContext, number: int, state: QueueState) -> ReleaseError:
    because = f": {state.removal}" if state.removal else " (GitHub gave no reason)"
    if state.state != "OPEN":
        hint = f"{ctx.repo.pr_url} was closed: reopen it, then resume"
    else:
        hint = (
            "a merge_group check failed or the PR conflicts with the branch: fix the cause "
            f"(see {ctx.repo.pr_url}), then resume; it enqueues the release commit again"
        )
    return ReleaseError(
        ErrorCode.MERGE_QUEUE_REMOVED,
        f"the merge queue removed PR #{number} without merging it{because}",
        repo=ctx.name,
        hint=hint,
    )


def _timeout(ctx: RepoContext, number: int, bound: float, entry: QueueEntry | None) -> ReleaseError:
    after = f"{bound / 60:g} min" if bound >= 60 else f"{bound:g} s"
    where = f" (position {entry.position}, {entry.state.lower()})" if entry else ""
    return ReleaseError(
        ErrorCode.CI_TIMEOUT,
        f"PR #{number} still in the merge queue after {after}{where}",
        repo=ctx.name,
        hint="the entry stays queued: resume waits on it again (raise ci_timeout_minutes "
        "for a slow queue)",
    )
