"""Phase 0 and 1 put together: read the workspace, check the graph, and make the plan."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from release_train.adapters import interpreters
from release_train.adapters import workspace as ws
from release_train.config import Config, FamilySources
from release_train.core.family import manifest_problems
from release_train.core.graph import Graph, check_depends_on, check_tiers, order_graph
from release_train.core.plan import Plan, PlanOptions, make_plan, make_run_id, version_problems
from release_train.core.plan_detail import DetailInputs, with_details
from release_train.core.problems import Problem, sort_problems
from release_train.core.spelling import suggestions
from release_train.core.versions import Bump
from release_train.errors import ErrorCode, ReleaseError
from release_train.preflight_publish import publish_problems


@dataclass(frozen=True)
class PlanRequest:
    repos: Sequence[str] = ()  # empty: all repos (the specification's default, and --all)
    bump: Bump | None = None
    run_id: str | None = None
    revs: Mapping[str, str] = field(default_factory=dict)  # repo -> rev to plan (HEAD)
    server_url: str | None = None  # API mode: the GitHub server, for compare links in the plan
    web_url: str = "https://github.com"  # where changelog entries link to (GITHUB_SERVER_URL)
    query_index: bool = False  # ask the index which versions exist (the CLI: unless --offline)


def select(config: Config, repos: Sequence[str]) -> list[str]:
    unknown = sorted(set(repos) - set(config.repos))
    if unknown:
        raise ReleaseError(
            ErrorCode.UNKNOWN_REPO,
            f"not in the configured family: {suggestions(unknown, config.repos)}",
            hint="known repos: " + ", ".join(sorted(config.repos)),
        )
    return sorted(set(repos)) if repos else sorted(config.repos)


def family_graph(config: Config, workspace: Path, manifests: dict[str, ws.Manifest]) -> Graph:
    """The derived graph, checked against the config and the rest of the workspace.

    Its ordering edges are the required ones and the optional/group ones that close no
    cycle (core/graph.order_graph); drift is checked against those.
    """
    graph = order_graph(manifests, ws.family_edges(manifests))
    declared = {r: c.depends_on for r, c in config.repos.items() if c.depends_on is not None}
    check_depends_on(graph, declared)
    if config.tiers is not None:
        check_tiers(graph, config.tiers)
    stray = ws.unconfigured_dependents(config, workspace, manifests)
    if stray:
        repo, package = stray[0]
        raise ReleaseError(
            ErrorCode.GRAPH_DRIFT,
            f"{workspace / repo} depends on family member {package} but is not configured",
            repo=repo,
            hint=f"add [repos.{repo}] to the config, or move it out of the workspace",
        )
    return graph


def plan_workspace(config: Config, workspace: Path, request: PlanRequest, today: date) -> Plan:
    """The plan for `request` from the clones in `workspace`; nothing there is changed."""
    if not workspace.is_dir():
        raise ReleaseError(
            ErrorCode.USAGE,
            f"workspace {workspace} is not a directory",
            hint="--workspace DIR holds one clone per repo, named as the repo",
        )
    selected = select(config, request.repos)
    manifests = ws.read_manifests(config, workspace, request.revs)
    graph = family_graph(config, workspace, manifests)
    interpreter_problems = interpreters.start(config, manifests, selected)  # beside the scan
    scans = ws.scan_repos(config, manifests, selected, query_index=request.query_index)
    options = PlanOptions(
        bump=request.bump,
        zero_major=config.zero_major,
        prerelease=config.prerelease,
        cascade=config.cascade,
    )
    run_id = request.run_id or make_run_id(selected, today)
    plan = make_plan(scans, graph, selected, options, run_id)
    base = f"{request.server_url}/{config.owner}" if request.server_url else None
    inputs = DetailInputs(
        config.pin_policy,
        today,
        base,
        formats={r: config.changelog_format(r, request.web_url) for r in selected},
        tag_templates={r: config.tag_template(r) for r in selected},
    )
    plan = with_details(plan, inputs)
    # Preflight: every check adds its findings here, so the plan names them all at once.
    problems: list[Problem] = [*interpreter_problems.result()]
    drop = config.family_sources is FamilySources.DROP
    problems.extend(manifest_problems(manifests, plan, drop_sources=drop, policy=config.pin_policy))
    problems += version_problems(plan, scans)
    problems += publish_problems(config, manifests, plan)
    return dataclasses.replace(plan, problems=sort_problems(problems))
