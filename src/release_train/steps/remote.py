"""The remote stage around the merge: PUSH the release commit, open its PR, and TAG the
merge commit (with its GitHub Release)."""

from __future__ import annotations

from release_train import merging
from release_train.adapters import clones
from release_train.adapters.git import git
from release_train.context import RepoContext
from release_train.core import changelog, release_text
from release_train.core.commits import parse_commit
from release_train.errors import ErrorCode, ReleaseError
from release_train.steps.protocol import range_commits, read_file, release_message


class Push:
    phase, external = "PUSHED", True

    def done(self, ctx: RepoContext) -> bool:
        remote = clones.ls_remote(ctx.services.auth, ctx.worktree, f"refs/heads/{ctx.repo.branch}")
        if remote is None:
            return False
        if remote == ctx.repo.release_commit:
            return True
        return self._adopt(ctx, remote)

    def apply(self, ctx: RepoContext) -> None:
        ref = f"refs/heads/{ctx.repo.branch}"
        try:
            # An empty lease: the branch must not exist, so nobody's commits are overwritten.
            clones.authed(
                ctx.services.auth,
                ctx.worktree,
                "push",
                "--quiet",
                f"--force-with-lease={ref}:",
                "origin",
                f"HEAD:{ref}",
            )
        except ReleaseError:
            # A push can land and its answer be lost; git's own resend is then refused by
            # the lease. It is ours when the branch holds the release commit.
            if clones.ls_remote(ctx.services.auth, ctx.worktree, ref) != ctx.repo.release_commit:
                raise

    @staticmethod
    def _adopt(ctx: RepoContext, remote: str) -> bool:
        """The branch holds another commit: ours from an attempt on another machine, or not."""
        auth = ctx.services.auth
        clones.authed(auth, ctx.worktree, "fetch", "--quiet", "origin", remote)
        subject = git(ctx.worktree, "log", "-1", "--format=%s", remote).strip()
        parent = git(ctx.worktree, "rev-parse", f"{remote}^").strip()
        if subject != release_message(ctx) or parent != ctx.repo.base:
            raise ReleaseError(
                ErrorCode.PUSH_FAILED,
                f"branch {ctx.repo.branch} exists with commit {remote[:12]}, not a release commit",
                repo=ctx.name,
                hint="someone pushed to the release branch; delete it and resume",
            )
        git(ctx.worktree, "reset", "--quiet", "--hard", remote)
        ctx.repo.release_commit = remote
        return True


def pr_body(ctx: RepoContext) -> str:
    repo = ctx.repo
    subjects = [parse_commit(message, sha).subject for sha, message in range_commits(ctx)]
    return release_text.pr_body(
        release_text.PullText(
            repo=repo.repo,
            version=repo.new_version,
            previous=repo.old_version,
            bump=repo.bump,
            run_id=ctx.run.run_id,
            plan_hash=ctx.run.plan_hash,
            subjects=subjects[::-1],
        )
    )


class PullRequest:
    phase, external = "PR_CREATED", True

    def done(self, ctx: RepoContext) -> bool:
        found = ctx.github.find_pull(ctx.name, ctx.repo.branch, ctx.config.branch_of(ctx.name))
        if found is None:
            return False
        if found.state == "closed" and not found.merged:
            raise ReleaseError(
                ErrorCode.PR_FAILED,
                f"PR #{found.number} of {ctx.repo.branch} was closed without merging",
                repo=ctx.name,
                hint=f"reopen {found.url} and resume",
            )
        ctx.repo.pr_number, ctx.repo.pr_url = found.number, found.url
        return True

    def apply(self, ctx: RepoContext) -> None:
        self._refuse_another_train(ctx)
        pull = ctx.github.create_pull(
            ctx.name,
            head=ctx.repo.branch,
            base=ctx.config.branch_of(ctx.name),
            title=release_message(ctx),
            body=pr_body(ctx),
        )
        ctx.repo.pr_number, ctx.repo.pr_url = pull.number, pull.url

    @staticmethod
    def _refuse_another_train(ctx: RepoContext) -> None:
        """One train per repo: another run's open release PR (`release/<run>/<repo>`) would
        merge into the same base, and the second merge would tag what the first moved."""
        prefix, suffix = "release/", f"/{ctx.name}"
        for pull in ctx.github.open_pulls(ctx.name, ctx.config.branch_of(ctx.name)):
            head = pull.head_ref
            if head.startswith(prefix) and head.endswith(suffix) and head != ctx.repo.branch:
                other = head.removeprefix(prefix).removesuffix(suffix)
                raise ReleaseError(
                    ErrorCode.PR_CONFLICT,
                    f"PR #{pull.number} of run {other} is open for {ctx.name} ({pull.url})",
                    repo=ctx.name,
                    hint=f"finish run {other} (`release-train resume {other}`) or close that PR, "
                    "then resume this run",
                )


class Tag:
    phase, external = "TAGGED", True

    def done(self, ctx: RepoContext) -> bool:
        found = ctx.github.tag_sha(ctx.name, ctx.repo.tag)
        if found is None:
            return False
        if found != ctx.repo.merge_sha:
            raise ReleaseError(
                ErrorCode.TAG_CONFLICT,
                f"tag {ctx.repo.tag} points at {found[:12]}, not the merge commit "
                f"{(ctx.repo.merge_sha or '?')[:12]}",
                repo=ctx.name,
                hint="a tag of that name was made outside this run; resolve it by hand",
            )
        ctx.repo.tag_sha = found
        return not ctx.config.github_release or self._published(ctx)

    def apply(self, ctx: RepoContext) -> None:
        merge_sha = ctx.repo.merge_sha
        if merge_sha is None:
            raise ReleaseError(ErrorCode.INTERNAL, "TAG without a merge SHA", repo=ctx.name)
        if ctx.github.tag_sha(ctx.name, ctx.repo.tag) is None:
            merging.check_merged(ctx, merge_sha)  # what the tag ships is what was approved
            # DESIGN defect 2: the commit the merge made, never wherever main is now.
            ctx.github.create_tag(ctx.name, ctx.repo.tag, merge_sha)
        ctx.repo.tag_sha = merge_sha
        if ctx.config.github_release:
            self._release(ctx)

    @staticmethod
    def _published(ctx: RepoContext) -> bool:
        found = ctx.github.find_release(ctx.name, ctx.repo.tag)
        if found is None or found.draft:
            return False
        ctx.repo.release_url = found.url
        return True

    @staticmethod
    def _release(ctx: RepoContext) -> None:
        """Draft, then publish: with GitHub's immutable releases nothing can be added to a
        published release, so whatever it carries goes in while it is a draft. A draft left
        by a run stopped in between is found and published, never made twice."""
        found = ctx.github.find_release(ctx.name, ctx.repo.tag)
        if found is None:
            text = read_file(ctx, ctx.config.repos[ctx.name].changelog)
            body = release_body(text, ctx.name, ctx.repo.new_version)
            name = f"{ctx.name} v{ctx.repo.new_version}"
            found = ctx.github.create_draft_release(ctx.name, ctx.repo.tag, name, body)
        if found.draft:
            found = ctx.github.publish_release(ctx.name, found.id)
        ctx.repo.release_url = found.url


def release_body(changelog_text: str | None, repo: str, version: str) -> str:
    """The version's changelog entry; the whole file was far more than one release's notes."""
    entry = changelog.entry_of(changelog_text or "", version)
    return entry if entry is not None else f"{repo} v{version}\n"
