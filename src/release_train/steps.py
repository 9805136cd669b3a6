"""The twelve per-repo steps (Phase 3): each probes the world (`done`) before it acts (`apply`).

A step's probe looks at the file, the branch, the PR, the tag or the index, not only at the
state file, so a crash between an effect and its record is harmless: the resumed run finds
the effect and records it without doing it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from packaging.utils import canonicalize_name

from release_train import merging
from release_train.adapters import clones, index, tools, workspace
from release_train.adapters.git import git, log_excluding
from release_train.config import FamilySources, PublishMode
from release_train.context import RepoContext
from release_train.core import changelog
from release_train.core.commits import parse_commit
from release_train.core.pyproject import (
    pin_dependencies,
    pin_specifiers,
    read_declared,
    set_version,
)
from release_train.core.render import md_escape
from release_train.core.state import IndexStatus, RepoStatus
from release_train.errors import ErrorCode, ReleaseError


class Step(Protocol):
    phase: str  # recorded once the step's effect is there
    external: bool  # its effect is visible outside the worktree: state is made durable

    def done(self, ctx: RepoContext) -> bool: ...
    def apply(self, ctx: RepoContext) -> None: ...


def release_message(ctx: RepoContext) -> str:
    return f"release: {ctx.name} v{ctx.repo.new_version}"


def _read(ctx: RepoContext, relative: str) -> str | None:
    path = ctx.worktree / relative
    return path.read_text(encoding="utf-8") if path.is_file() else None


def _write(ctx: RepoContext, relative: str, text: str) -> None:
    (ctx.worktree / relative).write_text(text, encoding="utf-8")


def _pyproject(ctx: RepoContext) -> tuple[str, str]:
    relative = ctx.config.repos[ctx.name].pyproject
    text = _read(ctx, relative)
    if text is None:
        raise ReleaseError(
            ErrorCode.PYPROJECT_INVALID, f"{relative} is missing in the worktree", repo=ctx.name
        )
    return relative, text


# Files a release writes; anything else changed in a reused worktree is not ours.
def _ours(ctx: RepoContext) -> set[str]:
    conf = ctx.config.repos[ctx.name]
    return {conf.pyproject, conf.changelog, "uv.lock", *conf.version_files}


class Worktree:
    phase, external = "WORKTREE", False

    def done(self, ctx: RepoContext) -> bool:
        return clones.worktree_branch(ctx.worktree) == ctx.repo.branch

    def apply(self, ctx: RepoContext) -> None:
        clones.add_worktree(
            ctx.source, ctx.worktree, ctx.repo.branch, ctx.repo.base, ctx.services.auth
        )
        ctx.repo.worktree_path = str(ctx.worktree)

    def check(self, ctx: RepoContext) -> None:
        """A reused worktree may hold our own half-done edits, but nothing else."""
        stale = clones.clear_stale_index_lock(ctx.worktree)
        if stale is not None:
            ctx.services.progress.note(ctx.name, f"removed {stale} left by a killed run")
        changed = {line[3:].strip() for line in clones.dirty(ctx.worktree)}
        strangers = sorted(changed - _ours(ctx))
        if strangers:
            raise ReleaseError(
                ErrorCode.WORKTREE_DIRTY,
                f"the worktree has changes release-train did not make: {', '.join(strangers)}",
                repo=ctx.name,
                hint=f"inspect {ctx.worktree}; remove it to start the repo's release over",
            )
        ctx.repo.worktree_path = str(ctx.worktree)


class Bump:
    phase, external = "BUMPED", False

    def done(self, ctx: RepoContext) -> bool:
        relative, text = _pyproject(ctx)
        if set_version(text, ctx.repo.new_version, source=relative) != text:
            return False
        return all(self._bumped(ctx, f) for f in ctx.config.repos[ctx.name].version_files)

    def apply(self, ctx: RepoContext) -> None:
        relative, text = _pyproject(ctx)
        _write(ctx, relative, set_version(text, ctx.repo.new_version, source=relative))
        for relative in ctx.config.repos[ctx.name].version_files:
            found = _read(ctx, relative)
            old = ctx.repo.old_version
            if found is None or (old not in text and ctx.repo.new_version not in text):
                raise ReleaseError(
                    ErrorCode.BUMP_FAILED,
                    f"version file {relative} does not hold the version {old}",
                    repo=ctx.name,
                    hint=f"fix repos.{ctx.name}.version_files in the config",
                )
            _write(ctx, relative, _respell_version(found, old, ctx.repo.new_version))

    @staticmethod
    def _bumped(ctx: RepoContext, relative: str) -> bool:
        text = _read(ctx, relative) or ""
        return _respell_version(text, ctx.repo.old_version, ctx.repo.new_version) == text


def _respell_version(text: str, old: str, new: str) -> str:
    """`old` replaced by `new` on the lines that name a version (`__version__ = "1.2.0"`)."""
    lines = text.splitlines(keepends=True)
    return "".join(
        line.replace(f'"{old}"', f'"{new}"').replace(f"'{old}'", f"'{new}'")
        if "version" in line.lower()
        else line
        for line in lines
    )


def _wanted_pins(ctx: RepoContext) -> dict[str, str]:
    """package -> new version of each same-run upstream that is done."""
    pins = {}
    for name in ctx.repo.upstreams:
        upstream = ctx.upstream(name)
        if upstream.status is RepoStatus.DONE:
            pins[upstream.package] = upstream.new_version
    return pins


class Pin:
    phase, external = "PINNED", False

    def done(self, ctx: RepoContext) -> bool:
        relative, text = _pyproject(ctx)
        self._check_sources(ctx, relative, text)
        return self._pinned(ctx, relative, text) == text

    def apply(self, ctx: RepoContext) -> None:
        relative, text = _pyproject(ctx)
        _write(ctx, relative, self._pinned(ctx, relative, text))
        policy = ctx.config.pin_policy
        ctx.repo.pins = pin_specifiers(_wanted_pins(ctx), policy)

    @staticmethod
    def _pinned(ctx: RepoContext, relative: str, text: str) -> str:
        drop = ctx.config.family_sources is FamilySources.DROP
        policy = ctx.config.pin_policy
        return pin_dependencies(text, _wanted_pins(ctx), policy, drop_sources=drop, source=relative)

    @staticmethod
    def _check_sources(ctx: RepoContext, relative: str, text: str) -> None:
        """The preflight refuses these; this guards a pyproject changed since the plan."""
        family = {canonicalize_name(r.package) for r in ctx.run.repos.values()}
        family.discard(canonicalize_name(ctx.repo.package))
        hint = "a release must build against released packages: remove that source"
        if ctx.config.family_sources is FamilySources.DROP:
            family -= {canonicalize_name(p) for p in _wanted_pins(ctx)}  # PIN drops those
        else:
            hint += ', or set family_sources = "drop"'
        found = [s for s in read_declared(text, source=relative).sources if s.name in family]
        if found:
            source = found[0]
            raise ReleaseError(
                ErrorCode.UNRELEASABLE_SOURCE,
                f"{source.where} takes family member {source.name} from a {source.kind} source",
                repo=ctx.name,
                hint=hint,
            )


def _range_commits(ctx: RepoContext) -> list[tuple[str, str]]:
    """(sha, message) of the planned range, oldest first: what no release tag holds."""
    releases = workspace.release_candidates(ctx.config, ctx.source, ctx.name, ctx.repo.package)
    exclude = sorted({r.commit for r in releases if r.commit})
    return [(c.sha, c.message) for c in log_excluding(ctx.source, ctx.repo.base, exclude)]


class Changelog:
    phase, external = "CHANGELOG", False

    def done(self, ctx: RepoContext) -> bool:
        text = _read(ctx, ctx.config.repos[ctx.name].changelog)
        return text is not None and changelog.has_entry(text, ctx.repo.new_version)

    def apply(self, ctx: RepoContext) -> None:
        relative = ctx.config.repos[ctx.name].changelog
        commits = [parse_commit(message, sha) for sha, message in _range_commits(ctx)]
        pins = sorted(ctx.repo.pins.items())
        entry = changelog.render_entry(ctx.repo.new_version, ctx.services.today, commits, pins)
        _write(
            ctx, relative, changelog.insert_entry(_read(ctx, relative), entry, ctx.repo.new_version)
        )


def _installable(ctx: RepoContext, package: str, version: str) -> bool:
    return index.installable(package, version, index_url=ctx.services.index_url)


def _wait_installable(ctx: RepoContext, package: str, version: str, why: str) -> bool:
    """Poll until `package==version` installs from the index, within the index timeout."""
    services = ctx.services
    deadline = services.clock() + services.waits.index_timeout
    what = f"{package}=={version} to be installable from the index {why}".rstrip()
    return services.poll(ctx.name, what, deadline, lambda: _installable(ctx, package, version))


class Lock:
    phase, external = "LOCKED", False

    def done(self, ctx: RepoContext) -> bool:
        return not (ctx.worktree / "uv.lock").is_file()  # nothing to lock; otherwise always relock

    def apply(self, ctx: RepoContext) -> None:
        services = ctx.services
        # DESIGN defect 6: a dependent's lock needs its just-released upstreams installable.
        for name in ctx.repo.upstreams:
            upstream = ctx.upstream(name)
            if upstream.package not in ctx.repo.pins:
                continue
            if not _wait_installable(ctx, upstream.package, upstream.new_version, "before uv lock"):
                raise ReleaseError(
                    ErrorCode.LOCK_FAILED,
                    f"upstream {upstream.package}=={upstream.new_version} is not installable "
                    f"from {services.index_url} yet",
                    repo=ctx.name,
                    hint="the index may lag; resume the run once it serves the upstream",
                )
        tools.uv_lock(
            ctx.worktree,
            index_url=services.index_url,
            cache_dir=services.cache_dir,
            repo=ctx.name,
            python_downloads=services.config.python_downloads,
        )


class Lint:
    phase, external = "LINT", False

    def done(self, ctx: RepoContext) -> bool:
        return not tools.has_pre_commit(ctx.worktree)

    def apply(self, ctx: RepoContext) -> None:
        tools.pre_commit(ctx.worktree, repo=ctx.name, home=ctx.services.work_dir / "pre-commit")


class Commit:
    phase, external = "COMMITTED", False

    def done(self, ctx: RepoContext) -> bool:
        subject = git(ctx.worktree, "log", "-1", "--format=%s").strip()
        parent = git(ctx.worktree, "rev-parse", "HEAD^").strip()
        if subject != release_message(ctx) or parent != ctx.repo.base or clones.dirty(ctx.worktree):
            return False
        ctx.repo.release_commit = git(ctx.worktree, "rev-parse", "HEAD").strip()
        return True

    def apply(self, ctx: RepoContext) -> None:
        # Fold whatever is there (an earlier attempt's commit included) into one commit.
        git(ctx.worktree, "reset", "--quiet", "--soft", ctx.repo.base)
        git(ctx.worktree, "add", "--all")
        config = ctx.config
        identity = ["-c", f"user.name={config.bot_name}", "-c", f"user.email={config.bot_email}"]
        git(ctx.worktree, *identity, "commit", "--quiet", "--no-verify", "-m", release_message(ctx))
        ctx.repo.release_commit = git(ctx.worktree, "rev-parse", "HEAD").strip()


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


# GitHub refuses a longer PR body (422); a subject is cut well before that on its own.
PR_BODY_LIMIT = 65_536
SUBJECT_LIMIT = 500


def pr_body(ctx: RepoContext) -> str:
    repo = ctx.repo
    head = (
        f"## Release: {repo.repo} v{repo.new_version}\n\n"
        f"Coordinated release run: `{ctx.run.run_id}`\n\n"
        "### Changes\n"
    )
    tail = (
        "\n\n### Release metadata\n"
        f"- Bump: {repo.bump}\n- Previous: v{repo.old_version}\n- Plan hash: {ctx.run.plan_hash}\n"
    )
    changes = [
        f"- {md_escape(_cut(parse_commit(message, sha).subject, SUBJECT_LIMIT))}"
        for sha, message in reversed(_range_commits(ctx))
    ]
    return fit_body(head, changes or ["- (none)"], tail, PR_BODY_LIMIT)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def fit_body(head: str, lines: list[str], tail: str, limit: int) -> str:
    """`head`, as many of `lines` as fit, a line saying how many were left out, and `tail`,
    in at most `limit` characters (the changelog in the PR's diff has every entry)."""

    def more(count: int) -> str:
        return f"- \u2026 and {count} more (see the changelog in this PR)"

    kept: list[str] = []
    used = len(head) + len(tail)
    for number, line in enumerate(lines):
        after = len(lines) - number - 1  # a line that fits must leave room to say these
        room = limit - used - len(line) - (len(more(after)) + 1 if after else 0)
        if room < 0:
            kept.append(more(after + 1))
            break
        kept.append(line)
        used += len(line) + 1
    return head + "\n".join(kept) + tail


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
        ctx.repo.merge_sha = github.merge(
            ctx.name,
            number,
            sha=pull.head_sha,  # DESIGN defect 7: merge exactly what CI passed
            title=f"{release_message(ctx)} (#{number})",
            message=f"Release run {ctx.run.run_id}, plan {ctx.run.plan_hash}.",
        )
        github.delete_branch(ctx.name, ctx.repo.branch)

    @staticmethod
    def _number(ctx: RepoContext) -> int:
        if ctx.repo.pr_number is None:
            raise ReleaseError(ErrorCode.INTERNAL, "MERGE without a PR number", repo=ctx.name)
        return ctx.repo.pr_number


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
        return not ctx.config.github_release or self._release(ctx) is not None

    def apply(self, ctx: RepoContext) -> None:
        merge_sha = ctx.repo.merge_sha
        if merge_sha is None:
            raise ReleaseError(ErrorCode.INTERNAL, "TAG without a merge SHA", repo=ctx.name)
        if ctx.github.tag_sha(ctx.name, ctx.repo.tag) is None:
            # DESIGN defect 2: the commit the merge made, never wherever main is now.
            ctx.github.create_tag(ctx.name, ctx.repo.tag, merge_sha)
        ctx.repo.tag_sha = merge_sha
        if ctx.config.github_release and self._release(ctx) is None:
            text = _read(ctx, ctx.config.repos[ctx.name].changelog) or ""
            ctx.repo.release_url = ctx.github.create_release(
                ctx.name, ctx.repo.tag, f"{ctx.name} v{ctx.repo.new_version}", text
            )

    @staticmethod
    def _release(ctx: RepoContext) -> str | None:
        found = ctx.github.release_for_tag(ctx.name, ctx.repo.tag)
        if found:
            ctx.repo.release_url = found
        return found


NO_RUN_HINT = (
    "a tag created with a workflow's GITHUB_TOKEN starts no other workflow: run release-train "
    'with a GitHub App or fine-grained PAT token, or set publish = "dispatch" for this repo'
)


class Publish:
    phase, external = "PUBLISHED", True

    def done(self, ctx: RepoContext) -> bool:
        mode = ctx.config.repos[ctx.name].publish
        if mode is PublishMode.NONE:
            ctx.repo.index_status = IndexStatus.SKIPPED
            return True
        if _installable(ctx, ctx.repo.package, ctx.repo.new_version):
            ctx.repo.index_status = IndexStatus.AVAILABLE
            return True
        return False

    def apply(self, ctx: RepoContext) -> None:
        run = self._publish_run(ctx)
        ctx.repo.publish_run_url = run.url
        if ctx.services.waits.skip_index_wait:
            ctx.repo.index_status = IndexStatus.SKIPPED
            return
        self._wait_for_index(ctx, run.id)

    @staticmethod
    def _runs(ctx: RepoContext) -> list[int]:
        workflow = ctx.config.repos[ctx.name].release_workflow
        runs = ctx.github.workflow_runs(ctx.name, workflow, head_sha=ctx.repo.merge_sha)
        return [r.id for r in runs if r.head_branch in (ctx.repo.tag, None)]

    def _publish_run(self, ctx: RepoContext) -> _Run:
        conf = ctx.config.repos[ctx.name]
        services = ctx.services
        found = self._runs(ctx)
        if not found and conf.publish is PublishMode.DISPATCH:
            # Never twice: only when no run for this tag exists (a crash may follow a dispatch).
            ctx.github.dispatch(
                ctx.name, conf.release_workflow, ctx.repo.tag, {"tag": ctx.repo.tag}
            )
        deadline = services.clock() + services.waits.publish_start_timeout
        what = f"the {conf.release_workflow} run of {ctx.repo.tag} to start"
        if not found and not services.poll(ctx.name, what, deadline, lambda: bool(self._runs(ctx))):
            raise ReleaseError(
                ErrorCode.PUBLISH_NOT_STARTED,
                f"no {conf.release_workflow} run started for {ctx.repo.tag} within "
                f"{services.waits.publish_start_timeout:g}s",
                repo=ctx.name,
                hint=NO_RUN_HINT
                if conf.publish is PublishMode.TAG
                else "check that the workflow has a workflow_dispatch trigger with a `tag` input",
            )
        run_id = max(found or self._runs(ctx))
        return _Run(run_id, ctx.github.get_run(ctx.name, run_id).url)

    @staticmethod
    def _wait_for_index(ctx: RepoContext, run_id: int) -> None:
        services, repo = ctx.services, ctx.repo

        def available() -> bool:
            if _installable(ctx, repo.package, repo.new_version):
                return True
            run = ctx.github.get_run(ctx.name, run_id)
            if run.status == "completed" and run.conclusion not in ("success", None):
                raise ReleaseError(
                    ErrorCode.PUBLISH_FAILED,
                    f"the release workflow run for {repo.tag} ended: {run.conclusion}",
                    repo=ctx.name,
                    hint=f"see {run.url}; re-run it, then resume",
                )
            return False

        deadline = services.clock() + services.waits.index_timeout
        what = f"{repo.package}=={repo.new_version} to be installable from the index"
        if services.poll(ctx.name, what, deadline, available):
            repo.index_status = IndexStatus.AVAILABLE
        else:
            # The spec: a timeout marks the index status, not the repo (tag and merge stand).
            repo.index_status = IndexStatus.TIMEOUT
            services.progress.warning(
                ctx.name,
                f"{repo.package}=={repo.new_version} not installable after "
                f"{services.waits.index_timeout / 60:g} min; the index may still catch up",
            )


@dataclass(frozen=True)
class _Run:
    id: int
    url: str


STEPS: tuple[Step, ...] = (
    Worktree(),
    Bump(),
    Pin(),
    Changelog(),
    Lock(),
    Lint(),
    Commit(),
    Push(),
    PullRequest(),
    Merge(),
    Tag(),
    Publish(),
)


def steps_after(phase: str) -> list[Step]:
    """The steps still to run for a repo whose last completed phase is `phase`."""
    names = [s.phase for s in STEPS]
    if phase == "PLANNED":
        return list(STEPS)
    if phase not in names:
        return []
    return list(STEPS[names.index(phase) + 1 :])
