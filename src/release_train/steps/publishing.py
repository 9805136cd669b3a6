"""The publishing stage: PUBLISH starts (or finds) the repo's release workflow run for the
tag and waits until the new version installs from the index."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from packaging.utils import canonicalize_name

from release_train.adapters import index
from release_train.config import PublishMode
from release_train.context import RepoContext
from release_train.core.state import IndexStatus
from release_train.errors import ErrorCode, ReleaseError


def installable(ctx: RepoContext, package: str, version: str) -> bool:
    return index.installable(package, version, index_url=ctx.services.index_url)


def wait_installable(ctx: RepoContext, package: str, version: str, why: str) -> bool:
    """Poll until `package==version` installs from the index, within the index timeout."""
    services = ctx.services
    deadline = services.clock() + services.waits.index_timeout
    what = f"{package}=={version} to be installable from the index {why}".rstrip()
    probe = partial(installable, ctx, package, version)
    return services.poll(ctx.name, what, deadline, probe, url=simple_page(ctx, package))


def simple_page(ctx: RepoContext, package: str) -> str:
    """The index's page of `package` (PEP 503), where a person can see what it serves."""
    return f"{ctx.services.index_url.rstrip('/')}/{canonicalize_name(package)}/"


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
        if installable(ctx, ctx.repo.package, ctx.repo.new_version):
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

        seen: list[str] = []

        def available() -> bool:
            if installable(ctx, repo.package, repo.new_version):
                return True
            run = ctx.github.get_run(ctx.name, run_id)
            seen[:] = [run.conclusion or run.status]
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

        def states() -> tuple[tuple[str, str], ...]:
            workflow = ctx.config.repos[ctx.name].release_workflow
            return ((workflow, seen[0]), ("index", "not yet")) if seen else ()

        url = repo.publish_run_url
        if services.poll(ctx.name, what, deadline, available, url=url, states=states):
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
