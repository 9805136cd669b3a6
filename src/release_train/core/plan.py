"""The release plan (Phase 0-1): what each selected repo releases, why, and the plan hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from release_train.core.commits import Commit
from release_train.core.graph import Graph
from release_train.core.problems import Problem
from release_train.core.versions import Bump, Prerelease, infer_bump, next_version

# A patch release is driven by every change; the plan names the first few, the reason counts.
MAX_DRIVERS = 20


@dataclass(frozen=True)
class RepoScan:
    """What the scan found in one repo: its last release and the commits since."""

    repo: str
    package: str
    current: str  # version of the last release ("0.0.0" when there is none)
    last_tag: str | None  # None: no release tag; the range starts at the root commit
    head: str
    commits: tuple[Commit, ...]  # oldest first


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
            skipped.append(Skip(repo, tiers[repo], scan.current))
            continue
        bump, reason, drivers, cascade_from = decided
        new = next_version(
            scan.current, bump, zero_major=options.zero_major, prerelease=options.prerelease
        )
        entries[repo] = PlanEntry(
            repo=repo,
            package=scan.package,
            tier=tiers[repo],
            current=scan.current,
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
