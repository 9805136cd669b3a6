"""The release plan (Phase 0-1): what each selected repo releases, why, and the plan hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from packaging.version import InvalidVersion, Version

from release_train.core.changelog import Format
from release_train.core.commits import Commit
from release_train.core.graph import Graph
from release_train.core.problems import Problem, Severity
from release_train.core.versions import (
    Bump,
    Prerelease,
    format_tag,
    infer_bump,
    next_version,
    parse_version,
)
from release_train.errors import ErrorCode

# A patch release is driven by every change; the plan names the first few, the reason counts.
MAX_DRIVERS = 20


@dataclass(frozen=True)
class RepoScan:
    """What the scan found in one repo: its releases, the commits none of them holds, and
    every version a new release must stay above (ISSUE 11, "Versions that cannot go wrong").
    """

    repo: str
    package: str
    current: str  # the highest release tag's version ("0.0.0" when there is none)
    last_tag: str | None  # that tag; None: no release tag, the range starts at the root commit
    head: str
    commits: tuple[Commit, ...]  # oldest first: reachable from the rev and from no release tag
    releases: tuple[str, ...] = ()  # versions of every release tag, reachable or not
    tags: frozenset[str] = frozenset()  # names of those release tags, of every template
    tag_template: str | None = None  # the tag the new release gets; None: not checked
    static_version: str | None = None  # the pyproject's own `version`, when static
    index_versions: tuple[str, ...] | None = None  # on the index; None: not asked (--offline)
    index_error: str | None = None  # why the index could not be asked

    @property
    def base(self) -> str:
        """The version the new one is bumped from: the last release, or the pyproject's own
        version when it is ahead (a release commit whose tag is elsewhere or was never pushed).
        """
        static = _version_or_none(self.static_version)
        if static is not None and static > parse_version(self.current):
            return str(self.static_version)
        return self.current


@dataclass(frozen=True)
class PlanOptions:
    bump: Bump | None = None  # --bump override
    zero_major: bool = True
    prerelease: Prerelease | None = None
    cascade: bool = True


@dataclass(frozen=True)
class PlanEntry:
    repo: str
    package: str
    tier: int
    current: str
    new: str
    bump: Bump
    commits: int  # unreleased changes (the tool's own release commits and merges excluded)
    reason: str
    drivers: tuple[str, ...]  # "<short sha> <subject>" of (the first MAX_DRIVERS) deciding commits
    cascade_from: tuple[str, ...]  # same-run upstreams that caused a cascade release
    last_tag: str | None
    head: str
    upstreams: tuple[str, ...]  # same-run upstreams (released before this repo)
    # What a reviewer reads (core/plan_detail); none of it is in the plan hash.
    log: tuple[Commit, ...] = ()  # the unreleased range, oldest first: what CHANGELOG renders
    pins: tuple[tuple[str, str], ...] = ()  # (package, specifier) that PIN writes, by package
    changelog_day: date | None = None  # the date of the entry CHANGELOG writes (plan_detail)
    compare_url: str | None = None  # last release tag ... head, in API mode
    tag: str | None = None  # the tag TAG makes (plan_detail)
    changelog_format: Format | None = None  # how CHANGELOG writes the entry (plan_detail)

    def hash_fields(self) -> dict[str, object]:
        """The specification's per-repo plan dict (repo, tier, current, new, bump, commits)."""
        return {
            "repo": self.repo,
            "tier": self.tier,
            "current": self.current,
            "new": self.new,
            "bump": str(self.bump),
            "commits": self.commits,
        }


@dataclass(frozen=True)
class Skip:
    repo: str
    tier: int
    current: str
    reason: str = "NOTHING_TO_RELEASE"


