"""MERGE: land exactly the release commit CI passed on the base, and record the merge commit
GitHub made (TAG tags that commit, never the branch head).

Through REST, or, on a branch whose rules require a merge queue, through the queue
(`merge_queue.py`). The rules are read at each attempt, not remembered from the plan, so a
resume meets the branch's rules as they are now.
"""

from __future__ import annotations

from release_train import merging
from release_train.adapters.github import MergeQueueRequired
from release_train.context import RepoContext
from release_train.errors import BUG_HINT, ErrorCode, ReleaseError
from release_train.steps import merge_queue
from release_train.steps.protocol import release_message


class Merge:
    phase, external = "MERGED", True

    def done(self, ctx: RepoContext) -> bool:
        pull = ctx.github.get_pull(ctx.name, self._number(ctx))
        if pull.merged and pull.merge_commit_sha:
            ctx.repo.merge_sha = pull.merge_commit_sha
            return True
        return False

    def apply(self, ctx: RepoContext) -> None:
        github, number = ctx.github, self._number(ctx)
        queue = github.merge_queue(ctx.name, ctx.config.branch_of(ctx.name))
        if queue is not None:
            merge_queue.land(ctx, number, queue)
        else:
            self._merge(ctx, number)
        github.delete_branch(ctx.name, ctx.repo.branch)

    def _merge(self, ctx: RepoContext, number: int) -> None:
        github = ctx.github
        pull = github.get_pull(ctx.name, number)
        expected = ctx.repo.release_commit
        if expected is not None and pull.head_sha != expected:
            raise ReleaseError(
                ErrorCode.MERGE_FAILED,
                f"PR #{number} head is {pull.head_sha[:12]}, not the release commit "
                f"{expected[:12]}",
                repo=ctx.name,
                hint="someone pushed to the release branch; only the release commit is merged",
            )
        merging.check_base(ctx)  # before a long CI wait, so a moved base fails fast
        merging.wait_for_checks(ctx, pull.head_sha)
        merging.check_base(ctx)  # the base may have moved while CI ran
        try:
            ctx.repo.merge_sha = github.merge(
                ctx.name,
                number,
                sha=pull.head_sha,  # DESIGN defect 7: merge exactly what CI passed
                title=f"{release_message(ctx)} (#{number})",
                message=f"Release run {ctx.run.run_id}, plan {ctx.run.plan_hash}.",
            )
        except MergeQueueRequired:
            # A queue required since the rules were read, or one the token cannot read.
            merge_queue.land(ctx, number, None)

    @staticmethod
    def _number(ctx: RepoContext) -> int:
        if ctx.repo.pr_number is None:
            raise ReleaseError(
                ErrorCode.INTERNAL, "MERGE without a PR number", repo=ctx.name, hint=BUG_HINT
            )
        return ctx.repo.pr_number
