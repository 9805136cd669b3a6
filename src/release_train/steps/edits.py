"""The local stage: the steps that edit the release worktree and commit it (WORKTREE to
COMMITTED). Nothing here is visible outside the machine until PUSH."""

from __future__ import annotations

from packaging.utils import canonicalize_name

from release_train.adapters import clones, hooks, tools
from release_train.adapters.git import git
from release_train.config import FamilySources
from release_train.context import RepoContext
from release_train.core import changelog
from release_train.core.commits import parse_commit
from release_train.core.pyproject import (
    pin_dependencies,
    pin_specifiers,
    read_declared,
    set_version,
)
from release_train.core.state import RepoStatus
from release_train.errors import ErrorCode, ReleaseError
from release_train.steps.protocol import (
    pyproject,
    range_commits,
    read_file,
    release_message,
    write_file,
)
from release_train.steps.publishing import wait_installable


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
        relative, text = pyproject(ctx)
        if set_version(text, ctx.repo.new_version, source=relative) != text:
            return False
        return all(self._bumped(ctx, f) for f in ctx.config.repos[ctx.name].version_files)

    def apply(self, ctx: RepoContext) -> None:
        relative, text = pyproject(ctx)
        write_file(ctx, relative, set_version(text, ctx.repo.new_version, source=relative))
        for relative in ctx.config.repos[ctx.name].version_files:
            found = read_file(ctx, relative)
            old = ctx.repo.old_version
            if found is None or (old not in text and ctx.repo.new_version not in text):
                raise ReleaseError(
                    ErrorCode.BUMP_FAILED,
                    f"version file {relative} does not hold the version {old}",
                    repo=ctx.name,
                    hint=f"fix repos.{ctx.name}.version_files in the config",
                )
            write_file(ctx, relative, _respell_version(found, old, ctx.repo.new_version))

    @staticmethod
    def _bumped(ctx: RepoContext, relative: str) -> bool:
        text = read_file(ctx, relative) or ""
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
        relative, text = pyproject(ctx)
        self._check_sources(ctx, relative, text)
        return self._pinned(ctx, relative, text) == text

    def idle(self, ctx: RepoContext) -> str | None:
        return None if ctx.repo.upstreams else "no upstreams to pin"

    def apply(self, ctx: RepoContext) -> None:
        relative, text = pyproject(ctx)
        write_file(ctx, relative, self._pinned(ctx, relative, text))
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


class Changelog:
    phase, external = "CHANGELOG", False

    def done(self, ctx: RepoContext) -> bool:
        text = read_file(ctx, ctx.config.repos[ctx.name].changelog)
        return text is not None and changelog.has_entry(text, ctx.repo.new_version)

    def apply(self, ctx: RepoContext) -> None:
        relative = ctx.config.repos[ctx.name].changelog
        commits = [parse_commit(message, sha) for sha, message in range_commits(ctx)]
        pins = sorted(ctx.repo.pins.items())
        repo = ctx.repo
        entry = changelog.render_entry(
            repo.new_version,
            ctx.services.today,
            commits,
            pins,
            fmt=ctx.config.changelog_format(ctx.name, ctx.services.server_url),
            tag=repo.tag,
            previous_tag=repo.last_tag,
        )
        text = changelog.insert_entry(read_file(ctx, relative), entry, ctx.repo.new_version)
        write_file(ctx, relative, text)


class Lock:
    phase, external = "LOCKED", False

    def done(self, ctx: RepoContext) -> bool:
        return not (ctx.worktree / "uv.lock").is_file()  # nothing to lock; otherwise always relock

    def idle(self, ctx: RepoContext) -> str | None:
        return None if (ctx.worktree / "uv.lock").is_file() else "no uv.lock to lock"

    def apply(self, ctx: RepoContext) -> None:
        services = ctx.services
        # DESIGN defect 6: a dependent's lock needs its just-released upstreams installable.
        for name in ctx.repo.upstreams:
            upstream = ctx.upstream(name)
            if upstream.package not in ctx.repo.pins:
                continue
            if not wait_installable(ctx, upstream.package, upstream.new_version, "before uv lock"):
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

    def idle(self, ctx: RepoContext) -> str | None:
        return None if tools.has_pre_commit(ctx.worktree) else f"no {tools.PRE_COMMIT_CONFIG}"

    def apply(self, ctx: RepoContext) -> None:
        home = ctx.services.work_dir / "pre-commit"
        scratch = home / "configs" / ctx.run.run_id
        config = hooks.prepare(ctx.worktree, ctx.config.lint_skip, scratch, repo=ctx.name)
        if config.skipped:
            ctx.services.progress.warning(
                ctx.name, f"LINT skipped hooks (lint_skip): {', '.join(config.skipped)}"
            )
        pairs = hooks.rewrite_pairs(ctx.services.git_rewrites)
        hooks.check_reachable(config.repos, pairs, repo=ctx.name)
        tools.pre_commit(
            ctx.worktree,
            repo=ctx.name,
            home=home,
            config_file=config.path if config.skipped else None,
            skip=config.skipped,
            git_config=pairs,
        )


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