@dataclass(frozen=True)
class Plan:
    run_id: str
    entries: tuple[PlanEntry, ...]
    skipped: tuple[Skip, ...]
    graph: Graph
    selected: tuple[str, ...]
    # Preflight findings (core/problems); not part of the plan hash, which is the spec's.
    problems: tuple[Problem, ...] = ()
    plan_hash: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "plan_hash", compute_plan_hash(self.entries))

    @property
    def total_commits(self) -> int:
        return sum(e.commits for e in self.entries)

    def entry(self, repo: str) -> PlanEntry | None:
        return next((e for e in self.entries if e.repo == repo), None)


def compute_plan_hash(entries: Sequence[PlanEntry]) -> str:
    """Exactly the specification's `compute_plan_hash` over the per-repo plan dicts."""
    plan = [e.hash_fields() for e in entries]
    plan_json = json.dumps(plan, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(plan_json.encode()).hexdigest()[:12]


def make_run_id(repos: Sequence[str], day: date) -> str:
    """`release-YYYYMMDD-<6 hex>`, hex = sha256(sorted repo names + date)[:6] (Phase 0).

    The names are joined with "," before the date is appended; the specification leaves
    the joining implicit. Two runs of the same repos on one day get the same id; the
    engine refuses to reuse the id of another run (DESIGN defect 14).
    """
    stamp = day.strftime("%Y%m%d")
    digest = hashlib.sha256((",".join(sorted(repos)) + stamp).encode()).hexdigest()[:6]
    return f"release-{stamp}-{digest}"


def _short(commit: Commit) -> str:
    return f"{commit.sha[:7]} {commit.subject}".strip()


def _decide(
    scan: RepoScan, released_upstreams: list[str], options: PlanOptions
) -> tuple[Bump, str, tuple[str, ...], tuple[str, ...]] | None:
    """(bump, reason, drivers, cascade_from) for one repo, or None to skip it."""
    decision = infer_bump(scan.commits)
    if decision.bump is not None:
        bump, reason = decision.bump, decision.reason
        drivers = tuple(_short(c) for c in decision.drivers[:MAX_DRIVERS])
        cascade_from: tuple[str, ...] = ()
    elif options.cascade and released_upstreams:
        bump, drivers = Bump.PATCH, ()
        cascade_from = tuple(released_upstreams)
        reason = "cascade: same-run upstream " + ", ".join(released_upstreams) + " is released"
    else:
        return None
    if options.bump is not None and options.bump != bump:
        reason = f"--bump {options.bump} (inferred {bump}: {reason})"
        bump = options.bump
    return bump, reason, drivers, cascade_from


def make_plan(
    scans: Mapping[str, RepoScan],
    graph: Graph,
    selected: Sequence[str],
    options: PlanOptions,
    run_id: str,
) -> Plan:
    """Plan every selected repo in release order; the rest of the family is not touched."""
    tiers = graph.tiers()
    chosen = set(selected)
    entries: dict[str, PlanEntry] = {}
    skipped: list[Skip] = []
    for repo in graph.order():
        if repo not in chosen:
            continue
        scan = scans[repo]
        upstreams = sorted(u for u in graph.upstreams[repo] if u in entries)
        decided = _decide(scan, upstreams, options)
        if decided is None:
            skipped.append(Skip(repo, tiers[repo], scan.base))
            continue
        bump, reason, drivers, cascade_from = decided
        new = next_version(
            scan.base, bump, zero_major=options.zero_major, prerelease=options.prerelease
        )
        entries[repo] = PlanEntry(
            repo=repo,
            package=scan.package,
            tier=tiers[repo],
            current=scan.base,
            new=new,
            bump=bump,
            commits=sum(1 for c in scan.commits if c.is_change),
            reason=reason,
            drivers=drivers,
            cascade_from=cascade_from,
            last_tag=scan.last_tag,
            head=scan.head,
            upstreams=tuple(upstreams),
            log=scan.commits,
        )
    return Plan(run_id, tuple(entries.values()), tuple(skipped), graph, tuple(sorted(chosen)))


def version_problems(plan: Plan, scans: Mapping[str, RepoScan]) -> list[Problem]:
    """Why a planned version could be wrong: found nowhere, taken, or not above a release.

    Every planned version is bumped from the highest release tag or the pyproject's version,
    so it is above them by construction; the checks hold it against every release, tag and
    index version all the same. The index is not part of that choice on purpose: the plan
    (and its hash) is the same with or without `--offline`; only its problems differ.
    """
    found: list[Problem] = []
    for entry in plan.entries:
        scan = scans[entry.repo]
        found += _origin_problems(scan)
        found += _taken_problems(scan, entry.new)
    return found


def _origin_problems(scan: RepoScan) -> list[Problem]:
    found = []
    if scan.index_error is not None:
        found.append(
            _problem(
                scan,
                ErrorCode.INDEX_ERROR,
                Severity.WARNING,
                f"the index was not asked which versions of {scan.package} exist: "
                f"{scan.index_error}",
                "the new version is checked against tags and the pyproject only; "
                "--offline skips the query",
            )
        )
    if not scan.releases:
        source = (
            f"the pyproject's version {scan.static_version}"
            if scan.static_version is not None
            else "0.0.0 (the pyproject's version is dynamic or absent)"
        )
        found.append(
            _problem(
                scan,
                ErrorCode.VERSION_NOT_FOUND,
                Severity.WARNING,
                f"no tag matches the tag format or a legacy pattern: planned from {source}",
                "if the repo was released before, add its old tag template to "
                f"legacy_tag_patterns (or fix repos.{scan.repo}.tag_format)",
            )
        )
    return found


def _taken_problems(scan: RepoScan, new: str) -> list[Problem]:
    """VERSION_COLLISION for a taken tag or index version; VERSION_BACKWARDS below a release."""
    version = Version(new)
    found = []
    tag = format_tag(scan.tag_template, scan.repo, new, scan.package) if scan.tag_template else None
    if tag is not None and tag in scan.tags:
        found.append(
            _problem(
                scan,
                ErrorCode.VERSION_COLLISION,
                Severity.ERROR,
                f"tag {tag} already exists",
                "a tag is never moved: delete the stray tag if it marks no release",
            )
        )
    index = [v for v in map(_version_or_none, scan.index_versions or ()) if v is not None]
    if version in index:
        found.append(
            _problem(
                scan,
                ErrorCode.VERSION_COLLISION,
                Severity.ERROR,
                f"{scan.package} {new} is already on the index",
                f"the index holds releases no tag marks: tag the newest ({max(index)}) on its "
                "release commit, so the plan starts above it",
            )
        )
    blocking = _not_below(version, scan, index)
    if blocking:
        highest, where = max(blocking, key=lambda pair: pair[0])
        found.append(
            _problem(
                scan,
                ErrorCode.VERSION_BACKWARDS,
                Severity.ERROR,
                f"{new} would go backwards: {highest} exists ({where})",
                f"tag {highest} on its release commit (or fix tag_format and "
                "legacy_tag_patterns), so the plan starts above it",
            )
        )
    return found


def _not_below(version: Version, scan: RepoScan, index: list[Version]) -> list[tuple[Version, str]]:
    """What `version` is not above: a release tag at or above it, a pyproject version or an
    index version above it (an equal index version is a collision, reported as one)."""
    found = [
        (v, "a release tag")
        for v in map(_version_or_none, scan.releases)
        if v is not None and v >= version
    ]
    static = _version_or_none(scan.static_version)
    if static is not None and static > version:
        found.append((static, "the pyproject's version"))
    return found + [(v, "on the index") for v in index if v > version]


def _problem(
    scan: RepoScan, code: ErrorCode, severity: Severity, message: str, hint: str
) -> Problem:
    return Problem(scan.repo, code, severity, message, hint)


def _version_or_none(text: str | None) -> Version | None:
    """`text` as a version; None when absent or not PEP 440 (BUMP reports a bad one)."""
    if text is None:
        return None
    try:
        return Version(text)
    except InvalidVersion:
        return None
