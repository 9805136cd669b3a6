"""Preflight of what PUBLISH and TAG will meet: the tag each repo gets, its release workflow.

DESIGN, "Their publish workflow decides": a tag only publishes if it matches the repo's
release workflow trigger, so the plan checks that for every repo it releases, from the
workflow file at the commit it plans (the release commit changes no workflow).
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from release_train.adapters import git
from release_train.adapters.workspace import Manifest
from release_train.config import Config, PublishMode
from release_train.core import triggers
from release_train.core.plan import Plan, PlanEntry
from release_train.core.problems import Problem, Severity
from release_train.core.refnames import owner_problem, repo_problem, tag_problem
from release_train.core.versions import format_tag
from release_train.errors import ErrorCode, ReleaseError

WORKFLOWS = ".github/workflows"


def planned_tag(config: Config, entry: PlanEntry) -> str:
    """The tag TAG will create for `entry` (the same template `new_state` uses)."""
    return format_tag(config.tag_template(entry.repo), entry.repo, entry.new, entry.package)


def dispatch_sent(tag: str) -> triggers.Dispatch:
    """What PUBLISH's dispatch sends (steps.Publish): the tag as the `tag` input, on the tag."""
    return triggers.Dispatch({"tag": tag})


def name_problems(config: Config, repos: list[str]) -> list[Problem]:
    """The owner and each selected repo's name, as GitHub would have to accept them."""
    found = []
    why = owner_problem(config.owner)
    if why:
        found.append(
            Problem(
                None,
                ErrorCode.TAG_FORMAT_INVALID,
                Severity.ERROR,
                f"owner {config.owner!r} is not a GitHub name: {why}",
                hint="set `owner` to the organisation or user the repos live under",
            )
        )
    for repo in repos:
        why = repo_problem(repo)
        if why:
            found.append(
                Problem(
                    repo,
                    ErrorCode.TAG_FORMAT_INVALID,
                    Severity.ERROR,
                    f"repo {repo!r} is not a GitHub repository name: {why}",
                    hint="name each [repos.<name>] table after the repository on GitHub",
                )
            )
    return found


def _tag_problem(config: Config, entry: PlanEntry, tag: str) -> Problem | None:
    why = tag_problem(tag)
    if why is None:
        return None
    template = config.tag_template(entry.repo)
    return Problem(
        entry.repo,
        ErrorCode.TAG_FORMAT_INVALID,
        Severity.ERROR,
        f"tag {tag!r} (from {template!r}) is not a valid git tag: {why}",
        hint=f"change tag_format (or repos.{entry.repo}.tag_format); `git check-ref-format "
        "refs/tags/<tag>` tells what git accepts",
    )


def trigger_problem(config: Config, manifest: Manifest, tag: str) -> Problem | None:
    """PUBLISH_TRIGGER_MISMATCH when the repo's release workflow would not run for `tag`."""
    conf = config.repos[manifest.repo]
    if conf.publish is PublishMode.NONE:
        return None
    path = f"{WORKFLOWS}/{conf.release_workflow}"
    try:
        text = git.show_file(manifest.path, manifest.rev, path)
    except ReleaseError as exc:
        return Problem.from_error(exc, manifest.repo)
    if text is None:
        message = f"{path} does not exist at {manifest.rev}: the tag {tag} would publish nothing"
    else:
        try:
            reasons = _mode_reasons(conf.publish, triggers.load_workflow(text), tag)
        except triggers.PatternError as exc:
            reasons = [f"the file is {exc}"]
        if not reasons:
            return None
        action = f"the tag {tag}" if conf.publish is PublishMode.TAG else f"a dispatch for {tag}"
        message = f"{action} would start no run of {path}: " + "; ".join(reasons)
    if text is None:  # nothing to widen or retrigger: name the workflow, or publish nothing
        hint = (
            f"commit {path}, point repos.{manifest.repo}.release_workflow at the workflow "
            f'that publishes, or set repos.{manifest.repo}.publish = "none"'
        )
    else:
        hint = _hint(conf.publish, conf.release_workflow, manifest.repo)
    return Problem(
        manifest.repo, ErrorCode.PUBLISH_TRIGGER_MISMATCH, Severity.ERROR, message, hint=hint
    )


def _mode_reasons(mode: PublishMode, workflow: dict[object, object], tag: str) -> list[str]:
    if mode is PublishMode.TAG:
        reason = triggers.push_problem(workflow, tag)
        return [reason] if reason else []
    return triggers.dispatch_problems(workflow, dispatch_sent(tag))


def _hint(mode: PublishMode, workflow: str, repo: str) -> str:
    if mode is PublishMode.TAG:
        return (
            f"make tag_format produce tags {workflow}'s `on.push.tags` matches (e.g. "
            f'"v{{version}}"), widen that filter, or set repos.{repo}.publish = "dispatch"'
        )
    return (
        f"give {workflow} an `on: workflow_dispatch` trigger with a `tag` input (the train "
        f'sends only that), or set repos.{repo}.publish = "tag"'
    )


def publish_problems(
    config: Config, manifests: Mapping[str, Manifest], plan: Plan
) -> list[Problem]:
    """Every tag and trigger problem of the repos `plan` releases (skipped repos push nothing)."""
    found = name_problems(config, list(plan.selected))

    def check(entry: PlanEntry) -> list[Problem]:
        tag = planned_tag(config, entry)
        invalid = _tag_problem(config, entry, tag)
        if invalid is not None:
            return [invalid]  # no workflow can match a tag git refuses to make
        mismatch = trigger_problem(config, manifests[entry.repo], tag)
        return [mismatch] if mismatch else []

    if plan.entries:
        with ThreadPoolExecutor(max_workers=min(6, len(plan.entries))) as pool:
            for problems in pool.map(check, plan.entries):
                found.extend(problems)
    return found
