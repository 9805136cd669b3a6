"""Preflight findings in the family's pyprojects: dropped edges, unreleasable sources, uv pins.

Each is knowable at plan time, so the plan names it before anyone approves the train
instead of PIN or LOCK stopping at repo 4 of 6 (DESIGN, "Preflight before approval").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from packaging.utils import canonicalize_name

from release_train.core.declared import Declared, Override, Source
from release_train.core.graph import Edge, EdgeKind
from release_train.core.plan import Plan, PlanEntry
from release_train.core.problems import Problem, Severity
from release_train.core.pyproject import PinPolicy, pin_specifier
from release_train.errors import ErrorCode


class Member(Protocol):
    """What the checks need of a repo's manifest (adapters/workspace.Manifest has it)."""

    @property
    def package(self) -> str: ...
    @property
    def declared(self) -> Declared: ...


def manifest_problems(
    manifests: Mapping[str, Member], plan: Plan, *, drop_sources: bool, policy: PinPolicy
) -> list[Problem]:
    """Every dropped edge of a selected repo; every family source and uv pin of a released one."""
    repo_of: dict[str, str] = {canonicalize_name(m.package): repo for repo, m in manifests.items()}
    problems = [
        _dropped(edge, manifests[edge.upstream].package)
        for edge in plan.graph.dropped
        if edge.repo in plan.selected
    ]
    for entry in plan.entries:
        declared = manifests[entry.repo].declared
        for source in declared.sources:
            upstream = repo_of.get(source.name)
            if upstream is not None and upstream != entry.repo:
                problems.append(_source(plan, entry, upstream, source, drop_sources))
        rewritten: dict[str, list[tuple[Override, PlanEntry]]] = {}
        for override in declared.overrides:
            upstream = repo_of.get(override.name)
            released = plan.entry(upstream) if upstream is not None else None
            if released is not None and upstream in entry.upstreams:
                rewritten.setdefault(override.where, []).append((override, released))
        problems.extend(
            _overrides(entry.repo, where, found, policy) for where, found in rewritten.items()
        )
    return problems


def _dropped(edge: Edge, package: str) -> Problem:
    label = "extra" if edge.kind is EdgeKind.OPTIONAL else "dependency group"
    named = package if package == edge.upstream else f"{package} ({edge.upstream})"
    return Problem(
        edge.repo,
        ErrorCode.EDGE_DROPPED,
        Severity.WARNING,
        f"{label} {edge.group!r} requires {named}, which depends on "
        f"{edge.repo}: that edge would close a cycle, so it does not order the train, and "
        f"PIN does not rewrite {package}'s pin in that {label} in this run",
        hint=f"if the {label} must name the new {package}, update it by hand in a later "
        f"release of {edge.repo}",
    )


def _source(plan: Plan, entry: PlanEntry, upstream: str, source: Source, drop: bool) -> Problem:
    package = source.name
    what = f"{source.where} takes family member {package} from a {source.kind} source"
    released = plan.entry(upstream)
    if not drop:
        return Problem(
            entry.repo,
            ErrorCode.UNRELEASABLE_SOURCE,
            Severity.ERROR,
            f"{what}: the release would be built and locked against that source, "
            f"not against a released {package}",
            hint="remove that source so the index's package is used, or set "
            'family_sources = "drop" to let PIN remove it and pin the released version',
        )
    if released is None or upstream not in entry.upstreams:
        return Problem(
            entry.repo,
            ErrorCode.UNRELEASABLE_SOURCE,
            Severity.ERROR,
            f"{what}, and {upstream} is not released before it in this run, so PIN has no "
            "released version to put in its place",
            hint=f"select {upstream} in this run too, or remove the source by hand",
        )
    return Problem(
        entry.repo,
        ErrorCode.UNRELEASABLE_SOURCE,
        Severity.WARNING,
        f"{what}: PIN will remove that source entry and pin the released version "
        f'{released.new} (family_sources = "drop")',
    )


def _overrides(
    repo: str, where: str, found: list[tuple[Override, PlanEntry]], policy: PinPolicy
) -> Problem:
    held = ", ".join(f"{o.name} ({o.requirement!r})" for o, _ in found)
    pins = ", ".join(f"{o.name}{pin_specifier(e.new, policy)}" for o, e in found)
    return Problem(
        repo,
        ErrorCode.FAMILY_OVERRIDE,
        Severity.WARNING,
        f"{where} pins family members: {held}; an override beats project.dependencies in "
        f"`uv lock`, so PIN will rewrite them too: {pins}",
        hint="review the rewritten pins in the release PR",
    )
