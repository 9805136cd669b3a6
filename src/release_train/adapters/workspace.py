"""Reads a workspace of local clones (one per repo, named as the repo) without changing it."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import Version

from release_train.adapters import git, index
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
    """Every release tag of the tag format or a legacy pattern, reachable or not, best first.

    Best is the highest version; of two tags of one version (`v1.2.0` beside
    `repo/v1.2.0`) the tag format's comes first. Tags of no template are not releases.
    """
    templates = [config.tag_template(repo), *config.legacy_tag_patterns]
    found = git.tags(path, sorted({tag_glob(t, repo, package) for t in templates}))
    ranked: dict[str, tuple[Version, int, str]] = {}
    for rank, template in enumerate(templates):
        for tag in found:
            version = version_from_tag(template, repo, tag.name, package)
            if version is not None and tag.name not in ranked:
                ranked[tag.name] = (version, rank, tag.commit)
    by_template = sorted(ranked.items(), key=lambda item: (item[1][1], item[0]))
    best = sorted(by_template, key=lambda item: item[1][0], reverse=True)  # stable
    return [LastRelease(name, commit, str(version)) for name, (version, _, commit) in best]


def scan_repo(config: Config, manifest: Manifest, *, query_index: bool = False) -> RepoScan:
    """The releases, the commits none of them holds, and what a new version must avoid.

    The unreleased range is what the rev reaches and no release tag does, so a release
    tagged on another branch (dev -> main promotion) still bounds it: one tag listing, one log.
    """
    path, repo = manifest.path, manifest.repo
    releases = release_candidates(config, path, repo, manifest.package)
    last = releases[0] if releases else NONE
    commits = git.log_excluding(
        path, manifest.rev, sorted({r.commit for r in releases if r.commit})
    )
    head = commits[-1].sha if commits else git.rev_parse(path, manifest.rev)
    versions, error = _index_versions(config, manifest.package) if query_index else (None, None)
    return RepoScan(
        repo=repo,
        package=manifest.package,
        current=last.version,
        last_tag=last.tag,
        head=head,
        commits=tuple(parse_commit(c.message, c.sha) for c in commits),
        releases=tuple(r.version for r in releases),
        tags=frozenset(r.tag for r in releases if r.tag),
        tag_template=config.tag_template(repo),
        static_version=manifest.version,  # the pyproject's, at the planned rev
        index_versions=versions,
        index_error=error,
    )


def _index_versions(config: Config, package: str) -> tuple[tuple[str, ...] | None, str | None]:
    """(versions on the index, None) or (None, why not): an unreachable index only warns."""
    try:
        return index.released_versions(package, index_url=config.index_url), None
    except ReleaseError as exc:
        return None, exc.message


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
    config: Config,
    manifests: dict[str, Manifest],
    repos: list[str],
    *,
    query_index: bool = False,
) -> dict[str, RepoScan]:
    if not repos:
        return {}
    with ThreadPoolExecutor(max_workers=min(6, len(repos))) as pool:
        found = list(
            pool.map(lambda r: scan_repo(config, manifests[r], query_index=query_index), repos)
        )
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
