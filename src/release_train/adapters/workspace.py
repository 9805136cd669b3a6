"""Reads a workspace of local clones (one per repo, named as the repo) without changing it."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

from release_train.adapters import git
from release_train.config import Config
from release_train.core.commits import parse_commit
from release_train.core.declared import Declared, read_declared
from release_train.core.graph import Edge
from release_train.core.plan import RepoScan
from release_train.core.pyproject import read_project, requirement_names
from release_train.core.versions import tag_glob, version_from_tag
from release_train.errors import ErrorCode, ReleaseError

NO_RELEASE = "0.0.0"  # the specification's version of a repo with no release tag


@dataclass(frozen=True)
class Manifest:
    """A repo's pyproject as of `rev`: its distribution name and what it declares."""

    repo: str
    path: Path  # the clone, checked to be a git work tree
    package: str
    requirements: frozenset[str]  # canonical names of everything it requires
    rev: str = "HEAD"  # what is planned: HEAD of the clone, or e.g. origin/main for a release
    version: str | None = None  # the static version ([project] or [tool.poetry]), if any
    # Dependencies with their kinds, non-index sources and uv overrides (core/declared).
    declared: Declared = field(default_factory=Declared)


@dataclass(frozen=True)
class LastRelease:
    tag: str | None
    commit: str | None
    version: str


NONE = LastRelease(None, None, NO_RELEASE)


def repo_path(workspace: Path, repo: str) -> Path:
    path = workspace / repo
    if not git.is_repository(path):
        raise ReleaseError(
            ErrorCode.REPO_NOT_FOUND,
            f"{path} is not a git clone",
            repo=repo,
            hint=f"clone {repo} into {workspace} (the workspace holds one clone per repo)",
        )
    return path


def read_manifest(config: Config, workspace: Path, repo: str, rev: str = "HEAD") -> Manifest:
    path = repo_path(workspace, repo)
    pyproject = config.repos[repo].pyproject
    text = git.show_file(path, rev, pyproject)
    if text is None:
        raise ReleaseError(
            ErrorCode.PYPROJECT_INVALID,
            f"{repo} has no {pyproject} at {rev}",
            repo=repo,
            hint=f"set repos.{repo}.pyproject to its path in the repo",
        )
    source = f"{repo}/{pyproject}"
    info = read_project(text, source=source)
    declared = read_declared(text, source=source)
    package = config.repos[repo].package or info.name or repo
    requirements = frozenset(d.name for d in declared.dependencies)
    return Manifest(repo, path, package, requirements, rev, info.version, declared)


def release_candidates(config: Config, path: Path, repo: str, package: str) -> list[LastRelease]:
    """Release tags, best first: the tag format's by version, then each legacy pattern's."""
    templates = [config.tag_template(repo), *config.legacy_tag_patterns]
    found = git.tags(path, sorted({tag_glob(t, repo, package) for t in templates}))
    candidates = []
    for template in templates:
        versions = [
            (v, t) for t in found if (v := version_from_tag(template, repo, t.name, package))
        ]
        for version, tag in sorted(versions, key=lambda pair: pair[0], reverse=True):
            candidates.append(LastRelease(tag.name, tag.commit, str(version)))
    return candidates


def scan_repo(config: Config, manifest: Manifest) -> RepoScan:
    """The last release reachable from the rev and the commits since, usually in one `git log`."""
    path = manifest.path
    for last in [*release_candidates(config, path, manifest.repo, manifest.package), NONE]:
        found = git.log_since(path, last.commit, until=manifest.rev)
        if found.reachable:  # a tag on an unmerged branch is not this branch's release
            break
    commits = found.commits
    head = commits[-1].sha if commits else git.rev_parse(path, manifest.rev)
    return RepoScan(
        repo=manifest.repo,
        package=manifest.package,
        current=last.version,
        last_tag=last.tag,
        head=head,
        commits=tuple(parse_commit(c.message, c.sha) for c in commits),
    )


def read_manifests(
    config: Config, workspace: Path, revs: Mapping[str, str] | None = None
) -> dict[str, Manifest]:
    repos = sorted(config.repos)
    revs = revs or {}
    with ThreadPoolExecutor(max_workers=min(8, len(repos))) as pool:
        found = list(
            pool.map(lambda r: read_manifest(config, workspace, r, revs.get(r, "HEAD")), repos)
        )
    return {m.repo: m for m in found}


def scan_repos(
    config: Config, manifests: dict[str, Manifest], repos: list[str]
) -> dict[str, RepoScan]:
    if not repos:
        return {}
    with ThreadPoolExecutor(max_workers=min(6, len(repos))) as pool:
        found = list(pool.map(lambda r: scan_repo(config, manifests[r]), repos))
    return {s.repo: s for s in found}


def family_edges(manifests: dict[str, Manifest]) -> list[Edge]:
    """Every edge to a family member whose package a repo requires (PEP 503), with its kind."""
    by_name: dict[str, str] = {canonicalize_name(m.package): m.repo for m in manifests.values()}
    edges = {
        Edge(m.repo, by_name[d.name], d.kind, d.group)
        for m in manifests.values()
        for d in m.declared.dependencies
        if d.name in by_name and by_name[d.name] != m.repo
    }
    return sorted(edges)


def unconfigured_dependents(
    config: Config, workspace: Path, manifests: dict[str, Manifest]
) -> list[tuple[str, str]]:
    """(repo, family package) for clones in the workspace that depend on the family unconfigured."""
    family = {canonicalize_name(m.package) for m in manifests.values()}
    found = []
    for child in sorted(workspace.iterdir()):
        pyproject = child / "pyproject.toml"
        if child.name in config.repos or not pyproject.is_file():
            continue
        try:
            names = requirement_names(pyproject.read_text(encoding="utf-8"), source=str(pyproject))
        except ReleaseError:
            continue  # not ours to validate: only well-formed dependents can drift
        hits = sorted(names & family)
        if hits:
            found.append((child.name, hits[0]))
    return found
